"""`make exps`: the experiments table fits a 120-column terminal with the headline columns only.

The input is a captured `dvc exp show --json` of this project (the workspace, its baseline and an
experiment `dvc exp run -S features.random_state=7`; deps and outs dropped: not read)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from oneclick.review import experiments as ex

SAMPLE = Path(__file__).parent / "data" / "exp_show.json"


def states() -> list[dict]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_headline_columns_fit_a_120_column_terminal() -> None:
    table = ex.rows(states())
    text = ex.render(table, 120)
    lines = text.splitlines()
    assert len(ex.HEADER) <= 12 and all(len(row) == len(ex.HEADER) for row in table)
    assert max(len(line) for line in lines) <= 120
    assert lines[0].split("  ")[0] == "Experiment" and "ROC-AUC ± SE" in lines[0]
    assert len(lines) == 1 + len(table) >= 4  # header, workspace, baseline, experiment


def test_an_experiment_shows_what_it_changed_and_its_results() -> None:
    *_, experiment = ex.rows(states())
    assert experiment[0].startswith("└ ")
    assert experiment[1] == "features.random_state=7"
    auc, se = experiment[2].split(" ± ")
    assert 0.5 < float(auc) < 1 and 0 < float(se) < 0.1
    assert float(experiment[3]) > 0 and int(experiment[4]) > 0 and float(experiment[5]) > 0


def test_long_param_changes_are_cut_to_the_width() -> None:
    sample = states()
    baseline = next(s for s in sample if s["rev"] != "workspace")
    run = copy.deepcopy(baseline)
    run["name"] = "a-very-long-experiment-name-indeed-longer-than-the-column"
    offers = run["data"]["params"]["params.yaml"]["data"]
    for key in list(offers)[:6]:
        offers[key] = {"changed": "x" * 40}
    baseline["experiments"] = [{"revs": [run], "executor": {"state": "failed"}}]
    for width in (80, 120):
        lines = ex.render(ex.rows(sample), width).splitlines()
        assert max(len(line) for line in lines) <= width
        assert any("…" in line for line in lines)
    assert "(failed)" in ex.rows(sample)[-1][0]


def test_missing_metrics_are_shown_as_missing() -> None:
    assert ex.metric_cells({"data": {"metrics": {}}}) == [ex.MISSING] * 4
    assert ex.changed({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == "b=2 c=—"
    assert ex.flat({"a": {"b": 1, "c": {"d": [1, 2]}}}) == {"a.b": 1, "a.c.d": [1, 2]}
