"""oneclick.review.verdicts: a verdict only beyond noise, on the same folds and customers."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from oneclick.data.contract import GROUP, LABEL
from oneclick.features.build import build_features
from oneclick.features.spec import feature_columns
from oneclick.model.procedure import fit_procedure
from oneclick.model.protocol import protocol_folds, run_protocol
from oneclick.review.verdicts import incomparable, paired_bootstrap, paired_folds, verdict
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged
from tests.model.test_procedure import TRAIN_PARAMS


@pytest.fixture(scope="module")
def customers() -> tuple[pd.DataFrame, dict]:
    train, test, spec, _, _ = build_features(synthetic_merged(400, twins=20), FEATURE_PARAMS)
    return pd.concat([train, test]).reset_index(drop=True), spec


def fold_scores(customers, fit, repeats: int = 3) -> pd.DataFrame:
    everyone, spec = customers
    X, y, groups = everyone[feature_columns(spec)], everyone[LABEL], everyone[GROUP]
    folds = protocol_folds(y.to_numpy(), groups.to_numpy(), repeats, 5, 0)
    scores, _, _ = run_protocol(fit, X, y, groups, folds)
    return scores


def by_metric(rows: list[dict]) -> dict[str, str]:
    return {row["metric"]: row["verdict"] for row in rows}


@pytest.mark.slow
def test_a_different_seed_alone_is_within_noise(customers) -> None:
    _, spec = customers

    def procedure(seed: int):
        params = {**TRAIN_PARAMS, "random_state": seed}
        return lambda X, y, g: fit_procedure(spec, params, X, y, g)

    rows = paired_folds(
        fold_scores(customers, procedure(0)), fold_scores(customers, procedure(7)), 5
    )
    assert by_metric(rows)["protocol roc_auc"] == "within noise"


def test_a_model_that_uses_the_signal_is_better_than_one_that_ignores_it(customers) -> None:
    """In synthetic_merged a latent risk drives marketing, promo, categories, pages and minutes;
    the other columns are noise. (Dropping half of the risk columns is not enough here: the
    risk is spread over many columns, and 400 customers give the corrected SE room.)"""
    _, spec = customers
    numeric = spec["numeric"]
    noise = ["marketing_current", "tenure_days", "unpaid_items_quarter", "service_errors"]

    def linear(columns: list[str]):
        def fit(X, y, g):
            prep = ColumnTransformer([("num", StandardScaler(), columns)])
            return make_pipeline(prep, LogisticRegression()).fit(X, y)

        return fit

    base = fold_scores(customers, linear(noise))
    head = fold_scores(customers, linear(numeric))
    verdicts = by_metric(paired_folds(base, head, 5))
    assert verdicts["protocol roc_auc"] == "better"
    assert verdicts["protocol log_loss"] == "better"
    assert by_metric(paired_folds(head, base, 5))["protocol roc_auc"] == "worse"


@pytest.mark.slow
def test_paired_bootstrap_over_the_same_test_customers() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    signal = y + rng.normal(0, 0.8, 300)
    weak = y + rng.normal(0, 3.0, 300)
    frame = lambda p: pd.DataFrame({"id": np.arange(300), "declined": y, "probability": p})  # noqa: E731
    resample = partial(paired_bootstrap, samples=400)  # the differences here are clear-cut
    same = resample(frame(signal), frame(signal))
    assert same["verdict"] == "within noise" and same["change"].startswith("+0.0000")
    better = resample(frame(weak), frame(signal))
    assert better["verdict"] == "better" and better["head"] > better["base"]
    jitter = resample(frame(signal), frame(signal + rng.normal(0, 0.05, 300)))
    assert jitter["verdict"] == "within noise"
    with pytest.raises(ValueError, match="different test customers"):
        resample(frame(signal).iloc[1:], frame(signal))


def test_verdict_needs_significance_and_a_better_side() -> None:
    assert verdict("roc_auc", 0.01, 0.01) == "better"
    assert verdict("brier", 0.01, 0.01) == "worse"
    assert verdict("roc_auc", 0.01, 0.2) == "within noise"
    assert verdict("segment_size", 5, 0.001) == "within noise"


def lock(data_md5: str, seed: int) -> dict:
    return {
        "stages": {
            "features": {"deps": [{"path": "data/merged", "md5": data_md5}]},
            "evaluate": {
                "params": {
                    "params.yaml": {
                        "evaluate": {
                            "protocol_repeats": 10,
                            "protocol_folds": 5,
                            "protocol_seed": seed,
                        }
                    }
                }
            },
        }
    }


def test_revisions_on_other_data_or_other_folds_are_not_compared() -> None:
    assert incomparable(lock("a.dir", 1000), lock("a.dir", 1000)) is None
    assert "different data" in incomparable(lock("a.dir", 1000), lock("b.dir", 1000))
    assert "folds differ" in incomparable(lock("a.dir", 1000), lock("a.dir", 7))


def test_any_incomparable_pair_becomes_a_not_compared_row(tmp_path, monkeypatch) -> None:
    """Another split (features.random_state) scores other test customers; other folds, a missing
    column: each gives a one-line "not compared" row, never an exception."""
    from oneclick.review import verdicts

    rng = np.random.default_rng(1)
    test = pd.DataFrame({"id": range(40), "declined": [0, 1] * 20, "probability": rng.random(40)})
    folds = pd.DataFrame(
        {"repeat": 0, "fold": range(5), "roc_auc": 0.9, "brier": 0.1, "log_loss": 0.3}
    )
    (tmp_path / "data" / "predictions").mkdir(parents=True)
    (tmp_path / "plots" / "evaluate").mkdir(parents=True)
    test.to_csv(tmp_path / verdicts.TEST_PREDICTIONS, index=False)
    folds.to_csv(tmp_path / verdicts.PROTOCOL_FOLDS, index=False)
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock("a.dir", 1000)), encoding="utf-8")
    monkeypatch.setattr(verdicts, "ROOT", tmp_path)
    # fewer resamples than a report's 2,000: only the row kinds are checked here
    monkeypatch.setattr(verdicts, "paired_bootstrap", partial(paired_bootstrap, samples=200))
    base_files = {
        "dvc.lock": yaml.safe_dump(lock("a.dir", 1000)),
        verdicts.PROTOCOL_FOLDS: folds.iloc[1:].to_csv(index=False),
        verdicts.TEST_PREDICTIONS: test.assign(id=test["id"] + 1000).to_csv(index=False),
    }
    monkeypatch.setattr(verdicts, "read_at", lambda rev, path: base_files.get(path))
    monkeypatch.setattr(verdicts, "_dvc_read", lambda path, rev: base_files.get(path))
    rows = verdicts.compare("main").rows
    assert [(r["metric"], r["change"], r["verdict"]) for r in rows] == [
        ("protocol scores", "not compared", "the two revisions' protocol folds differ"),
        ("test roc_auc", "not compared", "the two revisions scored different test customers"),
    ]
    base_files[verdicts.PROTOCOL_FOLDS] = folds.drop(columns="brier").to_csv(index=False)
    base_files[verdicts.TEST_PREDICTIONS] = test.to_csv(index=False)
    comparison = verdicts.compare("main")
    assert comparison.rows[0]["change"] == "not compared"
    assert comparison.rows[1]["verdict"] == "within noise" and comparison.folds is None
    base_files["dvc.lock"] = yaml.safe_dump(lock("a.dir", 7))
    assert "folds differ" in verdicts.compare("main").rows[0]["verdict"]
