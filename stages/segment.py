"""Stage `segment`: the valuable customers at risk, their drivers, offers, report, plots, the
campaign page and the campaign export; and the SHAP plots (the stage that renders text).

Logic: oneclick/segment/ (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

from oneclick.campaign import control, power
from oneclick.core import config, entry, paths, provenance, writers
from oneclick.segment import export, markdown, page, plots, report, shap_plots, workbook
from oneclick.segment.selection import (
    calibration_above,
    not_selected,
    profile,
    read_inputs,
    removed_by_reason,
    scored_customers,
    segment_customers,
    select,
    summary,
    value_curve,
)
from oneclick.segment.words import campaign_table


def main() -> None:
    writers.setup_matplotlib()
    every = config.load_stage("segment")
    params, design = every["segment"], every["campaign"]  # design: the control group's params
    language = every["report"]["language"]
    scores, merged, shap, values, quality = read_inputs()
    # the model, its scores and their SHAP values: made with the same params, and segment's own
    provenance.check_records("segment", every, "train", "evaluate", "shap")

    table, profiled_columns = scored_customers(scores, merged, values)
    mask, rules = select(table, params)
    customers = segment_customers(table, mask, shap, values, params)
    customers = control.with_groups(customers, design)  # the control group gets no offer
    curve = value_curve(table, params["value_curve_points"])
    ranking = list(shap.abs().mean().sort_values(ascending=False, kind="mergesort").index)
    profiled = profile(table, mask, profiled_columns)
    everyone, segment = summary(table, len(table)), summary(table[mask], len(table))
    outside, removed = not_selected(table, rules), removed_by_reason(quality)
    metrics = report.build_metrics(
        rules, segment, everyone, customers, curve, profiled, ranking, params, outside, removed
    )
    metrics["calibration_above_threshold"] = calibration_above(table, params["threshold"])
    metrics["campaign"] = power.campaign_metrics(customers, table, curve, design)
    metrics["versions"] = workbook.versions()  # the model and data this campaign comes from
    metrics = writers.rounded(metrics)  # the reports show what the JSON holds
    campaign = campaign_table(customers, table, values, params["max_offers"], language)
    act, control_rows = workbook.split(campaign, customers[control.GROUP], language)  # never mixed
    description = workbook.about(act, metrics, language)
    offers = [*params["offers"], params["fallback_offer"]]

    with writers.together():
        writers.write_csv(customers, paths.SEGMENT_DIR / "customers.csv")
        export.write_csv_ru(act, paths.SEGMENT_DIR / "campaign.csv")  # to contact only
        sheets = workbook.sheets(act, control_rows, description, language)
        export.write_xlsx(sheets, paths.SEGMENT_DIR / "campaign.xlsx")
        writers.write_csv(profiled, paths.REPORTS_DIR / "segment_profile.csv")
        writers.write_csv(curve, paths.PLOTS_DIR / "segment_data" / "value_curve.csv")
        writers.write_json(report.segment_figures(metrics), paths.SEGMENT_METRICS)
        writers.write_json(metrics, paths.SEGMENT_SUMMARY)
        writers.write_text(markdown.render(metrics, language), paths.REPORTS_DIR / "segment.md")
        highlighted = ranking[: params["profile_plots"]]
        images = plots.save_plots(table, mask, curve, metrics, highlighted, language)
        html = page.render(metrics, act, images, offers, language)
        writers.write_text(html, paths.REPORTS_DIR / "segment.html")
        shap_plots.save_plots(every["shap"]["random_state"], language)  # the beeswarm's jitter
        config.check_unchanged("segment", every)


if __name__ == "__main__":
    entry.run(main)
