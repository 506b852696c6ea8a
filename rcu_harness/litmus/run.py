"""Running a litmus test on the harness: every outcome, enumerated by dfs.

:func:`program_of` turns a :class:`~rcu_harness.litmus.parse.LitmusTest`
into a harness program: one :class:`Var` (a one-field
:class:`~rcu_harness.memory.simstruct.SimStruct`) per shared variable, one
thread per process interpreting its statements with the kernel primitives
of :mod:`rcu_harness.kernel`, and an exit hook that records the final
state.  :func:`outcomes` runs it under a memory model with the ``dfs``
strategy, without a preemption bound, until the search is exhausted:
every interleaving and every store each load may read, so the set of final
states is exactly what the model allows, to compare with herd7's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rcu_harness.kernel import (
    SimStruct,
    SpinLock,
    rcu_assign_pointer,
    rcu_read_lock,
    rcu_read_unlock,
    smp_load_acquire,
    smp_mb,
    smp_rmb,
    smp_store_release,
    smp_wmb,
    spin_lock,
    spin_unlock,
    synchronize_rcu,
)
from rcu_harness.litmus.parse import VOID_RMWS
from rcu_harness.memory.access import RmwOrder
from rcu_harness.memory.simstruct import field_rmw
from rcu_harness.memory.wmm import with_memory_model
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.dfs import DfsStrategy

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.litmus.parse import Expr, LitmusTest, Stmt
    from rcu_harness.runner.harness import Harness

Outcome = frozenset[tuple[str, str]]
"""A final state: (register ``N:r`` or variable, value text) pairs."""


class Var(SimStruct):
    """A litmus test's shared variable."""

    fields = ("v",)
    v: Any


_SUFFIXES = {"_relaxed": RmwOrder.RELAXED, "_acquire": RmwOrder.ACQUIRE,
             "_release": RmwOrder.RELEASE}


def _same(a: Any, b: Any) -> bool:
    return a is b if isinstance(a, Var) else bool(a == b)


class LitmusRunError(RuntimeError):
    """A litmus test's execution failed (a finding or an error)."""


@dataclass(frozen=True, slots=True)
class ModelResult:
    """What a memory model allows for a test."""

    states: frozenset[Outcome]
    executions: int
    verdict: str
    """``Never``, ``Sometimes`` or ``Always``: how often the condition holds."""


def _text(value: Any, names: dict[int, str]) -> str:
    if isinstance(value, Var):
        return names.get(value.addr, "?")
    return str(value if value is not None else 0)


