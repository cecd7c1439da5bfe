"""The output guard of `predict`: it never writes over the project, the pipeline or its input
(the shared guard itself: tests/core/test_guard.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oneclick.core.errors import DataError
from oneclick.core.guard import pipeline_paths, tracked_by_git
from oneclick.data.contract import INPUT_FILES
from oneclick.scoring import batch
from oneclick.scoring.guard import check_output
from tests.conftest import init_git

DVC_YAML = {
    "stages": {
        "clean": {
            "cmd": "python -m stages.clean",
            "deps": ["${data.raw_dir}/money.csv", "stages/clean.py", "oneclick/core"],
            "outs": ["data/clean", {"reports/quality.md": {"cache": False}}],
            "metrics": [{"metrics/quality.json": {"cache": False}}],
            "plots": [{"plots/eda": {"cache": False}}],
        }
    },
    "plots": [{"ROC": {"x": "fpr", "y": {"plots/evaluate/roc.csv": "tpr"}}}],
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny project: dvc.yaml, params.yaml, dvc.lock, code, an output dir, a git repo."""
    root = tmp_path / "project"
    (root / "stages").mkdir(parents=True)
    (root / "stages" / "clean.py").write_text("# code\n", encoding="utf-8")
    (root / "README.md").write_text("# tracked\n", encoding="utf-8")
    (root / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML), encoding="utf-8")
    (root / "params.yaml").write_text("data:\n  raw_dir: raw\n", encoding="utf-8")
    (root / "dvc.lock").write_text("schema: '2.0'\n", encoding="utf-8")
    (root / ".gitignore").write_text("/data/\n/incoming/\n", encoding="utf-8")
    init_git(root)
    (root / "data" / "clean").mkdir(parents=True)
    incoming = root / "incoming"
    incoming.mkdir()
    for spec in INPUT_FILES:
        (incoming / spec.filename).write_text("id\n1\n", encoding="utf-8")
    return root


def check(project: Path, output: Path | str) -> None:
    model = project / "models" / "model.skops"
    check_output(project / output, project / "incoming", model, root=project)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("data", r"--output .*/data: is a directory"),
        ("params.yaml", "is the pipeline's params.yaml"),
        ("dvc.lock", "is the pipeline's dvc.lock"),
        ("dvc.yaml", "is the pipeline's dvc.yaml"),
        ("incoming/money.csv", r"is one of the input files \(--input\)"),
        ("incoming/../incoming/market_file.csv", "is one of the input files"),
        ("models/model.skops", r"is the model being read \(--model\)"),
        ("data/clean/market_file.csv", "is inside data/clean, an output of stage 'clean'"),
        ("data/clean/new/deep.csv", "is inside data/clean, an output of stage 'clean'"),
        ("reports/quality.md", "is reports/quality.md, an output of stage 'clean'"),
        ("metrics/quality.json", "is metrics/quality.json, an output of stage 'clean'"),
        ("plots/eda/scores.csv", "is inside plots/eda, an output of stage 'clean'"),
        ("plots/evaluate/roc.csv", "is plots/evaluate/roc.csv, an output of stage 'plots'"),
        ("raw/money.csv", "is raw/money.csv, a dependency of stage 'clean'"),  # ${data.raw_dir}
        ("oneclick/core/new.py", "is inside the project's oneclick/"),
        ("stages/clean.py", "is inside the project's stages/"),
        ("README.md", "is tracked by git"),
    ],
)
def test_refused_outputs_are_one_line_each(project: Path, output: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as error:
        check(project, output)
    assert str(error.value).startswith("--output ") and "\n" not in str(error.value)


def test_new_files_outside_the_pipeline_are_allowed(project: Path, tmp_path: Path) -> None:
    check(project, "scores.csv")  # top level, git-ignored CSVs: the README's safety net
    check(project, "incoming/scores.csv")  # beside the input files, not one of them
    check(project, tmp_path / "elsewhere" / "scores.csv")  # absolute, outside the project
    (tmp_path / "old.csv").write_text("earlier scores\n", encoding="utf-8")
    check(project, tmp_path / "old.csv")  # an earlier output of predict itself


def test_a_link_to_a_protected_file_is_refused(project: Path, tmp_path: Path) -> None:
    link = tmp_path / "innocent.csv"
    link.symlink_to(project / "dvc.lock")
    with pytest.raises(DataError, match=r"innocent\.csv: is a symbolic link"):
        check(project, link)


@pytest.mark.parametrize(
    ("output_format", "derived"),
    [
        ("csv", "scores.summary.json"),
        ("csv", "scores.segment.csv"),
        ("xlsx", "scores.summary.json"),
    ],
)
def test_predict_refuses_a_tracked_file_as_a_derived_name_before_reading(
    project: Path, output_format: str, derived: str
) -> None:
    """FILE is new, but NAME.summary.json / NAME.segment.csv beside it is a tracked file."""
    (project / derived).write_text("mine\n", encoding="utf-8")
    subprocess.run(["git", "add", derived], cwd=project, check=True)
    model = project / "models" / "model.skops"
    for flag, path in batch.output_files(project / "scores.csv", output_format, None):
        if path.name == derived:
            with pytest.raises(DataError, match=rf"^--output \(.*\) .*{derived}: is tracked"):
                check_output(path, project / "incoming", model, flag, root=project)
    with pytest.raises(DataError, match=rf"{derived}: is tracked by git"):  # before any reading
        batch.predict(project / "absent", project / "scores.csv", model, 1, 1, "auto", None,
                      output_format)  # fmt: skip
    assert (project / derived).read_text(encoding="utf-8") == "mine\n"


def test_a_device_or_fifo_is_refused(project: Path, tmp_path: Path) -> None:
    """As root, replacing /dev/null with a regular file would break the machine."""
    with pytest.raises(DataError, match="is not a regular file"):
        check(project, Path(os.devnull))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="is not a regular file"):
        check(project, fifo)


def test_git_tracking_is_asked_only_inside_a_work_tree(project: Path, tmp_path: Path) -> None:
    assert tracked_by_git(project / "README.md")
    assert not tracked_by_git(project / "untracked.csv")
    assert not tracked_by_git(project / "no" / "such" / "folder" / "x.csv")
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "file.csv").write_text("x\n", encoding="utf-8")
    assert not tracked_by_git(outside / "file.csv")


def test_pipeline_paths_of_the_real_dvc_yaml_cover_every_stage() -> None:
    found = {(path, stage) for path, stage, _ in pipeline_paths()}
    assert ("models/model.skops", "train") in found
    assert ("data/sample/money.csv", "clean") in found  # ${data.raw_dir} resolved
    assert ("plots/evaluate/roc.csv", "plots") in found


# End to end: predict refuses before reading anything, and the file stays as it was.


@pytest.mark.parametrize(
    "output",
    ["dvc.lock", "params.yaml", "data/shap/values.csv", "oneclick/cli.py", "data/sample/money.csv"],
)
def test_predict_refuses_to_overwrite_project_files(reproduced_project: Path, output: str) -> None:
    target = reproduced_project / output
    before = target.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "stages.predict", "--input", "data/sample", "--output", output],
        cwd=reproduced_project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: --output {output}: ")
    assert target.read_bytes() == before
