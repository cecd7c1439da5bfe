"""What may be committed: the store's real data, and anything computed from it, never is.

Committed outputs (dvc.lock, metrics, reports, plots) must come from the bundled sample; a run
on the real files stays an experiment. Per-customer files written at the top of the clone
(`make predict ... OUTPUT=scores.csv`) are git-ignored."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

RISKY = ["scores.csv", "scores.csv.gz", "customers.xlsx", "scores.parquet", "oneclick.zip"]


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def sample_dir() -> str:
    """The directory the `sample` stage writes (its only output)."""
    (out,) = read_yaml(ROOT / "dvc.yaml")["stages"]["sample"]["outs"]
    return out


def ignored(path: str) -> bool:
    """Whether .gitignore matches `path` (tracked or not)."""
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, capture_output=True
    )
    if result.returncode not in (0, 1):
        pytest.skip(f"git check-ignore unavailable: {result.stderr.decode(errors='replace')}")
    return result.returncode == 0


def test_params_read_the_bundled_sample() -> None:
    assert read_yaml(ROOT / "params.yaml")["data"]["raw_dir"] == sample_dir(), (
        "params.yaml data.raw_dir must stay the bundled sample on a branch; run the real files "
        "as an experiment (README: Run on the store's real files)"
    )


def test_committed_outputs_were_produced_from_the_sample() -> None:
    """dvc.lock records what `clean` read: the committed outputs come from that run."""
    clean = read_yaml(ROOT / "dvc.lock")["stages"]["clean"]
    assert clean["params"]["params.yaml"]["data.raw_dir"] == sample_dir()
    code = ("stages/", "oneclick/")  # the stage's own code, not its input
    inputs = [d["path"] for d in clean["deps"] if not d["path"].startswith(code)]
    assert inputs and all(p.startswith(f"{sample_dir()}/") for p in inputs), inputs


@pytest.mark.parametrize("name", RISKY)
def test_top_level_data_files_are_git_ignored(name: str) -> None:
    assert ignored(name), f"{name} at the top of the clone would be committed by `git add -A`"


def test_tracked_pipeline_outputs_are_not_ignored() -> None:
    tracked = ["reports/segment_profile.csv", "plots/evaluate/roc.csv", "metrics/segment.json"]
    assert not [p for p in tracked if ignored(p)]
