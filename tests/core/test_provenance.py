"""Params provenance: the params a stage's outputs were made with travel with them, and a
consumer refuses outputs made with other params; a dvc.lock left empty by a killed run is one
line in `make repro` telling how to recover."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from oneclick.core import config, paths, provenance, writers
from oneclick.core.errors import DataError
from tests.conftest import clone_project, code_sandbox, dvc, set_params
from tests.data.test_robustness import run_module


@pytest.fixture
def params() -> dict:
    return config.load_params()


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "model.params.json"
    monkeypatch.setitem(provenance.RECORDS, "train", path)
    return path


def test_the_record_holds_what_dvc_lock_records_for_the_stage(params: dict, record: Path) -> None:
    with writers.together():
        provenance.write_record("train", params)
    lock = yaml.safe_load(paths.LOCK_FILE.read_text(encoding="utf-8"))
    made = provenance.parse_record(record.read_bytes(), record.name)
    assert made == {"train": params["train"]}
    assert made == lock["stages"]["train"]["params"]["params.yaml"]  # the committed lock's
    provenance.check_records("evaluate", params, "train")  # the same params: accepted


def test_a_model_paired_with_params_edited_while_train_ran_is_refused(
    params: dict, record: Path
) -> None:
    """The window DVC leaves open: train read (and fitted with) n_neighbors X; params.yaml was
    edited to Y before DVC recorded it, so dvc.lock and params.yaml now say Y beside X's model.
    The consumer about to use the model with Y refuses it."""
    with writers.together():
        provenance.write_record("train", params)  # the model's params: X
    edited = copy.deepcopy(params)
    made = params["train"]["knn"]["n_neighbors"]
    edited["train"]["knn"]["n_neighbors"] = made - 18  # Y
    with pytest.raises(DataError) as caught:
        provenance.check_records("evaluate", edited, "train")
    assert str(caught.value) == (
        f"{record}: the train stage's outputs were made with train.knn.n_neighbors = {made}, "
        f"params.yaml has {made - 18} (an edit while it ran?); rerun it: "
        "dvc repro --force --single-item train"
    )


def test_a_removed_key_and_a_lost_record_are_refused(params: dict, record: Path) -> None:
    with pytest.raises(DataError, match=r"model\.params\.json: missing; run the upstream"):
        provenance.check_records("evaluate", params, "train")
    with writers.together():
        provenance.write_record("train", params)
    edited = copy.deepcopy(params)
    del edited["train"]["meta"]["folds"]
    with pytest.raises(DataError, match=r"train\.meta\.folds = 5, params\.yaml has absent"):
        provenance.check_records("evaluate", edited, "train")
    record.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataError, match="not a params record"):
        provenance.check_records("evaluate", params, "train")


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The train, evaluate and shap records in tmp_path."""
    for stage in ("train", "evaluate", "shap"):
        monkeypatch.setitem(provenance.RECORDS, stage, tmp_path / f"{stage}.params.json")
    return provenance.RECORDS


def test_a_consumer_compares_only_the_params_it_declares(params: dict, records: dict) -> None:
    """segment declares no train param: a train edit it does not read never stops it (`dvc
    repro -s segment`), while the stage that reads train params still refuses the model."""
    with writers.together():
        for stage in ("train", "evaluate", "shap"):
            provenance.write_record(stage, params)
    k, seed = params["train"]["knn"]["n_neighbors"], params["shap"]["random_state"]
    repeats = params["evaluate"]["protocol_repeats"]
    edited = copy.deepcopy(params)
    edited["train"]["knn"]["n_neighbors"] += 2
    provenance.check_records("segment", edited, "train", "evaluate", "shap")
    provenance.check_records("shap", edited, "evaluate")
    with pytest.raises(
        DataError, match=rf"train\.knn\.n_neighbors = {k}, params\.yaml has {k + 2}"
    ):
        provenance.check_records("evaluate", edited, "train")
    edited["shap"]["random_state"] += 1  # declared by segment (the beeswarm's jitter)
    with pytest.raises(DataError, match=rf"shap\.params\.json: .* shap\.random_state = {seed}, "):
        provenance.check_records("segment", edited, "train", "evaluate", "shap")
    edited["evaluate"]["protocol_repeats"] += 1  # inside evaluate's block; shap declares it
    with pytest.raises(
        DataError, match=rf"protocol_repeats = {repeats}, params\.yaml has {repeats + 1}"
    ):
        provenance.check_records("shap", edited, "evaluate")


def test_records_a_consumer_combines_must_agree(params: dict, records: dict) -> None:
    """Scores made with other train params than the model's, or SHAP values of another
    protocol than the scores', are refused, whatever params.yaml says."""
    k, repeats = params["train"]["knn"]["n_neighbors"], params["evaluate"]["protocol_repeats"]
    other = copy.deepcopy(params)
    other["train"]["knn"]["n_neighbors"] += 2
    with writers.together():
        provenance.write_record("train", params)
        provenance.write_record("evaluate", other)
        provenance.write_record("shap", params)
    with pytest.raises(DataError) as caught:
        provenance.check_records("segment", params, "train", "evaluate", "shap")
    assert str(caught.value) == (
        f"{records['evaluate']}: the evaluate stage's outputs were made with "
        f"train.knn.n_neighbors = {k + 2}, the train stage's with {k}; rerun it: "
        "dvc repro evaluate"
    )
    other = copy.deepcopy(params)
    other["evaluate"]["protocol_repeats"] += 1
    with writers.together():
        provenance.write_record("evaluate", params)
        provenance.write_record("shap", other)
    with pytest.raises(
        DataError, match=rf"evaluate\.protocol_repeats = {repeats + 1}, the evaluate stage's"
    ):
        provenance.check_records("segment", params, "train", "evaluate", "shap")


