"""Statistics helpers: summaries, histograms, buckets, time-weighted means."""

import numpy as np
import pytest

from rcu_harness.report.stats import (
    buckets,
    cdf,
    histogram,
    per_owner,
    summarize,
    time_weighted_mean,
)


def test_summary_uses_numpys_default_percentiles_and_population_std():
    x = np.array([1, 2, 3, 4, 100])
    s = summarize(x)
    assert s.count == 5
    assert s.mean == 22.0
    assert s.std == pytest.approx(np.sqrt(np.mean((x - 22.0) ** 2)))
    assert s.p50 == 3.0
    assert s.p90 == pytest.approx(4 + 0.6 * 96)  # rank 3.6: 4 + 0.6 * (100 - 4)
    assert s.p99 == pytest.approx(4 + 0.96 * 96)
    assert s.p999 == pytest.approx(4 + 0.996 * 96)
    assert (s.min, s.max) == (1.0, 100.0)


def test_an_empty_sample_has_no_summary():
    assert summarize(np.zeros(0)) is None


def test_small_integer_ranges_get_unit_bins():
    h = histogram(np.array([3, 3, 4, 7]))
    assert h.edges == (3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
    assert h.counts == (2, 1, 0, 0, 1)


def test_wide_or_fractional_ranges_get_equal_bins():
    h = histogram(np.arange(1000), max_bins=10)
    assert len(h.counts) == 10
    assert sum(h.counts) == 1000
    assert histogram(np.zeros(0)).counts == ()


def test_buckets_collect_large_values_in_the_last_one():
    assert buckets(np.array([0, 1, 1, 2, 12, 10]), 10) == (1, 2, 1, 0, 0, 0, 0,
                                                           0, 0, 0, 2)
    with pytest.raises(ValueError, match="non-negative"):
        buckets(np.array([-1]), 10)


def test_time_weighted_mean_holds_each_count_until_the_next_change():
    # 0 until step 2, then 1 until 5, 3 until 6, 0 until the end at 10
    rows = np.array([[2, 1], [5, 3], [6, 0]])
    assert time_weighted_mean(rows, 10) == pytest.approx((3 * 1 + 1 * 3) / 10)
    assert time_weighted_mean(np.zeros((0, 2)), 10) == 0.0


def test_cdf_and_split_by_execution():
    xs, ys = cdf(np.array([3, 1, 2]))
    assert xs.tolist() == [1, 2, 3]
    assert ys.tolist() == pytest.approx([1 / 3, 2 / 3, 1])
    parts = per_owner(np.array([10, 11, 12, 13]), np.array([5, 2, 5, 2]))
    assert {k: v.tolist() for k, v in parts.items()} == {2: [11, 13], 5: [10, 12]}
