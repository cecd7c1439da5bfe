"""Metrics of the `segment` stage.

reports/segment.md (oneclick/segment/markdown.py) is rendered from the metrics dict alone (the
one written to reports/segment.json), so every figure in it is one of the metrics, formatted by
oneclick/text/formats.py in report.language (Russian: decimal comma).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneclick.campaign.control import treated
from oneclick.data.contract import ID
from oneclick.segment.economics import NET
from oneclick.segment.offers import SOURCES


def build_metrics(
    rules: dict,
    segment: dict,
    everyone: dict,
    customers: pd.DataFrame,
    curve: pd.DataFrame,
    profiled: pd.DataFrame,
    importance: list[str],
    params: dict[str, Any],
    outside: dict[str, int] | None = None,
    removed: dict[str, int] | None = None,
) -> dict[str, Any]:
    """reports/segment.json. outside: customers failing each rule (selection.not_selected);
    removed: customers the clean stage dropped, by reason (never scored)."""
    # drivers describe the whole segment; offers and top customers those who get an offer
    segment_rows, customers = customers, treated(customers)
    total_risk = everyone["expected_profit_at_risk_total"]
    segment["share_of_expected_profit_at_risk"] = (
        segment["expected_profit_at_risk_total"] / total_risk if total_risk else 0.0
    )
    codes = [o["code"] for o in [*params["offers"], params["fallback_offer"]]]
    given = customers["offer_codes"].str.split(";").explode().dropna()
    highlights = profiled.reindex(
        profiled["standardised_difference"]
        .abs()
        .sort_values(ascending=False, kind="mergesort")
        .index
    ).head(params["profile_highlights"])
    top = customers.head(params["report_top_customers"])
    return {
        "rules": rules,
        "segment": segment,
        "everyone": everyone,
        "offers": {
            "by_code": {code: int((given == code).sum()) for code in codes},
            "by_source": {s: int((customers["offer_source"] == s).sum()) for s in SOURCES},
            "customers_without_offer": int((customers["offer_codes"] == "").sum()),
        },
        "top_decline_driver": segment_rows["driver_1"].value_counts().sort_index().to_dict(),
        "global_importance_order": importance,
        "profile_highlights": highlights[["feature", "level", "segment", "rest"]].to_dict(
            "records"
        ),
        "value_curve": [
            {
                "share_contacted": s,
                "share_reached": float(np.interp(s, curve.iloc[:, 0], curve.iloc[:, 1])),
            }
            for s in params["report_contact_shares"]
        ],
        "not_selected": outside or {},
        "removed_by_cleaning": removed or {},
        "top_customers": top[
            [ID, "probability", "profit", "expected_profit_at_risk", NET, "offer_codes"]
        ].to_dict("records"),
    }


# metrics/segment.json: the business outcome worth diffing, none derivable from another (shares
# and the gain, net profit + cost, are in SEGMENT_SUMMARY); `dvc exp show` gets 40 columns at most
FIGURES = {
    "segment": ("size", "expected_profit_at_risk_total"),
    "campaign": ("min_detectable_drop", "size_needed"),
    "economics": ("expected_cost", "expected_net_profit", "break_even_drop"),
    "calibration_above_threshold": ("mean_probability", "observed_decline_rate"),
}  # fmt: skip


def segment_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The numbers of reports/segment.json, picked from the report's summary (a figure that is
    None, e.g. no size can detect the target, is left out: metrics hold numbers only)."""
    return {
        block: {k: summary[block][k] for k in keys if summary.get(block, {}).get(k) is not None}
        for block, keys in FIGURES.items()
        if block in summary
    }
