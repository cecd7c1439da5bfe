"""params.yaml's one schema (oneclick/core/params_schema.py): a generated test runs every leaf
key set to a wrong type, out of range, and missing through each stage that declares it, in
process (the stage's main() on a patched params file): one line naming the key, exit code 2,
nothing written. Then the rules the table cannot show by itself."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from oneclick.core import config, entry, params_schema, paths, writers
from oneclick.core.errors import DataError
from oneclick.core.params_schema import SCHEMA, Rule, check_fit
from oneclick.features.engineered import ENGINEERED

MISSING = object()
PARAMS = yaml.safe_load(paths.PARAMS_FILE.read_text(encoding="utf-8"))
STAGES = yaml.safe_load(paths.DVC_FILE.read_text(encoding="utf-8"))["stages"]


def leaves(node: Any, key: str) -> Iterator[tuple[str, Rule]]:
    if isinstance(node, Rule):
        yield key, node
        return
    for part, child in node.items():
        yield from leaves(child, f"{key}.{part}")


def schema_node(key: str) -> Any:
    node = SCHEMA
    for part in key.split("."):
        node = node[part]
    return node


def cases() -> Iterator[Any]:
    for stage, declared in ((s, config.stage_params(s)) for s in STAGES):
        for key in declared:
            for leaf, rule in leaves(schema_node(key), key):
                absent = () if rule.optional else (MISSING,)  # an optional key may be left out
                for value in (*rule.wrong, *absent):
                    label = "missing" if value is MISSING else repr(value)
                    yield pytest.param(stage, leaf, value, id=f"{stage}-{leaf}-{label}")


def with_value(params: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(params)
    *blocks, last = key.split(".")
    target = changed
    for block in blocks:
        target = target[block]
    if value is MISSING:
        del target[last]
    else:
        target[last] = value
    return changed


@pytest.fixture
def run_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> Any:
    """stage, params -> (exit code, stderr lines): the stage's main() in this process, with
    params.yaml replaced and every writer refusing to run."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a stage wrote before validating its params")

    for name in ("write_csv", "write_json", "write_text", "write_bytes", "save_figure"):
        monkeypatch.setattr(writers, name, refuse)
    monkeypatch.setattr(writers, "together", refuse)

    def run(stage: str, params: Any) -> tuple[int, list[str]]:
        file = tmp_path / "params.yaml"
        file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        monkeypatch.setattr(paths, "PARAMS_FILE", file)
        monkeypatch.setattr("sys.argv", [stage])
        module = STAGES[stage]["cmd"].split(" -m ")[1].split()[0]
        with pytest.raises(SystemExit) as exit_info:
            entry.run(importlib.import_module(module).main)
        return exit_info.value.code, capsys.readouterr().err.splitlines()

    return run


@pytest.mark.parametrize(("stage", "key", "value"), list(cases()))
def test_every_wrong_or_missing_param_stops_its_stage_with_one_line(
    run_stage: Any, stage: str, key: str, value: Any
) -> None:
    code, lines = run_stage(stage, with_value(PARAMS, key, value))
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"error: params.yaml: {key}"), lines


def test_every_key_of_params_yaml_is_in_the_schema_and_every_stage_key_declared() -> None:
    params_schema.validate(PARAMS, list(PARAMS))  # no unknown key, every value allowed
    assert set(SCHEMA) == set(PARAMS)
    for stage in STAGES:
        for key in config.stage_params(stage):
            schema_node(key)  # a declared key the schema does not know would be a KeyError


def test_names_the_schema_repeats_agree_with_their_owners() -> None:
    assert set(PARAMS["features"]["engineered"]) <= set(ENGINEERED)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("shap.n_paths", 0),  # ran 2 paths
        ("shap.n_paths", 255),  # antithetic pairs
        ("shap.batch_elements", 0),  # hung
        ("features.collinearity_threshold", -1),  # trained on 1 of 18 features
        ("train.svc.C", float("inf")),
        ("segment.max_offers", 0),
        ("evaluate.protocol_folds", 1),
        ("evaluate.protocol_repeats", 0),
        ("evaluate.bootstrap_samples", 0),
        ("evaluate.n_jobs", 0),
        ("train.random_state", "x"),
        ("data.raw_dir", None),
        ("segment.threshold", 1.0),
        ("segment.fallback_offer.text", "скидка 50% {"),  # a stray brace crashed
        ("segment.fallback_offer.text", "купон\x1b[2J"),  # a control character
        ("segment.fallback_offer.text", "{favourite_category.__class__}"),
        ("features.engineered.revenue_trend", "yes"),
    ],
)
def test_values_the_probe_found_accepted_or_crashing_are_refused(key: str, value: Any) -> None:
    block = key.split(".")[0]
    with pytest.raises(DataError, match=rf"^params\.yaml: {key.rsplit('.', 1)[0]}"):
        params_schema.validate(with_value(PARAMS, key, value), [block])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "params.yaml: empty; expected a mapping"),
        ("# nothing\n", "params.yaml: empty; expected a mapping"),
        ("- a\n- b\n", "params.yaml: a list; expected a mapping"),
        ("just text\n", "params.yaml: a str; expected a mapping"),
        ("train: [1,\n", "params.yaml: line 2: invalid YAML"),
        (
            "shap:\n  n_paths: 2\n  n_paths: 256\n",
            "params.yaml: line 3: key 'n_paths' written twice",
        ),
        ("a: 1\na: 2\n", "params.yaml: line 2: key 'a' written twice"),
    ],
)
def test_a_file_that_is_not_a_mapping_of_blocks_is_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(DataError) as error:
        config.load_params(write(tmp_path, text))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_stage_refuses_an_empty_params_file_before_any_work(run_stage: Any) -> None:
    assert run_stage("train", None) == (
        2,
        ["error: params.yaml: empty; expected a mapping of blocks (data:, train:, ...)"],
    )


def test_an_unknown_key_in_a_declared_block_is_refused() -> None:
    params = with_value(PARAMS, "train.knn.neighbours", 5)
    with pytest.raises(DataError, match=r"train\.knn\.neighbours: 5 is not allowed; expected only"):
        params_schema.validate(params, ["train"])


def test_a_stage_checks_only_the_keys_it_declares() -> None:
    params = with_value(PARAMS, "shap.n_paths", 0)
    params_schema.validate(params, config.stage_params("train"))  # train does not read shap
    with pytest.raises(DataError, match=r"shap\.n_paths"):
        params_schema.validate(params, config.stage_params("shap"))


TRAIN = PARAMS["train"]


@pytest.mark.parametrize(
    ("counts", "protocol_folds", "message"),
    [
        ({0: 300}, None, r"only one class in the target \(0\); a model needs two"),
        ({0: 300, 1: 0}, 5, "only one class in the target"),
        ({0: 8, 1: 2}, None, "10 customers, 2 in the smaller class: at least 5 of each class"),
        ({0: 25, 1: 5}, 5, r"30 customers, 5 in the smaller class: at least 5 .*meta\.folds"),
        ({0: 30, 1: 30}, None, "train.knn.n_neighbors: 49 is not allowed; expected fewer than"),
        ({0: 1, 1: 9}, 5, r"at least 5 of each class .* evaluate\.protocol_folds = 5"),
    ],
)
def test_data_too_small_or_one_class_is_one_line(
    counts: dict[int, int], protocol_folds: int | None, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        check_fit(TRAIN, counts, "train.csv: column declined", protocol_folds)


def test_enough_data_passes_the_fit_rules() -> None:
    check_fit(TRAIN, {0: 600, 1: 400}, "train.csv: column declined", 5)
