"""The oracle's operation vocabulary and its text format.

An operation is a frozen dataclass; :func:`format_op` and :func:`parse_op`
convert it to and from the one-line text the kernel driver reads
(``driver.c``, ``FORMAT.md``).  Traces come from :mod:`.erase2` (the
kernel's recorded ``check_erase2_sets()`` sequences) and :mod:`.tracegen`
(deterministic, VMA-shaped random traces).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
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


@dataclass(frozen=True, slots=True)
class FindAfter(Op):
    """findafter A M: mt_find_after() from index A up to M."""

    name: ClassVar[str] = "findafter"
    index: int
    max: int


# -- the reader API on the reader's ma_state (rmas) ------------------------------


@dataclass(frozen=True, slots=True)
class RLock(Op):
    """rlock: the reader takes rcu_read_lock() and holds it across ops."""

    name: ClassVar[str] = "rlock"


@dataclass(frozen=True, slots=True)
class RUnlock(Op):
    """runlock: the reader's rcu_read_unlock()."""

    name: ClassVar[str] = "runlock"


@dataclass(frozen=True, slots=True)
class MSet(Op):
    """mset I: mas_set(&rmas, I)."""

    name: ClassVar[str] = "mset"
    index: int


@dataclass(frozen=True, slots=True)
class MReset(Op):
    """mreset: mas_reset(&rmas)."""

    name: ClassVar[str] = "mreset"


@dataclass(frozen=True, slots=True)
class MPause(Op):
    """mpause: mas_pause(&rmas)."""

    name: ClassVar[str] = "mpause"


@dataclass(frozen=True, slots=True)
class MWalk(Op):
    """mwalk: mas_walk(&rmas)."""

    name: ClassVar[str] = "mwalk"


@dataclass(frozen=True, slots=True)
class MFind(Op):
    """mfind M: mas_find(&rmas, M)."""

    name: ClassVar[str] = "mfind"
    max: int


@dataclass(frozen=True, slots=True)
class MFindRev(Op):
    """mfindrev M: mas_find_rev(&rmas, M) (M is the minimum)."""

    name: ClassVar[str] = "mfindrev"
    min: int


@dataclass(frozen=True, slots=True)
class MNext(Op):
    """mnext M: mas_next(&rmas, M)."""

    name: ClassVar[str] = "mnext"
    max: int


@dataclass(frozen=True, slots=True)
class MPrev(Op):
    """mprev M: mas_prev(&rmas, M) (M is the minimum)."""

    name: ClassVar[str] = "mprev"
    min: int


@dataclass(frozen=True, slots=True)
class MNextRange(Op):
    """mnextr M: mas_next_range(&rmas, M)."""

    name: ClassVar[str] = "mnextr"
    max: int


@dataclass(frozen=True, slots=True)
class MPrevRange(Op):
    """mprevr M: mas_prev_range(&rmas, M) (M is the minimum)."""

    name: ClassVar[str] = "mprevr"
    min: int


@dataclass(frozen=True, slots=True)
class MForEach(Op):
    """mforeach M K: mas_for_each(&rmas, entry, M), leaving after K entries."""

    name: ClassVar[str] = "mforeach"
    max: int
    limit: int


@dataclass(frozen=True, slots=True)
class Within(Op):
    """within P N K: the next op is a write; the K ops after it run *inside*
    it, when the write passes interleave point P (0: a new node just
    published, 1: the old node marked dead; both in mas_put_in_tree()) for
    the Nth time.  ``oracle confirm`` runs it on the model and in C
    reproducers (:mod:`.interleave`); driver.c has no such op."""

    name: ClassVar[str] = "within"
    point: int
    nth: int
    count: int


READER_CALLS = (
    MSet, MReset, MPause, MWalk, MFind, MFindRev, MNext, MPrev, MNextRange,
    MPrevRange, MForEach)
"""The ops that call the reader API on rmas (their ret is a state)."""
MAX_FOREACH = 64
"""The largest K of ``mforeach`` (driver.c's DRIVER_MAX_SEEN)."""


OP_TYPES: dict[str, type[Op]] = {
    cls.name: cls
    for cls in (Init, Store, Null, Insert, Erase, Load, Find, RcuOn, RcuOff,
                Bulk, BStore, BNull, BDestroy, Destroy, Validate, FindAfter,
                RLock, RUnlock, *READER_CALLS)
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
    if field == "limit":
        limit = MAX_FOREACH
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


@dataclass(frozen=True, slots=True)
class NamedTrace:
    """A trace with a name to report it by."""

    name: str
    flags: int
    ops: list[Op]