class _Proc:
    """One process's interpreter."""

    def __init__(self, regs: dict[str, Any], vars: dict[str, Var],
                 locks: dict[str, SpinLock]) -> None:
        self.regs, self.vars, self.locks = regs, vars, locks

    def target(self, name: str) -> Var:
        obj = self.regs[name] if name in self.regs else self.vars.get(name)
        if not isinstance(obj, Var):
            raise LitmusRunError(f"{name} does not hold an address")
        return obj

    def eval(self, e: Expr) -> Any:
        if e.kind == "int":
            return e.value
        if e.kind == "name":
            return self.regs[e.value] if e.value in self.regs else self.vars[e.value]
        if e.kind == "addr":
            return self.vars[e.value]
        if e.kind == "load":
            obj = self.target(e.value)
            return smp_load_acquire(obj, "v") if e.op == "smp_load_acquire" else obj.v
        if e.kind == "rmw":
            return self.rmw(e)
        assert e.left is not None
        assert e.right is not None
        a, b = self.eval(e.left), self.eval(e.right)
        ops: dict[str, Callable[[Any, Any], Any]] = {
            "==": lambda x, y: int(x is y if isinstance(x, Var) else x == y),
            "!=": lambda x, y: int(not (x is y if isinstance(x, Var) else x == y)),
            "+": lambda x, y: x + y, "-": lambda x, y: x - y,
            "&": lambda x, y: x & y, "&&": lambda x, y: int(bool(x and y)),
            "||": lambda x, y: int(bool(x or y))}
        return ops[e.op](a, b)

    def run(self, stmts: Sequence[Stmt]) -> None:
        for s in stmts:
            if s.kind == "set":
                assert s.expr is not None
                self.regs[s.target] = self.eval(s.expr)
            elif s.kind == "store":
                assert s.expr is not None
                obj, value = self.target(s.target), self.eval(s.expr)
                if s.op == "smp_store_release":
                    smp_store_release(obj, "v", value)
                elif s.op == "rcu_assign_pointer":
                    rcu_assign_pointer(obj, "v", value)
                else:
                    obj.v = value
            elif s.kind == "call":
                self.call(s.op, s.target)
            elif s.kind == "eval":
                assert s.expr is not None
                self.rmw(s.expr)
            elif s.kind == "if":
                assert s.expr is not None
                self.run(s.body if self.eval(s.expr) else s.orelse)
            else:
                self.run(s.body)

    def rmw(self, e: Expr) -> Any:
        """An atomic read-modify-write: the old value (``*_return``: the new;
        ``*_and_test``: whether the new one is 0)."""
        obj = self.target(e.value)
        op = e.op
        order = RmwOrder.RELAXED if op in VOID_RMWS else RmwOrder.FULL
        for sfx, o in _SUFFIXES.items():
            if op.endswith(sfx):
                op, order = op[:-len(sfx)], o
        v = self.eval(e.left) if e.left is not None else 1
        fn: Callable[[Any], Any]
        if op.endswith("cmpxchg"):
            assert e.right is not None
            new = self.eval(e.right)
            fn = lambda c: new if _same(c, v) else c  # noqa: E731
        elif op.endswith("xchg"):
            fn = lambda c: v  # noqa: E731
        elif "_add" in op or "_inc" in op:
            fn = lambda c: c + v  # noqa: E731
        else:
            fn = lambda c: c - v  # noqa: E731
        old = field_rmw(obj, "v", fn, order, primitive=e.op)
        if op.endswith("_and_test"):
            return int(fn(old) == 0)
        return fn(old) if op.endswith("_return") else old

    def call(self, op: str, arg: str) -> None:
        if op in ("spin_lock", "spin_unlock"):
            (spin_lock if op == "spin_lock" else spin_unlock)(self.locks[arg])
            return
        fns: dict[str, Callable[[], None]] = {
            "smp_mb": smp_mb, "smp_wmb": smp_wmb, "smp_rmb": smp_rmb,
            "smp_mb__after_spinlock": smp_mb,
            "rcu_read_lock": rcu_read_lock, "rcu_read_unlock": rcu_read_unlock,
            "synchronize_rcu": synchronize_rcu}
        fns[op]()


def program_of(test: LitmusTest, sink: list[Outcome]) -> Callable[[Harness], None]:
    """The harness program of @test; each execution appends its final state
    (over the condition's names) to @sink."""
    watched = test.cond.names()

    def program(h: Harness) -> None:
        vars = {name: h.static(Var, v=0) for name in test.variables}
        for name, value in test.init.items():
            vars[name].v = vars[value] if value in vars else int(value)
        names = {v.addr: n for n, v in vars.items()}
        locks = {name: SpinLock(name) for name in test.locks}
        regs: list[dict[str, Any]] = [{} for _ in test.procs]
        for i, body in enumerate(test.procs):
            h.spawn(f"P{i}", _Proc(regs[i], vars, locks).run, body)

        def record() -> None:
            state = []
            for who in watched:
                if ":" in who:
                    proc, reg = who.split(":")
                    value = regs[int(proc)].get(reg, 0)
                else:
                    value = vars[who].v
                state.append((who, _text(value, names)))
            sink.append(frozenset(state))

        h.at_exit(record)

    program.__qualname__ = f"litmus_{test.name}"
    return program


def outcomes(test: LitmusTest, memory_model: str = "lkmm", *,
             max_executions: int = 200_000) -> ModelResult:
    """Every final state @memory_model allows for @test (dfs, exhaustive)."""
    sink: list[Outcome] = []
    program = with_memory_model(program_of(test, sink), memory_model)
    strategy = DfsStrategy(0, preemption_bound=1_000)
    n = 0
    while n < max_executions and strategy.new_execution(n):
        ex = run_execution(program, strategy, n, max_steps=10_000, record=0)
        if ex.violation is not None:
            raise LitmusRunError(f"{test.name}: {ex.violation.message}")
        n += 1
    if not strategy.exhausted:
        raise LitmusRunError(f"{test.name}: more than {max_executions} executions")
    states = frozenset(sink)
    hits = sum(1 for s in states if test.cond.holds(dict(s)))
    verdict = "Never" if not hits else "Always" if hits == len(states) else "Sometimes"
    return ModelResult(states, n, verdict)
