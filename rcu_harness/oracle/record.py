"""Recording a finding's execution at API-call granularity.

:func:`record_calls` replays a finding's execution exactly (its trace file)
with the maple tree's API functions wrapped: every call records its thread,
its arguments, the step it started at and the step it returned at (None if
the execution ended inside it, as the faulting call does).  The finding
thread's ``rcu_read_lock()``/``rcu_read_unlock()`` are recorded too.
:mod:`rcu_harness.oracle.confirm` turns the record into an oracle trace.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import maple
from maple import api, iterate, store, tree, walk
from rcu_harness.patches import Patch, patched
from rcu_harness.rcu import api as rcu_api
from rcu_harness.runner.run import run_execution
from rcu_harness.runtime.current import current
from rcu_harness.scenarios import mutants
from rcu_harness.scenarios.catalog import applied, program
from rcu_harness.sched.replay import ReplayStrategy

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.campaign.replay import Target

API = {
    "mtree_store_range": api, "mtree_erase": api, "mtree_load": api,
    "mtree_destroy": api, "__mt_destroy": api, "mtree_insert_range": api,
    "mas_store_gfp": store, "mas_store": store, "mas_erase": store,
    "mt_set_in_rcu": tree, "mt_clear_in_rcu": tree, "mas_find": iterate,
    "mas_next": iterate, "mas_prev": iterate, "mas_find_rev": iterate,
    "mt_find": iterate, "mas_walk": walk, "__mt_dup": maple,
    "rcu_read_lock": rcu_api, "rcu_read_unlock": rcu_api,
}
"""The functions recorded, with the module whose attribute is the current
(possibly mutated) function."""


@dataclass(slots=True)
class Call:
    """One recorded API call."""

    thread: str
    name: str
    args: tuple[Any, ...]
    state: tuple[Any, ...]
    """For ma_state calls: (mas, index, last, status, node) at entry."""
    start: int
    flags: int
    """The tree's ma_flags at entry (0 when no tree is at hand)."""
    end: int | None = None


def _wrap(name: str, fn: Callable[..., Any], calls: list[Call]) -> Callable[..., Any]:
    """@fn recording each call into @calls."""

    @functools.wraps(fn)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        ex = current()
        thread = ex.cur.label
        if DEPTH.get(thread):
            return fn(*args, **kwargs)  # a call made by a recorded call
        mas = args[0] if args and isinstance(args[0], maple.MaState) else None
        mt = mas.tree if mas is not None else args[0] if args else None
        state = (() if mas is None else
                 (mas, mas.index, mas.last, mas.status, mas.node))
        flags = mt.ma_flags if isinstance(mt, maple.MapleTree) else 0
        call = Call(thread, name, args, state, ex.step, flags)
        calls.append(call)
        DEPTH[thread] = 1
        try:
            result = fn(*args, **kwargs)
        finally:
            DEPTH[thread] = 0
        call.end = current().step
        return result

    return recorded


DEPTH: dict[str, int] = {}
"""Per thread: inside a recorded call (its inner API calls are not recorded)."""


@dataclass(frozen=True, slots=True)
class Pass:
    """A thread passed an interleave point (:mod:`.interleave`) in
    mas_put_in_tree(): a write's publication of a new node, or the old one
    marked dead."""

    thread: str
    step: int
    point: int


def record_calls(target: Target,
                 passes: list[Pass] | None = None) -> tuple[list[Call], Any]:
    """Replay @target with the API recorded; (calls, the execution).  The
    passes of the interleave point are appended to @passes, if given."""
    from rcu_harness.oracle.interleave import point_hook

    calls: list[Call] = []
    DEPTH.clear()
    strategy = ReplayStrategy(target.schedule)
    strategy.new_execution(0)
    seen = passes if passes is not None else []

    def on_pass(point: int) -> None:
        ex = current()
        seen.append(Pass(ex.cur.label, ex.step, point))

    with applied(target.cfg.mutant, target.cfg.fixes), point_hook(on_pass):
        patches = [Patch(getattr(module, name), _wrap(name, getattr(module, name),
                                                       calls))
                   for name, module in API.items()]
        with patched(patches, skip=(mutants.__name__,)):
            ex = run_execution(program(target.cfg), strategy, target.execution,
                               max_steps=target.max_steps, record=0)
    return calls, ex
