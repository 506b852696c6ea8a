"""Where a slow mutant's factor is: the program's data or the stall.

For each execution of a strategy (seed 0 by default), the addresses the
lockless readers and faults aimed at (``lookup()``'s index,
``lock_vma_under_rcu()``'s and ``do_user_addr_fault()``'s address) are
compared with the ranges the tree stores of the other threads covered
*after* the draw (``mm_store()``: a VMA linked, unlinked, split or moved):
an aim *lines up* when a later store covers it.  With ``--forced`` every
aim that does not line up is moved onto an address that lined up in one of
the first 20 executions (an oracle of the ranges that change, as *aimed
program data* would have): the findings with and without it bound what
aiming the data can gain.  ``--census`` instead counts the decisions of a
random walk by the kind of the chosen thread's pending access.

    nice -n 10 python stress/aim_probe.py MUTANT [--strategy pct-sync]
        [--param points=field] [--executions 200] [--forced] [--census]

Measurement only (it patches scenario functions in this process); the
figures are in reports/BENCHMARKS.md, *Aiming the stall*.
"""

from __future__ import annotations

import argparse
import collections
from typing import Any

from rcu_harness.runner.block import calibrate
from rcu_harness.runner.run import run_execution
from rcu_harness.scenarios import mm as mm_module
from rcu_harness.scenarios import page_fault, readers, reads, vma_ops
from rcu_harness.scenarios.catalog import applied, configure, default_max_steps, program
from rcu_harness.scenarios.mutants import MUTANTS
from rcu_harness.sched.pct_sync import SyncCounter
from rcu_harness.sched.registry import make_strategy

STORES: list[tuple[str, int, int, int]] = []
"""(mm, first, last, order) of each tree store of this execution."""
AIMS: list[tuple[str, int, int]] = []
"""(mm, address, order) of each reader's or fault's aim."""
HOT: dict[str, list[int]] = {}
FORCED = [False]


def _order() -> int:
    return len(STORES) + len(AIMS)


def _aim(mm: Any, address: int) -> int:
    hot = HOT.get(mm.name)
    if FORCED[0] and hot and address not in hot:
        address = hot[(address // 4096) % len(hot)]
    AIMS.append((mm.name, address, _order()))
    return address


def _patch() -> None:
    store, lookup = mm_module.mm_store, readers.lookup
    lvur = reads.lock_vma_under_rcu
    fault = page_fault.do_user_addr_fault  # type: ignore[attr-defined]

    def mm_store(h: Any, mm: Any, first: int, last: int, entry: Any, **kw: Any) -> Any:
        STORES.append((mm.name, first, last, _order()))
        return store(h, mm, first, last, entry, **kw)

    mm_module.mm_store = mm_store
    vma_ops.mm_store = mm_store  # type: ignore[attr-defined]
    readers.lookup = lambda h, mm, i, **kw: lookup(h, mm, _aim(mm, i), **kw)
    reads.lock_vma_under_rcu = lambda h, mm, a, **kw: lvur(h, mm, _aim(mm, a), **kw)
    page_fault.do_user_addr_fault = lambda h, mm, a, *r, **kw: fault(  # type: ignore[attr-defined]
        h, mm, _aim(mm, a), *r, **kw)


def _lines_up(mm: str, address: int, after: int) -> bool:
    return any(m == mm and first <= address <= last and order > after
               for m, first, last, order in STORES)


def probe(mutant: str, strategy: str, params: dict[str, Any], n: int, seed: int,
          forced: bool) -> str:
    """One line: aims per execution, the share that lines up, findings."""
    cfg = configure(MUTANTS[mutant].scenario, None, mutant)
    prog, bound = program(cfg), default_max_steps(cfg)
    stats: collections.Counter[str] = collections.Counter()
    with applied(cfg.mutant, cfg.fixes):
        params = calibrate(prog, strategy, seed, max_steps=bound,
                           strategy_params=params)
        s = make_strategy(strategy, seed, **params)
        for i in range(n + (20 if forced else 0)):
            STORES.clear()
            AIMS.clear()
            warmup = forced and i < 20
            FORCED[0] = forced and not warmup
            index = i - 20 if forced and not warmup else i
            s.new_execution(index)
            ex = run_execution(prog, s, index, max_steps=bound, record=0)
            if warmup:
                for mm, address, _ in AIMS:
                    hot = HOT.setdefault(mm, [])
                    if _lines_up(mm, address, -1) and address not in hot:
                        hot.append(address)
                continue
            lined = [a for a in AIMS if _lines_up(*a)]
            stats["aims"] += len(AIMS)
            stats["lined"] += len(lined)
            stats["executions lined up"] += bool(lined)
            stats["found"] += ex.violation is not None
    share = stats["lined"] / max(stats["aims"], 1)
    return (f"{mutant} {strategy} {params} forced={forced}: {stats['aims'] / n:.1f} "
            f"aims per execution, {share:.2f} line up, "
            f"{stats['executions lined up']}/{n} executions with one that does, "
            f"{stats['found']} findings in {n}")


def census(mutant: str, n: int) -> str:
    """The random walk's sync decisions by the kind of pending access."""
    cfg = configure(MUTANTS[mutant].scenario, None, mutant)
    prog, bound = program(cfg), default_max_steps(cfg)
    kinds: collections.Counter[str] = collections.Counter()

    class Census(SyncCounter):
        def next_thread(self, runnable: Any, current: Any,
                        yielding: bool = False) -> int:
            choice = super().next_thread(runnable, current, yielding)
            p = self._threads[choice].pending if choice < len(self._threads) else None
            if p is None:
                kinds["no access (RCU, yield, Atomic, free)"] += 1
            elif not p.maple:
                kind = "lock" if p.word == "lock" else "store" if p.store else "load"
                kinds[kind] += 1
            return choice

    with applied(cfg.mutant, cfg.fixes):
        for i in range(n):
            s = Census(0)
            s.new_execution(i)
            run_execution(prog, s, i, max_steps=bound, record=0)
    total = sum(kinds.values())
    return f"{mutant}: {total / n:.0f} sync decisions per execution, " + ", ".join(
        f"{k} {v / total:.2f}" for k, v in kinds.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutant", choices=sorted(MUTANTS))
    parser.add_argument("--strategy", default="pct-sync")
    parser.add_argument("--param", action="append", default=[], help="KEY=VALUE")
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--forced", action="store_true")
    parser.add_argument("--census", action="store_true")
    args = parser.parse_args()
    if args.census:
        print(census(args.mutant, 3))
        return
    params = {k: int(v) if v.isdigit() else v
              for k, v in (p.split("=", 1) for p in args.param)}
    _patch()
    print(probe(args.mutant, args.strategy, params, args.executions, args.seed,
                args.forced), flush=True)


if __name__ == "__main__":
    main()
