"""Lin's regression adjustment: hand-checkable cases (the multi-sample truth is in
test_outcomes.py, where the generated samples are made once)."""

from __future__ import annotations

import numpy as np
import pytest

from oneclick.campaign.adjusted import lin_effect


def test_without_covariates_it_is_the_difference_with_the_neyman_error() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0], dtype=float)
    treated = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    x = np.ones((12, 1))  # constant: dropped
    fit = lin_effect(y, treated, x)
    assert fit["covariates"] == 0
    assert fit["adjusted"] == pytest.approx(3 / 6 - 2 / 6)
    neyman = np.sqrt(y[treated].var(ddof=1) / 6 + y[~treated].var(ddof=1) / 6)
    assert fit["difference_se"] == pytest.approx(neyman)  # HC2 = Neyman for two means
    assert fit["adjusted_se"] == pytest.approx(neyman)
    assert fit["variance_reduction"] == pytest.approx(0.0, abs=1e-9)


def test_a_predictive_covariate_corrects_imbalance_and_narrows_the_interval() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=n)
    treated = rng.random(n) < 0.3
    # a chance imbalance: the treated lean towards high x, which raises the outcome by itself
    x[treated] += 0.1
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 0.4 * treated)))).astype(float)
    fit = lin_effect(y, treated, x[:, None])
    assert fit["variance_reduction"] > 0.3
    assert fit["adjusted_se"] < fit["difference_se"]
    # the unadjusted difference carries the imbalance; the adjusted one is nearer the truth
    truth = np.mean(1 / (1 + np.exp(-(2 * x - 0.4))) - 1 / (1 + np.exp(-2 * x)))
    assert abs(fit["adjusted"] - truth) < abs(fit["difference"] - truth)
    assert fit["adjusted_ci_low"] < truth < fit["adjusted_ci_high"]


def test_too_few_customers_for_the_covariates_is_not_fitted() -> None:
    rng = np.random.default_rng(0)
    y, treated = rng.integers(0, 2, 30).astype(float), np.arange(30) < 15
    assert lin_effect(y, treated, rng.normal(size=(30, 5))) is None
