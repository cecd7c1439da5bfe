"""Stage `segment`: the valuable customers at risk, their drivers, offers, report, plots, the
campaign page and the campaign export; and the SHAP plots (the stage that renders text).

Logic: oneclick/segment/ (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

from oneclick.campaign import control, power
from oneclick.core import config, entry, paths, provenance, writers
from oneclick.segment import design, export, markdown, page, plots, report, workbook
from oneclick.segment import selection as sel
from oneclick.segment.economics import net_curve
from oneclick.segment.shap_plots import save_plots as save_shap_plots
from oneclick.segment.words import campaign_table


def main() -> None:
    writers.setup_matplotlib()
    every = config.load_stage("segment")
    params, campaign = every["segment"], every["campaign"]  # campaign: the control group's
    language = every["report"]["language"]
    offers = [*params["offers"], params["fallback_offer"]]
    scores, merged, shap, values, quality = sel.read_inputs()
    # the model, its scores and their SHAP values: made with the same params, and segment's own
    provenance.check_records("segment", every, "train", "evaluate", "shap")

    table, profiled_columns = sel.scored_customers(scores, merged, values)
    eligible, rules = sel.select(table, params)
    everybody = eligible | True
    # every customer's offers (the net-profit curve prices everyone)
    offered = sel.segment_customers(table, everybody, shap, values, params)
    price = design.pricing(table, params, lambda rows: offered)
    plan = design.design(table, eligible, price, params, campaign)
    mask, customers = plan.mask, plan.customers
    curve = sel.value_curve(table, params["value_curve_points"])
    net = net_curve(price(everybody), params["value_curve_points"])
    ranking = list(shap.abs().mean().sort_values(ascending=False, kind="mergesort").index)
    profiled = sel.profile(table, mask, profiled_columns)
    everyone, segment = sel.summary(table, len(table)), sel.summary(table[mask], len(table))
    outside = sel.not_selected(table, rules) | plan.left_out
    removed = sel.removed_by_reason(quality)
    metrics = report.build_metrics(
        rules, segment, everyone, customers, curve, profiled, ranking, params, outside, removed
    )
    metrics["calibration_above_threshold"] = sel.calibration_above(table, params["threshold"])
    metrics["campaign"] = power.campaign_metrics(customers, table, curve, campaign)
    metrics |= design.metrics(plan, params)  # cost, gain, break-even; the exploration arm
    metrics["versions"] = workbook.versions()  # the model and data this campaign comes from
    metrics = writers.rounded(metrics)  # the reports show what the JSON holds
    reached = plan.reached()  # the segment, then any exploration arm
    campaign = campaign_table(reached, table, values, params["max_offers"], language)
    act, control_rows = workbook.split(campaign, reached[control.GROUP], language)  # never mixed
    description = workbook.about(act, metrics, language)

    with writers.together():
        writers.write_csv(plan.listed, paths.SEGMENT_DIR / "customers.csv")
        export.write_csv_ru(act, paths.SEGMENT_DIR / "campaign.csv")  # to contact only
        sheets = workbook.sheets(act, control_rows, description, language)
        export.write_xlsx(sheets, paths.SEGMENT_DIR / "campaign.xlsx")
        writers.write_csv(profiled, paths.REPORTS_DIR / "segment_profile.csv")
        writers.write_csv(curve, paths.PLOTS_DIR / "segment_data" / "value_curve.csv")
        writers.write_csv(net, paths.PLOTS_DIR / "segment_data" / "net_profit_curve.csv")
        writers.write_json(report.segment_figures(metrics), paths.SEGMENT_METRICS)
        writers.write_json(metrics, paths.SEGMENT_SUMMARY)
        writers.write_text(markdown.render(metrics, language), paths.REPORTS_DIR / "segment.md")
        highlighted = ranking[: params["profile_plots"]]
        images = plots.save_plots(table, mask, (curve, net), metrics, highlighted, language)
        html = page.render(metrics, act, images, offers, language)
        writers.write_text(html, paths.REPORTS_DIR / "segment.html")
        save_shap_plots(every["shap"]["random_state"], language)  # the beeswarm's jitter
        config.check_unchanged("segment", every)


if __name__ == "__main__":
    entry.run(main)
