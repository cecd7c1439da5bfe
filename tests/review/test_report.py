"""Reviewer tooling: the pull-request report (tools/report.py) and offline plots
(tools/plots_offline.py): pure functions on tiny inputs, then `make report` / `make plots` in a
branch of the reproduced project (STAMP= skips the venv bootstrap: the test already runs in it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from oneclick.cli import PLOTS_DIR
from oneclick.review import plots as po
from oneclick.review import report as rp
from oneclick.review import tables as dt
from oneclick.review.vcs import first_error
from oneclick.review.verdicts import fold_differences, not_compared
from tests.conftest import run_cmd
from tests.pipeline.test_workflow import NAMED_PLOTS, PARAM, make_branch

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
METRICS = {
    "metrics/evaluate.json": {
        "test.roc_auc": {"old": 0.8, "new": 0.85, "diff": 0.05},
        "test.brier": {"old": 0.1, "new": 0.12, "diff": 0.02},
        "cv.roc_auc_std": {"old": 0.01, "new": 0.02, "diff": 0.01},
    },
    "metrics/segment.json": {
        "size": {"old": 40, "new": 55, "diff": 15},
        "profit_at_risk": {"old": 200.5, "new": 180.25, "diff": -20.25},
        "label": {"old": "a", "new": "a"},
    },
}


def test_direction_reads_the_metric_name() -> None:
    assert dt.direction("test.roc_auc") == 1
    assert dt.direction("cv.f1_mean") == 1
    assert dt.direction("average_precision") == 1
    assert dt.direction("brier") == -1 and dt.direction("test.log_loss") == -1
    assert dt.direction("cv.roc_auc_std") == 0  # a spread, not a score
    assert dt.direction("segment_size") == 0 and dt.direction("profit_at_risk") == 0
    assert dt.direction("precision_at_k") == 1 and dt.direction("prece") == 0  # whole words only


def test_change_shows_the_move_and_never_a_verdict() -> None:
    assert dt.change(0.8, 0.85) == "↑ +0.05" and dt.change(0.12, 0.1) == "↓ -0.02"
    assert dt.change(40, 55) == "↑ +15"
    assert dt.change(1, 1) == "=" and dt.change("a", "a") == "="
    assert dt.change(None, 1) == "new" and dt.change(1, None) == "removed"
    assert dt.change(True, False) == "changed"


def test_cells_stay_on_one_table_row() -> None:
    assert dt.fmt("a|b\nc") == "a\\|b c"
    assert dt.fmt(None) == "—" and dt.fmt(0.1234567891) == "0.123457" and dt.fmt(3) == "3"
    assert dt.table(["a", "b"], [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |"


def test_metric_rows_split_moved_from_unchanged() -> None:
    moved, same = dt.metric_rows(METRICS)
    assert [r[0] for r in same] == ["`segment` label"]
    assert [r[0] for r in moved] == [
        "`evaluate` cv.roc_auc_std",
        "`evaluate` test.brier",
        "`evaluate` test.roc_auc",
        "`segment` profit_at_risk",
        "`segment` size",
    ]
    assert moved[3][1:] == ["200.5", "180.25", "↓ -20.25"]


def test_build_report_tables_and_images() -> None:
    params = {"params.yaml": {PARAM: {"old": 0.7, "new": 0.6, "diff": -0.1}}}
    verdicts = [
        {
            "metric": "protocol roc_auc",
            "base": 0.9,
            "head": 0.91,
            "change": "+0.0100 ± 0.0090 (p = 0.28)",
            "verdict": "within noise",
        },
        not_compared("test roc_auc", "the two revisions scored\ndifferent test customers"),
    ]
    images = [("ROC", "report/roc.png")]
    segment = {**METRICS["metrics/segment.json"], "segment.size": {"old": 40, "new": 55}}
    metrics = {**METRICS, "metrics/segment.json": segment}
    text = rp.build_report("main", "Base `main`.", params, metrics, images, None, verdicts, "br")
    assert text.startswith("## Pipeline report: `br` vs `main`")
    assert text.index("### Headline") < text.index("### Params changed")
    assert "|  | main | br | br − main | verdict |" in text
    assert "| protocol roc_auc | 0.9 | 0.91 | +0.0100 ± 0.0090 (p = 0.28) | within noise |" in text
    assert (
        "| test roc_auc | — | — | not compared | the two revisions scored different test "
        "customers |\n" in text
    )
    assert "| segment.size | 40 | 55 | ↑ +15 | no verdict |" in text
    assert f"| `{PARAM}` | 0.7 | 0.6 |" in text
    assert "| `evaluate` test.roc_auc | 0.8 | 0.85 | ↑ +0.05 |" in text
    assert "better" not in text.split("### Metrics moved")[1]
    assert "<summary>Unchanged metrics (1)</summary>" in text
    assert "![ROC](report/roc.png)" in text and "workspace" not in text
    empty = rp.build_report("main", "", {}, {}, [])
    assert "No params changed." in empty and "No metric moved." in empty and "![" not in empty


def test_images_read_from_where_ci_published_them() -> None:
    url = "https://github.com/o/r/raw/pr-report-images/pr-3/"
    assert rp.image_line("ROC", "report/roc.png", url) == f"![ROC]({url}roc.png)"
    assert rp.image_line("ROC", "report/roc.png", None) == "![ROC](report/roc.png)"


def test_standard_errors_sit_beside_their_means() -> None:
    diff = {
        "metrics/evaluate.json": {
            "protocol.roc_auc_mean": {"old": 0.9, "new": 0.91},
            "protocol.roc_auc_se": {"old": 0.01, "new": 0.02},
            "protocol.brier_mean": {"old": 0.1, "new": 0.1},
            "protocol.brier_se": {"old": 0.005, "new": 0.006},
            "lonely_se": {"old": 1, "new": 2},
        }
    }
    moved, same = dt.metric_rows(diff)
    assert moved == [
        ["`evaluate` lonely_se", "1", "2", "↑ +1"],  # no mean to sit beside: kept as it is
        ["`evaluate` protocol.roc_auc_mean", "0.9 ± 0.01", "0.91 ± 0.02", "↑ +0.01"],
    ]
    assert same == [["`evaluate` protocol.brier_mean", "0.1 ± 0.005", "0.1 ± 0.006", "="]]


def test_fold_plot_draws_the_paired_differences_around_zero() -> None:
    base = pd.DataFrame({"repeat": [0, 0, 1], "fold": [0, 1, 0], "roc_auc": [0.8, 0.9, 0.7]})
    head = base.assign(roc_auc=[0.85, 0.88, 0.7]).iloc[::-1]  # any row order
    for frame in (base, head):
        frame["brier"] = frame["log_loss"] = 0.1
    spec = rp.fold_difference_spec(fold_differences(base, head), "main", "br")
    points, zero = spec["layer"]
    assert [round(v["difference"], 6) for v in points["data"]["values"]] == [0.05, -0.02, 0.0]
    assert points["encoding"]["y"]["field"] == "difference"
    assert zero["mark"]["type"] == "rule" and zero["data"]["values"] == [{"zero": 0}]
    assert po.render_png(spec).startswith(PNG_MAGIC)


def test_segment_spec_pairs_base_and_head_per_metric() -> None:
    spec = rp.segment_spec(METRICS, "main")
    values = spec["data"]["values"]
    assert {(v["metric"], v["rev"]) for v in values} == {
        (m, r) for m in ("size", "profit_at_risk") for r in ("main", "workspace")
    }
    assert {"metric": "size", "rev": "workspace", "value": 55} in values
    assert rp.segment_spec({"metrics/evaluate.json": {}}, "main") is None
    assert rp.segment_spec(METRICS, "main") == spec  # no hidden state
    nested = {
        "metrics/segment.json": {
            "segment.size": {"old": 1, "new": 2},
            "everyone.size": {"old": 9, "new": 9},
            "offers.by_code.x": {"old": 1, "new": 0},
        }
    }
    values = rp.segment_spec(nested, "main")["data"]["values"]
    assert {v["metric"] for v in values} == {"size"} and len(values) == 2


def test_named_plots_and_selection() -> None:
    dvc_yaml = {
        "plots": [
            {"ROC": {"x": "fpr", "y": {"plots/roc.csv": "tpr"}}},
            {"plots/loss.csv": {"y": "loss"}},
            "plots/images",
            {"Two": {"x": {"plots/a.csv": "p"}, "y": {"plots/b.csv": "q"}}},
        ]
    }
    ids, files = po.named_plots(dvc_yaml)
    assert ids == ["ROC", "plots/loss.csv", "plots/images", "Two"]
    assert files == {"plots/roc.csv", "plots/a.csv", "plots/b.csv"}
    plots = {"ROC": [1], "plots/roc.csv": [2], "plots/loss.csv": [3]}
    assert po.select_plots(plots, files) == {"ROC": [1], "plots/loss.csv": [3]}
    assert po.named_plots({}) == ([], set())


def test_static_spec_ticks_checkboxes_without_touching_the_input() -> None:
    spec = {
        "params": [{"name": "show", "bind": {"input": "checkbox"}}, {"name": "g", "bind": "scales"}]
    }
    static = po.static_spec(spec)
    assert static["params"][0]["value"] is True and "value" not in static["params"][1]
    assert "value" not in spec["params"][0]


def test_offline_page_inlines_scripts_and_keeps_dvc_placeholders() -> None:
    template = (po.TEMPLATE).read_text(encoding="utf-8")
    assert po.BUNDLE_MARKER in template and "{plot_divs}" in template
    assert "{scripts}" not in template  # DVC would put its CDN <script src> tags there
    offline = po.offline_template(template, "var a = '</script>';")
    assert po.BUNDLE_MARKER not in offline and "<\\/script>" in offline
    assert "{plot_divs}" in offline  # still usable as `dvc plots show --html-template`
    plots = {
        "ROC": [{"type": "vega", "revisions": ["main"], "content": {"title": "</script>"}}],
        "img.png": [{"type": "image", "revisions": ["main"], "url": "/x/out/main_img.png"}],
    }
    html = po.page(offline, po.plot_sections(plots))
    assert 'vegaEmbed("#plot-0-0", {"title": "<\\/script>"}' in html
    assert '<img src="main_img.png"' in html
    assert "{plot_divs}" not in html and "{refresh_tag}" not in html
    assert not re.search(r"<script[^>]+src=", html)
    assert po.slug("Precision-Recall") == "precision_recall"


def test_render_png_gives_a_png() -> None:
    spec = {
        "data": {"values": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]},
        "mark": "line",
        "encoding": {"x": {"field": "x", "type": "quantitative"}},
    }
    assert po.render_png(spec).startswith(PNG_MAGIC)


# --- integration: make report / make plots in a branch of the reproduced project -----------


@pytest.fixture(scope="module")
def branch_repo(reproduced_project: Path, tmp_path_factory: pytest.TempPathFactory):
    return make_branch(reproduced_project, tmp_path_factory.mktemp("report") / "repo")


def test_make_report_against_main(branch_repo) -> None:
    repo, old, new = branch_repo
    result = run_cmd(["make", "report", "BASE=main", "STAMP="], repo)
    assert "report.md" in result.stdout
    text = (repo / "report.md").read_text(encoding="utf-8")
    assert f"| `{PARAM}` | {old} | {new} |" in text
    head = text.split("### Params changed")[0]
    # only segment params changed: the same folds, the same model, nothing but noise to report
    assert re.search(
        r"\| protocol roc_auc \| [^|]+ \| [^|]+ \| \+0\.0000 [^|]*\| within noise \|", head
    )
    assert "| test roc_auc |" in head and "worse" not in head and "better" not in head
    moved = text.split("### Metrics moved")[1].split("<details>")[0]
    assert re.search(r"\| `segment` \S+ \| [^|]+ \| [^|]+ \| [↑↓] ", moved)
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    for name in ("roc", "precision_recall", "calibration", "segment", "protocol_fold_differences"):
        assert f"report/{name}.png" in images
    assert "report/shap_importance.png" in images and "report/branch_shap_importance.png" in images
    assert len(set(images)) == len(images)  # one file per image
    assert sorted(p.name for p in (repo / "report").glob("*.png")) == sorted(
        Path(i).name for i in images
    )
    for image in images:
        assert (repo / image).read_bytes().startswith(PNG_MAGIC), image
    assert text.startswith("## Pipeline report: `lower-threshold` vs `main`")
    assert "workspace" not in text.replace("the workspace of", "")
    assert not run_cmd(["git", "status", "--porcelain"], repo).stdout, "report must be ignored"


def test_make_report_bad_base_is_one_line(branch_repo) -> None:
    repo, _, _ = branch_repo
    result = run_cmd(["make", "report", "BASE=no-such-rev", "STAMP="], repo, check=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no-such-rev" in errors[0] and "Traceback" not in result.stderr
    assert not (repo / "report.md").exists(), "the previous branch's report must not stay"


def test_make_plots_offline_page(branch_repo) -> None:
    repo, _, _ = branch_repo
    run_cmd(["make", "plots", "BASE=main", "STAMP="], repo)
    out = repo / PLOTS_DIR
    html = (out / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html), "page must not load scripts from anywhere"
    for name in NAMED_PLOTS:
        assert f"<h2>{name}</h2>" in html
        assert (out / "static" / f"{po.slug(name)}.png").read_bytes().startswith(PNG_MAGIC)
    assert "<h2>plots/evaluate/roc.csv</h2>" not in html, "ROC already draws roc.csv"
    for src in re.findall(r'<figure><a href="([^"]+)"', html):
        assert (out / src).is_file(), src
    assert not run_cmd(["git", "status", "--porcelain"], repo).stdout, (
        "the offline plots page must be ignored"
    )


def test_failed_command_becomes_its_error_line() -> None:
    assert first_error("noise\nERROR: unknown Git revision 'x'\nhint") == "unknown Git revision 'x'"
    assert first_error("fatal: bad revision\n") == "fatal: bad revision"
    assert first_error("a\nb\n") == "b" and first_error("") == "no output"


def test_dvcs_own_plot_pages_use_the_committed_offline_template() -> None:
    """`dvc plots show/diff` render with no network: .dvc/config points at a template that is
    exactly the offline page the pinned vl-convert bundles (regenerate it when upgrading)."""
    import configparser

    import vl_convert

    from tests.conftest import ROOT

    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    assert config["core"]["analytics"] == "false"
    committed = ROOT / ".dvc" / config["plots"]["html_template"]
    expected = po.offline_template(
        po.TEMPLATE.read_text(encoding="utf-8"), vl_convert.javascript_bundle()
    )
    assert committed.read_text(encoding="utf-8") == expected
    assert not re.search(r"""<script[^>]+src=|<link[^>]+href=["']?https?:""", expected)
    confusion = json.loads((ROOT / ".dvc" / "plots" / "confusion_counts.json").read_text("utf-8"))
    assert confusion["params"][0]["value"] is True  # counts shown without ticking a box
