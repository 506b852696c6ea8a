"""Scenario ``rcu_transitions``: an owner reshapes its mm while users come and go.

Threads:

* ``owner`` holds the mm's first reference and runs a fixed sequence of
  address-space changes under its mmap_lock: mmap past the end or into the
  middle of a gap, munmap,
  splitting a VMA in two (partial overwrites that split leaf ranges),
  munmap of a span of several VMAs (a spanning NULL store), and bursts of
  munmaps that make nodes insufficient (rebalancing); with ``op_set``,
  mprotect() three-way splits and merges that edit VMAs in place, and
  unmapping everything or all but one entry at 0 (:mod:`.vma_ops`), then
  mapping again; midway it takes and
  drops an extra reference with ``mmget()``/``mmput()`` (as a ptrace-like
  access would).  Then it drops its own reference.
* ``reader<k>`` are users that come and go: ``mmget_not_zero()`` (which,
  in the 2021 design, puts the tree in RCU mode), lockless walks, lookups
  and iterations under ``rcu_read_lock()``, then ``mmput()``.

The last ``mmput()`` tears the mm down (``__mmput()`` -> ``exit_mmap()``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from rcu_harness.scenarios import vma_ops
from rcu_harness.scenarios.mm import (
    DESIGN_PARAM,
    LAYOUT_PARAM,
    PAGE,
    Mm,
    Vma,
    mmget,
    mmput,
    vma_alloc,
    vma_free,
    vma_link,
    vma_unlink,
)
from rcu_harness.scenarios.readers import (
    READ_KIND_PARAM,
    READER_SEED_PARAM,
    spawn_owner_and_readers,
)
from rcu_harness.scenarios.spec import Config, Param, Scenario
from rcu_harness.scenarios.vma import (
    mmap_write_lock,
    mmap_write_unlock,
    vma_mark_detached,
    vma_start_write,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runner.harness import Harness

OPS = ("mmap", "mmap_gap", "munmap", "split", "munmap_span", "shrink")
OP_SETS = {
    "classic": OPS,
    "mprotect": (*OPS, "mprotect", "merge"),
    "empty": (*OPS, "unmap_all", "root_entry"),
    "all": (*OPS, "mprotect", "merge", "unmap_all", "root_entry"),
}
"""The owner's operations: ``classic`` (map, unmap, split), plus mprotect()
three-way splits and merges, plus unmapping everything (the tree becomes
empty) and reducing the tree to one entry at 0; see :mod:`.vma_ops`."""


def owner_ops(cfg: Config) -> list[str]:
    """The owner's operation sequence, fixed by the ``ops_seed`` parameter."""
    rng = random.Random(cfg["ops_seed"])
    ops = OP_SETS[cfg.values.get("op_set", "classic")]
    return [rng.choice(ops) for _ in range(cfg["ops"])]


