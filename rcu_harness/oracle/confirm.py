"""``oracle confirm``: does a finding of the model happen on the real kernel?

1. Replay the finding's execution with its API calls recorded
   (:mod:`.record`) and coarsen it to API-call granularity: every call runs
   whole, in the order the calls started; the finding thread's reads and
   read-side sections, every thread's writes and RCU-mode switches.
2. Run that sequential program in the model (with the finding's mutant and
   fixes): it must still fail there, else the finding needs a finer
   interleaving than API calls and cannot be expressed (exit 2).
3. Run it on the real lib/maple_tree.c (ASan/UBSan), patched like the
   model: the candidate fixes' C side, a mutant's defect (``MUTANT_C``).
   Exit 1 when the kernel faults or returns other results than the faithful
   model expects (reproduced), 0 when it runs cleanly and agrees (the
   finding is model-only), 2 when the finding is not expressible or the
   input is bad, always with one line saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import maple
from rcu_harness.known.fixes import patch_c_source
from rcu_harness.oracle.ops import (
    Destroy,
    Erase,
    Find,
    Init,
    Insert,
    Load,
    MFind,
    MFindRev,
    MNext,
    MPrev,
    MSet,
    MWalk,
    Null,
    Op,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Within,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from rcu_harness.oracle.record import Call, Pass

def _replace_once(old: str, new: str) -> Callable[[str], str]:
    """A source patch replacing @old (which must occur once) by @new."""
    return _in_function("", old, new, once=True)


def _in_function(header: str, old: str, new: str, *,
                 once: bool = False) -> Callable[[str], str]:
    """A source patch replacing @old by @new inside the function whose
    definition starts with @header (the whole file for ""), at least once."""

    def patch(source: str) -> str:
        start = source.index(header) if header else 0
        end = source.index("\n}\n", start) if header else len(source)
        body = source[start:end]
        if (body.count(old) != 1) if once else not body.count(old):
            raise ValueError(f"C patch: {old.strip()!r} not found as expected")
        return source[:start] + body.replace(old, new) + source[end:]

    return patch


MUTANT_C: dict[str, tuple[Callable[[str], str], ...]] = {
    "free-without-grace-period": (_replace_once(
        "\tWARN_ON(node->parent != ma_parent_ptr(node));\n"
        "\tcall_rcu(&node->rcu, mt_free_rcu);\n",
        "\tWARN_ON(node->parent != ma_parent_ptr(node));\n"
        "\tmt_free_one(node);\t/* mutant: no grace period */\n"),),
    "in-place-write-in-rcu": (
        _in_function("static inline void mas_wr_store_type(",
                     "mt_in_rcu(mas->tree)", "false /* mutant */"),
        _in_function("static inline void mas_wr_slot_store(",
                     "mt_in_rcu(mas->tree)", "false /* mutant */")),
}
"""The C side of mutants whose defect is in lib/maple_tree.c: the model
patch's change made to a copy of the C file (the model's
``mas_wr_store_type``/``mas_wr_slot_store`` variants read mt_in_rcu() as
false; so do these)."""
NOT_IN_C: dict[str, str] = {
    "gp-ignores-readers": "the defect is in the RCU machinery, not lib/maple_tree.c",
    "mmget-not-zero-no-rcu": "the defect is in mm code (kernel/fork.c), not the tree",
    "mmput-clears-rcu-early": "the defect is in mm code (kernel/fork.c), not the tree",
    "reader-without-rcu-lock": "the defect is the caller's missing rcu_read_lock()",
    "vma-used-after-rcu-unlock": "the defect is the caller's use of a VMA",
    "rcu-lock-across-sleep": "the defect is in dup_mmap(), not the tree",
    "error-path-skips-destroy": "the defect is in dup_mmap(), not the tree",
    "resume-without-pause": "the defect is in dup_mmap(), not the tree",
}
"""Mutants whose defect is outside lib/maple_tree.c, and where it is."""


class NotExpressible(Exception):
    """The finding cannot be run at API-call granularity; one line why."""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What :func:`confirm` found."""

    status: int
    """1 reproduced on the kernel, 0 kernel clean (model-only), 2 not expressible."""
    verdict: str
    """``confirmed``, ``model-only``, ``not-expressible``; ``clean-with-fix``
    when candidate fixes were added and the fixed kernel runs it cleanly."""
    why: str
    ops: tuple[Op, ...] = ()


