"""Metrics and Markdown report of the `segment` stage (its plots: oneclick/segment/plots.py).

The report is rendered from the metrics dict alone (the one written to metrics/segment.json), so
every figure in reports/segment.md is one of the metrics, formatted by the helpers below.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneclick.campaign.control import treated
from oneclick.campaign.segment_text import segment_section
from oneclick.data.contract import ID
from oneclick.segment.offers import SOURCES


def count(x: int) -> str:
    return str(int(x))


def money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def percent(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def build_metrics(
    rules: dict,
    segment: dict,
    everyone: dict,
    customers: pd.DataFrame,
    curve: pd.DataFrame,
    profiled: pd.DataFrame,
    importance: list[str],
    params: dict[str, Any],
) -> dict[str, Any]:
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
        "top_customers": top[
            [ID, "probability", "profit", "expected_profit_at_risk", "offer_codes"]
        ].to_dict("records"),
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render(m: dict[str, Any]) -> str:
    """reports/segment.md from the metrics dict (every figure is a metric). Depends on the
    dict's content only, not its key order, so metrics/segment.json re-renders it exactly."""
    rules, seg, every, offers = m["rules"], m["segment"], m["everyone"], m["offers"]
    promo = rules["min_promo_share"]
    figures = [
        ("customers", count(seg["size"]), count(every["size"])),
        (
            "mean probability of decline",
            money(seg["probability_mean"]),
            money(every["probability_mean"]),
        ),
        ("profit, total", money(seg["profit_total"]), money(every["profit_total"])),
        ("profit, mean", money(seg["profit_mean"]), money(every["profit_mean"])),
    ]
    for what in ("total", "mean"):
        key = f"expected_profit_at_risk_{what}"
        figures.append((f"expected profit at risk, {what}", money(seg[key]), money(every[key])))
    drivers = sorted(m["top_decline_driver"].items(), key=lambda item: (-item[1], item[0]))
    highlights = [
        [f"`{h['feature']}`", str(h["level"]), money(h["segment"]), money(h["rest"])]
        for h in m["profile_highlights"]
    ]
    top = [
        [
            count(c[ID]),
            money(c["probability"]),
            money(c["profit"]),
            money(c["expected_profit_at_risk"]),
            f"`{c['offer_codes']}`",
        ]
        for c in m["top_customers"]
    ]
    curve = [
        f"- Contacting the top {percent(v['share_contacted'])} of all customers by expected profit "
        f"at risk reaches {percent(v['share_reached'])} of it (value curve)."
        for v in m["value_curve"]
    ]
    sources = "; ".join(f"{k}: {count(offers['by_source'][k])}" for k in SOURCES)
    by_code = sorted(offers["by_code"].items(), key=lambda item: (-item[1], item[0]))
    lines = [
        "# Valuable customers at risk: who, why, what to offer",
        "",
        "Generated by the `segment` stage from `metrics/segment.json`; do not edit by hand.",
        "",
        "## The segment",
        "",
        f"- probability of decline at least {rules['threshold']:g} (honest probabilities: "
        "out-of-fold for training customers, the final model for test customers);",
        f"- profit at least {money(rules['profit_cut'])} (the {rules['profit_quantile']:g} "
        "quantile of profit over all scored customers);",
        *([f"- promo share at least {promo:g};"] if promo is not None else []),
        "",
        f"**{count(seg['size'])} customers ({percent(seg['share_of_customers'])} of "
        f"{count(every['size'])}) carry {percent(seg['share_of_expected_profit_at_risk'])} of all "
        "expected profit at risk** (probability of decline times profit).",
        "",
        *_table(["", "segment", "all customers"], [list(row) for row in figures]),
        "",
        "## Why they slip: strongest decline driver (SHAP)",
        "",
        *_table(["feature", "customers"], [[f"`{k}`", count(v)] for k, v in drivers]),
        "",
        "## How the segment differs from the rest (largest standardised differences)",
        "",
        *_table(["feature", "level", "segment", "rest"], highlights),
        "",
        "Means for numeric features, shares for category levels; all features in "
        "`reports/segment_profile.csv`, plots in `plots/segment/`.",
        "",
        "## Offers",
        "",
        *_table(["offer", "customers"], [[f"`{k}`", count(v)] for k, v in by_code]),
        "",
        f"How they were found: {sources}. "
        f"Customers without an offer: {count(offers['customers_without_offer'])}.",
        "",
        "## Top customers by expected profit at risk",
        "",
        *_table(["id", "probability", "profit", "expected profit at risk", "offers"], top),
        "",
        *segment_section(m),  # control group and power (oneclick/campaign/segment_text.py)
        "## Recommendations",
        "",
        f"- Contact the segment first: {count(seg['size'])} customers with "
        f"{money(seg['expected_profit_at_risk_total'])} of expected profit at risk; each has a "
        "personal offer answering their own decline drivers (`data/segment/customers.csv`).",
        *curve,
        "- Re-score monthly and track the segment's activity; offers whose customers keep "
        "declining should be replaced in `params.yaml` (segment.offers).",
        "",
    ]
    return "\n".join(lines)
