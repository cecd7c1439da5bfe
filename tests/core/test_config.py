"""Params provenance: a stage ends with an error when a param it declares in dvc.yaml changed in
params.yaml while it ran (DVC would record the new value next to outputs made with the old)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from oneclick.core import config
from oneclick.core.errors import DataError
from tests.conftest import ROOT, code_sandbox

DVC_YAML = {
    "stages": {
        "train": {
            "cmd": "python -m stages.train",
            "params": ["train.random_state", "train.knn", {"params.yaml": ["data.raw_dir"]}],
        },
        "merge": {"cmd": "python -m stages.merge"},
    }
}
PARAMS = {
    "data": {"raw_dir": "data/sample"},
    "train": {"random_state": 42, "meta": {"folds": 5}, "knn": {"n_neighbors": 49}},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML), encoding="utf-8")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    return tmp_path


def edit_params(project: Path, change: dict) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *blocks, key = dotted.split(".")
        target = params
        for block in blocks:
            target = target[block]
        if value is None:
            del target[key]
        else:
            target[key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")


def check(project: Path, stage: str = "train") -> None:
    read = yaml.safe_load(yaml.safe_dump(PARAMS))  # what the stage loaded at its start
    config.check_unchanged(stage, read, project / "params.yaml", project / "dvc.yaml")


def test_stage_params_lists_the_declared_keys(project: Path) -> None:
    keys = config.stage_params("train", project / "dvc.yaml")
    assert keys == ["train.random_state", "train.knn", "data.raw_dir"]
    assert config.stage_params("merge", project / "dvc.yaml") == []


def test_unchanged_params_pass_and_undeclared_ones_may_change(project: Path) -> None:
    check(project)
    edit_params(project, {"train.meta": {"folds": 3}})  # not declared by train here
    check(project)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"train.random_state": 7},
            "train.random_state changed while the stage ran (42 -> 7); rerun",
        ),
        (
            {"train.knn": {"n_neighbors": 15}},
            "train.knn.n_neighbors changed while the stage ran (49 -> 15)",
        ),
        (
            {"train.random_state": None},
            "train.random_state changed while the stage ran (42 -> absent)",
        ),
        ({"data.raw_dir": "../real"}, 'data.raw_dir changed while the stage ran ("data/sample"'),
    ],
)
def test_a_changed_declared_param_is_one_line(project: Path, change: dict, message: str) -> None:
    edit_params(project, change)
    with pytest.raises(DataError) as error:
        check(project)
    assert str(error.value).startswith(f"params.yaml: {message}")
    assert "\n" not in str(error.value)


def test_every_stage_with_params_checks_them_at_its_end() -> None:
    """Each stages/*.py that DVC runs with params calls config.check_unchanged with its own
    dvc.yaml stage name."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, stage in stages.items():
        if not stage.get("params"):
            continue
        module = stage["cmd"].split(" -m ")[1].split()[0]
        tree = ast.parse((ROOT / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
        calls = [
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "check_unchanged"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ]
        assert calls == [name], (module, calls)


# The sample stage, run as DVC runs it, while params.yaml is edited halfway (right after the
# stage generated its data with the old seed).
MID_RUN_EDIT = textwrap.dedent(
    """
    import runpy, sys
    from pathlib import Path
    import yaml
    import oneclick.sample.files as files

    generate = files.generate

    def generate_then_edit(n, seed):
        data = generate(n, seed)
        params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        params["sample"]["seed"] = seed + 1
        Path("params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
        return data

    files.generate = generate_then_edit
    sys.argv = ["stages.sample", "--n-customers", "30"]
    runpy.run_module("stages.sample", run_name="__main__")
    """
)


def test_params_edited_while_a_stage_runs_stop_it_and_nothing_is_written(tmp_path: Path) -> None:
    root = code_sandbox(tmp_path)
    seed = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))["sample"]["seed"]
    run = subprocess.run(
        [sys.executable, "-c", MID_RUN_EDIT], cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines()[-1] == (
        f"error: params.yaml: sample.seed changed while the stage ran ({seed} -> {seed + 1}); rerun"
    )
    assert not (root / "data" / "sample").exists() or not any((root / "data" / "sample").iterdir())
