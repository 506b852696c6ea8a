"""A finding's weak-memory pattern as a C litmus test for herd7.

``rcu-harness replay TRACE.json --litmus OUT.litmus`` replays a finding
found under ``--memory-model lkmm`` and writes the pattern that made it
possible: the smallest litmus test (two processes, two or three accesses
each, no loops) in which the same outcome is the ``exists`` clause, so that
herd7 with the kernel's tools/memory-model can say whether the Linux kernel
memory model allows it.  Next to it, ``OUT.fixed.litmus`` is the same
pattern with the ordering the kernel uses added where it was missing; its
verdict should be ``Never``.

The pattern is message passing, the shape of every barrier in the maple
tree's RCU paths.  The exporter reads the memory model's log of the replay
(:class:`~rcu_harness.memory.wmm.api.Op`): it takes the stale loads (a
load that read an older store than the newest), the faulting thread's last
first, and for each looks, earlier in the same thread, for a load that read
a store the writer of the newer store made *after* it.  The writer's two
stores and the reader's two loads, with the barriers between them (from the
log), the release or acquire on them, and whether the second load went
through the pointer the first one read (an address dependency), are the
test: P0 is the writer, P1 the reader, ``x`` the word read stale and ``y``
the word read new.  Values are abstracted to 0 (the value read) and 1 (the
value not seen), or to the address of ``x`` for a pointer; the comment
block names the real words, values, steps and threads.  Any of P0's stores
and P1's load of ``y`` may be an atomic read-modify-write (a refcount's,
a cmpxchg's): it is written as the kernel primitive it models, with its
ordering (:mod:`rcu_harness.litmus.atomics`), on an ``atomic_t`` that
keeps its real values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rcu_harness.litmus.atomics import Rmw, stronger
from rcu_harness.litmus.parse import parse
from rcu_harness.litmus.render import render
from rcu_harness.litmus.run import outcomes
from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.wmm.threads import pointer_target

if TYPE_CHECKING:
    from pathlib import Path

    from rcu_harness.memory.wmm.api import Op
    from rcu_harness.memory.wmm.model import LkmmModel
    from rcu_harness.memory.wmm.views import Loc, Msg


class NoPatternError(ValueError):
    """The execution has no stale load that a message-passing pattern
    explains (one line)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """Message passing: P0 stores x then y; P1 loads y (new) then x (old)."""

    x: Loc
    y: Loc
    store_x: Msg
    """P0's store to x that P1 did not see."""
    store_y: Msg
    """P0's later store to y that P1 saw."""
    old_x: Msg
    """The store of x P1 read instead."""
    writer_fence: str
    """``smp_wmb``, ``smp_mb`` or ``""``: the strongest barrier P0 ran
    between its two stores."""
    release: bool
    """P0's store to y is a release (``rcu_assign_pointer()``)."""
    reader_fence: str
    """``smp_rmb``, ``smp_mb`` or ``""`` between P1's two loads."""
    acquire: bool
    dependency: bool
    """P1's load of x went through the pointer its load of y read."""
    pointer: bool
    """The value of y P1 read is a pointer (to x's object)."""
    rcu: bool
    """P1's loads are inside a read-side critical section."""
    reader: int
    writer: int
    load_y_step: int
    load_x_step: int
    rmw_x: Rmw | None = None
    """P0's store to x is this atomic read-modify-write."""
    rmw_y: Rmw | None = None
    """P0's store to y is this atomic read-modify-write."""
    rmw_load: Rmw | None = None
    """P1's load of y is the read of this atomic read-modify-write."""

    @property
    def ordered(self) -> tuple[bool, bool]:
        """(P0 orders its stores, P1 orders its loads) under LKMM (a fully
        ordered RMW is a full barrier on both sides)."""
        full_x = self.rmw_x is not None and self.rmw_x.order is RmwOrder.FULL
        return (bool(self.writer_fence) or self.release or full_x,
                bool(self.reader_fence) or self.acquire or self.dependency)

    def fixed(self) -> Pattern:
        """The pattern with the ordering lib/maple_tree.c uses where it is
        missing: rcu_assign_pointer() for a node or entry published into a
        slot or ma_root that the reader follows, smp_wmb() otherwise (the
        dead mark's, which also orders the parent words of adopted
        children); smp_rmb() on the reader's side."""
        writer_ok, reader_ok = self.ordered
        out = self
        if not writer_ok and self.rmw_y is not None:  # its release form
            out = replace(out, release=True, rmw_y=self.rmw_y.with_order(
                stronger(self.rmw_y.order, RmwOrder.RELEASE)))
        elif not writer_ok:
            publish = self.pointer and self.dependency and \
                self.y.word in ("slot", "ma_root")
            out = (replace(out, release=True) if publish
                   else replace(out, writer_fence="smp_wmb"))
        if not reader_ok and self.rmw_load is not None:  # its acquire form
            out = replace(out, acquire=True, rmw_load=self.rmw_load.with_order(
                stronger(self.rmw_load.order, RmwOrder.ACQUIRE)))
        elif not reader_ok:
            out = replace(out, reader_fence="smp_rmb")
        return out

    def name(self) -> str:
        """A kernel-style test name, e.g. ``MP+po+rmb`` or ``MP+wmb+addr``."""
        w = ("rel" if self.release else self.writer_fence.removeprefix("smp_")
             or "po")
        r = ("acq" if self.acquire else self.reader_fence.removeprefix("smp_")
             or ("addr" if self.dependency else "po"))
        if w == "po" and self.rmw_x is not None and self.rmw_x.order is RmwOrder.FULL:
            w = "rmwmb"  # the store to x is a fully ordered RMW
        if self.rmw_y is not None:
            w = "rmw-mb" if self.rmw_y.order is RmwOrder.FULL else f"rmw-{w}"
        if self.rmw_load is not None:
            r = "rmw-mb" if self.rmw_load.order is RmwOrder.FULL else f"rmw-{r}"
        return f"maple-MP+{w}+{r}"


