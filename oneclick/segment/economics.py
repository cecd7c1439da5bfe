"""Campaign economics: what contacting a customer is expected to cost and to win.

Per customer, if contacted with their offers (params segment.economics, overridable per offer):
- cost = sum over their offers of cost_per_contact + redemption_rate x cost_per_redemption;
- assumed effect = the share of would-be decliners the offers keep, 1 - prod(1 - effect) over
  their offers (a prior: an assumption until `oneclick outcomes` measures it);
- expected gain = P(decline) x effect x profit x horizon_months, where profit is money.csv's
  average monthly profit of the customer (counted as lost for the horizon if activity declines);
- expected net profit = gain - cost.
The segment is the eligible customers with a positive expected net profit, by net profit (the
peak of the cumulative net profit), cut where the contacted customers' expected cost reaches the
budget. The control group is never contacted: campaign totals count contacted customers only.
The break-even effect is the same-for-everyone effect at which gain equals cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneclick.campaign.control import CONTROL, GROUP, PROBABILITY
from oneclick.data.contract import ID, PROFIT

TERMS = ("cost_per_contact", "cost_per_redemption", "redemption_rate", "effect")  # per offer
# the columns every priced customer row gets (values if the customer is contacted)
EFFECT, COST, GAIN, NET = "assumed_effect", "expected_cost", "expected_gain", "expected_net_profit"


def offer_terms(offers: list[dict[str, Any]], economics: dict[str, Any]) -> pd.DataFrame:
    """Per offer code (index): its expected cost per contacted customer and assumed effect,
    the offer's own terms where it sets them, else segment.economics'."""
    rows = {}
    for offer in offers:
        own = {key: offer.get(key, economics[key]) for key in TERMS}
        cost = own["cost_per_contact"] + own["redemption_rate"] * own["cost_per_redemption"]
        rows[offer["code"]] = {"cost": float(cost), "effect": float(own["effect"])}
    return pd.DataFrame.from_dict(rows, orient="index")


def priced(customers: pd.DataFrame, terms: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Customer rows (probability, profit, offer_codes "a;b") with EFFECT, COST, GAIN, NET."""
    codes = customers["offer_codes"].fillna("").astype(str).str.split(";").explode()
    codes = codes[codes != ""]
    per_offer = terms.reindex(codes.to_numpy()).set_axis(codes.index)
    cost = per_offer["cost"].groupby(level=0).sum().reindex(customers.index, fill_value=0.0)
    kept = np.log1p(-per_offer["effect"].clip(upper=1 - 1e-12)).groupby(level=0).sum()
    effect = -np.expm1(kept.reindex(customers.index, fill_value=0.0))
    out = customers.copy()
    out[EFFECT] = effect.to_numpy()
    out[COST] = cost.to_numpy()
    out[GAIN] = out[PROBABILITY] * out[EFFECT] * out[PROFIT] * horizon
    out[NET] = out[GAIN] - out[COST]
    return out


def best_case(
    table: pd.DataFrame, terms: pd.DataFrame, max_offers: int, horizon: float
) -> pd.Series:
    """Per customer, an upper bound of the expected net profit whatever offers they get (the
    strongest max_offers effects, the cheapest offer): who can be in the segment at all, before
    their offers are known (`oneclick predict` explains only those)."""
    strongest = np.sort(terms["effect"].to_numpy())[::-1][:max_offers]
    effect = 1 - np.prod(1 - np.clip(strongest, 0, 1))
    return table[PROBABILITY] * effect * table[PROFIT] * horizon - float(terms["cost"].min())


def by_net(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by expected net profit, highest first (ties by id)."""
    ranked = frame.sort_values([NET, ID], ascending=[False, True], kind="mergesort")
    return ranked.reset_index(drop=True)


def choose(frame: pd.DataFrame, budget: float | None, control_share: float) -> pd.Series:
    """The segment among eligible priced rows: positive expected net profit, by net profit,
    until the contacted customers' expected cost (the segment's x (1 - control_share)) would
    pass the budget. A boolean Series on frame's index."""
    ranked = by_net(frame[frame[NET] > 0].reset_index(names="row"))
    keep = np.ones(len(ranked), dtype=bool)
    if budget is not None:
        keep = ranked[COST].cumsum().to_numpy() * (1 - control_share) <= budget
        keep = np.minimum.accumulate(keep)  # a prefix: the cut is where the budget runs out
    return pd.Series(frame.index.isin(ranked["row"][keep]), index=frame.index)


def break_even_effect(
    probability: np.ndarray, profit: np.ndarray, cost: float, horizon: float
) -> tuple[float | None, float | None]:
    """The effect (same for every contacted customer) at which the expected gain equals the
    cost, and the drop of the contacted group's decline rate it means (effect x mean P); None
    when nobody is contacted or nothing is at risk."""
    at_risk = float(np.sum(probability * profit)) * horizon
    if not len(probability) or at_risk <= 0:
        return None, None
    effect = cost / at_risk
    return effect, effect * float(np.mean(probability))


def campaign_economics(customers: pd.DataFrame, economics: dict[str, Any]) -> dict[str, Any]:
    """The `economics` block of reports/segment.json from the segment's priced rows with their
    group: totals over the contacted customers (every group but the control). economics: the
    segment.economics params."""
    horizon, budget = economics["horizon_months"], economics["budget"]
    contacted = customers[customers[GROUP] != CONTROL] if GROUP in customers else customers
    cost, gain = float(contacted[COST].sum()), float(contacted[GAIN].sum())
    effect, drop = break_even_effect(
        contacted[PROBABILITY].to_numpy(), contacted[PROFIT].to_numpy(), cost, horizon
    )
    n = len(contacted)
    return {
        "horizon_months": horizon,
        "budget": budget,
        "contacted": n,
        "expected_cost": cost,
        "expected_gain": gain,
        "expected_net_profit": gain - cost,
        "segment_net_profit": float(customers[NET].sum()),  # if the control were contacted too
        "assumed_effect_mean": float(contacted[EFFECT].mean()) if n else None,
        "assumed_drop": float((contacted[EFFECT] * contacted[PROBABILITY]).mean()) if n else None,
        "break_even_effect": effect,
        "break_even_drop": drop,
    }


def net_curve(frame: pd.DataFrame, points: int) -> pd.DataFrame:
    """The net-profit curve: contacting the top share of customers by expected net profit, the
    cumulative expected cost, gain and net profit (у.е., before a control group is set aside);
    it peaks where the next customer's net profit turns negative."""
    ranked = by_net(frame)
    share = np.linspace(0, 1, points)
    contacted = np.round(share * len(ranked)).astype(int)
    out = {"share_contacted": share}
    for column in (COST, GAIN, NET):
        out[column] = np.concatenate([[0.0], ranked[column].cumsum().to_numpy()])[contacted]
    return pd.DataFrame(out)


def left_out(frame: pd.DataFrame, chosen: pd.Series) -> dict[str, int]:
    """Eligible priced customers the economics leave out: no positive net profit, or over
    the budget."""
    positive = (frame[NET] > 0).to_numpy()
    return {
        "net_profit_not_positive": int((~positive).sum()),
        "over_budget": int((positive & ~chosen.to_numpy()).sum()),
    }