class _Values:
    """Entries as oracle values: the same object always gets the same value."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}

    def of(self, entry: Any) -> int:
        key = id(entry)
        if key not in self.ids:
            self.ids[key] = len(self.ids) + 1
        return self.ids[key]


def _write_op(call: Call, values: _Values) -> Op:
    """The oracle op of a recorded write."""
    name, args = call.name, call.args
    if name in ("mtree_store_range", "mas_store_gfp"):
        first, last = (args[1], args[2]) if name == "mtree_store_range" else (
            call.state[1], call.state[2])
        entry = args[3] if name == "mtree_store_range" else args[1]
        return Null(first, last) if entry is None else Store(first, last,
                                                              values.of(entry))
    if name == "mtree_insert_range":
        return Insert(args[1], args[2], values.of(args[3]))
    if name == "mtree_erase":
        return Erase(args[1])
    if name in ("mtree_destroy", "__mt_destroy"):
        return Destroy()
    if name in ("mt_set_in_rcu", "mt_clear_in_rcu"):
        return RcuOn() if name == "mt_set_in_rcu" else RcuOff()
    raise NotExpressible(f"{call.thread} calls {name}(), which the oracle's "
                         f"vocabulary has no op for")


READS = {"mas_find": MFind, "mas_next": MNext, "mas_prev": MPrev,
         "mas_find_rev": MFindRev}


def _read_ops(call: Call, current: list[Any]) -> list[Op]:
    """The oracle ops of a recorded read by the finding thread."""
    name, args = call.name, call.args
    if name == "rcu_read_lock":
        return [RLock()]
    if name == "rcu_read_unlock":
        return [RUnlock()]
    if name == "mtree_load":
        return [Load(args[1])]
    if name == "mt_find":
        return [Find(args[1], args[2])]
    ops: list[Op] = []
    mas, index, last, status, node = call.state
    if mas is not current[0]:
        if status != maple.MapleStatus.ma_start or node is not None or index != last:
            raise NotExpressible(f"{call.thread} starts a ma_state that is not "
                                 f"fresh (status {status}, index {index:#x})")
        ops.append(MSet(index))
        current[0] = mas
    if name == "mas_walk":
        return [*ops, MWalk()]
    if name in READS:
        return [*ops, READS[name](args[1])]
    raise NotExpressible(f"{call.thread} calls {name}(), which the oracle's "
                         f"vocabulary has no op for")


WRITES = ("mtree_store_range", "mas_store_gfp", "mtree_erase", "mt_set_in_rcu",
          "mt_clear_in_rcu")
"""The calls of the finding thread that are not reads."""
OTHER_READS = ("mas_find", "mas_walk", "mtree_load", "mt_find", "mas_next",
               "mas_prev", "mas_find_rev", "rcu_read_lock", "rcu_read_unlock")
"""Calls of other threads that change nothing (left out)."""


def _nested(calls: list[Call], thread: str,
            passes: list[Pass]) -> dict[int, tuple[int, int, list[Call]]]:
    """The finding thread's calls that ran inside another thread's write after
    it published a node: {id(write): (point, nth pass of it, calls)}, the
    point being the last one the writer passed before them.

    Calls inside a write before its first publication keep running after the
    write (they read the tree as it was: the write has changed nothing a
    reader can see yet, or changed it in place, which no point expresses).
    """
    out: dict[int, tuple[int, int, list[Call]]] = {}
    for w in calls:
        if w.thread == thread or w.name in OTHER_READS:
            continue
        end = w.end if w.end is not None else float("inf")
        inside = [c for c in calls if c.thread == thread and w.start < c.start < end]
        if not inside:
            continue
        first, last = inside[0], inside[-1]
        mine = [p for p in passes if p.thread == w.thread and w.start <= p.step < end]
        before = [p for p in mine if p.step <= first.start]
        if not before:
            continue
        last_end = last.end if last.end is not None else end
        if any(first.start < p.step < last_end for p in mine):
            raise NotExpressible(f"{w.thread} publishes again while {thread}'s "
                                 "reads run inside its write")
        point = before[-1].point
        out[id(w)] = (point, sum(1 for p in before if p.point == point), inside)
    return out


def coarsen(calls: list[Call], thread: str,
            passes: list[Pass] | None = None) -> list[Op]:
    """The recorded calls as one sequential oracle trace (module docstring);
    reads that ran inside a write after it published a node (@passes) run
    there (a ``Within`` group, :mod:`.interleave`)."""
    if not calls:
        raise NotExpressible("the execution makes no call of the tree's API")
    calls = sorted(calls, key=lambda c: c.start)
    values = _Values()
    ops: list[Op] = [Init(calls[0].flags & 0x3)]
    if calls[0].flags & 0x2:
        ops.append(RcuOff())  # the tree is set up before it enters RCU mode
    current: list[Any] = [None]
    nested = _nested(calls, thread, passes or [])
    skip = {id(c) for _, _, group in nested.values() for c in group}
    for call in calls:
        if id(call) in skip:
            continue
        if call.thread == thread and call.name not in WRITES:
            ops += _read_ops(call, current)
        elif call.thread != thread and call.name in OTHER_READS:
            continue  # another reader's reads change nothing
        elif id(call) in nested:
            point, nth, group = nested[id(call)]
            reads = [op for c in group for op in _read_ops(c, current)]
            ops += [Within(point, nth, len(reads)), _write_op(call, values), *reads]
        else:
            ops.append(_write_op(call, values))
    return ops


def c_patches(mutant: str | None, fixes: tuple[str, ...], *,
              interleave: bool = False) -> tuple[str, Any]:
    """(label, source patch function) of the C build for @mutant and @fixes
    (with the interleave point of :mod:`.interleave` if @interleave)."""
    from rcu_harness.oracle.interleave import c_point_patch

    if mutant is not None and mutant not in MUTANT_C:
        why = NOT_IN_C.get(mutant, "its defect has no C counterpart here")
        raise NotExpressible(f"mutant {mutant}: {why}")
    extra = (*MUTANT_C.get(mutant or "", ()), *((c_point_patch,) if interleave
                                                 else ()))

    def patch(source: str) -> str:
        source = patch_c_source(source, fixes)
        for change in extra:
            source = change(source)
        return source

    label = "+".join([*(["mutant-" + mutant] if mutant else []), *fixes,
                      *(["interleave"] if interleave else [])])
    return label, patch


def _rets(lines: list[str]) -> list[str]:
    """The return parts of output lines: what a caller of the API sees (the
    tree's shape and node count are the implementation's business)."""
    return [line.split(" ", 1)[0] for line in lines]


def _model_fails(lines: list[str]) -> str | None:
    """The model's crash line, if the coarsened trace crashed it."""
    return lines[-1] if lines and lines[-1].startswith("crash ") else None


