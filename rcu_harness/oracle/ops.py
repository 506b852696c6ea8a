"""The oracle's operation vocabulary, its text format and the trace sources.

An operation is a frozen dataclass; :func:`format_op` and :func:`parse_op`
convert it to and from the one-line text the kernel driver reads
(``driver.c``, ``FORMAT.md``).  Traces come from two places:

* :func:`load_erase2_sets` converts the kernel's recorded
  ``check_erase2_sets()`` sequences (``tests/data/kernel-erase2-sets.json``);
* :func:`random_trace` generates a deterministic, VMA-shaped random trace
  from a seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

ULONG_MAX = (1 << 64) - 1
"""Largest 64-bit index."""
VALUE_MAX = (1 << 62) - 1
"""Largest value this vocabulary stores (xa_mk_value() keeps 63 bits)."""
MT_FLAGS_ALLOC_RANGE = 0x01
MT_FLAGS_USE_RCU = 0x02


class OpParseError(ValueError):
    """A line of trace text is not an operation."""


@dataclass(frozen=True, slots=True)
class Op:
    """Base class of every operation; ``name`` is its first word in the text."""

    name: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class Init(Op):
    """init F: destroy the tree if initialised, then mt_init_flags(F)."""

    name: ClassVar[str] = "init"
    flags: int


@dataclass(frozen=True, slots=True)
class Store(Op):
    """store A B V: mtree_store_range(A, B, xa_mk_value(V))."""

    name: ClassVar[str] = "store"
    first: int
    last: int
    value: int


@dataclass(frozen=True, slots=True)
class Null(Op):
    """null A B: mtree_store_range(A, B, NULL)."""

    name: ClassVar[str] = "null"
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Insert(Op):
    """insert A B V: mtree_insert_range(A, B, xa_mk_value(V))."""

    name: ClassVar[str] = "insert"
    first: int
    last: int
    value: int


@dataclass(frozen=True, slots=True)
class Erase(Op):
    """erase A: mtree_erase(A)."""

    name: ClassVar[str] = "erase"
    index: int


@dataclass(frozen=True, slots=True)
class Load(Op):
    """load A: mtree_load(A)."""

    name: ClassVar[str] = "load"
    index: int


@dataclass(frozen=True, slots=True)
class Find(Op):
    """find A M: mt_find() from index A up to M."""

    name: ClassVar[str] = "find"
    index: int
    max: int


@dataclass(frozen=True, slots=True)
class RcuOn(Op):
    """rcu_on: mt_set_in_rcu()."""

    name: ClassVar[str] = "rcu_on"


@dataclass(frozen=True, slots=True)
class RcuOff(Op):
    """rcu_off: mt_clear_in_rcu()."""

    name: ClassVar[str] = "rcu_off"


@dataclass(frozen=True, slots=True)
class Bulk(Op):
    """bulk N: mas_init() the bulk state, then mas_expected_entries(N)."""

    name: ClassVar[str] = "bulk"
    n: int


@dataclass(frozen=True, slots=True)
class BStore(Op):
    """bstore A B V: mas_store() of xa_mk_value(V) over [A, B] (bulk state)."""

    name: ClassVar[str] = "bstore"
    first: int
    last: int
    value: int


@dataclass(frozen=True, slots=True)
class BNull(Op):
    """bnull A B: mas_store() of NULL over [A, B] with the bulk state."""

    name: ClassVar[str] = "bnull"
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class BDestroy(Op):
    """bdestroy: mas_destroy() of the bulk state."""

    name: ClassVar[str] = "bdestroy"


@dataclass(frozen=True, slots=True)
class Destroy(Op):
    """destroy: mtree_destroy()."""

    name: ClassVar[str] = "destroy"


@dataclass(frozen=True, slots=True)
class Validate(Op):
    """validate: mt_validate()."""

    name: ClassVar[str] = "validate"


OP_TYPES: dict[str, type[Op]] = {
    cls.name: cls
    for cls in (Init, Store, Null, Insert, Erase, Load, Find, RcuOn, RcuOff,
                Bulk, BStore, BNull, BDestroy, Destroy, Validate)
}
"""Every operation class, by the word that names it in the text."""

_VALUE_FIELDS = frozenset({"value"})


# -- text format ---------------------------------------------------------------


def format_op(op: Op) -> str:
    """Format @op as one line of driver input (no newline)."""
    args = [str(getattr(op, f.name)) for f in fields(op)]
    return " ".join([op.name, *args])


def parse_op(line: str) -> Op:
    """Parse one line of driver input into an operation.

    Raises:
        OpParseError: unknown operation, wrong argument count, or a number
            that is not a decimal in range.
    """
    words = line.split()
    if not words:
        raise OpParseError("empty line")
    cls = OP_TYPES.get(words[0])
    if cls is None:
        raise OpParseError(f"unknown operation {words[0]!r}")
    names = [f.name for f in fields(cls)]
    if len(words) - 1 != len(names):
        raise OpParseError(f"{cls.name} takes {len(names)} arguments: {line!r}")
    values = [_parse_number(w, n) for w, n in zip(words[1:], names, strict=True)]
    return cls(*values)


def _parse_number(word: str, field: str) -> int:
    """Parse one decimal argument, checking its range."""
    if not word.isdigit():
        raise OpParseError(f"{field}: not a decimal number: {word!r}")
    value = int(word)
    limit = VALUE_MAX if field in _VALUE_FIELDS else ULONG_MAX
    if value > limit:
        raise OpParseError(f"{field}: {word} is out of range")
    return value


def format_trace(ops: list[Op]) -> str:
    """Format a trace as driver input, one line per operation."""
    return "".join(format_op(op) + "\n" for op in ops)


def parse_trace(text: str) -> list[Op]:
    """Parse driver input; blank lines and lines starting with ``#`` are skipped.

    Raises:
        OpParseError: with the 1-based line number of the first bad line.
    """
    ops: list[Op] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            ops.append(parse_op(stripped))
        except OpParseError as err:
            raise OpParseError(f"line {number}: {err}") from None
    return ops


# -- the kernel's recorded erase2 sets -------------------------------------------


@dataclass(frozen=True, slots=True)
class NamedTrace:
    """A trace with a name to report it by."""

    name: str
    flags: int
    ops: list[Op]


ERASE2_STORE, ERASE2_SNULL, ERASE2_ERASE = 1, 2, 3
_FLAG_NAMES = {"MT_FLAGS_ALLOC_RANGE": MT_FLAGS_ALLOC_RANGE,
               "MT_FLAGS_USE_RCU": MT_FLAGS_USE_RCU}
ERASE2_FILE = "kernel-erase2-sets.json"


def erase2_path() -> Path:
    """Where the recorded erase2 sets live (repo tests/data, or package data)."""
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "tests" / "data" / ERASE2_FILE,
                  here.parents[1] / "data" / ERASE2_FILE]
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0]


def erase2_flags(names: list[str]) -> int:
    """The mt_init_flags() value of a set's flag list."""
    flags = 0
    for name in names:
        if name not in _FLAG_NAMES:
            raise ValueError(f"unknown tree flag {name!r}")
        flags |= _FLAG_NAMES[name]
    return flags


