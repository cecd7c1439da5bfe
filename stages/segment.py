"""Stage `segment`: the valuable customers at risk, why they slip, and what to offer each.

Segment = P(declined) >= threshold (honest probabilities: out-of-fold for training customers)
and profit >= its profit_quantile over all scored customers (and the optional extra condition),
ranked by expected profit at risk = P(declined) x profit. Decline drivers come from SHAP, offers
from the rule table (oneclick/segment/offers.py); report and plots: oneclick/segment/report.py.
"""

from __future__ import annotations

import pandas as pd

from oneclick.core import config, entry, paths, writers
from oneclick.data.contract import FEATURES, ID
from oneclick.segment import report
from oneclick.segment.selection import (
    check_params,
    customer_table,
    profile,
    segment_customers,
    select,
    summary,
    value_curve,
)


def main() -> None:
    writers.setup_matplotlib()
    params = config.load_params()["segment"]
    check_params(params)
    scores = pd.read_csv(paths.SCORES_FILE)
    merged = pd.read_csv(paths.MERGED_FILE)
    shap = pd.read_csv(paths.SHAP_VALUES_FILE).set_index(ID)
    values = pd.read_csv(paths.SHAP_FEATURES_FILE).set_index(ID)
    features = [c for c in values.columns if c in shap.columns]
    shap = shap[features]

    table = customer_table(scores, merged)
    extra = values.drop(columns=[c for c in values.columns if c in table.columns])
    table = table.merge(extra, left_on=ID, right_index=True, how="left")
    mask, rules = select(table, params)
    customers = segment_customers(table, mask, shap, values, params)
    curve = value_curve(table, params["value_curve_points"])
    importance = shap.abs().mean().sort_values(ascending=False, kind="mergesort")
    profiled = profile(table, mask, [*FEATURES, *extra.columns])
    metrics = report.build_metrics(
        rules,
        summary(table[mask], len(table)),
        summary(table, len(table)),
        customers,
        curve,
        profiled,
        list(importance.index),
        params,
    )
    metrics = writers.rounded(metrics)  # the report shows what the JSON holds

    writers.write_csv(customers, paths.SEGMENT_DIR / "customers.csv")
    writers.write_csv(profiled, paths.REPORTS_DIR / "segment_profile.csv")
    writers.write_csv(curve, report.PLOTS / "value_curve.csv")
    writers.write_json(metrics, paths.SEGMENT_METRICS)
    writers.write_text(report.render(metrics), paths.REPORTS_DIR / "segment.md")
    report.save_plots(
        table, mask, curve, metrics, list(importance.index[: params["profile_plots"]])
    )


if __name__ == "__main__":
    entry.run(main)
