"""The model fingerprint: a hash of the code a trace was recorded against.

A schedule replays only against the same model and scenario code, so trace
files carry a BLAKE2b hash of the source of every ``maple/*.py`` file and of
the scenario module, taken in sorted path order from file contents (never
from ``hash()``, mtimes or directory order).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def _maple_dir() -> Path | None:
    spec = importlib.util.find_spec("maple")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _module_file(module: str | None) -> Path | None:
    if not module:
        return None
    if module.endswith(".py") and os.path.exists(module):
        return Path(module)
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def model_fingerprint(scenario_module: str | None = None) -> str:
    """Hash of maple/*.py and @scenario_module (a module name or a .py path)."""
    h = hashlib.blake2b(digest_size=16)
    files: list[tuple[str, Path]] = []
    maple_dir = _maple_dir()
    if maple_dir is not None:
        files += [(f"maple/{p.relative_to(maple_dir).as_posix()}", p)
                  for p in maple_dir.rglob("*.py")]
    scenario = _module_file(scenario_module)
    if scenario is not None:
        files.append((f"scenario/{scenario.name}", scenario))
    for name, path in sorted(files):
        h.update(name.encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
