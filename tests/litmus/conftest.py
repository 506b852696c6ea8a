"""herd7 for the litmus tests: found, or built from the shared sources, or skipped.

herd7 is not packaged for Debian or PyPI.  The harness finds it through
``RCU_HARNESS_HERD7``/``RCU_HARNESS_LKMM`` or on ``PATH``
(:func:`rcu_harness.litmus.herd.find_herd`); on the development machines and
in CI a ``shared/tools/herd7.sh`` next to the checkout (or one level up,
for worktrees) builds herdtools7 7.57 once (about three minutes, cached)
and fetches the kernel's tools/memory-model.  Elsewhere the tests that
need herd7 skip, saying why.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rcu_harness.litmus.herd import Herd, find_herd

ROOT = Path(__file__).resolve().parents[2]


def _shared_script() -> Path | None:
    for base in (ROOT.parent, ROOT.parent.parent):
        script = base / "shared" / "tools" / "herd7.sh"
        if script.is_file():
            return script
    return None


@pytest.fixture(scope="session")
def herd() -> Herd:
    found = find_herd()
    if isinstance(found, Herd):
        return found
    script = _shared_script()
    if script is None:
        pytest.skip(f"{found} (and no shared/tools/herd7.sh to build it)")
    try:
        proc = subprocess.run(["sh", str(script)], capture_output=True, text=True,
                              timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"{script} did not build herd7: {exc}")
    prefix = Path(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None
    if proc.returncode or prefix is None or not (prefix / "bin" / "herd7").is_file():
        pytest.skip(f"{script} did not build herd7: {proc.stderr.strip()[-200:]}")
    return Herd(prefix / "bin" / "herd7", prefix / "lkmm")
