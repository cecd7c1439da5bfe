"""Issue 15's acceptance, end to end on the reproduced sample project: the generated next period
through `stages.sample --next-period`, `oneclick outcomes` and `oneclick predict`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from oneclick.campaign import control
from oneclick.campaign.drift import DRIFT
from oneclick.data.contract import ID
from oneclick.segment import workbook
from tests.conftest import clone_project

CLI = "import sys; from oneclick.cli import main; main(sys.argv[1:])"  # the copy's own package
CAMPAIGN = "data/segment/customers.csv"


def run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def next_period(repo: Path, out: Path, *args: str) -> Path:
    run(repo, "-m", "stages.sample", "--output", str(out), "--next-period",
        "--campaign", CAMPAIGN, *args)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def acceptance(reproduced_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The committed sample's segment (~108 customers) can detect a drop of ~0.21 only (its
    report says so), so a 0.15 effect is measured on a campaign large enough for it: the same
    project with a wider segment (threshold 0.3, every profit), as a store would run it."""
    root = tmp_path_factory.mktemp("acceptance")
    repo = clone_project(reproduced_project, root / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["segment"] |= {"threshold": 0.3, "profit_quantile": 0.0}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), "utf-8")
    run(repo, "-m", "stages.segment")
    periods = {
        "effect": next_period(repo, root / "effect", "--effect", "0.15"),
        "none": next_period(repo, root / "none", "--effect", "0"),
        "drift": next_period(repo, root / "drift", "--drift", "promo_share=0.3"),
    }
    out: dict = {}
    log = root / "interventions.csv"
    for name, data in periods.items():
        report = root / f"outcomes-{name}"
        logged = ["--pre", "data/sample", "--log", str(log), "--period", "2026-01"]
        run(repo, "-c", CLI, "outcomes", "--campaign", CAMPAIGN, "--input", str(data),
            "--output-dir", str(report), *(logged if name == "effect" else []))  # fmt: skip
        out[name] = json.loads((report / "outcomes.json").read_text(encoding="utf-8"))
        out[f"{name}.md"] = (report / "outcomes.md").read_text(encoding="utf-8")
    scores = root / "scores.csv"
    predicted = run(repo, "-m", "stages.predict", "--input", str(periods["drift"]),
                    "--output", str(scores), "--drivers", "neighbours")  # fmt: skip
    out["predict.log"] = predicted.stderr
    out["predict"] = json.loads((root / "scores.summary.json").read_text(encoding="utf-8"))
    out["monthly"] = monthly_loop(repo, root / "monthly", log)
    out["log"] = pd.read_csv(log, dtype={"period": str})
    again = subprocess.run(
        [sys.executable, "-c", CLI, "outcomes", "--campaign", CAMPAIGN, "--input",
         str(periods["effect"]), "--output-dir", str(root / "again"), "--log", str(log),
         "--period", "2026-02"],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    out["again"] = (again, pd.read_csv(log, dtype={"period": str}), root / "again")
    return out


def monthly_loop(repo: Path, root: Path, log: Path) -> dict:
    """The production month: predict on a new generated period (not the pipeline's), the next
    period with a known effect on predict's treated customers, outcomes on predict's table."""
    month = root / "month"
    run(repo, "-m", "stages.sample", "--output", str(month), "--seed", "11")
    for fmt, name in (("csv", "scores.csv"), ("xlsx", "scores.xlsx")):
        run(repo, "-m", "stages.predict", "--input", str(month), "--output", str(root / name),
            "--drivers", "neighbours", "--format", fmt)  # fmt: skip
    campaign = str(root / "scores.segment.csv")
    run(repo, "-m", "stages.sample", "--output", str(root / "next"), "--seed", "11",
        "--next-period", "--campaign", campaign, "--effect", "0.15")  # fmt: skip
    run(repo, "-c", CLI, "outcomes", "--campaign", campaign, "--input", str(root / "next"),
        "--output-dir", str(root / "outcomes"), "--pre", str(month), "--log", str(log),
        "--period", "2026-02")  # fmt: skip
    return {
        "segment": pd.read_csv(campaign),
        "xlsx": root / "scores.xlsx",
        "outcomes": json.loads((root / "outcomes/outcomes.json").read_text(encoding="utf-8")),
    }


def test_predicts_control_group_lets_outcomes_recover_the_effect(acceptance, reproduced_project):
    """predict draws the control group as the segment stage does (30%, balanced by risk) and
    its segment table is what outcomes measures: the injected 0.15 is within the interval."""
    loop = acceptance["monthly"]
    segment = loop["segment"]
    params = yaml.safe_load((reproduced_project / "params.yaml").read_text(encoding="utf-8"))
    share, seed = params["campaign"]["control_share"], params["campaign"]["seed"]
    groups = control.assign_groups(segment[ID], segment["probability"], share, seed)
    assert segment["group"].tolist() == groups.tolist() and len(segment) > 300
    held_out = segment["group"] == control.CONTROL
    assert (segment.loc[held_out, "offer_codes"].fillna("") == "").all()
    e = loop["outcomes"]["effect"]
    assert e["measurable"] and e["drop_ci_low"] <= 0.15 <= e["drop_ci_high"], e
    book = openpyxl.load_workbook(loop["xlsx"], read_only=True)
    act, control_sheet = (book[workbook.SHEETS[k][0]] for k in ("act", "control"))
    listed = {row[0] for row in act.iter_rows(min_row=2, values_only=True)}
    kept = {row[0] for row in control_sheet.iter_rows(min_row=2, values_only=True)}
    assert kept == set(segment.loc[held_out, ID]) and not kept & listed and listed


def test_an_effect_of_0_15_is_reported_with_an_interval_covering_it_and_not_0(acceptance):
    e = acceptance["effect"]["effect"]
    assert e["measurable"] and e["drop_ci_low"] <= 0.15 <= e["drop_ci_high"], e
    assert e["drop_ci_low"] > 0 and e["significant"], e
    assert "Эффект статистически значим" in acceptance["effect.md"]


def test_no_effect_is_reported_with_an_interval_covering_0(acceptance):
    e = acceptance["none"]["effect"]
    assert e["drop_ci_low"] <= 0 <= e["drop_ci_high"] and not e["significant"], e
    assert "Эффект не значим" in acceptance["none.md"]


def test_one_drifted_feature_passes_0_25_in_outcomes_and_in_predicts_warning(acceptance):
    for name in ("drift", "predict"):
        psi = acceptance[name]["drift"]["psi"]
        assert {f for f, v in psi.items() if v > DRIFT} == {"promo_share"}, (name, psi)
    assert "| `promo_share` (Акционные_покупки) |" in acceptance["drift.md"]
    warnings = [line for line in acceptance["predict.log"].splitlines() if "PSI" in line]
    assert len(warnings) == 1 and re.search(
        r"WARNING .*promo_share PSI \d+\.\d{3} > 0.25", warnings[0]
    )
    stable = acceptance["effect"]["drift"]
    assert stable["features_above_drift"] == 0 and stable["features_above_watch"] == 0


def test_the_model_is_judged_on_customers_without_an_offer(acceptance, reproduced_project):
    model, effect = acceptance["effect"]["model"], acceptance["effect"]["effect"]
    scored = len(pd.read_csv(reproduced_project / "data/predictions/scores.csv"))
    assert model["population"] == "untreated"
    assert model["customers"] == scored - effect["treatment"]["found"]  # all are in the new period
    assert 0.5 < model["roc_auc"] <= 1 and len(model["calibration"]) == 10


def test_segment_report_states_the_detectable_effect_and_the_size_needed(reproduced_project):
    summary = json.loads((reproduced_project / "reports/segment.json").read_text("utf-8"))
    c = summary["campaign"]
    figures = json.loads((reproduced_project / "metrics/segment.json").read_text("utf-8"))
    assert figures["campaign"]["min_detectable_drop"] == c["min_detectable_drop"]
    text = (reproduced_project / "reports/segment.md").read_text(encoding="utf-8")
    assert f"**{c['min_detectable_drop']:.2f}**".replace(".", ",") in text
    assert f"не меньше **{c['size_needed']}** клиентов" in text
    assert f"снижение на {c['target_effect']:g} (`campaign.target_effect`)" in text


def test_the_intervention_log_keeps_both_periods_and_outcomes_reads_both(acceptance):
    """Two months of `outcomes --log`: the pipeline's campaign, then predict's on a new period;
    the second run's breakdowns and uplift verdict read both; a period is logged once."""
    log, monthly = acceptance["log"], acceptance["monthly"]["outcomes"]
    assert sorted(log["period"].unique()) == ["2026-01", "2026-02"]
    first = acceptance["effect"]["effect"]
    assert (log["period"] == "2026-01").sum() == first["treatment"]["found"] + first["control"][
        "found"
    ]
    assert monthly["breakdown"]["periods"] == ["2026-01", "2026-02"]
    assert monthly["uplift"]["periods"] == 2 and monthly["uplift"]["logged"] == len(log)
    assert log["model_md5"].str.fullmatch(r"[0-9a-f]{32}").all()
    run, after, out = acceptance["again"]
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr
    assert "--period 2026-02: already in the intervention log" in run.stderr
    pd.testing.assert_frame_equal(after, log)
    assert not out.exists()


def test_the_adjusted_effect_is_reported_beside_the_unadjusted_one(acceptance):
    e = acceptance["effect"]["effect"]
    a = e["adjusted"]
    assert {"probability", "declined_before", "promo_share"} <= set(a["covariates"])
    assert a["variance_reduction"] > 0 and a["adjusted_ci_low"] <= 0.15 <= a["adjusted_ci_high"]
    text = acceptance["effect.md"]
    assert "С поправкой на то, что было известно до кампании" in text
    assert "## Кого выбирать: по риску или по отклику" in text
    assert "Таргетинг по риску остаётся" in text  # one period of a few hundred customers
