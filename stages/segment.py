"""Stage `segment`: the valuable customers at risk, their drivers, offers, report, plots.

Logic: oneclick/segment/selection.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import pandas as pd

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
    all_params = config.load_params()
    params = all_params["segment"]
    check_params(params)
    scores = pd.read_csv(paths.SCORES_FILE)
    merged = pd.read_csv(paths.MERGED_FILE)
    shap = pd.read_csv(paths.SHAP_VALUES_FILE).set_index(ID)
    values = pd.read_csv(paths.SHAP_FEATURES_FILE).set_index(ID)
    features = [c for c in values.columns if c in shap.columns]
    shap = shap[features]

    table, profiled_columns = scored_customers(scores, merged, values)
    mask, rules = select(table, params)
    customers = segment_customers(table, mask, shap, values, params)
    curve = value_curve(table, params["value_curve_points"])
    importance = shap.abs().mean().sort_values(ascending=False, kind="mergesort")
    profiled = profile(table, mask, profiled_columns)
    n, ranking = len(table), list(importance.index)
    everyone, segment = summary(table, n), summary(table[mask], n)
    metrics = report.build_metrics(
        rules, segment, everyone, customers, curve, profiled, ranking, params
    )
    metrics = writers.rounded(metrics)  # the report shows what the JSON holds

    with writers.together():
        writers.write_csv(customers, paths.SEGMENT_DIR / "customers.csv")
        writers.write_csv(profiled, paths.REPORTS_DIR / "segment_profile.csv")
        writers.write_csv(curve, plots.PLOTS / "value_curve.csv")
        writers.write_json(metrics, paths.SEGMENT_METRICS)
        writers.write_text(report.render(metrics), paths.REPORTS_DIR / "segment.md")
        highlighted = list(importance.index[: params["profile_plots"]])
        plots.save_plots(table, mask, curve, metrics, highlighted)
        config.check_unchanged("segment", all_params)


if __name__ == "__main__":
    entry.run(main)
