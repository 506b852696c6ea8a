"""The trace file schema: every field's type and range, checked on load.

:func:`problem` answers the first thing wrong with a decoded trace file
(``None`` when it is well formed): a missing or unknown field, a field of
the wrong type (``schedule`` an integer, ``seed`` a string), a number out
of range (``execution`` -3).  Booleans are never accepted as integers.
Names that need the registries (strategy, scenario, mutant, parameter
values) are checked when the trace's run is set up
(:func:`rcu_harness.campaign.replay.from_trace`).
"""

from __future__ import annotations

from typing import Any

_SCALAR = (str, int, float, bool)

_TOP: dict[str, tuple[Any, ...]] = {
    # field: (type or types, minimum for integers, required)
    "format": (int, 1, True),
    "harness_version": (str, None, True),
    "model_fingerprint": (str, None, True),
    "scenario": (str, None, True),
    "schedule": (str, None, True),
    "finding": ((dict, type(None)), None, True),
    "parameters": (dict, None, False),
    "mutant": ((str, type(None)), None, False),
    "strategy": (str, None, False),
    "strategy_params": (dict, None, False),
    "seed": (int, 0, False),
    "execution": (int, 0, False),
    "max_steps": (int, 1, False),
    "events_digest": (str, None, False),
    "events": (list, None, False),
}
_FINDING: dict[str, tuple[Any, ...]] = {
    "kind": (str, None, True),
    "signature": (str, None, True),
    "message": (str, None, True),
    "report": (str, None, True),
    "thread": (str, None, False),
    "step": (int, 0, False),
    "addr": (str, None, False),
    "lifecycle": (list, None, False),
}
_MARK: dict[str, tuple[Any, ...]] = {
    "what": (str, None, True),
    "thread": (str, None, True),
    "step": (int, 0, True),
}
_EVENT: dict[str, tuple[Any, ...]] = {
    "step": (int, 0, True),
    "thread": (str, None, True),
    "kind": (str, None, True),
    "addr": (str, None, True),
    "word": ((str, type(None)), None, True),
    "index": (int, None, True),
    "value": (str, None, True),
    "function": (str, None, True),
    "reads": (str, None, False),
    "stale": (str, None, False),
}


def _type_name(types: Any) -> str:
    names = {str: "a string", int: "an integer", dict: "an object", list: "a list",
             type(None): "null"}
    if isinstance(types, tuple):
        return " or ".join(names[t] for t in types)
    return names[types]


def _wrong(value: Any, types: Any) -> bool:
    if isinstance(value, bool) and types is int:
        return True
    return not isinstance(value, types)


def _fields(data: dict[str, Any], spec: dict[str, tuple[Any, ...]],
            where: str) -> str | None:
    unknown = sorted(set(data) - set(spec))
    if unknown:
        return f"{where}unknown field {unknown[0]!r}"
    for name, (types, minimum, required) in spec.items():
        if name not in data:
            if required:
                return f"{where}missing field {name!r}"
            continue
        value = data[name]
        if _wrong(value, types):
            return (f"{where}{name} must be {_type_name(types)} "
                    f"(got {value!r:.40})")
        if minimum is not None and value < minimum:
            return f"{where}{name} must be >= {minimum} (got {value})"
    return None


def _each(items: list[Any], spec: dict[str, tuple[Any, ...]],
          where: str) -> str | None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return f"{where}[{i}] must be an object"
        found = _fields(item, spec, f"{where}[{i}].")
        if found:
            return found
    return None


def _tables(data: dict[str, Any]) -> str | None:
    for name, kinds in (("parameters", _SCALAR), ("strategy_params", _SCALAR)):
        for key, value in data.get(name, {}).items():
            if not isinstance(value, kinds):
                return f"{name}.{key} must be a number, string or boolean"
    return None


def problem(data: dict[str, Any]) -> str | None:
    """The first thing wrong with the decoded trace @data, or None."""
    found = _fields(data, _TOP, "") or _tables(data)
    if found:
        return found
    finding = data.get("finding")
    if finding is not None:
        found = _fields(finding, _FINDING, "finding.") or _each(
            finding.get("lifecycle", []), _MARK, "finding.lifecycle")
        if found:
            return found
    return _each(data.get("events", []), _EVENT, "events")
