"""Uplift targeting on generated truth: it beats risk targeting where the offers help only
promotion-sensitive customers and the log is large; it declines, in one line, where the log is
as small as the store's; a harmful offer is reported as harmful."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oneclick.campaign import outcomes, uplift
from oneclick.campaign.control import CONTROL, GROUP, PROBABILITY, TREATMENT
from oneclick.campaign.log import DECLINED, PERIOD
from oneclick.campaign.report import _uplift_line
from oneclick.data.contract import ID, LABEL, PROFIT
from oneclick.sample import files as sample
from oneclick.sample.next_period import next_period
from tests.campaign.generated import logged_period, through_contract


def test_the_generated_truth_helps_only_promotion_sensitive_customers_and_harms_one_offer(
    tmp_path: Path,
) -> None:
    """Half of a sample gets an offer: with response "promo", customers with promo_share < 0.5
    decline as often as their controls; the promotion-sensitive treated much less; the harmful
    offer's customers more."""
    n, seed = 6000, 12
    before = through_contract(sample.generate(n, seed), tmp_path / "before")
    ids = before.index.to_numpy()
    treated = np.arange(len(ids)) % 2 == 0  # the cleaning removed a few customers
    promo = before["promo_share"].to_numpy() >= 0.5
    offer = np.where(before["unpaid_items_quarter"].to_numpy() >= 6, "cart_reminder", "x")
    campaign = pd.DataFrame({ID: ids, GROUP: np.where(treated, TREATMENT, CONTROL),
                             "offer_codes": np.where(treated, offer, "")})  # fmt: skip
    frames, truth = next_period(n, seed, campaign, 0.05, {}, "promo", ("cart_reminder", 0.2))
    after = through_contract(frames, tmp_path / "after")[LABEL].loc[ids].to_numpy()
    harmed = offer == "cart_reminder"

    def rate(mask: np.ndarray) -> float:
        return float(after[mask].mean())

    plain = ~promo & ~harmed
    assert abs(rate(treated & plain) - rate(~treated & plain)) < 0.03
    assert rate(~treated & promo & ~harmed) - rate(treated & promo & ~harmed) > 0.15
    assert rate(treated & harmed) - rate(~treated & harmed) > 0.1
    assert truth["responding"] == int((treated & promo & ~harmed).sum())
    assert truth["harmful"] == {"offer": "cart_reminder", "rise": 0.2,
                                "treated": int((treated & harmed).sum())}  # fmt: skip


def test_qini_area_by_hand() -> None:
    """Four customers, best first: treated kept 5, control kept 0, treated kept 0, control kept 3.
    Top 50%: 1 treated (5) and 1 control (0): gain 5; all: 5 - 3 = 2; the area is the mean of
    the gains at 10%, ..., 100% per customer."""
    treated = np.array([True, False, True, False])
    kept = np.array([5.0, 0.0, 0.0, 3.0])
    order = np.arange(4)
    # at 10%-20%: one customer, treated, no control yet -> 0; 30%-50%: two -> 5; 60%-70%: three
    # (2 treated kept 5, 1 control kept 0) -> 5; 80%-100%: all -> 5 - 3 * 2 / 2 = 2
    gains = [0, 0, 5, 5, 5, 5, 5, 2, 2, 2]
    assert uplift.qini_area(order, treated, kept, np.ones(4)) == pytest.approx(np.mean(gains) / 4)
    twice_first = np.array([2.0, 1, 1, 1])  # a bootstrap that drew the first customer twice
    assert uplift.qini_area(order, treated, kept, twice_first) > 0


def test_a_log_too_small_to_fit_declines_with_the_reason() -> None:
    log = pd.DataFrame({PERIOD: "2026-01", ID: np.arange(30), GROUP: [TREATMENT] * 25 +
                        [CONTROL] * 5, PROBABILITY: 0.9, PROFIT: 4.0, DECLINED: 1})  # fmt: skip
    for column in uplift.COVARIATES[1:]:
        log[column] = np.nan
    verdict = uplift.evaluate(log)
    assert not verdict["use_uplift"] and verdict["reason"] == "too_little_data"
    line = _uplift_line(verdict)
    assert line.startswith("Таргетинг по риску остаётся") and "\n" not in line


@pytest.fixture(scope="module")
def store_sized(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return logged_period(1300, 5, tmp_path_factory.mktemp("store"), "2026-01", 0.1, "promo")


def test_on_the_stores_1300_customers_risk_targeting_stays_in_one_line(store_sized) -> None:
    verdict = uplift.evaluate(store_sized)
    assert not verdict["use_uplift"], verdict
    assert verdict["ci_low"] is None or verdict["ci_low"] <= 0
    line = _uplift_line(verdict)
    assert line.startswith("Таргетинг по риску остаётся") and "\n" not in line
    if verdict["reason"] == "uplift_not_sure":
        assert verdict["customers_needed"] > len(store_sized)


def test_a_harmful_offer_is_flagged_as_harmful(tmp_path: Path) -> None:
    """The cart reminder raises its customers' decline rate by 0.15, the other offer lowers its
    customers' by 0.1: by offer, one is harmful, the other works."""
    rows = logged_period(4000, 8, tmp_path, "2026-01", 0.1, harmful=("cart_reminder", 0.15))
    offers = outcomes.breakdowns(rows)["by_offer"]
    harmful, helpful = offers["cart_reminder"], offers["personal_recommendations"]
    assert harmful["measurable"] and harmful["harmful"], harmful
    assert harmful["adjusted_ci_high"] < 0
    assert not helpful["harmful"] and helpful["adjusted_ci_low"] > 0, helpful


@pytest.mark.slow
def test_on_20000_customers_over_two_periods_uplift_beats_risk_targeting(tmp_path: Path) -> None:
    """Offers prevent declines only for promotion-sensitive customers (promo_share >= 0.5), a
    minority of the high-risk segment: a T-learner fitted on the first period ranks the second
    period's campaign better than P x profit, with a bootstrap interval above zero."""
    log = pd.concat(
        [
            logged_period(10_000, seed, tmp_path / str(seed), period, 0.1, "promo")
            for seed, period in ((101, "2026-01"), (202, "2026-02"))
        ],
        ignore_index=True,
    )
    verdict = uplift.evaluate(log, resamples=100)
    assert verdict["periods"] == 2 and verdict["held_out"] == (log[PERIOD] == "2026-02").sum()
    assert verdict["use_uplift"] and verdict["ci_low"] > 0, verdict
    assert verdict["qini_uplift"] > verdict["qini_risk"]
    assert _uplift_line(verdict).startswith("Выбирать клиентов по модели отклика")
