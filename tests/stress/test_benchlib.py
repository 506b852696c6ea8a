"""stress/benchlib.py: long runs stop on SIGINT/SIGTERM with one line and
keep every result they finished; a tree that cannot be exported is a
one-line error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stress.benchlib import (
    Interrupted,
    _held,
    _on_signal,
    callgrind_events,
    estimated_cycles,
    export,
    interruptible,
    parse_totals,
    valgrind_missing,
    write_section,
)

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from stress.benchlib import interruptible, pool_results

    def work(i):
        time.sleep(0.3)
        return i

    def main():
        with open({out!r}, "a") as out:
            for i in pool_results(work, range(40), 2):
                out.write(json.dumps({{"done": i}}) + "\\n")
                out.flush()
        return 0

    sys.exit(interruptible(main, "kept in the file"))
""")


def _run_and_signal(tmp_path: Path, signum: int
                    ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    out = tmp_path / "results.jsonl"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(root=str(ROOT), out=str(out)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not (out.exists() and out.read_text().count("\n") >= 2):
        assert time.monotonic() < deadline, "no result within 30 s"
        time.sleep(0.05)
    os.kill(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=30)
    for _ in range(100):  # the workers die with the pool
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("a pool worker outlived the interrupted parent")
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return done, out.read_text().splitlines()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signalled_run_stops_with_one_line_and_keeps_its_results(
        tmp_path: Path, signum: int) -> None:
    done, lines = _run_and_signal(tmp_path, signum)
    assert done.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert done.stderr == f"run.py: interrupted by {name}; kept in the file\n"
    assert 2 <= len(lines) < 40
    assert [json.loads(line)["done"] for line in lines]  # every line whole


def test_a_signal_during_a_save_waits_for_the_save_to_finish() -> None:
    saved = []

    def save() -> None:
        with _held():
            _on_signal(signal.SIGTERM, None)  # arrives mid-save
            saved.append("the whole record")

    with pytest.raises(Interrupted) as stop:
        save()
    assert saved == ["the whole record"]
    assert stop.value.signum == signal.SIGTERM


def test_interruptible_returns_the_status_and_restores_the_handlers(
        capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)

    def main() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    assert interruptible(main, "nothing lost") == 128 + signal.SIGTERM
    assert capsys.readouterr().err.endswith("interrupted by SIGTERM; nothing lost\n")
    assert signal.getsignal(signal.SIGTERM) is before
    assert interruptible(lambda: 3, "x") == 3
    assert interruptible(lambda: None, "x") == 0


def test_write_section_replaces_a_section_in_place(tmp_path: Path) -> None:
    path = tmp_path / "B.md"
    path.write_text("# Benchmarks\n\n## a\n\nold\n\n## b\n\nkeep\n")
    write_section("## a", "## a\n\nnew\n", path)
    assert path.read_text() == "# Benchmarks\n\n## a\n\nnew\n\n## b\n\nkeep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["B.md"]


def test_a_second_signal_while_the_stop_line_is_printed_is_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class SignalOnWrite:
        """stderr that receives a second SIGTERM while the line is written."""

        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> int:
            if not self.text:
                os.kill(os.getpid(), signal.SIGTERM)
            self.text += s
            return len(s)

        def flush(self) -> None:
            pass

    err = SignalOnWrite()
    monkeypatch.setattr(sys, "stderr", err)

    def main() -> None:
        raise Interrupted(signal.SIGTERM)

    assert interruptible(main, "kept") == 128 + signal.SIGTERM
    assert err.text.count("\n") == 1
    assert "interrupted by SIGTERM; kept" in err.text


def test_export_of_an_unknown_revision_is_a_one_line_error(tmp_path):
    with pytest.raises(SystemExit, match="neither a directory nor a git revision"):
        export("no-such-revision-xyz", tmp_path)


def test_the_cycle_estimate_is_kcachegrinds() -> None:
    """CEst = Ir + 10 Bm + 10 L1m + 100 LLm, each event where it belongs."""
    events = {"Ir": 1_000_000, "Dr": 7, "Dw": 7, "I1mr": 1, "D1mr": 2,
              "D1mw": 3, "ILmr": 4, "DLmr": 5, "DLmw": 6, "Bc": 7, "Bcm": 8,
              "Bi": 9, "Bim": 10}
    assert estimated_cycles(events) == (1_000_000 + 10 * (8 + 10)
                                        + 10 * (1 + 2 + 3) + 100 * (4 + 5 + 6))


def test_a_callgrind_file_is_read_by_its_event_names() -> None:
    text = "version: 1\nevents: Ir Bcm\nfn=(1) f\n3 5 1\ntotals: 12 3\n"
    assert parse_totals(text) == {"Ir": 12, "Bcm": 3}
    with pytest.raises(SystemExit, match="events or totals"):
        parse_totals("events: Ir\n")


@pytest.mark.skipif(valgrind_missing() is not None, reason="valgrind is not installed")
def test_a_simulated_run_gives_each_parts_events() -> None:
    """A real callgrind run with the caches and branches simulated: the part
    before the mark and the part after it, each with instructions, misses
    and mispredictions, and the program's own output."""
    parts, out = callgrind_events(["-S", "-c", "import os; os.getppid(); print(7)"])
    assert out == "7\n"
    assert len(parts) == 2
    for part in parts:
        assert min(part["Ir"], part["D1mr"], part["Bcm"]) > 0
        assert estimated_cycles(part) > part["Ir"]
