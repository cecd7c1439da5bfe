"""Stage `segment`: the valuable customers at risk, their drivers, offers, report, plots.

Logic: oneclick/segment/selection.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import pandas as pd

from oneclick.campaign import control, power
from oneclick.core import config, entry, paths, writers
from oneclick.data.contract import ID
from oneclick.segment import plots, report
from oneclick.segment.selection import (
    check_params,
    profile,
    scored_customers,
    segment_customers,
    select,
    summary,
    value_curve,
)


def main() -> None:
    writers.setup_matplotlib()
    every = config.load_params()
    params, campaign = every["segment"], every["campaign"]
    check_params(params)
    control.check_params(campaign)
    scores = pd.read_csv(paths.SCORES_FILE)
    merged = pd.read_csv(paths.MERGED_FILE)
    shap = pd.read_csv(paths.SHAP_VALUES_FILE).set_index(ID)
    values = pd.read_csv(paths.SHAP_FEATURES_FILE).set_index(ID)
    features = [c for c in values.columns if c in shap.columns]
    shap = shap[features]

    table, profiled_columns = scored_customers(scores, merged, values)
    mask, rules = select(table, params)
    customers = segment_customers(table, mask, shap, values, params)
    customers = control.with_groups(customers, campaign)  # the control group gets no offer
    curve = value_curve(table, params["value_curve_points"])
    importance = shap.abs().mean().sort_values(ascending=False, kind="mergesort")
    profiled = profile(table, mask, profiled_columns)
    n, ranking = len(table), list(importance.index)
    everyone, segment = summary(table, n), summary(table[mask], n)
    metrics = report.build_metrics(
        rules, segment, everyone, customers, curve, profiled, ranking, params
    )
    metrics["campaign"] = power.campaign_metrics(customers, table, curve, campaign)
    metrics = writers.rounded(metrics)  # the report shows what the JSON holds

    writers.write_csv(customers, paths.SEGMENT_DIR / "customers.csv")
    writers.write_csv(profiled, paths.REPORTS_DIR / "segment_profile.csv")
    writers.write_csv(curve, plots.PLOTS / "value_curve.csv")
    writers.write_json(metrics, paths.SEGMENT_METRICS)
    writers.write_text(report.render(metrics), paths.REPORTS_DIR / "segment.md")
    plots.save_plots(table, mask, curve, metrics, list(importance.index[: params["profile_plots"]]))


if __name__ == "__main__":
    entry.run(main)