def test_segment_alone_runs_after_a_train_edit(reproduced_project: Path, tmp_path: Path) -> None:
    """`dvc repro -s segment` with a train param edited (not rerun yet): segment reads no train
    param, so it runs on the outputs it has."""
    repo = clone_project(reproduced_project, tmp_path / "repo")
    set_params(repo, {"train": {"random_state": 7}})
    dvc(["repro", "--force", "--single-item", "segment"], repo)


def test_out_md5_is_what_dvc_lock_records(reproduced_project: Path) -> None:
    """The versions a stage quotes (segment: the model's and data/merged's md5s) are DVC's
    hashes, computed from the files it declares: checked on every output of the pipeline."""
    lock = provenance.load_lock_text((reproduced_project / "dvc.lock").read_bytes())
    outs = [o for stage in lock["stages"].values() for o in stage.get("outs", [])]
    assert {"models/model.skops", "data/merged"} <= {o["path"] for o in outs}
    for out in outs:
        assert provenance.out_md5(reproduced_project / out["path"]) == out["md5"], out["path"]


def test_locked_params_nest_dotted_keys_as_params_yaml_does() -> None:
    lock = {"stages": {"shap": {"params": {"params.yaml": {"shap.n_paths": 8, "a.b.c": 1}}}}}
    assert provenance.locked_params(lock, "shap") == {"shap": {"n_paths": 8}, "a": {"b": {"c": 1}}}
    assert provenance.locked_params(lock, "train") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"", r"empty \(0 bytes; a run killed while DVC wrote it\?\)"),
        (b"\n  \n", r"empty \(4 bytes"),
        (b"schema: '2.0'\nstages:\n  train: [\n", r"not valid YAML \(\w+\)"),
        (b"- a list\n", "not a DVC lock file"),
    ],
)
def test_an_empty_or_broken_lock_file_is_one_line_with_the_recovery(
    tmp_path: Path, text: bytes, problem: str
) -> None:
    lock = tmp_path / "dvc.lock"
    lock.write_bytes(text)
    with pytest.raises(DataError) as caught:
        provenance.check_lock_file(lock)
    assert re.fullmatch(
        rf"dvc\.lock: {problem}.*; recover with `git checkout -- dvc\.lock` "
        r"\(docs/reliability\.md\)",
        str(caught.value),
    ), caught.value


def test_a_sound_or_absent_lock_file_passes(tmp_path: Path) -> None:
    provenance.check_lock_file(paths.LOCK_FILE)
    provenance.check_lock_file(tmp_path / "dvc.lock")  # before the first `dvc repro`


def test_make_repro_checks_the_lock_file_before_dvc_runs(tmp_path: Path) -> None:
    """The check `make repro` runs, as it runs it: exit 2, one line; and it runs first."""
    makefile = (paths.ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^repro:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no repro target"
    commands = [line.strip() for line in recipe[1].splitlines()]
    check = "python -m oneclick.core.provenance"
    assert check in commands and commands.index(check) < commands.index("dvc repro"), commands
    project = code_sandbox(tmp_path / "project")
    (project / "dvc.lock").write_bytes(b"")
    run = run_module("oneclick.core.provenance", [], project)
    assert run.code == 2
    assert run.problems == [
        "error: dvc.lock: empty (0 bytes; a run killed while DVC wrote it?); recover with "
        "`git checkout -- dvc.lock` (docs/reliability.md)"
    ]


def test_speed_only_knobs_are_not_recorded_and_may_differ(params: dict, tmp_path: Path) -> None:
    """n_jobs changes how fast, not what (tests/pipeline/test_determinism.py): outputs made
    with 1 or 2 workers are the same bytes, their records too."""
    faster = copy.deepcopy(params)
    faster["evaluate"]["n_jobs"] = params["evaluate"]["n_jobs"] + 1
    faster["shap"]["n_jobs"] = params["shap"]["n_jobs"] + 1
    for stage in ("evaluate", "shap"):
        assert provenance.record_bytes(stage, params) == provenance.record_bytes(stage, faster)
        assert b"n_jobs" not in provenance.record_bytes(stage, params)
        record = provenance.made_with(stage, params)
        provenance.check_against(stage, record, faster, "params.yaml", "params.json")


def test_dvc_lock_numbers_read_as_dvc_wrote_them() -> None:
    """DVC writes YAML 1.2: `1e-06` is a number there, text by PyYAML's YAML 1.1 rules, which
    made predict see shap.additivity_tolerance 1e-06 as the text "1e-06"."""
    lock = provenance.load_lock_text(
        "stages:\n  shap:\n    params:\n      params.yaml:\n"
        "        shap.additivity_tolerance: 1e-06\n        shap.name: '1e-06'\n"
    )
    locked = provenance.locked_params(lock, "shap")
    assert locked == {"shap": {"additivity_tolerance": 1e-06, "name": "1e-06"}}
    record = {"shap.additivity_tolerance": 1e-06}
    provenance.check_against("shap", record, locked, "dvc.lock", "params.json")