def _lost_in_coarsening(failed: str | None, kind: str) -> bool:
    """Did the coarsened trace fail in the model for a reason other than the
    finding's?  A reader call that starts from a node the writer freed is
    the coarsening's own artefact unless the finding is that use-after-free:
    its verdict on the kernel would say nothing about the finding."""
    return (failed is not None and bool(kind) and kind != "use-after-free"
            and failed.startswith("crash ReaderUseAfterFree:"))


def confirm_ops(ops: list[Op], *, mutant: str | None, fixes: tuple[str, ...],
                check_model: bool = True, emit: Path | None = None,
                title: str = "reproducer", kind: str = "") -> Confirmation:
    """Steps 2 and 3 of the module docstring for a coarsened trace @ops.

    Without @check_model (a candidate fix was added to the finding's own
    configuration) the model is not required to fail: the question is
    whether the kernel, fixed the same way, runs the trace cleanly.  The
    kernel side is the C reproducer (:mod:`.emit`), written to @emit too.
    """
    from rcu_harness.oracle.diff import crash_reason
    from rcu_harness.oracle.emit import build_and_run, c_program
    from rcu_harness.oracle.interleave import check_publications
    from rcu_harness.oracle.model import run_model
    from rcu_harness.oracle.variants import variant_source
    from rcu_harness.scenarios.catalog import applied

    with applied(mutant, ()):
        seen = run_model(ops, fixes=fixes)
    failed = _model_fails(seen)
    if check_model and _lost_in_coarsening(failed, kind):
        raise NotExpressible(f"coarsened to API calls the trace fails otherwise "
                             f"in the model ({failed}): a {kind} finding needs "
                             "the interleaving inside the calls")
    if failed is not None and failed.startswith("crash ReadsSpin:"):
        raise NotExpressible("the reads inside a write retry until the writer "
                             "goes on: the finding needs a finer interleaving "
                             "than one point of the write")
    # The faithful model's expectation; reads inside a write expect what they
    # return after it (interleave.py).
    expected = run_model(ops, fixes=fixes, interleave=False)
    refused = check_publications(ops, expected)
    if refused is not None:
        raise NotExpressible(refused)
    if check_model and failed is None and _rets(seen) == _rets(expected):
        return Confirmation(2, "not-expressible",
                            f"the {len(ops)}-op API-granular trace runs cleanly in "
                            "the model: the finding needs a finer interleaving",
                            tuple(ops))
    program = c_program(ops, expected, title)
    if emit is not None:
        emit.write_text(program)
    label, patch = c_patches(mutant, fixes,
                             interleave=any(isinstance(op, Within) for op in ops))
    tree = variant_source(label, patch) if label else None
    status, stderr = build_and_run(program, tree_source=tree)
    fixed = f" with {'+'.join(fixes)}" if fixes else ""
    if status != 0:
        return Confirmation(1, "confirmed", f"the kernel{fixed} fails: "
                            f"{crash_reason(status, stderr)[6:]}", tuple(ops))
    if not check_model:
        return Confirmation(0, "clean-with-fix", f"the kernel{fixed} runs the "
                            f"{len(ops)} ops cleanly, as the model{fixed} does",
                            tuple(ops))
    return Confirmation(0, "model-only", f"the kernel runs the {len(ops)} ops "
                        f"cleanly with the results the faithful model expects (the "
                        f"model: {failed or 'other results'})", tuple(ops))


