"""Benchmark: what a campaign's latency samples cost per execution, before
and after (issue 17, thirteenth round).

A block takes each execution's samples (``sample_lists``, plain lists; in a
tree before the thirteenth round ``collect``, numpy arrays) and the
coordinator makes a chunk of them for the store (``chunk_arrays``).  For
each default scenario and each tree (``--before`` a git revision or a
directory, ``--after`` this checkout), in a fresh process under callgrind
(:func:`stress.benchlib.callgrind`): executions 0..N-1 (``mix``, base seed
0, calibrated, no events: the speed probe's), not counted, and frozen out
of the cyclic collector's passes (``gc.freeze()``: a campaign keeps no
execution alive, and a pass over all N of them would be most of the
count); then, counted apart, every execution's samples, and the chunks
(of ``--chunk`` executions) made of them.  Prints the instructions per execution of each
part and a digest of the chunks (names, dtypes, shapes and values; a
``.ns`` name's values are wall clock and left out), which must be the same
in both trees.

Usage: python stress/bench_samples.py [--before REV] [--chunk 16]
       [--write reports/BENCHMARKS.md]
       python stress/bench_samples.py --probe TREE SCENARIO N CHUNK
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stress.benchlib import callgrind, export, machine, mark, write_section

ROOT = Path(__file__).resolve().parents[1]
EXECUTIONS = {"dup_mmap": 48, "rcu_transitions": 48, "mmput_race": 96}
"""Executions per scenario (a few chunks of a block each)."""
HEADING = ("## A campaign's latency samples per execution, before and after "
           "(stress/bench_samples.py)")


def probe(tree: str, scenario: str, n: int, chunk: int) -> None:
    """Run @n executions of @scenario with @tree's harness, then take their
    samples and chunks between :func:`~stress.benchlib.mark` calls; print
    the chunks' digest."""
    sys.path.insert(0, tree)
    import rcu_harness

    if not rcu_harness.__file__ or not rcu_harness.__file__.startswith(tree):
        raise SystemExit(f"imported {rcu_harness.__file__}, not from {tree}")
    from rcu_harness.runner.block import calibrate
    from rcu_harness.runner.run import run_execution
    from rcu_harness.runtime import metrics
    from rcu_harness.scenarios.catalog import configure, program
    from rcu_harness.sched.registry import make_strategy
    from rcu_harness.store.runstore import chunk_arrays

    take: Any = getattr(metrics, "sample_lists", None) or metrics.collect
    setup = program(configure(scenario))
    strategy = make_strategy("mix", 0, **calibrate(setup, "mix", 0))
    executions = []
    for i in range(n):
        strategy.new_execution(i)
        executions.append(run_execution(setup, strategy, i, record=0))
    gc.collect()
    gc.freeze()  # a block's executions die one by one: no pass walks them
    mark()
    samples = [(i, take(ex)) for i, ex in enumerate(executions)]
    mark()
    chunks = [chunk_arrays(samples[at:at + chunk]) for at in range(0, n, chunk)]
    mark()
    digest = hashlib.blake2b(digest_size=8)
    for arrays in chunks:
        for key, arr in arrays.items():
            digest.update(f"{key} {arr.dtype} {arr.shape}".encode())
            if not key.endswith(".ns"):
                digest.update(arr.tobytes())
    print(json.dumps({"chunks": digest.hexdigest(), "n": n}))


def counted(tree: Path, scenario: str, n: int, chunk: int) -> dict[str, Any]:
    """@tree's instructions per execution: samples, chunks; the digest."""
    parts, out = callgrind([__file__, "--probe", str(tree), scenario, str(n),
                            str(chunk)])
    result = json.loads(out.strip().splitlines()[-1])
    return {"samples": parts[1] / n, "chunks": parts[2] / n,
            "digest": result["chunks"]}


def _cost(got: dict[str, Any]) -> str:
    return f"{got['samples'] / 1e3:,.1f} k + {got['chunks'] / 1e3:,.1f} k"


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main")
    parser.add_argument("--after", default=str(ROOT))
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--write", default=None)
    args = parser.parse_args()
    if args.chunk < 1:
        parser.error("--chunk must be at least 1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": export(args.before, Path(tmp)),
                 "after": export(args.after, Path(tmp))}
        for scenario, n in EXECUTIONS.items():
            got = {name: counted(tree, scenario, n, args.chunk)
                   for name, tree in trees.items()}
            b, a = got["before"], got["after"]
            print(f"{scenario}: {b} -> {a}", file=sys.stderr)
            same = "yes" if a["digest"] == b["digest"] else "NO"
            ratio = (b["samples"] + b["chunks"]) / (a["samples"] + a["chunks"])
            rows.append(f"| {scenario} ({n}) | {_cost(b)} | {_cost(a)} | "
                        f"**{ratio:.2f}x** | {same} (`{a['digest']}`) |")
    command = "python stress/bench_samples.py " + " ".join(sys.argv[1:])
    text = "\n".join([
        HEADING, "", f"Command: `{command.strip()}`; before = `{args.before}`, "
        f"after = the working tree; instructions per execution by callgrind "
        f"(an execution's samples + its share of the chunks of {args.chunk}).",
        "", *machine(), "",
        "| scenario (executions) | before | after | speed-up | same chunks (digest) |",
        "|---|---|---|---|---|", *rows, ""])
    print(text)
    if args.write:
        write_section(HEADING, text, Path(args.write))


if __name__ == "__main__":
    main()
