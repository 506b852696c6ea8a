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
(:class:`~rcu_harness.memory.wmm.model.Op`): it takes the stale loads (a
load that read an older store than the newest), the faulting thread's last
first, and for each looks, earlier in the same thread, for a load that read
a store the writer of the newer store made *after* it.  The writer's two
stores and the reader's two loads, with the barriers between them (from the
log), the release or acquire on them, and whether the second load went
through the pointer the first one read (an address dependency), are the
test: P0 is the writer, P1 the reader, ``x`` the word read stale and ``y``
the word read new.  Values are abstracted to 0 (the value read) and 1 (the
value not seen), or to the address of ``x`` for a pointer; the comment
block names the real words, values, steps and threads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rcu_harness.litmus.parse import parse
from rcu_harness.litmus.run import outcomes
from rcu_harness.memory.wmm.model import RMW, pointer_target
from rcu_harness.trace.events import summarize

if TYPE_CHECKING:
    from pathlib import Path

    from rcu_harness.memory.wmm.model import LkmmModel, Op
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

    @property
    def ordered(self) -> tuple[bool, bool]:
        """(P0 orders its stores, P1 orders its loads) under LKMM."""
        return (bool(self.writer_fence) or self.release,
                bool(self.reader_fence) or self.acquire or self.dependency)

    def fixed(self) -> Pattern:
        """The pattern with the ordering lib/maple_tree.c uses where it is
        missing: rcu_assign_pointer() for a node or entry published into a
        slot or ma_root that the reader follows, smp_wmb() otherwise (the
        dead mark's, which also orders the parent words of adopted
        children); smp_rmb() on the reader's side."""
        writer_ok, reader_ok = self.ordered
        out = self
        if not writer_ok:
            publish = self.pointer and self.dependency and \
                self.y.word in ("slot", "ma_root")
            out = (replace(out, release=True) if publish
                   else replace(out, writer_fence="smp_wmb"))
        if not reader_ok:
            out = replace(out, reader_fence="smp_rmb")
        return out

    def name(self) -> str:
        """A kernel-style test name, e.g. ``MP+po+rmb`` or ``MP+wmb+addr``."""
        w = ("rel" if self.release else self.writer_fence.removeprefix("smp_")
             or "po")
        r = ("acq" if self.acquire else self.reader_fence.removeprefix("smp_")
             or ("addr" if self.dependency else "po"))
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
    rmw = {op.seq for op in log if op.kind == "st" and op.name == RMW}
    for i in stale:
        pattern = _pattern_at(model, log, msgs, i, rmw)
        if pattern is not None:
            return pattern
    raise NoPatternError("no stale load of this execution is explained by message "
                         "passing (a load of a later store of the same writer; "
                         "patterns through atomic read-modify-writes are not "
                         "exported)")


def _pattern_at(model: LkmmModel, log: list[Op], msgs: dict[int, Msg],
                i: int, rmw: set[int]) -> Pattern | None:
    """The pattern of stale load @i; None if there is none, or if its
    stores or the reader's other load are atomic read-modify-writes (@rmw:
    their stores), which the exported test would turn into plain accesses."""
    load_x = log[i]
    store_x = msgs[load_x.newest]
    old_x = msgs[load_x.seq] if load_x.seq else model.locs[load_x.key].msgs[0]
    writer, reader = store_x.tid, load_x.tid
    if writer < 0 or writer == reader or store_x.seq in rmw:
        return None
    for j in range(i - 1, -1, -1):
        op = log[j]
        if op.tid != reader:
            continue
        if op.kind == "propagate":
            return None
        if op.kind != "ld" or op.seq not in msgs:
            continue
        store_y = msgs[op.seq]
        if store_y.tid != writer or store_y.seq <= store_x.seq:
            continue
        if store_y.seq in rmw or op.name == RMW:
            return None
        return Pattern(
            x=model.locs[load_x.key], y=model.locs[op.key], store_x=store_x,
            store_y=store_y, old_x=old_x,
            writer_fence=_fence(log, writer, store_x.seq, store_y.seq),
            release=store_y.release,
            reader_fence=_reader_fence(log, reader, j, i), acquire=op.ordered,
            dependency=_depends(log, i, j),
            pointer=bool(pointer_target(op.value, model.locs[op.key].word)),
            rcu=_in_section(log, reader, j), reader=reader, writer=writer,
            load_y_step=op.step, load_x_step=load_x.step)
    return None


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


def _ident(loc: Loc) -> str:
    word = re.sub(r"\W", "", loc.word)
    index = str(loc.index) if loc.index >= 0 else ""
    return f"{word}{index}_{loc.obj.addr & 0xFFFFF:x}"


def render(p: Pattern, names: dict[int, str], *, source: str = "",
           verdict: str = "") -> str:
    """The C litmus test of @p (@names: thread labels; @source: where it came
    from; @verdict: what the harness's own model says)."""
    x, y = _ident(p.x), _ident(p.y)
    dep = p.dependency and p.pointer
    y_value = x if dep else "1"
    store_y = (f"rcu_assign_pointer(*{y}, {x});" if dep and p.release else
               f"smp_store_release({y}, {y_value});" if p.release else
               f"WRITE_ONCE(*{y}, {y_value});")
    load_y = (f"r0 = smp_load_acquire({y});" if p.acquire else
              f"r0 = rcu_dereference(*{y});" if dep and p.rcu else
              f"r0 = READ_ONCE(*{y});")
    load_x = "r1 = READ_ONCE(*r0);" if dep else f"r1 = READ_ONCE(*{x});"
    params = f"int *{x}, int **{y}" if dep else f"int *{x}, int *{y}"
    lines = [f"C {p.name()}", "", "(*"]
    lines += [f" * {c}" for c in _comment(p, x, y, names, source, verdict)]
    lines += [" *)", "", "{", f"{y}=z;" if dep else "", "}", "",
              f"P0({params})", "{", f"\tWRITE_ONCE(*{x}, 1);"]
    if p.writer_fence:
        lines.append(f"\t{p.writer_fence}();")
    lines += [f"\t{store_y}", "}", "", f"P1({params})", "{",
              f"\tint {'*' if dep else ''}r0;", "\tint r1;", ""]
    if p.rcu:
        lines.append("\trcu_read_lock();")
    lines.append(f"\t{load_y}")
    if p.reader_fence:
        lines.append(f"\t{p.reader_fence}();")
    lines.append(f"\t{load_x}")
    if p.rcu:
        lines.append("\trcu_read_unlock();")
    lines += ["}", "", f"exists (1:r0={y_value} /\\ 1:r1=0)", ""]
    return "\n".join(line for i, line in enumerate(lines)
                     if line or lines[i - 1] not in ("{", ""))


def _comment(p: Pattern, x: str, y: str, names: dict[int, str], source: str,
             verdict: str) -> list[str]:
    w, r = names.get(p.writer, str(p.writer)), names.get(p.reader, str(p.reader))
    out = [f"Result: {verdict}"] if verdict else []
    return [*out,
            f"Exported by rcu-harness{f' from {source}' if source else ''}.",
            f"P0 is {w}, P1 is {r}.",
            f"{x} is {p.x.name()} of {p.x.obj!r}: P0 stored "
            f"{summarize(p.store_x.value)} at step {p.store_x.step}; P1 read "
            f"{summarize(p.old_x.value)} at step {p.load_x_step} (stale: store at "
            f"step {p.store_x.step} not yet visible).",
            f"{y} is {p.y.name()} of {p.y.obj!r}: P0 stored "
            f"{summarize(p.store_y.value)} at step {p.store_y.step}, read by P1 at "
            f"step {p.load_y_step}."]


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
