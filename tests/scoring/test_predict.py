"""The scoring command: model integrity, chunked scoring, the output table, and end to end."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from oneclick.core.errors import DataError
from oneclick.data.contract import ID, MARKET_MONEY, PROFIT, REVENUE
from oneclick.scoring import artifacts as scoring
from oneclick.scoring import batch as predict
from oneclick.segment.selection import AT_RISK, PROBABILITY
from tests import bad_inputs

LOCK = {
    "schema": "2.0",
    "stages": {
        "train": {
            "cmd": "python -m stages.train",
            "outs": [
                {"path": "metrics/train.json", "hash": "md5", "md5": "0" * 32, "size": 1},
                {"path": "models/model.joblib", "hash": "md5", "md5": None, "size": 5},
            ],
        }
    },
}


def write_lock(directory: Path, model_bytes: bytes) -> Path:
    lock = yaml.safe_load(yaml.safe_dump(LOCK))
    lock["stages"]["train"]["outs"][1]["md5"] = hashlib.md5(model_bytes).hexdigest()
    path = directory / "dvc.lock"
    path.write_text(yaml.safe_dump(lock), encoding="utf-8")
    return path


@pytest.fixture
def tiny_model() -> Pipeline:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (x["a"] + 0.5 * x["b"] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    return Pipeline([("prep", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)


def test_file_md5_matches_hashlib_on_multi_block_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # > several read blocks of 1000 bytes
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert scoring.file_md5(path, block=1000) == hashlib.md5(data).hexdigest()


def test_locked_md5_finds_the_output_and_rejects_absent_or_hashless_entries() -> None:
    lock = yaml.safe_load(yaml.safe_dump(LOCK))
    lock["stages"]["train"]["outs"][1]["md5"] = "ab" * 16
    assert scoring.locked_md5(lock, "models/model.joblib") == "ab" * 16
    with pytest.raises(DataError, match=r"no entry for models/other\.joblib"):
        scoring.locked_md5(lock, "models/other.joblib")
    lock["stages"]["train"]["outs"][1]["md5"] = None
    with pytest.raises(DataError, match="no md5"):
        scoring.locked_md5(lock, "models/model.joblib")
    with pytest.raises(DataError, match="no entry"):
        scoring.locked_md5({}, "models/model.joblib")


def test_verify_artifact_accepts_the_locked_file_and_refuses_a_tampered_copy(
    tmp_path: Path,
) -> None:
    model = tmp_path / "model.joblib"
    model.write_bytes(b"model")
    lock = write_lock(tmp_path, b"model")
    assert scoring.verify_artifact(model, lock) == hashlib.md5(b"model").hexdigest()
    tampered = tmp_path / "tampered.joblib"
    shutil.copy(model, tampered)
    with open(tampered, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(DataError, match="refusing to unpickle"):
        scoring.verify_artifact(tampered, lock)
    with pytest.raises(DataError, match=r"absent\.joblib: missing; run the upstream stages"):
        scoring.verify_artifact(tmp_path / "absent.joblib", lock)
    with pytest.raises(DataError, match=r"dvc\.lock: missing"):
        scoring.verify_artifact(model, tmp_path / "sub" / "dvc.lock")


def test_load_verified_model_checks_before_unpickling(tmp_path: Path) -> None:
    """Not a pickle at all: joblib would fail differently; the md5 check must come first."""
    model = tmp_path / "model.joblib"
    model.write_bytes(b"not a pickle")
    lock = write_lock(tmp_path, b"the real model")
    with pytest.raises(DataError, match="differs"):
        scoring.load_verified_model(model, lock)


def test_check_model_columns(tiny_model: Pipeline) -> None:
    scoring.check_model_columns(tiny_model, ["a", "b"], "feature_spec.json")
    with pytest.raises(DataError, match=r"feature_spec\.json: feature columns"):
        scoring.check_model_columns(tiny_model, ["b", "a"], "feature_spec.json")


def test_chunks_cover_every_row_once() -> None:
    parts = list(scoring.chunks(10, 4))
    assert [(p.start, p.stop) for p in parts] == [(0, 4), (4, 8), (8, 10)]
    assert list(scoring.chunks(0, 4)) == []
    with pytest.raises(DataError, match="chunk-size"):
        list(scoring.chunks(10, 0))


@pytest.mark.parametrize(("size", "n_jobs"), [(1, 1), (7, 2), (1000, 2)])
def test_predict_in_chunks_equals_one_call(tiny_model: Pipeline, size: int, n_jobs: int) -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    expected = tiny_model.predict_proba(x)[:, 1]
    got = scoring.predict_in_chunks(tiny_model, x, size, n_jobs)
    assert np.array_equal(got, expected)


def test_neighbour_shap_averages_the_nearest_explained_customers(tiny_model: Pipeline) -> None:
    explained = pd.DataFrame({"a": [0.0, 0.1, 5.0, 5.1], "b": [0.0, 0.0, 5.0, 5.0]})
    shap = pd.DataFrame({"a": [1.0, 3.0, -1.0, -3.0], "b": [0.0, 2.0, 0.0, -2.0]})
    rows = pd.DataFrame({"a": [0.05, 5.05], "b": [0.0, 5.0]})
    got = scoring.neighbour_shap(tiny_model, explained, shap, rows, k=2)
    assert np.allclose(got, [[2.0, 1.0], [-2.0, -1.0]])
    # k larger than the explained set: everyone's mean
    assert np.allclose(scoring.neighbour_shap(tiny_model, explained, shap, rows, k=10), 0.0)


def test_excluded_customers_say_why() -> None:
    removed = [
        {"id": 7, "reason": "zero_revenue", "periods": ["предыдущий_месяц"]},
        {"id": 3, "reason": "revenue_outlier", "periods": []},
        {"id": 9, "reason": "something_new", "periods": []},
    ]
    frame = scoring.excluded_customers(removed)
    assert frame[ID].tolist() == [7, 3, 9]
    assert frame["status"].tolist() == [
        "excluded: zero revenue month",
        "excluded: revenue outlier",
        "excluded: something_new",
    ]
    assert scoring.excluded_customers([]).empty


def test_driver_method_auto_switches_on_segment_size_unless_linear() -> None:
    limit = predict.AUTO_SHAP_LIMIT
    assert predict.driver_method("auto", limit, "sampled") == "shap"
    assert predict.driver_method("auto", limit + 1, "sampled") == "neighbours"
    assert predict.driver_method("auto", limit + 1, "tree") == "neighbours"
    assert predict.driver_method("auto", 10**9, "linear") == "shap"
    assert predict.driver_method("shap", 10**9, "sampled") == "shap"
    assert predict.driver_method("neighbours", 1, "linear") == "neighbours"


def test_score_table_and_output_table_keep_every_customer_in_id_order() -> None:
    merged = pd.DataFrame({PROFIT: [2.0, 4.0, 1.0], "x": [1, 2, 3]}, index=pd.Index([30, 10, 20]))
    merged.index.name = ID
    features = pd.DataFrame({"x": [1, 2, 3], "trend": [0.5, 0.0, -0.5]})
    table = predict.score_table(merged, features, np.array([0.5, 0.9, 0.2]))
    assert table[ID].tolist() == [30, 10, 20]
    assert table["trend"].tolist() == [0.5, 0.0, -0.5]
    assert table[AT_RISK].tolist() == pytest.approx([1.0, 3.6, 0.2])
    mask = pd.Series([False, True, False])
    excluded = pd.DataFrame({ID: [15], "status": ["excluded: revenue outlier"]})
    out = predict.output_table(table, mask, excluded)
    assert out[ID].tolist() == [10, 15, 20, 30]
    assert out.columns.tolist() == [ID, "status", PROBABILITY, "in_segment", PROFIT, AT_RISK]
    assert out["status"].tolist() == ["scored", "excluded: revenue outlier", "scored", "scored"]
    assert out.loc[out[ID] == 15, PROBABILITY].isna().all()
    assert predict.segment_file(Path("a/scores.csv")) == Path("a/scores.segment.csv")


# End to end, in the reproduced project (the model needs the pipeline's outputs).


def run_predict(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stages.predict", *args], cwd=repo, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def sample_scores(reproduced_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline's own input scored by the command, drivers by the shap stage's explainer."""
    out = tmp_path_factory.mktemp("predict") / "scores.csv"
    result = run_predict(
        reproduced_project, "--input", "data/sample", "--output", str(out), "--drivers", "shap"
    )
    assert result.returncode == 0, result.stderr
    return out


