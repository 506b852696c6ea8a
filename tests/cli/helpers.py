"""Running the command line in tests: in this process or as a real process."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from rcu_harness.cli import main

ROOT = Path(__file__).resolve().parents[2]


def cli(capsys, *argv):
    """``main(argv)`` in this process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run(*argv, cwd=None, timeout=120):
    """``python -m rcu_harness ARGV`` as a child process."""
    return subprocess.run([sys.executable, "-m", "rcu_harness", *map(str, argv)],
                          capture_output=True, text=True, cwd=cwd or ROOT,
                          timeout=timeout, check=False)


def stress_json(capsys, tmp_path, *argv):
    """Run ``stress ... --json`` in this process; (status, decoded object)."""
    code, out, _ = cli(capsys, "stress", *argv, "--out", tmp_path / "runs",
                       "--json", "--quiet", "--no-report")
    return code, json.loads(out)


def command_args(line):
    """The arguments of a printed ``<harness> replay ...`` command line (what
    follows the interpreter or console script that names the harness)."""
    words = shlex.split(line)
    return words[words.index("replay"):]
