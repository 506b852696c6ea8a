"""Address-space layouts: where a scenario's VMAs sit.

The maple tree's node contents depend on the high bits of the pivots (how
ranges spread over the 64-bit index space decides which node holds what),
so a scenario can lay its VMAs out as a real process would:

* ``x86_64`` (the default) -- a 47-bit user address space (4-level paging,
  TASK_SIZE 0x7fff_ffff_f000): the executable at 0x5555_5555_4000 (text,
  read-only data, data, bss), the heap (brk) after it, shared libraries and
  anonymous mappings in the mmap area growing down from 0x7fff_f7ff_f000,
  and the stack (VM_GROWSDOWN) just below 0x7fff_ffff_f000;
* ``la57`` -- the same in a 57-bit user address space (5-level paging,
  TASK_SIZE 0x00ff_ffff_ffff_f000), as for a process that passed high mmap
  hints: the mmap area grows down from 0x00ff_ffff_f7ff_f000;
* ``dense`` -- the mmap area of ``x86_64`` with exactly one page between
  VMAs (every gap is the smallest there is);
* ``low`` -- the layout of the first scenarios: every VMA below 4 GiB from
  0x400000, some adjacent, small gaps.

Every layout is a function of (count, seed): the seed is a scenario
parameter (``layout_seed``), never the strategy's, so a layout replays.
"""

from __future__ import annotations

import random
from enum import Enum

PAGE = 0x1000
VM_READ = 0x1
VM_WRITE = 0x2
VM_EXEC = 0x4
VM_GROWSDOWN = 0x100
VM_GROWSUP = 0x200
VM_DONTCOPY = 0x00020000
VM_ACCOUNT = 0x00100000

TASK_SIZE_47 = 0x7FFF_FFFF_F000
TASK_SIZE_57 = 0x00FF_FFFF_FFFF_F000
ELF_ET_DYN_BASE = 0x5555_5555_4000
MMAP_TOP_47 = 0x7FFF_F7FF_F000
MMAP_TOP_57 = 0x00FF_FFFF_F7FF_F000
STACK_SIZE = 33 * PAGE  # 132 KiB, the usual initial [stack]

Span = tuple[int, int, int]
"""[start, end) and vm_flags of one VMA."""


class Layout(Enum):
    """Which address-space layout a scenario's VMAs follow."""

    X86_64 = "x86_64"
    LA57 = "la57"
    DENSE = "dense"
    LOW = "low"


LAYOUT_CHOICES = tuple(x.value for x in Layout)


def low_layout(n: int, rng: random.Random, adjacent_every: int = 3) -> list[Span]:
    """@n VMAs from 0x400000 up: some adjacent, small gaps between others."""
    out, addr = [], 0x400000
    for i in range(n):
        size = rng.choice((1, 2, 3, 8, 16)) * PAGE
        out.append((addr, addr + size, VM_ACCOUNT))
        addr += size
        if not adjacent_every or i % adjacent_every:
            addr += rng.choice((1, 4, 64)) * PAGE
    return out


def _executable(n: int, rng: random.Random) -> list[Span]:
    """The ELF image at ELF_ET_DYN_BASE: r--, r-x, r--, rw- (up to @n)."""
    perms = (VM_READ, VM_READ | VM_EXEC, VM_READ, VM_READ | VM_WRITE)
    out, addr = [], ELF_ET_DYN_BASE
    for flags in perms[:n]:
        size = rng.choice((1, 2, 4, 9)) * PAGE
        out.append((addr, addr + size, flags | VM_ACCOUNT))
        addr += size
    return out


def _library(top: int, vmas: int, rng: random.Random) -> list[Span]:
    """A shared library (or an anonymous mapping when @vmas is 1) ending at
    @top: r--, r-x, r--, rw-, bss, adjacent."""
    perms: tuple[int, ...] = (VM_READ, VM_READ | VM_EXEC, VM_READ,
                              VM_READ | VM_WRITE, VM_READ | VM_WRITE)
    if vmas == 1:
        perms = (VM_READ | VM_WRITE,)
    sizes = [rng.choice((1, 2, 3, 8, 32)) * PAGE for _ in range(vmas)]
    start = top - sum(sizes)
    out, addr = [], start
    for size, flags in zip(sizes, perms, strict=False):
        out.append((addr, addr + size, flags | VM_ACCOUNT))
        addr += size
    return out


def _mmap_area(n: int, top: int, rng: random.Random, *, dense: bool) -> list[Span]:
    """@n VMAs growing down from @top: libraries and anonymous mappings with
    gaps between them (one page apart when @dense)."""
    out: list[Span] = []
    while len(out) < n:
        want = min(n - len(out), rng.choice((1, 1, 4, 5)))
        if dense:
            group = _dense_group(top, want, rng)
        else:
            group = _library(top, want, rng)
        out = group + out
        top = group[0][0] - (PAGE if dense else rng.choice((0, 1, 2, 16, 256)) * PAGE)
    return out


def _dense_group(top: int, count: int, rng: random.Random) -> list[Span]:
    """@count VMAs of 1-4 pages ending at @top, one page between them."""
    out: list[Span] = []
    for _ in range(count):
        size = rng.choice((1, 2, 4)) * PAGE
        out.insert(0, (top - size, top, VM_READ | VM_WRITE | VM_ACCOUNT))
        top -= size + PAGE
    return out


def process_layout(n: int, rng: random.Random, *, task_size: int,
                   mmap_top: int) -> list[Span]:
    """@n VMAs laid out as a process's: executable, heap, mmap area, stack."""
    exe = _executable(min(n, 4), rng)
    rest = n - len(exe)
    heap: list[Span] = []
    if rest > 0:
        brk = exe[-1][1] + rng.randrange(1, 1 << 13) * PAGE  # brk randomisation
        heap = [(brk, brk + rng.choice((33, 132)) * PAGE,
                 VM_READ | VM_WRITE | VM_ACCOUNT)]
        rest -= 1
    stack: list[Span] = []
    if rest > 0:
        top = task_size - rng.randrange(0, 16) * PAGE
        stack = [(top - STACK_SIZE, top,
                  VM_READ | VM_WRITE | VM_GROWSDOWN | VM_ACCOUNT)]
        rest -= 1
    return exe + heap + _mmap_area(rest, mmap_top, rng, dense=False) + stack


def make_layout(layout: Layout | str, n: int, *, seed: int,
                dontcopy_every: int = 0) -> list[Span]:
    """@n VMAs as [start, end, flags] in @layout, ascending, disjoint.

    Every @dontcopy_every-th VMA gets VM_DONTCOPY (0: none).
    """
    layout = Layout(layout)
    rng = random.Random(seed)
    if layout is Layout.LOW:
        out = low_layout(n, rng)
    elif layout is Layout.DENSE:
        out = _mmap_area(n, MMAP_TOP_47, rng, dense=True)
    elif layout is Layout.LA57:
        out = process_layout(n, rng, task_size=TASK_SIZE_57, mmap_top=MMAP_TOP_57)
    else:
        out = process_layout(n, rng, task_size=TASK_SIZE_47, mmap_top=MMAP_TOP_47)
    if dontcopy_every:
        out = [(s, e, f | VM_DONTCOPY if i % dontcopy_every == dontcopy_every - 1
                else f) for i, (s, e, f) in enumerate(out)]
    return out
