"""Stage `evaluate`: metrics on tiny known cases, plot tables, honest out-of-fold scores, and the
features -> train -> evaluate mains chained on synthetic customers in a temp directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from stages import common, evaluate, features, modeling, train
from stages.contract import GROUP, ID, LABEL, TARGET_NEGATIVE, TARGET_POSITIVE
from stages.evaluate import (
    auc_from_ranks,
    bootstrap_auc_interval,
    calibration_table,
    classification_metrics,
    confusion_table,
    out_of_fold,
    precision_recall_table,
    roc_table,
    scores_frame,
)
from stages.modeling import predict_declined
from tests.test_features import PARAMS as FEATURE_PARAMS
from tests.test_features import synthetic_merged
from tests.test_train import TRAIN_PARAMS

Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.6, 0.4, 0.9])


def test_metrics_on_a_tiny_known_case() -> None:
    m = classification_metrics(Y, P, threshold=0.5)
    # ranking: of the 4 (positive, negative) pairs, 3 are ordered right
    assert m["roc_auc"] == pytest.approx(0.75)
    # average precision: recall 0.5 at precision 1 (0.9), then recall 1 at precision 2/3 (0.4)
    assert m["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.4, 0.9])))
    assert m["confusion"] == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}
    assert m["precision"] == m["recall"] == m["f1"] == m["accuracy"] == pytest.approx(0.5)


def test_threshold_moves_the_decision_and_is_inclusive() -> None:
    m = classification_metrics(Y, P, threshold=0.4)  # 0.4 itself counts as declined
    assert m["confusion"] == {"tn": 1, "fp": 1, "fn": 0, "tp": 2}
    assert m["recall"] == 1 and m["precision"] == pytest.approx(2 / 3)
    assert m["roc_auc"] == classification_metrics(Y, P, threshold=0.9)["roc_auc"]


def test_rank_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.round(y * 0.2 + rng.uniform(0, 1, 300), 1)  # coarse: many ties
    assert auc_from_ranks(y, p) == pytest.approx(roc_auc_score(y, p))


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_more_customers() -> None:
    rng = np.random.default_rng(4)

    def case(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        return y, y * 0.3 + rng.uniform(0, 1, n)

    y, p = case(300)
    low, high = bootstrap_auc_interval(y, p, 300, seed=0)
    assert low < roc_auc_score(y, p) < high
    assert (low, high) == bootstrap_auc_interval(y, p, 300, seed=0)
    big_low, big_high = bootstrap_auc_interval(*case(3000), 300, seed=0)
    assert big_high - big_low < (high - low) / 2


def test_roc_and_pr_tables_are_finite_and_ordered() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.3 + rng.uniform(0, 0.7, 200), 0, 1)
    roc = roc_table(y, p)
    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    assert np.isfinite(roc.to_numpy()).all() and roc["threshold"].max() <= 1
    assert roc["fpr"].is_monotonic_increasing and roc["tpr"].is_monotonic_increasing
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(roc_auc_score(y, p))
    pr = precision_recall_table(y, p)
    assert list(pr.columns) == ["recall", "precision"] and pr["recall"].is_monotonic_increasing


def test_calibration_table_tracks_calibrated_probabilities() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, 20000) < p).astype(int)  # calibrated by construction
    table = calibration_table(y, p, bins=5)
    assert len(table) == 5 and (table["perfect"] == table["mean_predicted"]).all()
    assert np.abs(table["fraction_positive"] - table["mean_predicted"]).max() < 0.03
    overconfident = calibration_table(y, np.where(p > 0.5, 1.0, 0.0), bins=5)
    assert np.abs(overconfident["fraction_positive"] - overconfident["mean_predicted"]).max() > 0.2


def test_confusion_table_uses_the_store_labels() -> None:
    table = confusion_table(Y, P, 0.5)
    assert table["actual"].tolist() == [
        TARGET_NEGATIVE,
        TARGET_NEGATIVE,
        TARGET_POSITIVE,
        TARGET_POSITIVE,
    ]
    assert table["predicted"].tolist() == [
        TARGET_NEGATIVE,
        TARGET_POSITIVE,
        TARGET_NEGATIVE,
        TARGET_POSITIVE,
    ]


def test_out_of_fold_never_predicts_a_row_with_a_model_that_saw_its_group() -> None:
    """Labels are pure noise, every customer has an identical twin in its group. A 1-nearest-
    neighbour model that saw the twin predicts the label perfectly; out of fold it must not."""
    rng = np.random.default_rng(2)
    n = 150
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = pd.Series(rng.integers(0, 2, n))
    X2, y2 = pd.concat([X, X], ignore_index=True), pd.concat([y, y], ignore_index=True)
    groups = pd.Series(np.tile(np.arange(n), 2))
    model = make_pipeline(KNeighborsClassifier(1)).fit(X2, y2)
    assert roc_auc_score(y2, predict_declined(model, X2)) == 1.0  # in-sample: memorised
    oof = out_of_fold(model, X2, y2, groups, folds=5, seed=0)
    assert abs(roc_auc_score(y2, oof) - 0.5) < 0.12
    assert np.array_equal(oof, out_of_fold(model, X2, y2, groups, folds=5, seed=0))


def test_scores_frame_covers_everyone_once_sorted_by_id() -> None:
    train_part = pd.DataFrame({ID: [3, 1], LABEL: [1, 0]})
    test_part = pd.DataFrame({ID: [2], LABEL: [1]})
    scores = scores_frame(train_part, np.array([0.7, 0.2]), test_part, np.array([0.9]))
    assert scores.to_dict("list") == {
        ID: [1, 2, 3],
        "split": ["train", "test", "train"],
        LABEL: [0, 1, 1],
        "probability": [0.2, 0.9, 0.7],
    }


def test_predict_declined_refuses_unexpected_classes() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    model = make_pipeline(LogisticRegression()).fit(X, ["no", "no", "yes", "yes"])
    with pytest.raises(ValueError, match="expected \\[0, 1\\]"):
        predict_declined(model, X)


# --- the three stage mains, chained ---------------------------------------------------------


def run_stages(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """features.main -> train.main -> evaluate.main with every path under root; file bytes."""
    params = {
        "features": FEATURE_PARAMS,
        "train": TRAIN_PARAMS,
        "evaluate": {"threshold": 0.5, "calibration_bins": 5, "bootstrap_samples": 200},
    }
    paths = {
        "ROOT": root,
        "MERGED_FILE": root / "data/merged/customers.csv",
        "TRAIN_FILE": root / "data/features/train.csv",
        "TEST_FILE": root / "data/features/test.csv",
        "MODEL_FILE": root / "models/model.joblib",
        "SCORES_FILE": root / "data/predictions/scores.csv",
        "METRICS_DIR": root / "metrics",
        "PLOTS_DIR": root / "plots",
    }
    for name, path in paths.items():
        monkeypatch.setattr(common, name, path)
    monkeypatch.setattr(modeling, "SPEC_FILE", root / "data/features/feature_spec.json")
    monkeypatch.setattr(common, "load_params", lambda: params)
    paths["MERGED_FILE"].parent.mkdir(parents=True)
    synthetic_merged(300, twins=10).to_csv(paths["MERGED_FILE"], index=False)
    for stage in (features, train, evaluate):
        stage.main()
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_stage_mains_chain_and_rerun_byte_identical(tmp_path: Path, monkeypatch) -> None:
    first = run_stages(tmp_path / "a", monkeypatch)
    expected = {
        "data/features/train.csv",
        "data/features/test.csv",
        "data/features/feature_spec.json",
        "metrics/features.json",
        "plots/features/phik.png",
        "models/model.joblib",
        "metrics/train.json",
        "plots/train/leaderboard.png",
        "metrics/evaluate.json",
        "plots/evaluate/roc.csv",
        "plots/evaluate/precision_recall.csv",
        "plots/evaluate/calibration.csv",
        "plots/evaluate/confusion.csv",
        "data/predictions/scores.csv",
    }
    assert expected <= set(first)
    second = run_stages(tmp_path / "b", monkeypatch)
    assert first == second

    root = tmp_path / "a"
    metrics = json.loads(first["metrics/evaluate.json"])
    for key in ("roc_auc", "pr_auc", "brier", "f1", "precision", "recall", "accuracy"):
        assert 0 <= metrics[key] <= 1
    assert metrics["roc_auc"] > 0.75
    scores = pd.read_csv(root / "data/predictions/scores.csv")
    merged = pd.read_csv(root / "data/merged/customers.csv")
    test_ids = pd.read_csv(root / "data/features/test.csv")[ID]
    assert scores[ID].tolist() == sorted(merged[ID])
    assert set(scores.loc[scores["split"] == "test", ID]) == set(test_ids)
    assert scores["probability"].between(0, 1).all()
    split_of_group = scores.merge(merged[[ID, GROUP]]).groupby(GROUP)["split"].nunique()
    assert (split_of_group == 1).all()


@pytest.mark.parametrize("threshold", [1.5, "0,5", None])
def test_evaluate_stage_checks_its_threshold_before_reading(
    monkeypatch: pytest.MonkeyPatch, threshold: object
) -> None:
    params = {"evaluate": {"threshold": threshold}}
    monkeypatch.setattr(common, "load_params", lambda: params)
    monkeypatch.setattr(evaluate, "load_spec", lambda: pytest.fail("read before the check"))
    with pytest.raises(common.DataError, match=r"evaluate\.threshold: .* is not a number"):
        evaluate.main()
