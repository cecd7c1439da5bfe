"""What predict trusts in dvc.lock: only the stages dvc.yaml declares, each output listed once
by the stage that declares it; and outputs made with the params dvc.lock records for them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from oneclick.core.errors import DataError
from oneclick.data.contract import LABEL
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.persistence import dump_model
from oneclick.model.pipelines import build_preprocessor
from oneclick.scoring import integrity
from tests.conftest import clone_project
from tests.data.test_robustness import run_module
from tests.scoring.test_predict import write_lock

MODEL = "models/model.skops"


def appended(lock: Path, stage: str, outs: list[dict]) -> Path:
    content = yaml.safe_load(lock.read_text(encoding="utf-8"))
    content["stages"].setdefault(stage, {"cmd": "true"}).setdefault("outs", []).extend(outs)
    lock.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return lock


def out(path: str, data: bytes) -> dict:
    return {"path": path, "hash": "md5", "md5": hashlib.md5(data).hexdigest(), "size": len(data)}


def test_a_stage_dvc_yaml_does_not_declare_is_refused(tmp_path: Path) -> None:
    """The forged append: a later stage naming the model with a forged md5 overrode train's."""
    lock = appended(write_lock(tmp_path, b"model"), "forged", [out(MODEL, b"forged")])
    with pytest.raises(DataError) as caught:
        integrity.read_lock(lock)
    assert str(caught.value) == (
        "dvc.lock: stage 'forged' is not declared in dvc.yaml; refusing to trust it "
        "(restore dvc.lock from git)"
    )


def test_an_output_listed_twice_is_refused(tmp_path: Path) -> None:
    lock = appended(write_lock(tmp_path, b"model"), "train", [out(MODEL, b"forged")])
    with pytest.raises(DataError, match=r"models/model\.skops is listed twice \(stages 'train' "):
        integrity.read_lock(lock)


def test_an_output_listed_by_a_stage_that_does_not_make_it_is_refused(tmp_path: Path) -> None:
    lock = appended(write_lock(tmp_path, b"model"), "evaluate", [out("models/x.skops", b"x")])
    with pytest.raises(DataError, match=r"stage 'evaluate' lists models/x\.skops, which dvc\.yaml"):
        integrity.read_lock(lock)


def test_the_committed_lock_is_trusted() -> None:
    outs = integrity.read_lock()
    assert outs[MODEL]["stage"] == "train"


def forged_model(repo: Path) -> bytes:
    """A model of trusted types only, on the pipeline's own feature columns."""
    spec = load_spec(repo / "data" / "features" / "feature_spec.json")
    columns, train = feature_columns(spec), pd.read_csv(repo / "data" / "features" / "train.csv")
    model = Pipeline([("prep", build_preprocessor(spec)), ("clf", LogisticRegression())])
    return dump_model(model.fit(train[columns], train[LABEL]))


def predict(repo: Path, tmp_path: Path):
    output = tmp_path / "scores.csv"
    run = run_module("stages.predict", ["--input", "data/sample", "--output", str(output)], repo)
    return run, output


def test_predict_refuses_a_forged_model_appended_to_dvc_lock(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    forged = forged_model(repo)
    (repo / MODEL).write_bytes(forged)
    appended(repo / "dvc.lock", "forged", [out(MODEL, forged)])
    run, output = predict(repo, tmp_path)
    assert run.code == 2
    assert run.problems == [
        "error: dvc.lock: stage 'forged' is not declared in dvc.yaml; refusing to trust it "
        "(restore dvc.lock from git)"
    ]
    assert not output.exists()


def set_dotted(params: dict, key: str, value) -> None:
    *blocks, leaf = key.split(".")
    for block in blocks:
        params = params[block]
    params[leaf] = value


def set_locked(lock: dict, stage: str, key: str, value) -> None:
    """Set `key` in the params dvc.lock records for `stage` (a block or a dotted key there)."""
    recorded = lock["stages"][stage]["params"]["params.yaml"]
    declared = next(k for k in recorded if key == k or key.startswith(k + "."))
    if declared == key:
        recorded[key] = value
    else:
        set_dotted(recorded[declared], key.removeprefix(declared + "."), value)


@pytest.mark.parametrize(
    ("producer", "key", "consumer", "record"),
    [
        ("train", "train.knn.n_neighbors", "evaluate", "models/model.params.json"),
        # a key segment declares (it compares only those with params.yaml)
        ("shap", "shap.random_state", "segment", "data/shap/params.json"),
    ],
)
def test_outputs_paired_with_params_edited_while_their_stage_ran_are_refused(
    reproduced_project: Path, tmp_path: Path, producer: str, key: str, consumer: str, record: str
) -> None:
    """The window DVC leaves: the stage made its outputs with the value it read, then
    params.yaml was edited before DVC recorded it, so params.yaml and dvc.lock (and the
    run-cache) name another value beside them. The next stage and predict refuse them."""
    repo = clone_project(reproduced_project, tmp_path / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    made = params
    for part in key.split("."):
        made = made[part]
    edited = made + 2
    set_dotted(params, key, edited)
    set_locked(lock, producer, key, edited)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), "utf-8")
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")

    why = f"made with {key} = {made}"
    rerun = f"(an edit while it ran?); rerun it: dvc repro --force --single-item {producer}"
    run = run_module(f"stages.{consumer}", [], repo)
    assert run.code == 2
    assert run.problems == [
        f"error: {record}: the {producer} stage's outputs were {why}, params.yaml has {edited} "
        + rerun
    ]
    run, output = predict(repo, tmp_path)
    assert run.code == 2
    assert run.problems == [
        f"error: {record}: the {producer} stage's outputs were {why}, dvc.lock has {edited} "
        + rerun
    ]
    assert not output.exists()
