"""bench_sched's callgrind mode: instructions per scheduling point, exact.

One probe process under ``valgrind --tool=callgrind`` counts the bare
greenlet round trip and a tiny SimStruct workload under random, as
``stress/bench_sched.py --callgrind`` does: about 20 s of CPU, nearly all
of it the imports of the harness under callgrind (1.4 G instructions), so
the test is marked slow.
"""

from __future__ import annotations

import pytest

from stress.bench_sched import ROOT, count
from stress.benchlib import valgrind_missing
from stress.sched_workloads import BARE_NAME

pytestmark = pytest.mark.skipif(valgrind_missing() is not None,
                                reason=str(valgrind_missing()))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_callgrind_counts_instructions_per_point() -> None:
    got = count(ROOT, [BARE_NAME, "simstruct/random"], points=100, k=2, seed=0)
    bare, trips, _, bare_spread = got[BARE_NAME]
    per, points, digest, spread = got["simstruct/random"]
    assert trips == 20_000
    assert points == 4 * 3 * 100  # 4 workers, 100 iterations of 3 points each
    assert digest != "-"  # the rounds made one schedule (count() checks it)
    # A round trip is thousands of instructions, a round's count steady
    # (the first, warming round is dropped).
    assert 1_000 < bare < 20_000
    assert bare_spread < 0.01
    # A scheduling point costs more than a bare round trip, not 20 times more.
    assert 1.0 < per / bare < 20.0
    assert spread < 0.05
