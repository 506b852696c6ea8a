"""docs/python-api.md stays true: the files it shows verbatim (the worked
example, its pytest tests) are the ones the tests run, and every snippet
marked ``<!-- run -->`` prints what the document shows.

The output blocks (``<!-- output -->``) may leave lines out (``...``): each
line shown must appear, in order, in what the snippet prints now.  Numbers
that vary between runs (seconds, rates), run directory names and source line
numbers are compared as placeholders.  After a change that alters an output,
``python -m tests.test_docs_python_api --write`` rewrites the blocks from a
fresh run (then cut the lines not worth showing back to ``...``).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "python-api.md"
BLOCK = re.compile(r"<!-- (run|output|[^>]*verbatim) -->\n```[a-z]*\n(.*?)\n```",
                   re.DOTALL)


def _blocks() -> list[tuple[str, str, tuple[int, int]]]:
    text = DOC.read_text()
    return [(m.group(1), m.group(2), m.span(2)) for m in BLOCK.finditer(text)]


def _snippets() -> list[tuple[str, str, tuple[int, int]]]:
    """(code, shown output, span of the output) for each run/output pair."""
    blocks = _blocks()
    out = []
    for (kind, code, _), (nxt, shown, span) in itertools.pairwise(blocks):
        if kind == "run":
            assert nxt == "output", "a <!-- run --> block needs an output block"
            out.append((code, shown, span))
    return out


def _normalise(line: str) -> str:
    line = re.sub(r"\S*/\d{8}-\d{6}-", "RUN_DIR/", line)
    line = re.sub(r"\.py:\d+", ".py:N", line)
    return re.sub(r"\d+\.\d+ s \(\d+\.\d+ executions/s\)", "T s (R executions/s)",
                  line).rstrip()


def run_snippet(code: str) -> str:
    """What @code prints: Python run here, or an ``$ rcu-harness`` command
    run as a user with the virtualenv activated runs it (the console script
    first on ``PATH``, so printed commands say ``rcu-harness``) in a scratch
    output directory."""
    if code.startswith("$ rcu-harness "):
        bindir = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
        with tempfile.TemporaryDirectory() as out:
            argv = [*shlex.split(code[len("$ rcu-harness "):]), "--out", out,
                    "--quiet"]
            done = subprocess.run([str(bindir / "rcu-harness"), *argv],
                                  cwd=ROOT, capture_output=True, text=True,
                                  timeout=300, check=False, env=env)
            return done.stdout.replace(out, "reports/runs")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_snippet__"})
    return buf.getvalue()


def test_the_files_shown_verbatim_are_the_ones_the_tests_run():
    shown = {kind.split(",")[0]: code for kind, code, _ in _blocks()
             if kind.endswith("verbatim")}
    assert set(shown) == {"tests/programs/sessions.py",
                          "tests/programs/test_sessions.py"}
    for name, code in shown.items():
        assert code == (ROOT / name).read_text().rstrip("\n"), name


@pytest.mark.parametrize("index", range(len(_snippets())))
def test_each_snippet_prints_what_the_document_shows(index):
    code, shown, _span = _snippets()[index]
    got = [_normalise(line) for line in run_snippet(code).splitlines()]
    want = [_normalise(line) for line in shown.splitlines() if line != "..."]
    it = iter(got)
    missing = [line for line in want if not any(line == g for g in it)]
    assert not missing, ("the document shows lines this code no longer prints "
                         f"(first: {missing[0]!r}); it prints:\n" + "\n".join(got))


def _write() -> None:
    text = DOC.read_text()
    for code, _shown, (start, end) in reversed(_snippets()):
        text = text[:start] + run_snippet(code).rstrip("\n") + text[end:]
    DOC.write_text(text)


if __name__ == "__main__" and "--write" in sys.argv:
    sys.path.insert(0, str(ROOT))
    _write()
