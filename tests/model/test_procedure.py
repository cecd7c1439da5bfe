"""oneclick.model.procedure and pipelines: the stack, its params, its grouped folds, and that it
is honest (never sees the test part) and useful."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import roc_auc_score

from oneclick.data.contract import GROUP, ID, LABEL, ORDINAL_FEATURES
from oneclick.features.build import build_features
from oneclick.features.spec import feature_columns
from oneclick.model.pipelines import build_preprocessor, cv_splits, predict_declined
from oneclick.model.procedure import (
    CappedKNN,
    CappedSVC,
    build_stack,
    capped_rows,
    fit_procedure,
    meta_weights,
)
from oneclick.model.training import train_model
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged

TRAIN_PARAMS = {
    "random_state": 0,
    "svc": {"C": 1.0, "gamma": "scale", "select_C": 0.1, "max_rows": None},
    "knn": {"n_neighbors": 15, "weights": "distance", "max_rows": None},
    "logistic_regression": {"C": 1.0},
    "meta": {"C": 1.0, "folds": 3},
}


@pytest.fixture(scope="module")
def parts() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    train, test, spec, _, _ = build_features(synthetic_merged(400, twins=20), FEATURE_PARAMS)
    return train, test, spec


@pytest.fixture(scope="module")
def trained(parts) -> tuple:
    train, _, spec = parts
    return train_model(train, spec, TRAIN_PARAMS)


def test_preprocessor_encodes_ordinal_in_contract_order_and_ignores_unknown_categories(parts):
    train, _, spec = parts
    prep = build_preprocessor(spec).fit(train[feature_columns(spec)])
    names = list(prep.get_feature_names_out())
    out = pd.DataFrame(prep.transform(train[feature_columns(spec)]), columns=names)
    for column, order in ORDINAL_FEATURES.items():
        expected = train[column].map({value: i for i, value in enumerate(order)})
        assert out[column].tolist() == expected.tolist()
    unseen = train[feature_columns(spec)].head(1).assign(favourite_category="Книги")
    one_hot = [n for n in names if n.startswith("favourite_category_")]
    assert len(one_hot) > 1
    assert (pd.DataFrame(prep.transform(unseen), columns=names)[one_hot] == 0).all(axis=None)


def test_cv_splits_keep_duplicate_groups_together_and_cover_every_row(parts) -> None:
    train, _, _ = parts
    assert train[GROUP].duplicated().any()
    splits = cv_splits(train[LABEL], train[GROUP], 4, 0)
    validation = np.concatenate([v for _, v in splits])
    assert sorted(validation) == list(range(len(train)))
    for fit_rows, val_rows in splits:
        assert not set(train[GROUP].iloc[fit_rows]) & set(train[GROUP].iloc[val_rows])


def test_cv_splits_are_stratified_by_label(parts) -> None:
    train, _, _ = parts
    splits = cv_splits(train[LABEL], train[GROUP], 4, 0)
    positives = [train[LABEL].iloc[held].sum() for _, held in splits]
    largest_group = train[GROUP].value_counts().max()
    assert max(positives) - min(positives) <= largest_group + 1


def test_the_stacks_own_folds_are_grouped_by_duplicate(parts) -> None:
    train, _, spec = parts
    stack = build_stack(spec, TRAIN_PARAMS, train[LABEL], train[GROUP], 0)
    folds = stack["stack"].cv
    assert len(folds) == TRAIN_PARAMS["meta"]["folds"]
    for fit_rows, held in folds:
        assert not set(train[GROUP].iloc[fit_rows]) & set(train[GROUP].iloc[held])


def test_trained_stack_beats_a_dummy_and_reports_its_meta_weights(parts, trained) -> None:
    train, test, spec = parts
    model, metrics = trained
    X_test, y_test = test[feature_columns(spec)], test[LABEL]
    dummy = DummyClassifier(strategy="prior").fit(train[feature_columns(spec)], train[LABEL])
    dummy_auc = roc_auc_score(y_test, dummy.predict_proba(X_test)[:, 1])
    assert roc_auc_score(y_test, predict_declined(model, X_test)) > dummy_auc + 0.25
    assert list(model.feature_names_in_) == feature_columns(spec)
    assert model["stack"].stack_method_ == ["decision_function", "predict_proba", "predict_proba"]
    assert set(meta_weights(model)) == {"svc", "knn", "logistic_regression", "intercept"}
    assert metrics["meta_weight"] == {
        k: meta_weights(model)[k] for k in ("svc", "knn", "logistic_regression")
    }
    assert 0 < metrics["svc_features_kept"] <= len(model["prep"].get_feature_names_out())


def test_training_never_sees_the_test_part(parts, trained) -> None:
    """Scrambling every test customer's features changes nothing in training."""
    train, test, spec = parts
    model, metrics = trained
    rng = np.random.default_rng(5)
    merged = synthetic_merged(400, twins=20)
    in_test = merged[ID].isin(test[ID])
    numeric = merged.select_dtypes("number").columns.drop([ID, GROUP, LABEL])
    merged.loc[in_test, numeric] = rng.permutation(merged.loc[in_test, numeric].to_numpy())
    train2, test2, spec2, _, _ = build_features(merged, FEATURE_PARAMS)
    assert test2[ID].tolist() == test[ID].tolist() and spec2 == spec
    model2, metrics2 = train_model(train2, spec2, TRAIN_PARAMS)
    assert metrics2 == metrics
    X = train[feature_columns(spec)]
    np.testing.assert_allclose(predict_declined(model2, X), predict_declined(model, X), atol=1e-12)


