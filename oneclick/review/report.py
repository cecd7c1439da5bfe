"""Pull-request report: what a branch changed against a base revision, as Markdown with images.

    oneclick report --base main      (make report BASE=main)  -> report.md + report/*.png

Params and metrics come from `dvc params diff` / `dvc metrics diff` (the base's metrics and plot
data are in git), curves from `dvc plots diff --json` rendered offline by vl-convert.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from oneclick.core.entry import log
from oneclick.core.paths import PLOTS_DIR, ROOT, SEGMENT_METRICS
from oneclick.core.writers import write_bytes, write_text
from oneclick.review.plots import clear_dir, fetch_plots, named_plots, render_png, slug
from oneclick.review.tables import change, fmt, is_number, metric_rows, param_rows, table
from oneclick.review.vcs import dvc_json, git
from oneclick.review.verdicts import headline_rows

HEAD = "workspace"  # DVC's name for the checked-out files
SEGMENT_BLOCK = "segment."  # its summary of the segment (the rest: everyone, offers, drivers)
SHAP_PLOTS = PLOTS_DIR / "shap"
HEADLINE_SEGMENT = ("segment.size", "segment.expected_profit_at_risk_total")  # move only


def segment_spec(diff: dict[str, dict], base: str) -> dict[str, Any] | None:
    """Bars of the segment's summary (its `segment` block): base beside head, a panel each."""
    values = [
        {"metric": key.removeprefix(SEGMENT_BLOCK), "rev": rev, "value": entry[side]}
        for key, entry in sorted(diff.get(SEGMENT_METRICS.relative_to(ROOT).as_posix(), {}).items())
        for rev, side in ((base, "old"), (HEAD, "new"))
        if (key.startswith(SEGMENT_BLOCK) or "." not in key) and is_number(entry.get(side))
    ]
    if not values:
        return None
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Segment: {base} vs {HEAD}",
        "data": {"values": values},
        "facet": {"field": "metric", "title": None},
        "columns": 4,
        "spec": {
            "width": 110,
            "height": 160,
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x": {"field": "rev", "type": "nominal", "sort": [base, HEAD], "title": None},
                "y": {"field": "value", "type": "quantitative", "title": None},
                "color": {"field": "rev", "type": "nominal", "sort": [base, HEAD]},
            },
        },
        "resolve": {"scale": {"y": "independent"}},
    }


def image_line(title: str, path: str, run_url: str | None) -> str:
    """Markdown image; in a CI comment local files cannot show, so point to the run's artifact."""
    if run_url:
        return f"- {title}: `{path}` in the artifacts of [this CI run]({run_url})"
    return f"![{title}]({path})"


def ci_run_url(env: dict[str, str]) -> str | None:
    keys = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    if env.get("GITHUB_ACTIONS") != "true" or not all(env.get(k) for k in keys):
        return None
    return "{}/{}/actions/runs/{}".format(*(env[k] for k in keys))


def headline(rows: list[dict[str, Any]], note: str | None, metrics: dict) -> list[str]:
    """The report's opening: model quality with verdicts beyond noise, then the segment."""
    lines = ["### Headline"]
    header = ["", "base", HEAD, "head − base", "verdict"]
    cells = [[r["metric"], fmt(r["base"]), fmt(r["head"]), r["change"], r["verdict"]] for r in rows]
    segment = diff_for(metrics, SEGMENT_METRICS.relative_to(ROOT).as_posix())
    for key in HEADLINE_SEGMENT:
        if key in segment:
            old, new = segment[key].get("old"), segment[key].get("new")
            cells.append([key, fmt(old), fmt(new), change(old, new), "no verdict"])
    lines.append(table(header, cells) if cells else "Nothing to compare.")
    if note:
        lines.append(note)
    lines.append(
        "Protocol scores: paired per-fold differences on the same folds (mean ± corrected SE, "
        "t-test); test part: paired bootstrap over the same customers; a verdict only at p < 0.05."
    )
    return lines


def diff_for(metrics: dict, path: str) -> dict:
    return metrics.get(path, {})


def build_report(
    base: str,
    heading: str,
    params: dict,
    metrics: dict,
    images: list[tuple[str, str]],
    run_url: str | None = None,
    verdicts: tuple[list[dict[str, Any]], str | None] = ([], None),
) -> str:
    """The report's Markdown from DVC's params/metrics diffs and (title, relative path) images."""
    moved, same = metric_rows(metrics)
    parts = [f"## Pipeline report: `{HEAD}` vs `{base}`", heading]
    parts += headline(*verdicts, metrics)
    parts.append("### Params changed")
    rows = param_rows(params)
    parts.append(table(["param", base, HEAD], rows) if rows else "No params changed.")
    parts.append("### Metrics moved (no verdicts: see the headline)")
    header = ["metric", base, HEAD, "change"]
    parts.append(table(header, moved) if moved else "No metric moved.")
    if same:
        parts.append(
            f"<details><summary>Unchanged metrics ({len(same)})</summary>\n\n"
            f"{table(header, same)}\n\n</details>"
        )
    if images:
        parts.append(f"### Plots: `{base}` vs `{HEAD}`")
        parts.append(f"Where nothing moved, the `{HEAD}` line hides under the `{base}` line.")
        parts += [image_line(title, path, run_url) for title, path in images]
    return "\n\n".join(parts) + "\n"


def heading(base: str) -> str:
    dirty = " (with uncommitted changes)" if git(["status", "--porcelain"]) else ""
    # CI checks out a detached merge commit; the PR's branch name is in the environment.
    branch = os.environ.get("GITHUB_HEAD_REF") or git(["rev-parse", "--abbrev-ref", "HEAD"])
    return (
        f"Base `{base}` at {git(['rev-parse', '--short', base])}; head: the workspace of "
        f"`{branch}` at {git(['rev-parse', '--short', 'HEAD'])}{dirty}."
    )


def render_images(base: str, metrics: dict, images_dir: Path, report_dir: Path) -> list:
    """Write base-vs-head curves, segment bars and the head's SHAP images; (title, path) pairs."""
    ids, _ = named_plots(yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8")))
    plots = fetch_plots(base, images_dir / "dvc", ids) if ids else {}
    charts = [(n, e["content"]) for n, es in plots.items() for e in es if e["type"] == "vega"]
    spec = segment_spec(metrics, base)
    charts += [("Segment", spec)] if spec else []
    shutil.rmtree(images_dir / "dvc", ignore_errors=True)
    written = []
    for title, chart in charts:
        path = images_dir / f"{slug(title)}.png"
        write_bytes(render_png(chart), path)
        written.append((title, path))
    for image in sorted(SHAP_PLOTS.glob("*.png")):
        path = images_dir / f"shap_{image.name}"
        write_bytes(image.read_bytes(), path)
        written.append((f"SHAP {image.stem} ({HEAD})", path))
    return [(title, os.path.relpath(path, report_dir)) for title, path in written]


def report(base: str, out_file: str, images: str) -> None:
    """Write the pull-request report (workspace vs base) to out_file, its images to images/."""
    out, images_dir = ROOT / out_file, ROOT / images
    params = dvc_json(["params", "diff", base])
    metrics = dvc_json(["metrics", "diff", base, "--all"])
    clear_dir(images_dir)
    log.info("rendering report images to %s", images_dir)
    images = render_images(base, metrics, images_dir, out.parent)
    run_url = ci_run_url(dict(os.environ))
    verdicts = headline_rows(base)
    text = build_report(base, heading(base), params, metrics, images, run_url, verdicts)
    write_text(text, out)
    print(f"{out} ({len(images)} images in {images_dir})")