def find_pattern(model: LkmmModel, fault_tid: int | None = None) -> Pattern:
    """The message-passing pattern behind the latest stale load (the
    faulting thread's first) of @model's log; NoPatternError if none."""
    log = model.log
    if log is None:
        raise NoPatternError("the execution was not recorded: replay it with events")
    msgs = {m.seq: m for loc in model.locs.values() for m in loc.msgs}
    stale = [i for i, op in enumerate(log) if op.kind == "ld" and op.seq < op.newest]
    if not stale:
        raise NoPatternError("no load of this execution read a stale value: the "
                             "finding does not depend on weak memory")
    stale.sort(key=lambda i: (log[i].tid != fault_tid, -i))
    rmws = _rmws(log)
    for i in stale:
        pattern = _pattern_at(model, log, msgs, i, rmws)
        if pattern is not None:
            return pattern
    raise NoPatternError("no stale load of this execution is explained by message "
                         "passing (a load of a later store of the same writer)")


@dataclass(frozen=True, slots=True)
class _Rmws:
    """The atomic read-modify-writes of a log."""

    by_load: dict[int, Rmw]
    """By the log index of their load."""
    by_store: dict[int, Rmw]
    """By the sequence number of their store."""


def _rmws(log: list[Op]) -> _Rmws:
    """The atomic read-modify-writes of @log (each one's load is followed
    by its store in the log)."""
    out = _Rmws({}, {})
    for j in range(len(log) - 1):
        ld, st = log[j], log[j + 1]
        if ld.kind == "ld" and ld.rmw is not None and st.kind == "st" \
                and st.rmw is not None and st.tid == ld.tid:
            out.by_load[j] = out.by_store[st.seq] = Rmw(st.rmw, st.name, ld.value,
                                                        st.value)
    return out


def _pattern_at(model: LkmmModel, log: list[Op], msgs: dict[int, Msg],
                i: int, rmws: _Rmws) -> Pattern | None:
    """The pattern of stale load @i; None if there is none."""
    load_x = log[i]
    store_x = msgs[load_x.newest]
    old_x = msgs[load_x.seq] if load_x.seq else model.locs[load_x.key].msgs[0]
    writer, reader = store_x.tid, load_x.tid
    if writer < 0 or writer == reader:
        return None
    j = _load_y(model, log, msgs, i, store_x, rmws)
    if j is None:
        return None
    op = log[j]
    store_y = msgs[op.seq]
    return Pattern(
        x=model.locs[load_x.key], y=model.locs[op.key], store_x=store_x,
        store_y=store_y, old_x=old_x,
        writer_fence=_fence(log, writer, store_x.seq, store_y.seq),
        release=store_y.release,
        reader_fence=_reader_fence(log, reader, j, i), acquire=op.ordered,
        dependency=_depends(log, i, j),
        pointer=bool(pointer_target(op.value, model.locs[op.key].word)),
        rcu=_in_section(log, reader, j), reader=reader, writer=writer,
        load_y_step=op.step, load_x_step=load_x.step,
        rmw_x=rmws.by_store.get(store_x.seq),
        rmw_y=rmws.by_store.get(store_y.seq), rmw_load=rmws.by_load.get(j))


