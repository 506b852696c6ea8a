"""Users' own programs as scenarios: ``MODULE:FUNCTION``.

A program is a function that takes the harness first and builds the world
through it, exactly what :func:`rcu_harness.explore` runs::

    def program(h, *, readers: int = 2, planted_bug: bool = False) -> None:
        ...

Its parameters after ``h`` that have a default are the run's parameters:
``--set readers=3`` on the command line, ``params={"readers": 3}`` from
Python, typed by the default (an int, a string or a bool).  The first line
of its docstring describes it in listings and reports.  With that, a
program runs wherever a scenario does: ``rcu-harness stress --program
MODULE:FUNCTION`` with the run store, reports, ``--jobs`` and
``--resume``, and ``rcu-harness replay --program MODULE:FUNCTION ...``.

The module is imported by name, as ``python -m`` would, with the current
directory first on ``sys.path``: run from the directory the module is
importable from (or set ``PYTHONPATH``).  Worker processes inherit both.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from rcu_harness.scenarios.spec import Param, Scenario, ScenarioError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runner.harness import Harness
    from rcu_harness.scenarios.spec import Config

_TYPES = (int, str, bool)


def is_program(name: str) -> bool:
    """Does @name refer to a user's program (``MODULE:FUNCTION``)?"""
    return ":" in name


def file_stem(name: str) -> str:
    """@name (a scenario, or a program's ``MODULE:FUNCTION``) as part of a
    file or directory name."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", name)


def load_program(ref: str) -> Callable[..., Any]:
    """The function @ref names, or a ScenarioError saying what is wrong."""
    module_name, _sep, func_name = ref.partition(":")
    if not module_name or not func_name or ":" in func_name:
        raise ScenarioError(f"a program is named MODULE:FUNCTION, like "
                            f"mytests.race:program (got {ref!r})")
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ScenarioError(f"program {ref}: cannot import {module_name} ({exc}); "
                            "run from the directory it is importable from, or "
                            "set PYTHONPATH") from None
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise ScenarioError(f"program {ref}: module {module_name} has no function "
                            f"{func_name}")
    return fn  # type: ignore[no-any-return]


def _params(ref: str, fn: Callable[..., Any]) -> tuple[Param, ...]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"program {ref}: no signature ({exc})") from None
    params = [p for p in signature.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not params or params[0].kind is inspect.Parameter.KEYWORD_ONLY:
        raise ScenarioError(f"program {ref} must take the harness first: "
                            f"def {fn.__name__}(h, ...)")
    out = []
    for p in params[1:]:
        if p.default is p.empty or type(p.default) not in _TYPES:
            raise ScenarioError(
                f"program {ref}: parameter {p.name} needs a default that is an "
                "int, a string or a bool (its type, and the value --set changes)")
        out.append(Param(p.name, p.default, f"parameter of {fn.__name__}()"))
    return tuple(out)


def program_scenario(ref: str) -> Scenario:
    """The user's program @ref as a scenario named @ref."""
    fn = load_program(ref)
    params = _params(ref, fn)
    doc = (inspect.getdoc(fn) or "").strip()
    description = doc.splitlines()[0] if doc else f"the program {ref}"

    def build(h: Harness, cfg: Config) -> None:
        fn(h, **cfg.values)

    return Scenario(ref, description, params, build, module=fn.__module__)
