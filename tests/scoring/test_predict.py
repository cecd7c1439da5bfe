"""The scoring command: model integrity, chunked scoring, the output table, and end to end."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from oneclick.core import writers
from oneclick.core.errors import DataError
from oneclick.data.contract import ID, MARKET_MONEY, PROFIT, REVENUE
from oneclick.model.persistence import dump_model
from oneclick.scoring import artifacts as scoring
from oneclick.scoring import batch as predict
from oneclick.scoring import integrity
from oneclick.segment.selection import AT_RISK, PROBABILITY
from tests import bad_inputs
from tests.conftest import clone_project

LOCK = {
    "schema": "2.0",
    "stages": {
        "train": {
            "cmd": "python -m stages.train",
            "outs": [
                {"path": "metrics/train.json", "hash": "md5", "md5": "0" * 32, "size": 1},
                {"path": "models/model.skops", "hash": "md5", "md5": None, "size": 5},
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


def test_locked_md5_finds_the_output_and_rejects_absent_or_hashless_entries(
    tmp_path: Path,
) -> None:
    outs = integrity.read_lock(write_lock(tmp_path, b"model"))
    assert integrity.locked_md5(outs, "models/model.skops") == hashlib.md5(b"model").hexdigest()
    with pytest.raises(DataError, match=r"no entry for models/other\.skops"):
        integrity.locked_md5(outs, "models/other.skops")
    outs["models/model.skops"]["md5"] = None
    with pytest.raises(DataError, match="no md5"):
        integrity.locked_md5(outs, "models/model.skops")
    with pytest.raises(DataError, match="no entry"):
        integrity.locked_md5({}, "models/model.skops")
    with pytest.raises(DataError, match=r"dvc\.lock: missing"):
        integrity.read_lock(tmp_path / "sub" / "dvc.lock")


def test_verified_file_returns_the_locked_bytes_and_refuses_a_tampered_copy(
    tmp_path: Path,
) -> None:
    outs = integrity.read_lock(write_lock(tmp_path, b"model"))
    model = tmp_path / "model.skops"
    model.write_bytes(b"model")
    assert integrity.verified_file(model, "models/model.skops", outs) == b"model"
    tampered = tmp_path / "tampered.skops"
    tampered.write_bytes(b"model\0")
    with pytest.raises(DataError, match="refusing to load an artifact the pipeline did not"):
        integrity.verified_file(tampered, "models/model.skops", outs)
    with pytest.raises(DataError, match=r"absent\.skops: missing; run the upstream stages"):
        integrity.verified_file(tmp_path / "absent.skops", "models/model.skops", outs)


def test_load_verified_model_checks_the_md5_before_parsing(tmp_path: Path) -> None:
    """Not a model at all: skops would fail differently; the md5 check must come first."""
    model = tmp_path / "model.skops"
    model.write_bytes(b"not a model")
    outs = integrity.read_lock(write_lock(tmp_path, b"the real model"))
    with pytest.raises(DataError, match="differs"):
        integrity.load_verified_model(model, outs)


def test_the_model_is_built_from_the_bytes_that_were_hashed(
    tmp_path: Path, tiny_model: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file swapped right after its md5 was checked is never the one loaded: it is read
    once. (Hashing, then opening the path again, loaded the swapped file.)"""
    good = dump_model(tiny_model)
    evil = dump_model(clone(tiny_model).set_params(clf__C=123.0).fit(*tiny_data()))
    model = tmp_path / "model.skops"
    model.write_bytes(good)
    outs = integrity.read_lock(write_lock(tmp_path, good))
    read_bytes = Path.read_bytes

    def read_then_swap(path: Path) -> bytes:
        data = read_bytes(path)
        if path == model:
            model.write_bytes(evil)  # the attacker's swap, the moment after the read
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_swap)
    loaded = integrity.load_verified_model(model, outs)
    assert loaded.get_params()["clf__C"] == 1.0
    assert model.read_bytes() == evil  # the swap happened; it was simply never read


def tiny_data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    return x, (x["a"] > 0).astype(int)


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
def test_predict_in_chunks_equals_one_call_at_the_written_precision(
    tiny_model: Pipeline, size: int, n_jobs: int
) -> None:
    """Raw probabilities may differ in the last bits between batch sizes (BLAS kernels: 5.55e-17
    on an AVX-512 Xeon); the rounded ones, which everything downstream uses, must not."""
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    one_call = tiny_model.predict_proba(x)[:, 1]
    got = scoring.predict_in_chunks(tiny_model, x, size, n_jobs)
    np.testing.assert_allclose(got, one_call, rtol=0, atol=5e-7)
    assert np.array_equal(got, writers.round_floats(one_call))
    assert np.array_equal(got, np.round(got, writers.FLOAT_DECIMALS))


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