def test_scoring_the_pipeline_input_lists_every_customer(
    sample_scores: Path, reproduced_project: Path
) -> None:
    scores = pd.read_csv(sample_scores)
    assert "driver_1" not in scores and "offers" not in scores  # never empty for most rows
    raw_ids = pd.read_csv(reproduced_project / "data" / "sample" / "market_file.csv")[ID]
    assert sorted(scores[ID]) == sorted(raw_ids)
    assert scores[ID].is_monotonic_increasing
    scored = scores["status"] == "scored"
    clean_ids = pd.read_csv(reproduced_project / "data" / "clean" / "market_file.csv")[ID]
    assert sorted(scores.loc[scored, ID]) == sorted(clean_ids)
    assert scores.loc[~scored, "status"].str.startswith("excluded: ").all()
    assert scores.loc[scored, PROBABILITY].between(0, 1).all()
    assert scores.loc[~scored, PROBABILITY].isna().all()
    in_segment = scores.loc[scores["in_segment"] == True, ID]  # noqa: E712  (True/False/NaN)
    segment = pd.read_csv(predict.segment_file(sample_scores))
    assert len(segment) > 0 and sorted(segment[ID]) == sorted(in_segment)
    assert segment[AT_RISK].is_monotonic_decreasing
    assert segment["offers"].notna().all() and segment["offer_codes"].notna().all()


