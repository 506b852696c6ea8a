"""bench_samples counts an execution's samples and its share of the chunks,
and digests the chunks so that two trees can be shown to store the same."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stress import bench_samples as bench
from stress.bench_samples import ROOT


def _probe(n: int, chunk: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "stress" / "bench_samples.py"), "--probe",
         str(ROOT), "mmput_race", str(n), str(chunk)],
        capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(300)
def test_the_chunks_digest_is_the_same_in_two_runs_whatever_their_wall_clock() -> None:
    """A span's nanoseconds differ from run to run; the digest leaves them
    out and keeps everything else, so one chunking of the same executions
    digests the same, and another chunking does not."""
    first, second = _probe(4, 2), _probe(4, 2)
    assert first == second
    assert first["n"] == 4
    assert _probe(4, 3)["chunks"] != first["chunks"]


def test_a_chunk_of_no_executions_is_refused(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["bench_samples.py", "--chunk", "0"])
    with pytest.raises(SystemExit) as exc:
        bench.main()
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "--chunk must be at least 1")
