"""Campaign economics and design: checked against hand computations on a five-customer table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneclick.campaign.control import CONTROL, GROUP, TREATMENT
from oneclick.data.contract import ID, PROFIT
from oneclick.segment import design, economics, exploration
from oneclick.segment.selection import AT_RISK, PROBABILITY

# offer a sets its own terms: cost 0.1 + 0.5 x 1.0 = 0.6, effect 0.2; b takes the defaults:
# cost 0.2, effect 0.1
ECONOMICS = {
    "horizon_months": 2, "budget": None, "cost_per_contact": 0.2, "cost_per_redemption": 0.0,
    "redemption_rate": 0.0, "effect": 0.1,
}  # fmt: skip
OFFERS = [{"code": "a", "cost_per_contact": 0.1, "cost_per_redemption": 1.0,
           "redemption_rate": 0.5, "effect": 0.2}]  # fmt: skip
FALLBACK = {"code": "b"}


def hand_table() -> pd.DataFrame:
    """By hand (horizon 2): gain = P x effect x profit x 2, net = gain - cost.
    101: 0.9 x 0.2 x 5 x 2 = 1.8, cost 0.6, net 1.2
    102: effect 1 - 0.8 x 0.9 = 0.28; 0.8 x 0.28 x 2 x 2 = 0.896, cost 0.8, net 0.096
    103: 0.5 x 0.1 x 4 x 2 = 0.4, cost 0.2, net 0.2
    104: 0.95 x 0.2 x 1 x 2 = 0.38, cost 0.6, net -0.22
    105: no offer: nothing gained, nothing spent, net 0."""
    return pd.DataFrame(
        {
            ID: [101, 102, 103, 104, 105],
            PROBABILITY: [0.9, 0.8, 0.5, 0.95, 0.6],
            PROFIT: [5.0, 2.0, 4.0, 1.0, 3.0],
            "offer_codes": ["a", "a;b", "b", "a", ""],
        }
    )


def priced() -> pd.DataFrame:
    terms = economics.offer_terms([*OFFERS, FALLBACK], ECONOMICS)
    return economics.priced(hand_table(), terms, ECONOMICS["horizon_months"])


def test_priced_rows_follow_the_hand_computation() -> None:
    out = priced()
    np.testing.assert_allclose(out[economics.COST], [0.6, 0.8, 0.2, 0.6, 0.0])
    np.testing.assert_allclose(out[economics.EFFECT], [0.2, 0.28, 0.1, 0.2, 0.0])
    np.testing.assert_allclose(out[economics.GAIN], [1.8, 0.896, 0.4, 0.38, 0.0])
    np.testing.assert_allclose(out[economics.NET], [1.2, 0.096, 0.2, -0.22, 0.0])


def test_segment_size_is_the_peak_of_the_net_profit_curve() -> None:
    """Cumulative net by net profit (101, 103, 102, 105, 104): 1.2, 1.4, 1.496, 1.496, 1.276:
    the peak is first reached at 3 customers (105 adds nothing, 104 loses)."""
    out = priced()
    chosen = economics.choose(out, None, 0.3)
    assert out.loc[chosen, ID].tolist() == [101, 102, 103]
    curve = economics.net_curve(out, 6)  # one customer per step
    np.testing.assert_allclose(curve[economics.NET], [0, 1.2, 1.4, 1.496, 1.496, 1.276])
    assert curve[economics.NET].idxmax() == chosen.sum()
    assert economics.left_out(out, chosen) == {"net_profit_not_positive": 2, "over_budget": 0}


@pytest.mark.parametrize(
    ("budget", "ids"),
    # contacted cost by net profit with half held out: 0.3, 0.4, 0.8
    [(0.4, [101, 103]), (0.39, [101]), (0.29, []), (0.8, [101, 102, 103])],
)
def test_budget_cuts_the_segment_where_the_contacted_cost_reaches_it(budget, ids) -> None:
    out = priced()
    assert out.loc[economics.choose(out, budget, 0.5), ID].tolist() == ids


def test_break_even_and_totals_count_contacted_customers_only() -> None:
    """Segment 101, 102, 103. Everyone contacted: cost 1.6, at risk x horizon (4.5 + 1.6 + 2) x
    2 = 16.2, break-even effect 1.6 / 16.2, a drop of that x mean P 0.7333 points. With 102 in
    the control group: cost 0.8, gain 2.2, break-even 0.8 / 13, drop x mean P 0.7."""
    out = priced()
    segment = out[economics.choose(out, None, 0.0)].assign(**{GROUP: TREATMENT})
    e = economics.campaign_economics(segment, ECONOMICS)
    assert e["contacted"] == 3
    assert e["expected_cost"] == pytest.approx(1.6)
    assert e["expected_gain"] == pytest.approx(3.096)
    assert e["break_even_effect"] == pytest.approx(1.6 / 16.2)
    assert e["break_even_drop"] == pytest.approx(1.6 / 16.2 * 2.2 / 3)
    segment.loc[segment[ID] == 102, GROUP] = CONTROL
    e = economics.campaign_economics(segment, ECONOMICS)
    assert (e["contacted"], e["expected_cost"]) == (2, pytest.approx(0.8))
    assert e["expected_net_profit"] == pytest.approx(2.2 - 0.8)
    assert e["break_even_effect"] == pytest.approx(0.8 / 13)
    assert e["break_even_drop"] == pytest.approx(0.8 / 13 * 0.7)
    assert e["segment_net_profit"] == pytest.approx(1.496)  # as if everyone were contacted


def test_best_case_bounds_every_customers_net_profit() -> None:
    """predict explains only customers whose best case is positive: it must never be below the
    net profit their actual offers give."""
    out = priced()
    terms = economics.offer_terms([*OFFERS, FALLBACK], ECONOMICS)
    best = economics.best_case(hand_table(), terms, 2, ECONOMICS["horizon_months"])
    assert (best.to_numpy() >= out[economics.NET].to_numpy() - 1e-12).all()


def big_table(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    table = pd.DataFrame(
        {ID: np.arange(1000, 1000 + n), PROBABILITY: rng.uniform(0, 1, n),
         PROFIT: rng.uniform(1, 6, n)}
    )  # fmt: skip
    table[AT_RISK] = table[PROBABILITY] * table[PROFIT]
    table["offer_codes"] = np.where(table[ID] % 2 == 0, "a", "b")
    return table


def plan(share: float) -> design.Design:
    table = big_table()
    params = {"economics": ECONOMICS, "offers": OFFERS, "fallback_offer": FALLBACK,
              "max_offers": 2, "threshold": 0.7, "exploration_share": share}  # fmt: skip
    offered = table.assign(offers="text", offer_source="top drivers")
    price = design.pricing(table, params, lambda rows: offered)
    eligible = table[PROBABILITY] >= 0.7
    return design.design(table, eligible, price, params, {"control_share": 0.3, "seed": 5})


def test_exploration_arm_is_a_seeded_draw_of_the_lower_risk_customers() -> None:
    first, again, off = plan(0.1), plan(0.1), plan(0.0)
    pd.testing.assert_frame_equal(first.listed, again.listed)  # same seed, same groups
    groups = first.listed.groupby(GROUP)[ID].apply(set)
    segment = groups[TREATMENT] | groups[CONTROL]
    assert segment == set(first.customers[ID])
    arm, rest = groups[exploration.EXPLORATION], groups[exploration.COMPARISON]
    pool = set(first.pool[ID])
    assert not arm & segment and arm | rest == pool and not arm & rest
    assert len(arm) == round(0.1 * len(pool))
    assert (first.pool[PROBABILITY] < 0.7).all()
    listed = first.listed.set_index(ID)
    assert (listed.loc[sorted(arm), "offer_codes"] != "").all()  # they get an offer
    assert listed.loc[sorted(rest), "offer_codes"].isna().all()  # nobody contacts them
    # off: only the segment is listed; the arm drawn at the reference share is quoted
    assert set(off.listed[GROUP]) == {TREATMENT, CONTROL}
    assert len(off.arm) == round(exploration.REFERENCE_SHARE * len(off.pool))
    metrics = exploration.exploration_metrics(off.pool, off.arm, 0.0)
    assert metrics["on"] is False and metrics["expected_cost"] == pytest.approx(
        off.arm[economics.COST].sum()
    )
    assert 0 < metrics["min_detectable_drop"] < metrics["probability_mean"]