def test_driver_method_auto_switches_on_segment_size() -> None:
    limit = predict.AUTO_SHAP_LIMIT
    assert predict.driver_method("auto", limit) == "shap"
    assert predict.driver_method("auto", limit + 1) == "neighbours"
    assert predict.driver_method("shap", 10**9) == "shap"
    assert predict.driver_method("neighbours", 1) == "neighbours"


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
    assert segment["expected_net_profit"].is_monotonic_decreasing  # the design's order
    assert (segment["expected_net_profit"] > 0).all()  # the segment: the net-profit peak
    treated = segment["group"] == "treatment"  # drawn as the segment stage draws it
    assert 0 < (~treated).sum() < treated.sum()
    assert (
        segment.loc[treated, "offers"].notna().all()
        and segment["offer_codes"][treated].notna().all()
    )
    assert segment.loc[~treated, "offer_codes"].isna().all()  # the control group: no offer
    economics = json.loads(predict.summary_file(sample_scores).read_text())["economics"]
    assert economics["contacted"] == treated.sum()  # the control group costs nothing
    cost = segment.loc[treated, "expected_cost"].sum()
    assert economics["expected_cost"] == pytest.approx(cost, abs=0.01)
    assert 0 < economics["break_even_drop"] < economics["assumed_drop"]


def test_test_customers_get_the_probabilities_evaluate_gave_them(
    sample_scores: Path, reproduced_project: Path
) -> None:
    """Same cleaning, merge, features and model as the pipeline: the final model's probability
    evaluate recorded for the test part (data/predictions/test.csv)."""
    scores = pd.read_csv(sample_scores).set_index(ID)
    evaluated = pd.read_csv(reproduced_project / "data" / "predictions" / "test.csv")
    evaluated = evaluated.set_index(ID)[PROBABILITY]
    assert len(evaluated) > 300
    assert np.allclose(scores.loc[evaluated.index, PROBABILITY], evaluated, atol=1e-6)


def test_segment_drivers_agree_with_the_shap_stage(sample_scores: Path, reproduced_project: Path):
    """predict explains the final model, the shap stage the protocol's models that scored each
    customer (oneclick/explain/values.py): close models, so the top decline driver predict names
    is a decline driver (SHAP > 0) there too, and among its three strongest (on the sample: all
    111 segment customers, both)."""
    segment = pd.read_csv(predict.segment_file(sample_scores)).set_index(ID)
    shap = pd.read_csv(reproduced_project / "data" / "shap" / "values.csv").set_index(ID)
    features = [c for c in shap.columns if c not in ("base_value", "model_output")]
    assert len(segment) >= 50 and segment["driver_1_shap"].gt(0).all()
    top = [
        row["driver_1"] in shap.loc[customer, features].nlargest(3).index
        for customer, row in segment.iterrows()
    ]
    positive = [shap.at[customer, row["driver_1"]] > 0 for customer, row in segment.iterrows()]
    assert np.mean(positive) >= 0.95 and np.mean(top) >= 0.9