def _load_y(model: LkmmModel, log: list[Op], msgs: dict[int, Msg], i: int,
            store_x: Msg, rmws: _Rmws) -> int | None:
    """The log index of the reader's load of y for stale load @i: a load
    before it, since the reader last saw everything, that read a store the
    writer of @store_x made after it.  The read of an RMW is preferred when
    there is one in the same read-side critical section as the nearest
    such load (an RMW's acquire is where the kernel orders an object's
    fields after its reference count: the pattern is the one that ordering
    decides); else the nearest load.  None if there is none."""
    reader, nearest = log[i].tid, None
    for j in range(i - 1, -1, -1):
        op = log[j]
        if op.tid != reader:
            continue
        if op.kind == "propagate":
            break
        if op.kind in ("rcu_lock", "rcu_unlock") and nearest is not None:
            break
        if op.kind != "ld" or op.seq not in msgs:
            continue
        store_y = msgs[op.seq]
        if store_y.tid != store_x.tid or store_y.seq <= store_x.seq:
            continue
        if j in rmws.by_load:
            if not pointer_target(op.value, model.locs[op.key].word):
                return j  # (a pointer read by an RMW heads no pattern here)
        elif nearest is None:
            nearest = j
    return nearest


def _strongest(names: list[str], weak: str) -> str:
    if "smp_mb" in names:
        return "smp_mb"
    return weak if weak in names else ""


def _fence(log: list[Op], tid: int, first: int, second: int) -> str:
    """The strongest barrier thread @tid ran between its stores @first and
    @second (sequence numbers)."""
    names: list[str] = []
    inside = False
    for op in log:
        if op.tid != tid:
            continue
        if op.kind == "st" and op.seq == first:
            inside = True
        elif op.kind == "st" and op.seq == second:
            break
        elif inside and op.kind == "fence":
            names.append(op.name)
        elif inside and op.kind in ("unlock", "sync_rcu"):
            names.append("smp_mb")  # an unlock-lock pair or a grace period
    return _strongest(names, "smp_wmb")


def _reader_fence(log: list[Op], tid: int, first: int, second: int) -> str:
    names = [op.name if op.kind == "fence" else "smp_mb"
             for op in log[first + 1:second]
             if op.tid == tid and op.kind in ("fence", "lock")]
    return _strongest(names, "smp_rmb")


def _depends(log: list[Op], load: int, on: int) -> bool:
    d = log[load].dep
    while d >= 0:
        if d == on:
            return True
        d = log[d].dep
    return False


def _in_section(log: list[Op], tid: int, upto: int) -> bool:
    depth = 0
    for op in log[:upto]:
        if op.tid == tid and op.kind == "rcu_lock":
            depth = 1
        elif op.tid == tid and op.kind == "rcu_unlock":
            depth = 0
    return bool(depth)


@dataclass(frozen=True, slots=True)
class Exported:
    """The litmus tests written for one finding, and their verdicts."""

    path: Path
    fixed_path: Path
    pattern: Pattern
    model_verdicts: tuple[str, str]
    """The harness's lkmm model on (the pattern, the fixed pattern)."""


def export(model: LkmmModel, names: dict[int, str], path: Path, *,
           fault_tid: int | None = None, source: str = "") -> Exported:
    """Write @model's pattern to @path and its fix next to it
    (``NAME.fixed.litmus``); NoPatternError if the execution has none."""
    pattern = find_pattern(model, fault_tid)
    fixed = pattern.fixed()
    fixed_path = path.with_name(path.name.removesuffix(".litmus") + ".fixed.litmus")
    verdicts = []
    for p, where in ((pattern, path), (fixed, fixed_path)):
        text = render(p, names, source=source)
        verdict = outcomes(parse(text)).verdict
        verdicts.append(verdict)
        where.write_text(render(p, names, source=source,
                                verdict=f"{verdict} (rcu-harness lkmm)"))
    return Exported(path, fixed_path, pattern, (verdicts[0], verdicts[1]))
