"""Model patches: a model function swapped for a variant for the length of a run.

Mutants (:mod:`rcu_harness.scenarios.mutants`) and the model side of
candidate kernel fixes (:mod:`rcu_harness.known.fixes`) are lists of
:class:`Patch`; :func:`patched` applies them, so ``maple/`` itself never
carries a seeded bug or an unmerged fix.  Swapping replaces every module
global that refers to the original function (modules import model
functions by name and keep their own reference), in sorted module order,
and restores them after.  A leaf module: it imports nothing of the harness.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator


class _State:
    """How many :func:`patched` blocks are open (setup snapshots are made and
    replayed only outside them: :mod:`rcu_harness.runtime.snapshot`)."""

    active = 0


STATE = _State()


@dataclass(frozen=True, slots=True)
class Patch:
    """Replace @original by @replacement (in @modules only, if given)."""

    original: Callable[..., Any]
    replacement: Callable[..., Any]
    modules: tuple[str, ...] = ()


def _targets(patch: Patch, skip: tuple[str, ...]) -> list[tuple[Any, str]]:
    """(module, attribute) pairs that hold @patch.original."""
    out = []
    for mod_name in sorted(sys.modules):
        if not (mod_name in patch.modules if patch.modules else
                mod_name == "maple" or mod_name.startswith(("maple.", "rcu_harness."))):
            continue
        if mod_name in skip:
            continue
        module = sys.modules[mod_name]
        for attr, value in sorted(vars(module).items()):
            if value is patch.original:
                out.append((module, attr))
    return out


@contextmanager
def patched(patches: Iterable[Patch], *, skip: tuple[str, ...] = ()
            ) -> Iterator[None]:
    """Run a block with @patches swapped in (in every module that holds the
    originals, or the patch's modules; never in the modules @skip, which
    define the variants and keep the originals on purpose), restoring the
    originals after."""
    swapped: list[tuple[Any, str, Any]] = []
    STATE.active += 1
    try:
        for patch in patches:
            for module, attr in _targets(patch, skip):
                swapped.append((module, attr, patch.original))
                setattr(module, attr, patch.replacement)
        yield
    finally:
        for module, attr, original in reversed(swapped):
            setattr(module, attr, original)
        STATE.active -= 1
