"""A message-passing pattern written as a C litmus test for herd7.

P0 stores ``x`` then ``y`` (with the barrier between them, a release on
the second store), P1 loads ``y`` then ``x`` (inside its read-side critical
section, with the barrier between them, an acquire or an address
dependency), and the ``exists`` clause is the outcome the execution had: P1
read P0's store to ``y`` and not its store to ``x``.  A plain word's values
are abstracted (0 before, 1 after, or the address of ``x`` for a pointer);
a word an atomic read-modify-write wrote is an ``atomic_t`` that keeps its
real values, the RMW written as its kernel primitive
(:mod:`rcu_harness.litmus.atomics`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.litmus.atomics import Rmw, call
from rcu_harness.litmus.parse import VOID_RMWS
from rcu_harness.trace.events import summarize

if TYPE_CHECKING:
    from rcu_harness.litmus.export import Pattern
    from rcu_harness.memory.wmm.views import Loc, Msg


@dataclass(frozen=True, slots=True)
class Values:
    """The values of one word in the test."""

    init: str
    """Before P0's store (what P1 read of ``x``)."""
    new: str
    """What P0's store writes (what P1 read of ``y``)."""


def _ident(loc: Loc) -> str:
    word = re.sub(r"\W", "", loc.word)
    index = str(loc.index) if loc.index >= 0 else ""
    return f"{word}{index}_{loc.obj.addr & 0xFFFFF:x}"


def _counter(rmw: Rmw | None, before: Msg) -> Values | None:
    """The real values of a word P0's RMW @rmw wrote, starting from the
    store @before (None: abstract them)."""
    if rmw is None or not rmw.numeric or type(before.value) is not int:
        return None
    start = before.value
    if not -(1 << 31) <= start + rmw.delta < 1 << 31:
        return None
    return Values(str(start), str(start + rmw.delta))


def values(p: Pattern, x: str) -> tuple[Values, Values]:
    """The values of x and of y in the test of @p (@x: x's name)."""
    vx = _counter(p.rmw_x, p.old_x) or Values("0", "1")
    vy: Values | None = None
    if p.dependency and p.pointer:
        vy = Values("z", x)
    elif p.rmw_y is not None and p.rmw_y.numeric:
        vy = Values(str(p.rmw_y.old), str(p.rmw_y.new))
    return vx, vy or Values("0", "1")


def _store(rmw: Rmw | None, var: str, v: Values, reg: str, plain: str) -> str:
    """P0's store to @var: @plain, or the statement of its RMW @rmw."""
    if rmw is None:
        return plain
    text = call(rmw, var, returning=False, init=v.init, new=v.new)
    return f"{text};" if text.split("(")[0] in VOID_RMWS else f"{reg} = {text};"


def _writer(p: Pattern, x: str, y: str, vx: Values, vy: Values) -> list[str]:
    dep = p.dependency and p.pointer
    if p.rmw_y is not None:
        store_y = _store(p.rmw_y, y, vy, "r1", "")
    elif dep and p.release:
        store_y = f"rcu_assign_pointer(*{y}, {vy.new});"
    elif p.release:
        store_y = f"smp_store_release({y}, {vy.new});"
    else:
        store_y = f"WRITE_ONCE(*{y}, {vy.new});"
    store_x = _store(p.rmw_x, x, vx, "r0", f"WRITE_ONCE(*{x}, {vx.new});")
    regs = [r for r in ("r0", "r1") if f"{r} = " in store_x + store_y]
    body = [f"\tint {r};" for r in regs] + ([""] if regs else [])
    body.append(f"\t{store_x}")
    if p.writer_fence:
        body.append(f"\t{p.writer_fence}();")
    return [*body, f"\t{store_y}"]


def _reader(p: Pattern, x: str, y: str, vy: Values) -> list[str]:
    dep = p.dependency and p.pointer
    if p.rmw_load is not None:
        other = "2" if vy.new != "2" else "3"
        load_y = f"r0 = {call(p.rmw_load, y, returning=True, new=other)};"
    elif p.acquire:
        load_y = f"r0 = smp_load_acquire({y});"
    elif dep and p.rcu:
        load_y = f"r0 = rcu_dereference(*{y});"
    else:
        load_y = f"r0 = READ_ONCE(*{y});"
    load_x = "r1 = READ_ONCE(*r0);" if dep else f"r1 = READ_ONCE(*{x});"
    body = [f"\tint {'*' if dep else ''}r0;", "\tint r1;", ""]
    if p.rcu:
        body.append("\trcu_read_lock();")
    body.append(f"\t{load_y}")
    if p.reader_fence:
        body.append(f"\t{p.reader_fence}();")
    body.append(f"\t{load_x}")
    if p.rcu:
        body.append("\trcu_read_unlock();")
    return body


def render(p: Pattern, names: dict[int, str], *, source: str = "",
           verdict: str = "") -> str:
    """The C litmus test of @p (@names: thread labels; @source: where it came
    from; @verdict: what the harness's own model says)."""
    x, y = _ident(p.x), _ident(p.y)
    vx, vy = values(p, x)
    dep = p.dependency and p.pointer
    tx = "atomic_t" if p.rmw_x is not None else "int"
    ty = ("int *" if dep else
          "atomic_t" if p.rmw_y is not None or p.rmw_load is not None else "int")
    params = f"{tx} *{x}, {ty} *{y}"
    init = [f"{n}={v.init};" for n, v in ((x, vx), (y, vy)) if v.init != "0"]
    lines = [f"C {p.name()}", "", "(*"]
    lines += [f" * {c}" for c in _comment(p, x, y, names, source, verdict)]
    lines += [" *)", "", "{", *init, "}", "", f"P0({params})", "{",
              *_writer(p, x, y, vx, vy), "}", "", f"P1({params})", "{",
              *_reader(p, x, y, vy), "}", "",
              f"exists (1:r0={vy.new} /\\ 1:r1={vx.init})", ""]
    return "\n".join(line for i, line in enumerate(lines)
                     if line or lines[i - 1] not in ("{", ""))


def _comment(p: Pattern, x: str, y: str, names: dict[int, str], source: str,
             verdict: str) -> list[str]:
    w, r = names.get(p.writer, str(p.writer)), names.get(p.reader, str(p.reader))
    out = [f"Result: {verdict}"] if verdict else []
    out += [f"Exported by rcu-harness{f' from {source}' if source else ''}.",
            f"P0 is {w}, P1 is {r}.",
            f"{x} is {p.x.name()} of {p.x.obj!r}: P0 stored "
            f"{summarize(p.store_x.value)} at step {p.store_x.step}; P1 read "
            f"{summarize(p.old_x.value)} at step {p.load_x_step} (stale: store at "
            f"step {p.store_x.step} not yet visible).",
            f"{y} is {p.y.name()} of {p.y.obj!r}: P0 stored "
            f"{summarize(p.store_y.value)} at step {p.store_y.step}, read by P1 at "
            f"step {p.load_y_step}."]
    for who, word, rmw in (("P0's store to", x, p.rmw_x), ("P0's store to", y, p.rmw_y),
                           ("P1's load of", y, p.rmw_load)):
        if rmw is not None:
            form = call(rmw, word, returning=who.startswith("P1")).split("(")[0]
            out.append(f"{who} {word} is {rmw.describe()}, written as {form}().")
    return out
