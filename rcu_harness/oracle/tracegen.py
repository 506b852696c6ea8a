"""Deterministic, VMA-shaped random traces for the oracle.

:func:`random_trace` generates a trace of the operation vocabulary
(:mod:`.ops`) from a seed: ascending and descending VMA-like stores, range
and NULL stores, erases, inserts, lookups, RCU mode switches, validations,
destroy + init and dup_mmap()-style bulk loads.
"""

from __future__ import annotations

import random

from rcu_harness.oracle.ops import (
    MT_FLAGS_ALLOC_RANGE,
    MT_FLAGS_USE_RCU,
    ULONG_MAX,
    BDestroy,
    BNull,
    BStore,
    Bulk,
    Destroy,
    Erase,
    Find,
    Init,
    Insert,
    Load,
    Null,
    Op,
    RcuOff,
    RcuOn,
    Store,
    Validate,
)

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
"""What random traces with ``steer_known_bugs`` steer around (catalogued as
``maple-rcu-destroy-dead-leaves``; the oracle treats both sides failing on
it at the same op as agreement, :mod:`rcu_harness.oracle.agree`)."""


class TraceGen:
    """State of one random trace being generated (see :func:`random_trace`)."""

    def __init__(self, rng: random.Random, n_ops: int, flags: int, *,
                 steer_known_bugs: bool = False) -> None:
        self.rng = rng
        self.n_ops = n_ops
        self.flags = flags
        self.steer_known_bugs = steer_known_bugs
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
        if (not self.steer_known_bugs or not self.in_rcu
                or self.flags & MT_FLAGS_ALLOC_RANGE):
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
                 steer_known_bugs: bool = False) -> list[Op]:
    """A deterministic random trace of exactly @n_ops ops (``init`` first).

    Mixes ascending and descending VMA-like stores, random range stores,
    NULL stores, erases of existing entries, inserts, loads and finds, RCU
    mode switches, validations, destroy + init, and bulk loads.  Only
    ``random.Random(seed)`` is used; the same arguments always give the
    same list.  With @steer_known_bugs, a tree without MT_FLAGS_ALLOC_RANGE
    leaves RCU mode before it is destroyed (KNOWN_BUG_RCU_DESTROY); by
    default the traces go there too (spanning stores in RCU mode included).
    """
    if n_ops < 1:
        return []
    gen = TraceGen(random.Random(seed), n_ops, flags,
                   steer_known_bugs=steer_known_bugs)
    gen.emit(Init(flags))
    while gen.room() > 0:
        gen.step()
    return gen.ops
