"""The model's side of the oracle: a trace through the Python model.

:class:`ModelRunner` is driver.c in Python: one tree, one bulk ma_state,
the reader's ma_state (:mod:`.reader`); :func:`run_model` applies a trace
and formats one line per op exactly as the driver prints it (FORMAT.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rcu_harness.oracle.ops import (
    BDestroy,
    BNull,
    BStore,
    Bulk,
    Destroy,
    Erase,
    Find,
    FindAfter,
    Init,
    Insert,
    Load,
    Null,
    Op,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Validate,
    Within,
)
from rcu_harness.oracle.pydump import entry_token
from rcu_harness.oracle.reader import ReaderState

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

ELIDED = "."
"""The ``<tree>`` of a line whose dump was skipped."""
NOT_INITIALISED = "tree not initialised (init F first)"
"""driver.c's message for an operation before the first ``init``."""
NOT_LOCKED = "the reader does not hold the RCU read lock"
"""driver.c's message for ``runlock`` without ``rlock``."""

MODEL_API = (
    "MapleTree", "mtree_store_range", "mtree_insert_range", "mtree_erase",
    "mtree_load", "mt_find", "mt_find_after", "mas_walk", "mas_find",
    "mas_find_rev", "mas_next", "mas_prev", "mas_next_range",
    "mas_prev_range", "mas_pause", "mas_set", "mas_reset", "mas_for_each",
    "mt_set_in_rcu", "mt_clear_in_rcu",
    "mtree_destroy", "mt_validate", "mt_height", "MaState",
    "mas_expected_entries", "mas_store", "mas_destroy", "mas_lock",
    "mas_unlock", "xa_mk_value",
)
"""What the differential needs from ``maple``."""


class ModelUnavailable(Exception):
    """The Python model does not have the API the differential needs (yet)."""


def dump_full(index: int, op: Op, every: int, full_from: int | None) -> bool:
    """Is line @index (op @op) printed with its tree?"""
    if index % every == 0 or isinstance(op, Validate):
        return True
    return full_from is not None and index >= full_from



def load_model() -> ModuleType:
    """Import ``maple`` and check it has the differential's API.

    Raises:
        ModelUnavailable: naming what is missing.
    """
    try:
        import maple
    except ImportError as err:  # pragma: no cover - the package is in the repo
        raise ModelUnavailable(f"cannot import maple: {err}") from None
    missing = [name for name in MODEL_API if not hasattr(maple, name)]
    if missing:
        raise ModelUnavailable("the Python model has no " + ", ".join(missing)
                               + " yet")
    return maple


def model_dumper() -> Callable[[Any], str]:
    """``maple.dump.mt_dump_canonical`` if the model has it, else ours."""
    try:
        from maple.dump import mt_dump_canonical
    except ImportError:
        from rcu_harness.oracle.pydump import mt_dump_canonical
    return mt_dump_canonical


def live_nodes(port: Any) -> int:
    """Nodes allocated and not freed (what mt_nr_allocated() counts)."""
    total, freed = getattr(port, "total_allocated", None), getattr(port, "freed",
                                                                   None)
    if isinstance(total, int) and isinstance(freed, set):
        return total - len(freed)  # PassThroughPort, without its O(n) walk
    return int(port.accounting().allocated)


