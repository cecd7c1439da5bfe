"""Pull-request report: what a branch changed against a base revision, as Markdown with images.

    oneclick report --base main      (make report BASE=main)  -> report.md + report/*.png

Params and metrics come from `dvc params diff` / `dvc metrics diff` (the base's metrics and plot
data are in git), curves from `dvc plots diff --json` rendered offline by vl-convert.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from oneclick.core.entry import log
from oneclick.core.paths import PLOTS_DIR, ROOT, SEGMENT_METRICS
from oneclick.core.writers import write_bytes, write_text
from oneclick.review.outdir import fresh_dir, refuse_foreign_file
from oneclick.review.plots import fetch_plots, named_plots, render_png, slug
from oneclick.review.tables import change, fmt, is_number, metric_rows, param_rows, table
from oneclick.review.vcs import dvc_json, git
from oneclick.review.verdicts import Comparison, compare

WORKSPACE = "workspace"  # DVC's name for the checked-out files, shown as the branch's name
TITLE = "## Pipeline report:"  # a report.md starting so was written here: safe to replace
FOLDS_PLOT = "Protocol-folds"  # dvc.yaml's plot of both sides; the report draws their differences
SEGMENT_BLOCK = "segment."  # its summary of the segment (the rest: everyone, offers, drivers)
SHAP_PLOTS = PLOTS_DIR / "shap"
HEADLINE_SEGMENT = ("segment.size", "segment.expected_profit_at_risk_total")  # move only


def segment_spec(diff: dict[str, dict], base: str, head: str = WORKSPACE) -> dict[str, Any] | None:
    """Bars of the segment's summary (its `segment` block): base beside head, a panel each."""
    values = [
        {"metric": key.removeprefix(SEGMENT_BLOCK), "rev": rev, "value": entry[side]}
        for key, entry in sorted(diff.get(SEGMENT_METRICS.relative_to(ROOT).as_posix(), {}).items())
        for rev, side in ((base, "old"), (head, "new"))
        if (key.startswith(SEGMENT_BLOCK) or "." not in key) and is_number(entry.get(side))
    ]
    if not values:
        return None
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Segment: {base} vs {head}",
        "data": {"values": values},
        "facet": {"field": "metric", "title": None},
        "columns": 4,
        "spec": {
            "width": 110,
            "height": 160,
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x": {"field": "rev", "type": "nominal", "sort": [base, head], "title": None},
                "y": {"field": "value", "type": "quantitative", "title": None},
                "color": {"field": "rev", "type": "nominal", "sort": [base, head]},
            },
        },
        "resolve": {"scale": {"y": "independent"}},
    }


def fold_difference_spec(folds: pd.DataFrame, base: str, head: str) -> dict[str, Any]:
    """ROC-AUC head − base on each protocol fold (the pairs the verdict is made of), zero marked."""
    values = [
        {"fold": i, "repeat": int(row.repeat), "difference": row.roc_auc_head - row.roc_auc_base}
        for i, row in enumerate(folds.itertuples())
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"ROC-AUC per protocol fold: {head} − {base} (above 0: {head} better)",
        "width": 480,
        "height": 220,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "point", "filled": True, "tooltip": True},
                "encoding": {
                    "x": {"field": "fold", "type": "quantitative", "title": "fold (same on both)"},
                    "y": {"field": "difference", "type": "quantitative", "title": "difference"},
                    "color": {"field": "repeat", "type": "nominal"},
                },
            },
            {
                "data": {"values": [{"zero": 0}]},
                "mark": {"type": "rule", "color": "black"},
                "encoding": {"y": {"field": "zero", "type": "quantitative"}},
            },
        ],
    }


def image_line(title: str, path: str, raw_url: str | None) -> str:
    """Markdown image; in a CI comment local files cannot show, so the image is read from where
    the workflow published it (raw_url: the folder, with a trailing slash)."""
    return f"![{title}]({raw_url + Path(path).name if raw_url else path})"


def headline(rows: list[dict[str, Any]], metrics: dict, base: str, head: str) -> list[str]:
    """The report's opening: model quality with verdicts beyond noise, then the segment."""
    lines = ["### Headline"]
    header = ["", base, head, f"{head} − {base}", "verdict"]
    cells = [[r["metric"], fmt(r["base"]), fmt(r["head"]), r["change"], r["verdict"]] for r in rows]
    segment = metrics.get(SEGMENT_METRICS.relative_to(ROOT).as_posix(), {})
    for key in HEADLINE_SEGMENT:
        if key in segment:
            old, new = segment[key].get("old"), segment[key].get("new")
            cells.append([key, fmt(old), fmt(new), change(old, new), "no verdict"])
    lines.append(table(header, cells) if cells else "Nothing to compare.")
    lines.append(
        "Protocol scores: paired per-fold differences on the same folds (mean ± corrected SE, "
        "t-test); test part: paired bootstrap over the same customers; a verdict only at p < 0.05."
    )
    return lines


