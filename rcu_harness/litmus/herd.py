"""herd7 and the kernel's tools/memory-model: found, run, read back.

herd7 (herdtools7) is not packaged for Debian or PyPI: ``opam install
herdtools7`` installs it, and the Linux kernel memory model it needs is the
kernel tree's ``tools/memory-model`` directory (``linux-kernel.cfg`` and
the ``.cat``/``.bell``/``.def`` files).  :func:`find_herd` looks for them,
in this order:

1. ``RCU_HARNESS_HERD7`` (the herd7 binary) and ``RCU_HARNESS_LKMM`` (the
   tools/memory-model directory);
2. ``herd7`` on ``PATH``, with ``RCU_HARNESS_LKMM`` or, failing that, the
   tools/memory-model of a kernel source the oracle unpacked
   (``~/.cache/rcu-harness/kernel-oracle/src/*/linux-source-*``) or an
   ``lkmm`` directory next to herd7's ``bin`` (the layout
   ``tools/herd7.sh`` of the development machines builds).

Tests run herd7 where it is found and skip, saying why, where it is not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcu_harness.litmus.run import Outcome

HERD_ENV = "RCU_HARNESS_HERD7"
LKMM_ENV = "RCU_HARNESS_LKMM"
ORACLE_SRC = Path.home() / ".cache" / "rcu-harness" / "kernel-oracle" / "src"


@dataclass(frozen=True, slots=True)
class Herd:
    """A herd7 binary and the kernel memory model's directory."""

    binary: Path
    lkmm: Path


@dataclass(frozen=True, slots=True)
class HerdResult:
    """herd7's answer for one test."""

    verdict: str
    """``Never``, ``Sometimes`` or ``Always`` (the ``Observation`` line)."""
    states: frozenset[Outcome]
    positive: int
    negative: int
    output: str


class HerdError(RuntimeError):
    """herd7 failed or answered something unexpected (one line)."""


def _lkmm_dirs(binary: Path) -> list[Path]:
    out = []
    if os.environ.get(LKMM_ENV):
        out.append(Path(os.environ[LKMM_ENV]))
    out.append(binary.resolve().parent.parent / "lkmm")
    if ORACLE_SRC.is_dir():
        out += sorted(ORACLE_SRC.glob("*/linux-source-*/tools/memory-model"))
    return out


def find_herd() -> Herd | str:
    """The herd7 to use, or why there is none (one line)."""
    name = os.environ.get(HERD_ENV) or shutil.which("herd7")
    if not name:
        return (f"herd7 not found: install it (opam install herdtools7) or set "
                f"{HERD_ENV} to its path")
    binary = Path(name)
    if not binary.is_file():
        return f"{HERD_ENV}={name} is not a file"
    for lkmm in _lkmm_dirs(binary):
        if (lkmm / "linux-kernel.cfg").is_file():
            return Herd(binary, lkmm)
    return (f"the kernel's tools/memory-model (linux-kernel.cfg) not found: set "
            f"{LKMM_ENV} to it")


def run_herd(herd: Herd, path: Path, *, timeout: float = 120) -> HerdResult:
    """Run herd7 with the Linux kernel memory model on the test at @path."""
    cmd = [str(herd.binary), "-I", str(herd.lkmm), "-conf",
           str(herd.lkmm / "linux-kernel.cfg"), str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HerdError(f"herd7 on {path}: {exc}") from None
    out = proc.stdout
    obs = re.search(r"^Observation \S+ (\w+) (\d+) (\d+)", out, flags=re.M)
    if proc.returncode or obs is None:
        err = (proc.stderr or out).strip().splitlines()
        raise HerdError(f"herd7 on {path}: {err[-1] if err else 'no answer'}")
    return HerdResult(obs.group(1), _states(out), int(obs.group(2)),
                      int(obs.group(3)), out)


def _states(out: str) -> frozenset[Outcome]:
    m = re.search(r"^States \d+\n(.*?)^(?:Ok|No)$", out, flags=re.M | re.S)
    if m is None:
        return frozenset()
    states = []
    for line in m.group(1).splitlines():
        pairs = []
        for item in line.split(";"):
            item = item.strip()
            if item:
                name, _, value = item.partition("=")
                pairs.append((name.strip("[] "), value.strip()))
        states.append(frozenset(pairs))
    return frozenset(states)
