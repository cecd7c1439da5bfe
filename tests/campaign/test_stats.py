"""Two-proportion statistics: Newcombe's interval and the closed-form power calculation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oneclick.campaign import stats


def test_wilson_interval_matches_published_values() -> None:
    assert stats.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert stats.wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert all(math.isnan(x) for x in stats.wilson(0, 0))


def test_newcombe_difference_matches_newcombe_1998_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II example: 56/70 vs 48/80
    difference, low, high = stats.newcombe_difference(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_newcombe_interval_covers_the_truth_about_95_percent_for_campaign_sized_groups() -> None:
    rng = np.random.default_rng(0)
    p_control, p_treatment, n_control, n_treatment = 0.85, 0.7, 32, 76
    covered = 0
    for _ in range(4000):
        k1, k2 = rng.binomial(n_control, p_control), rng.binomial(n_treatment, p_treatment)
        _, low, high = stats.newcombe_difference(k1, n_control, k2, n_treatment)
        covered += low <= p_control - p_treatment <= high
    assert 0.93 <= covered / 4000 <= 0.975


def test_size_needed_matches_the_textbook_two_proportion_case() -> None:
    # 0.5 -> 0.4, equal groups, alpha 0.05, power 0.8: Cohen's h = 0.2014, 387.5 per group
    assert stats.size_needed(0.1, 0.5, 0.5) == pytest.approx(2 * 387.5, abs=1.0)


def test_minimum_detectable_drop_and_size_needed_are_inverse() -> None:
    for share in (0.2, 0.3, 0.5):
        for p0 in (0.6, 0.9):
            n = stats.size_needed(0.15, share, p0)
            mde = stats.min_detectable_drop(n * share, n * (1 - share), p0)
            assert mde == pytest.approx(0.15, abs=1e-9)


def test_power_edge_cases_give_none_or_infinity() -> None:
    assert stats.min_detectable_drop(0, 50, 0.9) is None
    assert stats.min_detectable_drop(2, 2, 0.9) is None  # even a drop to 0 goes unnoticed
    assert stats.size_needed(0.95, 0.3, 0.9) == math.inf  # more than the rate itself
    assert stats.size_needed(0.1, 0.0, 0.9) == math.inf
    many = stats.size_needed(0.1, 0.3, np.array([0.5, 0.9, 0.05]))
    assert many[0] > many[1] and many[2] == math.inf