def test_output_does_not_depend_on_chunks_threads_or_model_path(
    sample_scores: Path, reproduced_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.csv"
    model = tmp_path / "copy.skops"
    shutil.copy(reproduced_project / "models" / "model.skops", model)
    args = ["--chunk-size", "97", "--n-jobs", "1", "--drivers", "shap", "--model", str(model)]
    result = run_predict(reproduced_project, "--input", "data/sample", "--output", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == sample_scores.read_bytes()
    segment = predict.segment_file(out).read_bytes()
    assert segment == predict.segment_file(sample_scores).read_bytes()


def test_spreadsheet_formats_hold_the_same_tables_in_words(
    reproduced_project: Path, tmp_path: Path
) -> None:
    """csv-ru and xlsx: the same two tables (campaign, every customer), Russian words, same
    numbers as the code-facing csv (all three with neighbours' drivers: the formats are under
    test here, the SHAP drivers in test_output_does_not_depend_on_chunks_threads_or_model_path)."""
    from tests.segment.test_business_outputs import (
        assert_same_table,
        cells,
        read_csv_ru,
        read_xlsx,
        untranslated,
    )

    written = {}
    for fmt, name in (("csv", "code/scores.csv"), ("csv-ru", "scores.csv"), ("xlsx", "x.xlsx")):
        out = tmp_path / name
        out.parent.mkdir(exist_ok=True)
        args = ["--input", "data/sample", "--output", str(out), "--drivers", "neighbours"]
        result = run_predict(reproduced_project, *args, "--format", fmt)
        assert result.returncode == 0, result.stderr
        written[fmt] = out
    everyone = read_csv_ru(written["csv-ru"])
    campaign = read_csv_ru(predict.segment_file(written["csv-ru"]))
    assert_same_table(read_xlsx(written["xlsx"], "Все клиенты"), everyone)
    group = campaign.pop("Группа кампании")  # csv-ru: the segment with its group column
    to_contact = campaign[group == "получает предложение"].reset_index(drop=True)
    assert_same_table(read_xlsx(written["xlsx"], "Кампания"), to_contact)  # treated only
    held_out = read_xlsx(written["xlsx"], "Контроль — не связываться")
    assert held_out[ID].tolist() == campaign.loc[group != "получает предложение", ID].tolist()
    code = pd.read_csv(written["csv"])
    assert everyone[ID].tolist() == code[ID].tolist()
    in_segment = code["in_segment"].eq(True).sum()  # the column holds True/False/NaN
    assert (everyone["В сегменте"] == "да").sum() == len(campaign) == in_segment
    segment = pd.read_csv(predict.segment_file(written["csv"]))
    assert campaign[ID].tolist() == segment[ID].tolist()
    for table in (everyone, campaign):
        assert untranslated(cells(table)) == [], untranslated(cells(table))
    about = read_xlsx(written["xlsx"], "Описание").set_index("Что")["Значение"]
    economics = json.loads(predict.summary_file(written["csv"]).read_text())["economics"]
    points = f"{100 * economics['break_even_drop']:.1f}".replace(".", ",")
    assert f"хотя бы на {points} п.п." in about["Экономика кампании"]  # same as the summary


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
    model = tmp_path / "model.skops"
    shutil.copy(reproduced_project / "models" / "model.skops", model)
    with open(model, "ab") as handle:
        handle.write(b"\0")
    out = tmp_path / "scores.csv"
    result = run_predict(
        reproduced_project, "--input", "data/sample", "--output", str(out), "--model", str(model)
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if not line.startswith("INFO ")]
    assert len(errors) == 1 and "refusing to load an artifact" in errors[0], result.stderr
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


@pytest.mark.parametrize(
    ("artifact", "out"),
    [
        ("data/shap/values.csv", "data/shap"),
        ("data/features/feature_spec.json", "data/features"),
        ("data/features/train.csv", "data/features"),
    ],
)
def test_tampered_pipeline_artifact_is_refused_with_one_line(
    reproduced_project: Path, tmp_path: Path, artifact: str, out: str
) -> None:
    """Changed SHAP values changed every segment customer's offers; a changed spec or
    background changes probabilities and drivers. Each is checked against dvc.lock."""
    repo = clone_project(reproduced_project, tmp_path / "repo")
    path = repo / artifact
    data = path.read_bytes()
    path.unlink()  # a new file: never write through a link into the DVC cache
    path.write_bytes(data + b" ")  # even a harmless-looking byte
    output = tmp_path / "scores.csv"
    result = run_predict(repo, "--input", "data/sample", "--output", str(output))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr  # one line, nothing before it
    assert result.stderr.startswith(f"error: {out}: md5 ") and "dvc.lock" in result.stderr
    assert not output.exists()


FILE_SIZE_LIMIT = 20_000  # bytes: the scores of the 1,300 sample customers take ~150 KB


def small_file_size_limit() -> None:
    """In the child before exec: writes past the limit fail with EFBIG (SIGXFSZ ignored, or
    the kernel would kill the process), as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


@pytest.mark.parametrize(
    ("output_format", "name"), [("csv", "scores.csv"), ("csv-ru", "scores.csv"), ("xlsx", "x.xlsx")]
)
def test_predict_over_an_earlier_output_on_a_full_disk_keeps_it(
    reproduced_project: Path, tmp_path: Path, output_format: str, name: str
) -> None:
    output = tmp_path / name
    earlier = b"id,status,probability\n1,scored,0.5\n"
    output.write_bytes(earlier)
    args = ["--input", "data/sample", "--output", str(output), "--format", output_format]
    args += ["--drivers", "neighbours"]  # the writer is under test, not the explainer
    result = subprocess.run(
        [sys.executable, "-m", "stages.predict", *args],
        cwd=reproduced_project,
        capture_output=True,
        text=True,
        preexec_fn=small_file_size_limit,
    )
    assert result.returncode == 2, result.stderr
    problems = [line for line in result.stderr.splitlines() if not line.startswith("INFO ")]
    assert problems == [
        f"error: {output}: cannot write: file too large (file size limit reached); "
        "the previous file is unchanged"
    ], result.stderr
    assert output.read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file, no second table


def test_predict_refuses_a_link_as_output_or_derived_name(
    reproduced_project: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"not predict's\n")
    (tmp_path / "scores.segment.csv").symlink_to(precious)
    (tmp_path / "link.xlsx").symlink_to(precious)
    for output, fmt in (("scores.csv", "csv-ru"), ("link.xlsx", "xlsx")):
        args = ["--input", "data/sample", "--output", str(tmp_path / output), "--format", fmt]
        result = run_predict(reproduced_project, *args)
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "is a symbolic link" in result.stderr
    assert precious.read_bytes() == b"not predict's\n"
    assert not (tmp_path / "scores.csv").exists()