def test_test_customers_get_the_probabilities_evaluate_gave_them(
    sample_scores: Path, reproduced_project: Path
) -> None:
    """Same cleaning, merge, features and model as the pipeline: same probability."""
    scores = pd.read_csv(sample_scores).set_index(ID)
    test_ids = pd.read_csv(reproduced_project / "data" / "features" / "test.csv")[ID]
    evaluated = pd.read_csv(reproduced_project / "data" / "predictions" / "scores.csv")
    evaluated = evaluated.set_index(ID).loc[test_ids, PROBABILITY]
    assert np.allclose(scores.loc[test_ids, PROBABILITY], evaluated, atol=1e-6)


def test_segment_drivers_are_the_shap_stage_values(
    sample_scores: Path, reproduced_project: Path
) -> None:
    segment = pd.read_csv(predict.segment_file(sample_scores)).set_index(ID)
    shap = pd.read_csv(reproduced_project / "data" / "shap" / "values.csv").set_index(ID)
    # the shap stage explains test customers with the final model, as predict does everyone
    # (training customers: with their out-of-fold model, so the two differ there by design)
    split = pd.read_csv(reproduced_project / "data/predictions/scores.csv").set_index(ID)["split"]
    segment = segment[split.reindex(segment.index).eq("test").to_numpy()]
    assert len(segment) >= 10
    for customer, row in segment.head(20).iterrows():
        driver = row["driver_1"]
        assert shap.at[customer, driver] == pytest.approx(row["driver_1_shap"], abs=1e-6)


