"""What the campaign can detect: the `campaign` block of reports/segment.json (numbers only;
its headline figures also go to metrics/segment.json).

- min_detectable_drop: the smallest drop of the decline rate (control vs treatment) the
  campaign detects at ALPHA and POWER with this segment's group sizes, taking the segment's
  mean P(decline) as the control group's decline rate;
- size_needed: segment size (both groups) for a drop of campaign.target_effect at that rate,
  and where a segment that large sits on the value curve (share of customers, share of all
  expected profit at risk reached by the top customers of that size);
- grown_*: a segment grown down the value curve (customers by expected profit at risk) has a
  lower mean P(decline), which changes the size needed; the smallest such top-N whose own
  mean P makes target_effect detectable.
A figure that no size attains is null.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from oneclick.campaign import stats
from oneclick.campaign.control import CONTROL, GROUP, PROBABILITY, TREATMENT
from oneclick.data.contract import ID

AT_RISK = "expected_profit_at_risk"


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) else None


def _on_curve(curve: pd.DataFrame, share: float | None) -> float | None:
    if share is None:
        return None
    return float(np.interp(share, curve["share_contacted"], curve["share_profit_at_risk"]))


def grown_size(table: pd.DataFrame, effect: float, share: float) -> tuple[int | None, float | None]:
    """Smallest top-N by expected profit at risk whose mean P makes `effect` detectable."""
    ranked = table.sort_values([AT_RISK, ID], ascending=[False, True], kind="mergesort")
    n = np.arange(1, len(ranked) + 1)
    mean_p = ranked[PROBABILITY].cumsum().to_numpy() / n
    enough = np.flatnonzero(stats.size_needed(effect, share, mean_p) <= n)
    if not len(enough):
        return None, None
    return int(n[enough[0]]), float(mean_p[enough[0]])


def campaign_metrics(
    customers: pd.DataFrame, table: pd.DataFrame, curve: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """The `campaign` block of reports/segment.json (its headline figures: metrics/segment.json).

    customers: the segment with its `group`; table: every scored customer (probability,
    expected profit at risk); curve: the value curve; params: the `campaign` block.
    """
    share, effect, total = params["control_share"], params["target_effect"], len(table)
    groups = {g: customers[customers[GROUP] == g] for g in (TREATMENT, CONTROL)}
    p0 = _mean(customers[PROBABILITY])
    mde = None
    if p0 is not None:
        sizes = (len(groups[CONTROL]), len(groups[TREATMENT]))
        mde = stats.min_detectable_drop(*sizes, p0, stats.ALPHA, stats.POWER)
    needed = stats.size_needed(effect, share, p0) if p0 is not None else math.inf
    needed_size = math.ceil(needed) if math.isfinite(needed) else None
    needed_share = needed_size / total if needed_size is not None and total else None
    grown, grown_p = grown_size(table, effect, share) if total else (None, None)
    grown_share = grown / total if grown is not None else None
    return {
        "control_share": share,
        "treatment_size": len(groups[TREATMENT]),
        "control_size": len(groups[CONTROL]),
        "treatment_probability_mean": _mean(groups[TREATMENT][PROBABILITY]),
        "control_probability_mean": _mean(groups[CONTROL][PROBABILITY]),
        "alpha": stats.ALPHA,
        "power": stats.POWER,
        "min_detectable_drop": mde,
        "target_effect": effect,
        "size_needed": needed_size,
        "size_needed_share_of_customers": needed_share,
        "size_needed_share_of_expected_profit_at_risk": _on_curve(curve, needed_share),
        "grown_size_needed": grown,
        "grown_probability_mean": grown_p,
        "grown_share_of_customers": grown_share,
        "grown_share_of_expected_profit_at_risk": _on_curve(curve, grown_share),
    }