class ModelRunner:
    """The model's side of the driver: one tree, one bulk ma_state."""

    def __init__(self, maple: ModuleType, dump: Callable[[Any], str]) -> None:
        self.m = maple
        self.dump = dump
        self.mt: Any = None
        self.bmas: Any = None
        self.reader: ReaderState | None = None

    def init(self, flags: int) -> None:
        """init F: destroy the tree if there is one, then mt_init_flags(F)."""
        if self.mt is None:
            self.mt = self.m.MapleTree(flags)
            self.bmas = self.m.MaState(self.mt, 0, 0)
            self.reader = ReaderState(self.m, self.mt)
            return
        self.m.mtree_destroy(self.mt)
        from maple.tree import mt_init_flags

        mt_init_flags(self.mt, flags)

    def bulk_store(self, first: int, last: int, entry: object) -> object:
        """mas_store() with the bulk state, under the tree lock."""
        m, mas = self.m, self.bmas
        m.mas_lock(mas)
        mas.index, mas.last = first, last
        old = m.mas_store(mas, entry)
        m.mas_unlock(mas)
        return old

    def bulk_begin(self, n: int) -> int:
        """mas_init() the bulk state, then mas_expected_entries(N) under the lock."""
        m = self.m
        self.bmas = mas = m.MaState(self.mt, 0, 0)
        m.mas_lock(mas)
        ret = int(m.mas_expected_entries(mas, n))
        m.mas_unlock(mas)
        return ret

    def bulk_end(self) -> None:
        """mas_destroy() of the bulk state, under the lock."""
        m, mas = self.m, self.bmas
        m.mas_lock(mas)
        m.mas_destroy(mas)
        m.mas_unlock(mas)

    def apply(self, op: Op) -> str:
        """Run @op on the model; the return part of its line."""
        m, mt = self.m, self.mt
        match op:
            case Store(first, last, value):
                return str(m.mtree_store_range(mt, first, last, m.xa_mk_value(value)))
            case Null(first, last):
                return str(m.mtree_store_range(mt, first, last, None))
            case Insert(first, last, value):
                return str(m.mtree_insert_range(mt, first, last, m.xa_mk_value(value)))
            case Erase(index):
                return entry_token(m.mtree_erase(mt, index))
            case Load(index):
                return entry_token(m.mtree_load(mt, index))
            case Find(index, limit) | FindAfter(index, limit):
                find = m.mt_find if isinstance(op, Find) else m.mt_find_after
                entry, new_index = find(mt, index, limit)
                if entry is None:
                    return "-"
                return f"{entry_token(entry)}@{new_index:x}"
            case RcuOn():
                m.mt_set_in_rcu(mt)
            case RcuOff():
                m.mt_clear_in_rcu(mt)
            case Bulk(n):
                return str(self.bulk_begin(n))
            case BStore(first, last, value):
                return entry_token(self.bulk_store(first, last, m.xa_mk_value(value)))
            case BNull(first, last):
                return entry_token(self.bulk_store(first, last, None))
            case BDestroy():
                self.bulk_end()
            case Destroy():
                m.mtree_destroy(mt)
            case Validate():
                m.mt_validate(mt)
            case RLock():
                assert self.reader is not None
                self.reader.lock()
            case RUnlock():
                raise AssertionError("runlock is handled by line()")
            case _:
                assert self.reader is not None
                return self.reader.call(op)
        return "0"

    def line(self, op: Op, full: bool, *, barrier: bool = True) -> str:
        """Run @op and format its whole output line, as the driver would
        (without @barrier, no rcu_barrier() after it: a read inside a write)."""
        if isinstance(op, Init):
            self.init(op.flags)
            ret = "0"
        elif self.mt is None:
            return f"error {op.name}: {NOT_INITIALISED}"
        elif isinstance(op, RUnlock):
            assert self.reader is not None
            if not self.reader.unlock():
                return f"error {op.name}: {NOT_LOCKED}"
            ret = "0"
        else:
            ret = self.apply(op)
        mt = self.mt
        if barrier and (self.reader is None or not self.reader.locked):
            mt.port.rcu_barrier()
        tree = self.dump(mt) if full else ELIDED
        return f"{ret} h{self.m.mt_height(mt)} n{live_nodes(mt.port)} {tree}"


def run_model(ops: list[Op], *, every: int = 1, full_from: int | None = None,
              fixes: tuple[str, ...] = (), interleave: bool = True) -> list[str]:
    """Apply @ops to a fresh Python model; one line per op, as the driver prints.

    An exception in the model ends the list with ``crash <type>: <message>``;
    so does one in the tree's destruction after the last op, as the driver
    destroys the tree when its input ends.
    @fixes are candidate kernel fixes (:mod:`rcu_harness.known.fixes`)
    applied to the model for the run.  The ops of a ``Within`` group run
    inside its write (:mod:`.interleave`), or after it without @interleave.

    Raises:
        ModelUnavailable: ``maple`` does not have the API yet.
    """
    from rcu_harness.oracle.interleave import run_within, span
    from rcu_harness.scenarios.catalog import applied

    runner = ModelRunner(load_model(), model_dumper())
    lines: list[str] = []

    def full(index: int, op: Op) -> bool:
        return dump_full(index, op, every, full_from)

    with applied(None, fixes):
        index = 0
        while index < len(ops):
            op = ops[index]
            if isinstance(op, Within):
                group, err = run_within(runner, ops, index, interleave=interleave,
                                        full=full)
                lines += group
                if err is not None:
                    lines.append(_crash_line(err))
                    break
                index += span(ops, index)
                continue
            try:
                lines.append(runner.line(op, full(index, op)))
            except Exception as err:
                lines.append(_crash_line(err))
                break
            index += 1
        else:
            end = _at_exit(runner)
            if end is not None:
                lines.append(end)
    return lines


def _crash_line(err: Exception) -> str:
    """``crash <type>: <first line of the message>``."""
    message = str(err).splitlines()[0] if str(err) else ""
    return f"crash {type(err).__name__}: {message}"


def _at_exit(runner: ModelRunner) -> str | None:
    """What driver.c does after the last line: mtree_destroy() of an
    initialised tree, then rcu_barrier(); a crash line if that fails (the
    driver then dies after printing every line), else None."""
    if runner.mt is None:
        return None
    try:
        runner.m.mtree_destroy(runner.mt)
        runner.mt.port.rcu_barrier()
    except Exception as err:
        return _crash_line(err)
    return None