def build_report(
    base: str,
    heading: str,
    params: dict,
    metrics: dict,
    images: list[tuple[str, str]],
    raw_url: str | None = None,
    verdicts: Sequence[dict[str, Any]] = (),
    head: str = WORKSPACE,
) -> str:
    """The report's Markdown from DVC's params/metrics diffs and (title, relative path) images."""
    moved, same = metric_rows(metrics)
    parts = [f"{TITLE} `{head}` vs `{base}`", heading]
    parts += headline(list(verdicts), metrics, base, head)
    parts.append("### Params changed")
    rows = param_rows(params)
    parts.append(table(["param", base, head], rows) if rows else "No params changed.")
    parts.append("### Metrics moved (no verdicts: see the headline)")
    header = ["metric", base, head, "change"]
    parts.append(table(header, moved) if moved else "No metric moved.")
    if same:
        parts.append(
            f"<details><summary>Unchanged metrics ({len(same)})</summary>\n\n"
            f"{table(header, same)}\n\n</details>"
        )
    if images:
        parts.append(f"### Plots: `{base}` vs `{head}`")
        parts.append(f"Where nothing moved, the `{head}` line hides under the `{base}` line.")
        parts += [image_line(title, path, raw_url) for title, path in images]
    return "\n\n".join(parts) + "\n"


def branch_name() -> str:
    """The branch under review: CI checks out a detached merge commit and names the PR's branch
    in the environment; a detached checkout elsewhere is named by its commit."""
    name = os.environ.get("GITHUB_HEAD_REF") or git(["rev-parse", "--abbrev-ref", "HEAD"])
    return git(["rev-parse", "--short", "HEAD"]) if name == "HEAD" else name


def heading(base: str, head: str) -> str:
    dirty = " (with uncommitted changes)" if git(["status", "--porcelain"]) else ""
    return (
        f"Base `{base}` at {git(['rev-parse', '--short', base])}; head: the workspace of "
        f"`{head}` at {git(['rev-parse', '--short', 'HEAD'])}{dirty}."
    )


def renamed(spec: dict[str, Any], head: str) -> dict[str, Any]:
    """DVC's spec with its revision `workspace` called by the branch's name."""
    text = json.dumps(spec, ensure_ascii=False)
    return json.loads(text.replace(json.dumps(WORKSPACE), json.dumps(head, ensure_ascii=False)))


def chart_specs(
    base: str, head: str, metrics: dict, comparison: Comparison, images_dir: Path
) -> list[tuple[str, dict[str, Any]]]:
    """(title, Vega-Lite spec) of every base-vs-head chart of the report."""
    ids, _ = named_plots(yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8")))
    ids = [name for name in ids if name != FOLDS_PLOT]
    plots = fetch_plots(base, images_dir / "dvc", ids) if ids else {}
    shutil.rmtree(images_dir / "dvc", ignore_errors=True)
    charts = [
        (f"{name} ({base} vs {head})", renamed(e["content"], head))
        for name, entries in plots.items()
        for e in entries
        if e["type"] == "vega"
    ]
    if comparison.folds is not None:
        charts.append(
            ("Protocol fold differences", fold_difference_spec(comparison.folds, base, head))
        )
    spec = segment_spec(metrics, base, head)
    return charts + ([(f"Segment ({base} vs {head})", spec)] if spec else [])


def image_name(title: str) -> str:
    return f"{slug(title.split(' (')[0])}.png"


def render_images(
    base: str, head: str, metrics: dict, comparison: Comparison, images_dir: Path, report_dir: Path
) -> list[tuple[str, str]]:
    """Write base-vs-head charts and the head's own SHAP images, one file each; (title, path)."""
    files: dict[Path, tuple[str, bytes | dict[str, Any]]] = {}

    def add(title: str, path: Path, image: bytes | dict[str, Any]) -> None:
        """image: the PNG's bytes, or the Vega-Lite spec to render it from"""
        if path in files:  # two images under one name: the second would hide the first
            raise ValueError(f"two report images named {path.name}: {files[path][0]}, {title}")
        files[path] = (title, image)

    for title, chart in chart_specs(base, head, metrics, comparison, images_dir):
        add(title, images_dir / image_name(title), chart)
    for image in sorted(SHAP_PLOTS.glob("*.png")):
        add(
            f"SHAP {image.stem} ({head} only)",
            images_dir / f"branch_shap_{image.name}",
            image.read_bytes(),
        )
    for path, (_, content) in files.items():
        write_bytes(content if isinstance(content, bytes) else render_png(content), path)
    return [(title, os.path.relpath(path, report_dir)) for path, (title, _) in files.items()]


def report(base: str, out_file: str, images: str, raw_url: str | None = None) -> None:
    """Write the pull-request report (workspace vs base) to out_file, its images to images/.

    The previous report goes first, so a failure never leaves another branch's report behind;
    the new one appears whole (an atomic write) or not at all."""
    out, images_dir = ROOT / out_file, ROOT / images
    refuse_foreign_file(out, TITLE)
    fresh_dir(images_dir, "report")
    out.unlink(missing_ok=True)
    head = branch_name()
    params = dvc_json(["params", "diff", base])
    metrics = dvc_json(["metrics", "diff", base, "--all"])
    comparison = compare(base)
    log.info("rendering report images to %s", images_dir)
    written = render_images(base, head, metrics, comparison, images_dir, out.parent)
    text = build_report(
        base, heading(base, head), params, metrics, written, raw_url, comparison.rows, head
    )
    write_text(text, out)
    print(f"{out} ({len(written)} images in {images_dir})")