def erase2_op(triple: list[int]) -> Op:
    """Convert one recorded [op, first, last] triple."""
    kind, first, last = triple
    if kind == ERASE2_STORE:
        return Store(first, last, first)
    if kind == ERASE2_SNULL:
        return Null(first, last)
    if kind == ERASE2_ERASE:
        return Erase(first)
    raise ValueError(f"unknown erase2 op {kind}")


def load_erase2_sets(path: Path | None = None, *,
                     validate_each: bool = False) -> list[NamedTrace]:
    """Convert the recorded erase2 sets into traces.

    Each trace starts with ``init <flags>`` and ends with ``validate``;
    with @validate_each a ``validate`` follows every op, as in the kernel's
    check_erase2_testset().  The sets' ``after`` checks are not converted.
    """
    data = json.loads((path or erase2_path()).read_text())
    traces = []
    for entry in data["sets"]:
        flags = erase2_flags(entry["flags"])
        ops: list[Op] = [Init(flags)]
        for triple in entry["ops"]:
            ops.append(erase2_op(triple))
            if validate_each:
                ops.append(Validate())
        if not validate_each:
            ops.append(Validate())
        traces.append(NamedTrace(entry["name"], flags, ops))
    return traces


# -- random traces ------------------------------------------------------------------

PAGE = 4096
VMA_LOW = 0x400000
"""Lowest address of a typical text mapping."""
VMA_HIGH = 0x7FFFFFFFFFFF
"""Top of the x86-64 user address space."""
MAX_ENTRIES = 400
"""Above this many entries the generator favours removals."""