def confirm(path: Path, *, fixes: tuple[str, ...] = (),
            emit: Path | None = None) -> Confirmation:
    """Confirm the finding in trace file @path (with extra candidate @fixes).

    Raises:
        TraceError: @path is not a usable trace file.
        OracleUnavailable: the kernel oracle cannot be built here.
    """
    from rcu_harness.campaign.replay import from_trace
    from rcu_harness.oracle.record import record_calls
    from rcu_harness.trace.tracefile import TraceError

    target = from_trace(path)
    passes: list[Pass] = []
    calls, ex = record_calls(target, passes)
    v = ex.violation
    if v is None:
        raise TraceError(f"{path}: the replay of this trace ends without a finding")
    everything = tuple(sorted({*target.cfg.fixes, *fixes}))
    try:
        ops = coarsen(calls, v.thread, passes)
        title = (f"{v.kind}: {v.message} (scenario {target.cfg.scenario}, "
                 f"{target.command})")
        return confirm_ops(ops, mutant=target.cfg.mutant, fixes=everything,
                           check_model=everything == target.cfg.fixes, emit=emit,
                           title=title, kind=str(v.kind))
    except NotExpressible as err:
        return Confirmation(2, "not-expressible", str(err))


KERNEL_META = "kernel_confirmation"
"""The run store's meta key: {signature: [verdict, why]} of confirmed findings
(read by :mod:`rcu_harness.campaign.summary`)."""


def confirm_run(run_dir: Path) -> dict[str, list[str]]:
    """Confirm every finding stored in @run_dir; record and return the verdicts.

    A finding whose trace cannot be replayed is ``not-expressible`` with the
    reason; the oracle being unavailable raises (nothing is recorded).
    """
    from rcu_harness.sched.errors import ReplayDivergence
    from rcu_harness.store.runstore import RunStore
    from rcu_harness.trace.tracefile import TraceError

    store = RunStore.open(run_dir)
    try:
        verdicts: dict[str, list[str]] = dict(store.meta().get(KERNEL_META, {}))
        for row in store.findings():
            try:
                result = confirm(run_dir / row.trace)
                verdicts[row.signature] = [result.verdict, result.why]
            except (TraceError, ReplayDivergence) as err:
                verdicts[row.signature] = ["not-expressible", str(err)]
        store.set_meta(KERNEL_META, verdicts)
    finally:
        store.close()
    return verdicts