def do_op(h: Harness, mm: Mm, vmas: list[Vma], op: str, k: int,
          layout: str = "low") -> None:
    """One address-space change; the caller holds mmap_lock for write.
    With per-VMA locks each VMA changed or removed is write-locked first
    (``vma_link()``, ``vma_unlink()``, :mod:`.vma_ops`).

    The owner reads its own VMAs' bounds unobserved: it holds mmap_lock and
    nobody else writes them, so these loads are not interleavings that
    matter (they are still checked against freed memory).
    """
    with h.unobserved():
        bounds = [(v.vm_start, v.vm_end, v.vm_flags) for v in vmas]
    if not vmas:
        op = "mmap"
    i = k % len(vmas) if vmas else 0
    if op in EXTRA_OPS:
        EXTRA_OPS[op](h, mm, vmas, bounds, i)
    elif op == "mmap" and layout != "low":
        vma_ops.topdown_mmap(h, mm, vmas, bounds, 2 + k % 5)
    elif op == "mmap":
        top = bounds[-1][1] if vmas else 0x400000
        start = top + (1 + k % 3) * PAGE
        end = start + (1 + k % 5) * PAGE
        vma = vma_alloc(start, end, 0, mm)
        vma_link(h, mm, vma, start, end)
        vmas.append(vma)
    elif op == "mmap_gap":  # map one page in the middle of a gap
        gaps = [j for j in range(len(vmas) - 1)
                if bounds[j + 1][0] - bounds[j][1] >= 3 * PAGE]
        if gaps:
            j = gaps[k % len(gaps)]
            hole = bounds[j + 1][0] - bounds[j][1]
            start = bounds[j][1] + (hole // PAGE // 2) * PAGE
            vma = vma_alloc(start, start + PAGE, 0, mm)
            vma_link(h, mm, vma, start, start + PAGE)
            vmas.insert(j + 1, vma)
    elif op == "munmap":
        start, end, _flags = bounds[i]
        vma_unlink(h, mm, [vmas.pop(i)], start, end - 1)
    elif op == "split" and bounds[i][1] - bounds[i][0] > PAGE:
        start, end, flags = bounds[i]
        old = vmas[i]
        mid = start + ((end - start) // PAGE // 2) * PAGE
        low = vma_alloc(start, mid, flags, mm)
        high = vma_alloc(mid, end, flags, mm)
        vma_start_write(old)
        vma_mark_detached(old)
        vma_link(h, mm, high, mid, end, span="writer.split")
        vma_link(h, mm, low, start, mid, span="writer.split")
        vmas[i:i + 1] = [low, high]
        vma_free(mm, old)
    elif op == "munmap_span" and len(vmas) > 3:
        j = min(i + 3, len(vmas) - 1)
        first, last = bounds[i][0], bounds[j][1] - 1
        gone = vmas[i:j + 1]
        del vmas[i:j + 1]
        vma_unlink(h, mm, gone, first, last, span="writer.span")
    elif op == "shrink":
        for n in range(min(4, len(vmas) - 1)):
            start, end, _flags = bounds[n]
            vma_unlink(h, mm, [vmas.pop(0)], start, end - 1)


EXTRA_OPS: dict[str, Callable[..., object]] = {
    "mprotect": vma_ops.mprotect_split,
    "merge": vma_ops.merge,
    "unmap_all": vma_ops.unmap_all,
    "root_entry": vma_ops.root_entry,
}


def owner_thread(h: Harness, cfg: Config, mm: Mm, vmas: list[Vma]) -> None:
    """Reshape the address space, with an extra reference taken midway."""
    ops = owner_ops(cfg)
    for k, op in enumerate(ops):
        if k == len(ops) // 2:
            mmget(h, mm)  # e.g. a ptrace access holding the mm for a while
        mmap_write_lock(mm)
        do_op(h, mm, vmas, op, k, cfg["layout"])
        mmap_write_unlock(mm)
        if k == len(ops) // 2:
            mmput(h, mm, vmas, clear_rcu_always=cfg.bug("mmput-clears-rcu-early"))
    mmput(h, mm, vmas)


def build(h: Harness, cfg: Config) -> None:
    """Set up the mm and spawn the owner and the readers."""
    spawn_owner_and_readers(h, cfg, owner_thread, name="reader",
                            count=cfg["readers"], reads=cfg["reads"])

def work(cfg: Config) -> int:
    """Steps of one fair execution, from above (measured: 4,450 at 100 VMAs
    with the defaults, 8,700 with 8 reads per reader, 15,700 with 64
    operations; BENCHMARKS.md, *Step bounds*)."""
    reads = cfg["readers"] * cfg["reads"]
    return int(2000 + 300 * cfg["ops"] + cfg["vmas"] * (5 + 15 * reads))


SCENARIO = Scenario(
    "rcu_transitions",
    "an owner maps, unmaps and splits ranges (splits, rebalancing, spanning "
    "stores) while lockless readers come and go, switching the tree into RCU mode",
    (
        DESIGN_PARAM,
        LAYOUT_PARAM,
        Param("vmas", 24, "VMAs at the start", 1, 2000),
        Param("layout_seed", 2, "seed of the VMA layout", 0),
        Param("ops", 8, "address-space changes by the owner", 0, 1000),
        Param("ops_seed", 3, "seed of the owner's operation sequence", 0),
        Param("op_set", "classic", "the owner's operations: classic (mmap, munmap, "
              "split, spans), mprotect (+ three-way splits, merges), empty (+ unmap "
              "everything, a single entry at 0) or all", choices=tuple(OP_SETS)),
        Param("readers", 2, "lockless readers", 0, 16),
        Param("reads", 2, "reads per reader", 1, 100),
        READ_KIND_PARAM,
        READER_SEED_PARAM,
    ),
    build,
    work,
)