class ShadowMap:
    """A plain interval map of the entries a trace has stored (no gaps kept)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int, int]] = []

    def __len__(self) -> int:
        return len(self.ranges)

    def clear(self) -> None:
        """Forget every entry."""
        self.ranges = []

    def overlaps(self, first: int, last: int) -> bool:
        """Does any entry intersect [first, last]?"""
        return any(f <= last and first <= l for f, l, _ in self.ranges)

    def store(self, first: int, last: int, value: int | None) -> None:
        """Store @value (None for NULL) over [first, last]."""
        kept: list[tuple[int, int, int]] = []
        for f, l, v in self.ranges:
            if l < first or f > last:
                kept.append((f, l, v))
                continue
            if f < first:
                kept.append((f, first - 1, v))
            if l > last:
                kept.append((last + 1, l, v))
        if value is not None:
            kept.append((first, last, value))
        kept.sort()
        self.ranges = kept

    def entry_at(self, index: int) -> tuple[int, int, int] | None:
        """The entry that holds @index, if any."""
        for entry in self.ranges:
            if entry[0] <= index <= entry[1]:
                return entry
        return None


KNOWN_BUG_RCU_DESTROY = (
    "6.12 mt_destroy_walk() in RCU mode: mte_dead_leaves() strips the type "
    "bits from the slots of a node whose children are leaves, so "
    "mt_clear_meta() on a full maple_range_64 start node zeroes the metadata "
    "bytes that overlap slot 15 and mt_free_walk() frees a corrupted pointer"
)
"""Why random traces of non-alloc trees leave RCU mode before a destroy."""


class TraceGen:
    """State of one random trace being generated (see :func:`random_trace`)."""

    def __init__(self, rng: random.Random, n_ops: int, flags: int, *,
                 known_bugs: bool = False) -> None:
        self.rng = rng
        self.n_ops = n_ops
        self.flags = flags
        self.known_bugs = known_bugs
        self.ops: list[Op] = []
        self.shadow = ShadowMap()
        self.in_rcu = bool(flags & MT_FLAGS_USE_RCU)
        self.up = VMA_LOW
        self.down = VMA_HIGH + 1 - PAGE

    # -- helpers --------------------------------------------------------
    def room(self) -> int:
        """How many more ops fit in the trace."""
        return self.n_ops - len(self.ops)

    def emit(self, op: Op) -> None:
        """Append @op and keep the shadow map in step with it."""
        self.ops.append(op)
        match op:
            case Store(first, last, value) | BStore(first, last, value):
                self.shadow.store(first, last, value)
            case Null(first, last) | BNull(first, last):
                self.shadow.store(first, last, None)
            case Insert(first, last, value):
                if not self.shadow.overlaps(first, last):
                    self.shadow.store(first, last, value)
            case Erase(index):
                entry = self.shadow.entry_at(index)
                if entry is not None:
                    self.shadow.store(entry[0], entry[1], None)
            case Init() | Destroy():
                self.shadow.clear()

    def value(self) -> int:
        """A fresh value: the op's position, so every entry is distinct."""
        return len(self.ops) + 1

    def pages(self) -> int:
        """A VMA size in pages: mostly small, sometimes large."""
        r = self.rng.random()
        if r < 0.6:
            return self.rng.randint(1, 8)
        if r < 0.9:
            return self.rng.randint(9, 512)
        return self.rng.randint(513, 1 << 20)

    def gap_pages(self) -> int:
        """The hole before the next VMA: often none, as mappings abut."""
        r = self.rng.random()
        if r < 0.4:
            return 0
        if r < 0.8:
            return self.rng.randint(1, 16)
        return self.rng.randint(17, 1 << 16)

    def random_range(self) -> tuple[int, int]:
        """A range in the VMA area, page aligned mostly, edges sometimes."""
        rng = self.rng
        r = rng.random()
        if r < 0.03:
            return 0, rng.choice([0, 1, PAGE - 1, rng.randint(0, VMA_HIGH)])
        if r < 0.05:
            return 1, rng.choice([1, 2, PAGE - 1])
        if r < 0.08:
            first = rng.choice([ULONG_MAX, ULONG_MAX - 1, rng.randint(VMA_LOW,
                                                                      ULONG_MAX)])
            return first, ULONG_MAX
        if r < 0.15 and self.shadow.ranges:
            return self.around_entry()
        first = rng.randrange(VMA_LOW, VMA_HIGH, PAGE)
        last = min(first + self.pages() * PAGE - 1, VMA_HIGH)
        if rng.random() < 0.1:
            first += rng.randint(1, PAGE - 1)
            last = max(first, last - rng.randint(0, PAGE - 1))
        return first, last

    def around_entry(self) -> tuple[int, int]:
        """A range that cuts into or spans existing entries (mprotect, munmap)."""
        rng = self.rng
        ranges = self.shadow.ranges
        i = rng.randrange(len(ranges))
        j = min(len(ranges) - 1, i + rng.choice([0, 0, 0, 1, 2, rng.randint(0, 20)]))
        first, last = ranges[i][0], ranges[j][1]
        if rng.random() < 0.5 and last - first >= 2 * PAGE:
            cut = rng.randrange(first + PAGE, last, PAGE)
            if rng.random() < 0.5:
                first = cut
            else:
                last = cut - 1
        return first, last

    # -- op mixes -------------------------------------------------------
    def vma_up(self) -> None:
        """Store the next VMA above the last one (brk/text-like growth)."""
        first = self.up
        last = first + self.pages() * PAGE - 1
        if last > VMA_HIGH:
            self.up = VMA_LOW + self.rng.randrange(0, 1 << 20) * PAGE
            return self.vma_up()
        self.emit(Store(first, last, self.value()))
        self.up = last + 1 + self.gap_pages() * PAGE
        return None

    def vma_down(self) -> None:
        """Store the next VMA below the last one (top-down mmap)."""
        size = self.pages() * PAGE
        last = self.down - self.gap_pages() * PAGE - 1
        first = last - size + 1
        if first < VMA_LOW:
            self.down = VMA_HIGH + 1 - PAGE * self.rng.randint(1, 1 << 12)
            return self.vma_down()
        self.emit(Store(first, last, self.value()))
        self.down = first
        return None

    def range_store(self) -> None:
        """Store a value over a random range."""
        first, last = self.random_range()
        self.emit(Store(first, last, self.value()))

    def null_store(self) -> None:
        """Store NULL over a range, usually one that holds entries."""
        if self.shadow.ranges and self.rng.random() < 0.8:
            first, last = self.around_entry()
        else:
            first, last = self.random_range()
        self.emit(Null(first, last))

    def insert(self) -> None:
        """Insert over a random range (fails with -EEXIST on overlap)."""
        first, last = self.random_range()
        self.emit(Insert(first, last, self.value()))

    def erase(self) -> None:
        """Erase an existing entry at its start or inside it."""
        if not self.shadow.ranges:
            self.emit(Erase(self.random_range()[0]))
            return
        first, last, _ = self.rng.choice(self.shadow.ranges)
        index = first if self.rng.random() < 0.7 else self.rng.randint(first, last)
        self.emit(Erase(index))

    def lookup(self) -> None:
        """A load or an mt_find() at an entry, a hole or an edge."""
        rng = self.rng
        if self.shadow.ranges and rng.random() < 0.6:
            first, last, _ = rng.choice(self.shadow.ranges)
            index = rng.randint(max(first - PAGE, 0), last)
        else:
            index = self.random_range()[0]
        if rng.random() < 0.5:
            self.emit(Load(index))
            return
        limit = rng.choice([ULONG_MAX, VMA_HIGH, min(index + rng.randint(0, 1 << 30),
                                                      ULONG_MAX)])
        self.emit(Find(index, max(index, limit)))

    def rcu_toggle(self) -> None:
        """Switch RCU mode on or off."""
        self.in_rcu = not self.in_rcu
        self.emit(RcuOn() if self.in_rcu else RcuOff())

    def leave_rcu_for_destroy(self) -> None:
        """Switch RCU mode off before a destroy that would hit a known bug."""
        if self.known_bugs or not self.in_rcu or self.flags & MT_FLAGS_ALLOC_RANGE:
            return
        self.emit(RcuOff())
        self.in_rcu = False

    def reset(self) -> None:
        """destroy then init: start over with an empty tree."""
        if self.room() < 3:
            return
        self.leave_rcu_for_destroy()
        self.emit(Destroy())
        self.emit(Init(self.flags))
        self.in_rcu = bool(self.flags & MT_FLAGS_USE_RCU)

    def bulk_layout(self, budget: int) -> list[tuple[int, int, int]]:
        """The VMAs a bulk load copies: the current ones, or fresh ones."""
        current = self.shadow.ranges
        if current and len(current) <= budget and self.rng.random() < 0.7:
            return list(current)
        count = self.rng.randint(1, max(1, min(budget, 300)))
        layout: list[tuple[int, int, int]] = []
        first = VMA_LOW + self.rng.randrange(0, 1 << 16) * PAGE
        for _ in range(count):
            last = first + self.pages() * PAGE - 1
            if last > VMA_HIGH:
                break
            layout.append((first, last, self.value() + len(layout)))
            first = last + 1 + self.gap_pages() * PAGE
        return layout

    def bulk(self) -> None:
        """dup_mmap(): init, bulk N, N ascending bstores, bdestroy.

        A tree created in RCU mode leaves it for the bulk load and enters it
        again afterwards, as dup_mmap() does since RCU mode became the mm
        default (mt_clear_in_rcu() / mt_set_in_rcu()): a bulk load in RCU
        mode runs out of its preallocation and hits MAS_WR_BUG_ON().
        """
        budget = self.room() - 6
        if budget < 1:
            return
        layout = self.bulk_layout(budget)
        if not layout:
            return
        expected = len(layout)
        if self.rng.random() < 0.2:
            # VM_DONTCOPY: fewer VMAs stored than map_count said.
            layout = layout[: self.rng.randint(1, len(layout))]
        self.leave_rcu_for_destroy()
        self.emit(Init(self.flags))
        rcu = bool(self.flags & MT_FLAGS_USE_RCU)
        if rcu:
            self.emit(RcuOff())
        self.emit(Bulk(expected))
        for first, last, value in layout:
            self.emit(BStore(first, last, value))
        self.emit(BDestroy())
        if rcu:
            self.emit(RcuOn())
        self.in_rcu = rcu

    def step(self) -> None:
        """Emit one op (or one bulk sequence) chosen by weight."""
        full = len(self.shadow) > MAX_ENTRIES
        choices = (
            (self.vma_up, 3 if full else 22),
            (self.vma_down, 3 if full else 12),
            (self.range_store, 14),
            (self.null_store, 30 if full else 12),
            (self.erase, 30 if full else 12),
            (self.insert, 3),
            (self.lookup, 8),
            (self.rcu_toggle, 2),
            (self.validate, 2),
            (self.reset, 0.3),
            (self.bulk, 0.25),
        )
        actions = [a for a, _ in choices]
        weights = [w for _, w in choices]
        self.rng.choices(actions, weights)[0]()

    def validate(self) -> None:
        """mt_validate()."""
        self.emit(Validate())


def random_trace(seed: int, n_ops: int, *, flags: int,
                 known_bugs: bool = False) -> list[Op]:
    """A deterministic random trace of exactly @n_ops ops (``init`` first).

    Mixes ascending and descending VMA-like stores, random range stores,
    NULL stores, erases of existing entries, inserts, loads and finds, RCU
    mode switches, validations, destroy + init, and bulk loads.  Only
    ``random.Random(seed)`` is used; the same arguments always give the
    same list.  Unless @known_bugs, a tree without MT_FLAGS_ALLOC_RANGE
    leaves RCU mode before it is destroyed (KNOWN_BUG_RCU_DESTROY).
    """
    if n_ops < 1:
        return []
    gen = TraceGen(random.Random(seed), n_ops, flags, known_bugs=known_bugs)
    gen.emit(Init(flags))
    while gen.room() > 0:
        gen.step()
    return gen.ops
