"""A whole comparison: divergences, and catalogued kernel bugs as agreement.

:func:`compare` runs a trace through the kernel driver and the model (the
driver variant and the model patches of the chosen candidate fixes, if any,
:func:`driver_for`).  When both sides fail at the same op and their crash
lines match a catalogued kernel bug (:mod:`rcu_harness.known.catalogue`),
that is agreement: the model reproduces the kernel bug.  A write op failing
that way is then wrapped in ``rcu_off`` ... ``rcu_on`` (mt_clear_in_rcu()
/ mt_set_in_rcu(), the op runs outside RCU mode) and the comparison starts
again, so the rest of the trace is still compared; a reader call or a
second failure of a wrapped op ends the comparison there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rcu_harness.known.catalogue import KnownFinding, known_crash
from rcu_harness.oracle.diff import Divergence, first_divergence
from rcu_harness.oracle.ops import (
    BDestroy,
    BNull,
    BStore,
    Bulk,
    Destroy,
    Erase,
    Init,
    Insert,
    Null,
    Op,
    RcuOff,
    RcuOn,
    Store,
)

if TYPE_CHECKING:
    from pathlib import Path

WRITE_OPS = (Store, Null, Insert, Erase, Destroy, Init, Bulk, BStore, BNull,
             BDestroy)
"""Ops that can be rerun outside RCU mode when they hit a known bug."""
AT_EXIT = Destroy()
"""The op of a failure after the last line: driver.c's final mtree_destroy()."""
MAX_WRAPS = 50
"""At most this many ops of one trace are wrapped (each costs a rerun)."""


@dataclass(frozen=True, slots=True)
class KnownCrash:
    """Both sides failed at op @index with the catalogued bug @entry."""

    index: int
    op: Op
    entry: KnownFinding
    kernel: str
    model: str
    wrapped: bool
    """The op was then rerun outside RCU mode and the trace went on."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of :func:`compare`."""

    ops: list[Op]
    """The trace as last run (known-bug ops wrapped)."""
    divergence: Divergence | None
    """A divergence that is not a catalogued bug, or None."""
    known: tuple[KnownCrash, ...] = field(default=())
    ended_at: int | None = None
    """The op a known bug or an uncatalogued double crash ended it at."""

    @property
    def agreed(self) -> bool:
        """No divergence other than both sides crashing together."""
        return self.divergence is None or self.divergence.both_crashed

    @property
    def compared(self) -> int:
        """How many ops were compared and found identical."""
        if self.divergence is not None:
            return self.divergence.index
        return self.ended_at if self.ended_at is not None else len(self.ops)


def driver_for(fixes: tuple[str, ...]) -> Path:
    """The driver binary with the C side of candidate @fixes (or the plain one).

    Raises:
        OracleUnavailable: it cannot be built here.
    """
    from rcu_harness.known.fixes import patch_c_source
    from rcu_harness.oracle.build import ensure_oracle
    from rcu_harness.oracle.variants import ensure_variant

    if not fixes:
        return ensure_oracle()
    return ensure_variant("+".join(fixes),
                          lambda source: patch_c_source(source, fixes))


def wrapped(ops: list[Op], index: int) -> list[Op] | None:
    """@ops with op @index run outside RCU mode, or None if it cannot be.

    Index ``len(ops)`` is the driver's mtree_destroy() when its input ends:
    the trace then ends in ``rcu_off``.
    """
    if index == len(ops):
        return None if ops and isinstance(ops[-1], RcuOff) else [*ops, RcuOff()]
    op = ops[index]
    if not isinstance(op, WRITE_OPS):
        return None
    # init sets its own flags (RCU mode or not): nothing to restore after it
    after: list[Op] = [] if isinstance(op, Init) else [RcuOn()]
    return [*ops[:index], RcuOff(), op, *after, *ops[index + 1:]]


def compare(ops: list[Op], *, every: int = 1, binary: Path | None = None,
            fixes: tuple[str, ...] = (), wrap: bool = True) -> Comparison:
    """Compare @ops on both sides; see the module docstring.

    Raises:
        OracleUnavailable: the kernel driver cannot be built here.
        ModelUnavailable: the model does not have the API yet.
    """
    if binary is None:
        binary = driver_for(fixes)
    known: list[KnownCrash] = []
    while True:
        found = first_divergence(ops, every=every, binary=binary, fixes=fixes)
        if found is None:
            return Comparison(ops, None, tuple(known))
        if not found.both_crashed:
            return Comparison(ops, found, tuple(known))
        entry = known_crash(found.kernel, found.model, fixes)
        if entry is None:
            return Comparison(ops, found, tuple(known), found.index)
        op = ops[found.index] if found.index < len(ops) else AT_EXIT
        again = wrapped(ops, found.index) if wrap and len(known) < MAX_WRAPS else None
        if again is not None and known and known[-1].op is op is not AT_EXIT:
            again = None  # the wrapped op failed again
        known.append(KnownCrash(found.index, op, entry, found.kernel,
                                found.model, again is not None))
        if again is None:
            return Comparison(ops, None, tuple(known), found.index)
        ops = again
