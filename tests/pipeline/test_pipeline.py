"""Integration: the whole pipeline through `dvc repro`, on the sample and on the real files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from oneclick.data.contract import MARKET_MONEY
from tests.conftest import COMMITTED_STATUS, clone_project, dvc

STAGES = ["sample", "clean", "merge", "features", "train", "evaluate", "shap", "segment"]


def test_repro_on_sample_produces_every_stage(reproduced_project: Path) -> None:
    lock = yaml.safe_load((reproduced_project / "dvc.lock").read_text(encoding="utf-8"))
    assert sorted(lock["stages"]) == sorted(STAGES)
    for metrics in ["data_quality", "features", "train", "evaluate", "shap", "segment"]:
        data = json.loads((reproduced_project / "metrics" / f"{metrics}.json").read_text())
        assert data, metrics


def test_second_repro_runs_nothing(reproduced_project: Path, tmp_path: Path) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")  # DVC commands lock the repo
    status = dvc(["status", "--json"], repo)
    assert json.loads(status.stdout) == {}


def stale_entries(status: dict) -> list[str]:
    """What `dvc status --json` of a copy without outputs finds changed besides the outputs
    themselves: code or params edited since dvc.lock was committed, a changed command."""
    stale = []
    for stage, items in status.items():
        for item in items:
            changes = item.items() if isinstance(item, dict) else [(item, {})]
            for kind, what in changes:
                if kind == "changed deps":
                    stale += [f"{stage}: {p} {s}" for p, s in what.items() if s != "deleted"]
                elif kind != "changed outs":
                    stale.append(f"{stage}: {kind} {what or ''}".strip())
    return stale


def test_stale_entries_ignore_only_missing_outputs() -> None:
    status = {
        "clean": [{"changed deps": {"data/sample/money.csv": "deleted"}}],
        "train": [
            {"changed deps": {"oneclick/model": "modified", "params.yaml": {"train.C": "new"}}},
            {"changed outs": {"models/model.skops": "not in cache"}},
        ],
        "shap": ["changed command"],
    }
    assert stale_entries(status) == [
        "train: oneclick/model modified",
        "train: params.yaml {'train.C': 'new'}",
        "shap: changed command",
    ]


def test_committed_lock_matches_the_code_and_params(reproduced_project: Path) -> None:
    """The committed dvc.lock records the code and params of the commit (the fixture ran `dvc
    status` on the fresh copy before anything else). That the committed outputs are the bytes the
    code reproduces is CI's `git diff --exit-code` after `make repro`: the suite runs the pipeline
    on smaller test params."""
    code, out = json.loads((reproduced_project / COMMITTED_STATUS).read_text(encoding="utf-8"))
    assert code == 0, out
    assert stale_entries(json.loads(out)) == [], "dvc.lock is stale: run `dvc repro`, commit it"


def test_repro_on_real_files(reproduced_project: Path, real_data_dir: Path, tmp_path: Path) -> None:
    repo = clone_project(reproduced_project, tmp_path / "real")
    dvc(["repro", "--quiet", "-s", "clean"], repo)  # clean alone: checks the real files' defects
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["data"]["raw_dir"] = str(real_data_dir)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), "utf-8")
    dvc(["repro", "--quiet", "merge"], repo)
    quality = json.loads((repo / "metrics" / "data_quality.json").read_text(encoding="utf-8"))
    assert quality
    merged = (repo / "data" / "merged" / "customers.csv").read_text(encoding="utf-8")
    assert "аксесуары" not in merged and "стандартт" not in merged
    assert "106862.2" not in merged
    ids = {line.split(",", 1)[0] for line in merged.splitlines()[1:]}
    # the customers with a zero-revenue month, found in the real file (their ids stay out of git)
    money = pd.read_csv(real_data_dir / MARKET_MONEY.filename)
    zero = {str(i) for i in money.loc[money[MARKET_MONEY.columns[-1].source] == 0, "id"]}
    assert len(ids) == 1297 and len(zero) == 3 and not zero & ids
