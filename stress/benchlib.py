"""Shared helpers for the stress/ benchmarks: the machine line and the report file.

Every benchmark writes its own ``## ...`` section of reports/BENCHMARKS.md,
replacing an older version of that section and keeping the others.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "reports" / "BENCHMARKS.md"


def machine() -> list[str]:
    """Markdown bullet lines describing this machine."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    uname = subprocess.run(["uname", "-srm"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return [f"- machine: `{uname}`", f"- CPU: {cpu}, {os.cpu_count()} cores",
            f"- Python {platform.python_version()}"]


def write_section(heading: str, text: str, path: Path = BENCHMARKS) -> None:
    """Replace the section that starts with @heading where it stands (up to
    the next ``## `` heading), or append it."""
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    new = text.rstrip("\n") + "\n\n"
    out, skipping, placed = [], False, False
    for line in old.splitlines(keepends=True):
        if line.startswith("## "):
            skipping = line.strip() == heading
            if skipping and not placed:
                out.append(new)
                placed = True
        if not skipping:
            out.append(line)
    body = "".join(out)
    if not placed:
        body = body.rstrip("\n") + "\n\n" + new
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body.rstrip("\n") + "\n")