def test_output_does_not_depend_on_chunks_threads_or_model_path(
    sample_scores: Path, reproduced_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.csv"
    model = tmp_path / "copy.joblib"
    shutil.copy(reproduced_project / "models" / "model.joblib", model)
    args = ["--chunk-size", "97", "--n-jobs", "1", "--drivers", "shap", "--model", str(model)]
    result = run_predict(reproduced_project, "--input", "data/sample", "--output", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == sample_scores.read_bytes()
    segment = predict.segment_file(out).read_bytes()
    assert segment == predict.segment_file(sample_scores).read_bytes()


def test_spreadsheet_formats_hold_the_same_tables_in_words(
    sample_scores: Path, reproduced_project: Path, tmp_path: Path
) -> None:
    """csv-ru and xlsx: the same two tables (campaign, every customer), Russian words, same
    numbers as the code-facing csv."""
    from tests.segment.test_business_outputs import (
        assert_same_table,
        cells,
        read_csv_ru,
        read_xlsx,
        untranslated,
    )

    written = {}
    for fmt, name in (("csv-ru", "scores.csv"), ("xlsx", "scores.xlsx")):
        out = tmp_path / name
        args = ["--input", "data/sample", "--output", str(out), "--drivers", "shap"]
        result = run_predict(reproduced_project, *args, "--format", fmt)
        assert result.returncode == 0, result.stderr
        written[fmt] = out
    everyone = read_csv_ru(written["csv-ru"])
    campaign = read_csv_ru(predict.segment_file(written["csv-ru"]))
    assert_same_table(read_xlsx(written["xlsx"], "Все клиенты"), everyone)
    assert_same_table(read_xlsx(written["xlsx"], "Кампания"), campaign)
    code = pd.read_csv(sample_scores)
    assert everyone[ID].tolist() == code[ID].tolist()
    in_segment = code["in_segment"].eq(True).sum()  # the column holds True/False/NaN
    assert (everyone["В сегменте"] == "да").sum() == len(campaign) == in_segment
    segment = pd.read_csv(predict.segment_file(sample_scores))
    assert campaign[ID].tolist() == segment[ID].tolist()
    for table in (everyone, campaign):
        assert untranslated(cells(table)) == [], untranslated(cells(table))


def test_broken_input_gets_its_error_line_and_no_progress_lines(
    reproduced_project: Path, tmp_path: Path
) -> None:
    data = shutil.copytree(reproduced_project / "data" / "sample", tmp_path / "in")
    bad_inputs.edit_rows(MARKET_MONEY.key, bad_inputs.set_value(REVENUE, "пять"))(data)
    out = tmp_path / "scores.csv"
    result = run_predict(reproduced_project, "--input", str(data), "--output", str(out))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: {MARKET_MONEY.filename}: ")
    assert not out.exists()


def test_tampered_model_is_refused_with_one_line(reproduced_project: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.joblib"
    shutil.copy(reproduced_project / "models" / "model.joblib", model)
    with open(model, "ab") as handle:
        handle.write(b"\0")
    out = tmp_path / "scores.csv"
    result = run_predict(
        reproduced_project, "--input", "data/sample", "--output", str(out), "--model", str(model)
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if not line.startswith("INFO ")]
    assert len(errors) == 1 and "refusing to unpickle" in errors[0], result.stderr
    assert not out.exists()


def test_neighbour_space_is_found_inside_calibrated_and_voting_models() -> None:
    import numpy as np
    import pandas as pd
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from oneclick.scoring.artifacts import preprocessing

    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(10, 5, 60), "b": rng.normal(0, 1, 60)})
    y = (x["a"] + rng.normal(0, 3, 60) > 10).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    vote = VotingClassifier([("p", pipe), ("q", pipe)], voting="soft").fit(x, y)
    calibrated = CalibratedClassifierCV(vote, cv=3).fit(x, y)
    for model in (pipe.fit(x, y), vote, calibrated):
        scaled = preprocessing(model).transform(x)
        # a fitted scaler (on all rows, or a CV fold's for the calibrated model), not raw values
        assert np.allclose(scaled.mean(axis=0), 0, atol=0.5)
        assert np.allclose(scaled.std(axis=0), 1, atol=0.3)