def test_fitting_twice_gives_the_same_model(parts, trained) -> None:
    train, test, spec = parts
    X = train[feature_columns(spec)]
    again = fit_procedure(spec, TRAIN_PARAMS, X, train[LABEL], train[GROUP])
    X_test = test[feature_columns(spec)]
    np.testing.assert_allclose(
        predict_declined(again, X_test), predict_declined(trained[0], X_test), atol=1e-12
    )


def capped(svc: int | None, knn: int | None) -> dict:
    return {
        **TRAIN_PARAMS,
        "svc": {**TRAIN_PARAMS["svc"], "max_rows": svc},
        "knn": {**TRAIN_PARAMS["knn"], "max_rows": knn},
    }


def test_capped_rows_are_a_class_stratified_subsample_of_exactly_max_rows() -> None:
    y = np.array([0] * 700 + [1] * 300)
    rows = capped_rows(y, 101, seed=3)
    assert len(rows) == 101 and len(set(rows)) == 101
    assert np.all(np.diff(rows) > 0)  # original order
    assert abs(y[rows].mean() - 0.3) < 0.01
    assert np.array_equal(rows, capped_rows(y, 101, seed=3))
    assert not np.array_equal(rows, capped_rows(y, 101, seed=4))
    assert np.array_equal(capped_rows(y, None, 0), np.arange(1000))
    assert np.array_equal(capped_rows(y, 1000, 0), np.arange(1000))


def test_capped_members_fit_on_at_most_max_rows(parts) -> None:
    train, _, spec = parts
    X, y, groups = train[feature_columns(spec)], train[LABEL], train[GROUP]
    model = fit_procedure(spec, capped(60, 80), X, y, groups)
    svc = model["stack"].named_estimators_["svc"]["clf"]
    knn = model["stack"].named_estimators_["knn"]
    assert isinstance(svc, CappedSVC) and isinstance(knn, CappedKNN)
    assert len(svc.support_) <= 60 < len(y)
    assert knn.n_samples_fit_ == 80


def test_a_cap_above_the_rows_changes_nothing(parts, trained) -> None:
    train, test, spec = parts
    X, y, groups = train[feature_columns(spec)], train[LABEL], train[GROUP]
    model = fit_procedure(spec, capped(len(train), len(train)), X, y, groups)
    expected = predict_declined(trained[0], test[feature_columns(spec)])
    assert np.array_equal(predict_declined(model, test[feature_columns(spec)]), expected)


def test_a_capped_stack_is_explained_like_the_exact_one(parts) -> None:
    """The capped members are an SVC and a kNN to the path explainer: additive explanations."""
    from oneclick.explain.explainers import explain_model

    train, test, spec = parts
    columns = feature_columns(spec)
    model = fit_procedure(spec, capped(60, 80), train[columns], train[LABEL], train[GROUP])
    shap = {"random_state": 0, "background_size": None, "n_paths": 8, "n_jobs": 1}
    values, base, output, name = explain_model(
        model, train[columns], test[columns].head(5), {**shap, "batch_elements": 10**6}
    )
    assert "SVC (rbf)" in name and "KNN" in name
    np.testing.assert_allclose(base + values.sum(axis=1), output, atol=1e-9)
    np.testing.assert_allclose(output, predict_declined(model, test[columns].head(5)), atol=1e-9)
