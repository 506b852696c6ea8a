"""The samples as main 79f7af0 made them, kept as the specification that the
cheaper path (plain lists per execution, arrays once per chunk) must give
byte for byte: ``collect`` made numpy arrays per execution and
``chunk_arrays`` one ``np.full`` per name per execution for ``X@exec``."""

import numpy as np


def _span_arrays(metrics, out):
    by_name = {}
    for span in metrics.spans:
        if span.end_step >= 0:
            by_name.setdefault(span.name, []).append(span)
    for name in sorted(by_name):
        spans = by_name[name]
        out[f"span.{name}.steps"] = np.array(
            [s.end_step - s.begin_step for s in spans], dtype=np.int64)
        out[f"span.{name}.ns"] = np.array(
            [s.end_ns - s.begin_ns for s in spans], dtype=np.int64)
        keys = sorted({k for s in spans for k in s.extra})
        for key in keys:
            out[f"span.{name}.{key}"] = np.array(
                [s.extra.get(key, 0) for s in spans], dtype=np.float64)


def _rcu_arrays(metrics, out):
    def ints(values):
        return np.array(values, dtype=np.int64)

    out["rcu.free_delay_steps"] = ints(metrics.free_delay)
    out["rcu.waiting"] = np.array(metrics.waiting, dtype=np.int64).reshape(-1, 2)
    out["rcu.waiting_peak"] = ints([metrics.waiting_peak])
    out["rcu.pipe"] = ints(metrics.pipe)
    out["rcu.batch"] = ints(metrics.batch)
    out["rcu.retired_age"] = ints(metrics.retired_age)
    for (level, span, store), n in sorted(metrics.cover.items()):
        out[f"cover.{level}.{span}.{store}"] = ints([n])


def collect_before(ex):
    """main 79f7af0's ``rcu_harness.runtime.metrics.collect``."""
    out = {}
    metrics = ex.metrics
    _span_arrays(metrics, out)
    for name in sorted(metrics.values):
        out[f"value.{name}"] = np.array(metrics.values[name], dtype=np.float64)
    _rcu_arrays(metrics, out)
    return out


def chunk_arrays_before(per_execution):
    """main 79f7af0's ``rcu_harness.store.runstore.chunk_arrays``."""
    values, owners = {}, {}
    for idx, arrays in per_execution:
        for key, arr in arrays.items():
            values.setdefault(key, []).append(arr)
            owners.setdefault(key, []).append(np.full(len(arr), idx, dtype=np.int64))
    out = {}
    for key in sorted(values):
        out[key] = np.concatenate(values[key])
        out[f"{key}@exec"] = np.concatenate(owners[key])
    return out


def differences(got, want):
    """How two sets of named arrays differ (empty: the same names in the same
    order, dtypes, shapes and values; a ``.ns`` name's values are wall clock
    and compared by dtype and shape only)."""
    out = []
    if list(got) != list(want):
        out.append(f"names {sorted(set(got) ^ set(want))} or their order differ")
    for key in want:
        if key not in got:
            continue
        a, b = got[key], want[key]
        if (a.dtype, a.shape) != (b.dtype, b.shape):
            out.append(f"{key}: {a.dtype}{a.shape} != {b.dtype}{b.shape}")
        elif not key.endswith(".ns") and a.tobytes() != b.tobytes():
            out.append(f"{key}: values differ")
    return out
