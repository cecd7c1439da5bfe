"""Stage `train` with stages.modeling and stages.search: search-space parsing, the pipeline,
group-aware CV, calibration, and that the chosen model is honest (never sees the test part) and
useful."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler
from sklearn.svm import SVC

from oneclick.core.errors import DataError
from oneclick.data.contract import GROUP, ID, LABEL, ORDINAL_FEATURES
from oneclick.features.build import build_features
from oneclick.features.spec import feature_columns
from oneclick.model.pipelines import (
    build_pipeline,
    build_preprocessor,
    parse_search_space,
    pipeline_grid,
    predict_declined,
    readable_params,
    scaler_name,
)
from oneclick.model.search import (
    choose_calibration,
    cv_scores,
    cv_splits,
    rank,
    repeated_splits,
    search_family,
    soft_vote,
    with_calibration,
)
from oneclick.model.training import nested_cv, plot_leaderboard, select_model, vote_candidate
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged

SPACE = {
    "logistic_regression": {
        "scaler": ["standard", "minmax"],
        "select_k": [4, "all"],
        "C": [0.1, 1],
    },
    "knn": {"scaler": "robust", "n_neighbors": [15, 30], "weights": "distance"},
    "decision_tree": {"scaler": "passthrough", "max_depth": [2, 4]},
}
TRAIN_PARAMS = {
    "random_state": 0,
    "n_jobs": 1,
    "cv_folds": 3,
    "cv_repeats": 2,
    "nested_folds": 0,
    "n_iter": 3,
    "vote_top": 0,
    "calibration": {"methods": ["sigmoid"], "cv": 3, "metric": "log_loss"},
    "search_space": SPACE,
}


@pytest.fixture(scope="module")
def parts() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    train, test, spec, _, _ = build_features(synthetic_merged(400, twins=20), FEATURE_PARAMS)
    return train, test, spec


@pytest.fixture(scope="module")
def selected(parts) -> tuple[Pipeline, dict]:
    train, _, spec = parts
    return select_model(train, spec, TRAIN_PARAMS)


# --- search space ----------------------------------------------------------------------------


def test_search_space_lists_are_searched_scalars_fixed() -> None:
    parsed = parse_search_space(SPACE, random_state=3)
    assert list(parsed) == list(SPACE)
    lr, grid = parsed["logistic_regression"]
    assert isinstance(lr, LogisticRegression) and lr.random_state == 3
    assert grid == {"scaler": ["standard", "minmax"], "select_k": [4, "all"], "C": [0.1, 1]}
    knn, grid = parsed["knn"]
    assert knn.weights == "distance"  # scalar estimator parameter: fixed on the estimator
    assert grid == {"scaler": ["robust"], "n_neighbors": [15, 30]}  # scalar step key: one value


def test_pipeline_grid_and_readable_params_round_trip() -> None:
    grid = {"scaler": ["minmax", "robust", "passthrough"], "select_k": [3], "C": [1, 2]}
    full = pipeline_grid(grid)
    assert set(full) == {"prep__num", "select__k", "clf__C"}
    assert [type(s) for s in full["prep__num"][:2]] == [MinMaxScaler, RobustScaler]
    assert full["prep__num"][2] == "passthrough"
    back = readable_params({"prep__num": full["prep__num"][1], "select__k": 3, "clf__C": 2})
    assert back == {"C": 2, "scaler": "robust", "select_k": 3}
    assert scaler_name(MinMaxScaler()) == "minmax"


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"xgboost": {}}, "unknown family 'xgboost'"),
        ({"svc": {"C": [1], "colour": ["red"]}}, r"search_space.svc: unknown parameter.*'colour'"),
        ({"svc": {"scaler": ["zscore"]}}, "bad scaler/select_k"),
        ({"svc": {"select_k": [0.5]}}, "bad scaler/select_k"),
        ({"svc": {"select_k": [0]}}, "bad scaler/select_k"),
        ({"svc": {"C": []}}, "empty list"),
    ],
)
def test_bad_search_space_is_one_clear_error(space: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_search_space(space, random_state=0)


# --- pipeline ------------------------------------------------------------------------------


def test_preprocessor_encodes_ordinal_in_contract_order_and_ignores_unknown_categories(parts):
    train, _, spec = parts
    prep = build_preprocessor(spec, "passthrough").fit(train[feature_columns(spec)])
    names = list(prep.get_feature_names_out())
    out = pd.DataFrame(prep.transform(train[feature_columns(spec)]), columns=names)
    for column, order in ORDINAL_FEATURES.items():
        expected = train[column].map({value: i for i, value in enumerate(order)})
        assert out[column].tolist() == expected.tolist()
    unseen = train[feature_columns(spec)].head(1).assign(favourite_category="Книги")
    one_hot = [n for n in names if n.startswith("favourite_category_")]
    assert len(one_hot) > 1
    assert (pd.DataFrame(prep.transform(unseen), columns=names)[one_hot] == 0).all(axis=None)


# --- cross-validation -----------------------------------------------------------------------


def test_cv_splits_keep_duplicate_groups_together_and_cover_every_row(parts) -> None:
    train, _, _ = parts
    assert train[GROUP].duplicated().any()
    splits = cv_splits(train[LABEL], train[GROUP], 4, 0)
    validation = np.concatenate([v for _, v in splits])
    assert sorted(validation) == list(range(len(train)))
    for fit_rows, val_rows in splits:
        assert not set(train[GROUP].iloc[fit_rows]) & set(train[GROUP].iloc[val_rows])
    repeated = repeated_splits(train[LABEL], train[GROUP], 4, 2, 0)
    assert len(repeated) == 8
    assert not np.array_equal(repeated[0][1], splits[0][1])  # fresh seeds, not the search's


def test_search_family_returns_the_best_candidate_it_tried(parts) -> None:
    train, _, spec = parts
    X, y = train[feature_columns(spec)], train[LABEL]
    splits = cv_splits(y, train[GROUP], 3, 0)
    estimator, grid = parse_search_space(SPACE, 0)["logistic_regression"]
    pipeline = build_pipeline(spec, estimator)
    found = search_family(pipeline, grid, X, y, splits, n_iter=3, n_jobs=1, seed=0)
    assert found["candidates"] == 3
    tried = cv_scores(pipeline.set_params(**found["params"]), X, y, splits, 1, "roc_auc")
    assert found["search_cv_roc_auc"] == pytest.approx(tried.mean())
    full = search_family(pipeline, grid, X, y, splits, n_iter=100, n_jobs=1, seed=0)
    assert full["candidates"] == 8 and full["search_cv_roc_auc"] >= found["search_cv_roc_auc"]


def test_rank_orders_by_mean_then_name() -> None:
    board = [
        {"family": "svc", "cv_roc_auc_mean": 0.9},
        {"family": "knn", "cv_roc_auc_mean": 0.9 + 1e-12},  # float noise is a tie
        {"family": "lr", "cv_roc_auc_mean": 0.95},
    ]
    assert [r["family"] for r in rank(board)] == ["lr", "knn", "svc"]
    vote = {"family": "a_vote", "members": ["lr", "knn"], "cv_roc_auc_mean": 0.95}
    assert [r["family"] for r in rank([vote, *board])][:2] == ["lr", "a_vote"]  # tie: simpler


# --- calibration -------------------------------------------------------------------------


def test_calibration_wraps_the_classifier_step_and_keeps_the_ranking(parts) -> None:
    train, test, spec = parts
    X, y = train[feature_columns(spec)], train[LABEL]
    svc = build_pipeline(spec, SVC(random_state=0))
    calibrated = with_calibration(svc, "sigmoid", 3, 0).fit(X, y)
    assert isinstance(calibrated, Pipeline) and isinstance(calibrated[-1], CalibratedClassifierCV)
    assert [name for name, _ in calibrated.steps] == [name for name, _ in svc.steps]
    proba = predict_declined(calibrated, test[feature_columns(spec)])
    decision = svc.fit(X, y).decision_function(test[feature_columns(spec)])
    assert pd.Series(proba).corr(pd.Series(decision), method="spearman") == pytest.approx(1.0)


def test_choose_calibration_scores_both_and_needs_proba_for_none(parts) -> None:
    train, _, spec = parts
    X, y = train[feature_columns(spec)], train[LABEL]
    splits = cv_splits(y, train[GROUP], 3, 0)
    method, scores = choose_calibration(
        build_pipeline(spec, SVC()), X, y, splits, ["sigmoid"], 3, 0, 1
    )
    assert method == "sigmoid" and set(scores["brier"]) == {"sigmoid"}  # SVC: no probabilities
    # a k=3 neighbour vote only says 0, 1/3, 2/3 or 1: calibration should smooth it
    knn = build_pipeline(spec, KNeighborsClassifier(3))
    for metric in ("brier", "log_loss"):
        method, scores = choose_calibration(
            knn, X, y, splits, ["sigmoid", "isotonic"], 3, 0, 1, metric
        )
        assert set(scores) == {"brier", "log_loss"}
        assert set(scores[metric]) == {"none", "sigmoid", "isotonic"}
        decisive = scores[metric]
        assert method == min(decisive, key=decisive.get) and decisive[method] <= decisive["none"]


def test_log_loss_rejects_a_model_that_claims_certainty_brier_tolerates(parts) -> None:
    """A 1-neighbour model says exactly 0 or 1: every miss costs log-loss ~34, Brier only 1."""
    train, _, spec = parts
    X, y = train[feature_columns(spec)], train[LABEL]
    splits = cv_splits(y, train[GROUP], 3, 0)
    knn1 = build_pipeline(spec, KNeighborsClassifier(1))
    method, scores = choose_calibration(knn1, X, y, splits, ["sigmoid"], 3, 0, 1, "log_loss")
    assert method == "sigmoid"
    assert scores["log_loss"]["none"] > 5 * scores["log_loss"]["sigmoid"]
    assert scores["brier"]["none"] < 2 * scores["brier"]["sigmoid"]


def test_unknown_calibration_metric_is_a_params_error(parts) -> None:
    train, _, spec = parts
    X, y = train[feature_columns(spec)], train[LABEL]
    with pytest.raises(DataError, match=r"train\.calibration\.metric"):
        choose_calibration(
            build_pipeline(spec, SVC()), X, y, cv_splits(y, train[GROUP], 3, 0), [], 3, 0, 1, "auc"
        )


# --- the chosen model -------------------------------------------------------------------


def test_selected_model_beats_a_dummy_clearly(parts, selected) -> None:
    train, test, spec = parts
    model, metrics = selected
    X_test, y_test = test[feature_columns(spec)], test[LABEL]
    dummy = DummyClassifier(strategy="prior").fit(train[feature_columns(spec)], train[LABEL])
    dummy_auc = roc_auc_score(y_test, dummy.predict_proba(X_test)[:, 1])
    assert roc_auc_score(y_test, predict_declined(model, X_test)) > dummy_auc + 0.25
    assert metrics["cv_roc_auc_mean"] > 0.75
    assert list(model.feature_names_in_) == feature_columns(spec)


def test_metrics_describe_the_winner_and_every_family(selected) -> None:
    model, metrics = selected
    board = metrics["leaderboard"]
    assert [row["family"] for row in board] == [r["family"] for r in rank(board)]
    assert {row["family"] for row in board} == set(SPACE)
    assert metrics["winner"]["family"] == board[0]["family"]
    assert metrics["cv_roc_auc_mean"] == board[0]["cv_roc_auc_mean"]
    assert metrics["calibration"]["chosen"] in {"none", "sigmoid"}
    wrapped = isinstance(model[-1], CalibratedClassifierCV)
    assert wrapped == (metrics["calibration"]["chosen"] != "none")
    for row in board:
        grid = SPACE[row["family"]]
        for key, value in row["params"].items():
            assert value in (grid[key] if isinstance(grid[key], list) else [grid[key]])
    plot_leaderboard(board)  # draws without error


def test_selection_never_sees_the_test_part(parts, selected) -> None:
    """Scrambling every test customer's features changes nothing in training."""
    train, test, spec = parts
    model, metrics = selected
    rng = np.random.default_rng(5)
    merged = synthetic_merged(400, twins=20)
    in_test = merged[ID].isin(test[ID])
    numeric = merged.select_dtypes("number").columns.drop([ID, GROUP, LABEL])
    merged.loc[in_test, numeric] = rng.permutation(merged.loc[in_test, numeric].to_numpy())
    train2, test2, spec2, _, _ = build_features(merged, FEATURE_PARAMS)
    assert test2[ID].tolist() == test[ID].tolist() and spec2 == spec
    model2, metrics2 = select_model(train2, spec2, TRAIN_PARAMS)
    assert metrics2 == metrics
    X = train[feature_columns(spec)]
    assert np.array_equal(predict_declined(model2, X), predict_declined(model, X))


def test_nested_cv_scores_the_procedure_on_unseen_outer_folds(parts) -> None:
    train, _, spec = parts
    result = nested_cv(train, spec, TRAIN_PARAMS, folds=2)
    assert result["folds"] == 2 and len(result["winners"]) == 2
    assert set(result["winners"]) <= set(SPACE)
    assert 0.7 < result["roc_auc_mean"] <= 1 and result["roc_auc_std"] >= 0


# --- soft vote of the best families ---------------------------------------------------------


def test_soft_vote_averages_members_and_calibrates_those_without_proba(parts) -> None:
    train, test, spec = parts
    X, y, X_test = train[feature_columns(spec)], train[LABEL], test[feature_columns(spec)]
    knn = build_pipeline(spec, KNeighborsClassifier(15))
    svc = build_pipeline(spec, SVC(random_state=0))
    vote = soft_vote({"knn": knn, "svc": svc}, 3, 0).fit(X, y)
    assert isinstance(vote, VotingClassifier) and vote.voting == "soft"
    assert [name for name, _ in vote.estimators] == ["knn", "svc"]
    assert isinstance(vote.named_estimators_["svc"][-1], CalibratedClassifierCV)
    assert not hasattr(knn[-1], "classes_")  # members are clones: the inputs stay unfitted
    members = [predict_declined(m, X_test) for m in vote.estimators_]
    assert np.allclose(predict_declined(vote, X_test), np.mean(members, axis=0))
    # a winning vote is calibrated like any winner: the wrapper keeps the vote's ranking
    calibrated = with_calibration(vote, "sigmoid", 3, 0).fit(X, y)
    assert isinstance(calibrated.estimator, VotingClassifier)
    ranks = pd.Series(predict_declined(calibrated, X_test)).rank()
    assert ranks.corr(pd.Series(predict_declined(vote, X_test)).rank()) > 0.99


def tuned_pipeline(spec: dict, row: dict) -> Pipeline:
    """A leaderboard row's tuned pipeline, rebuilt from its readable params."""
    estimator = parse_search_space(SPACE, TRAIN_PARAMS["random_state"])[row["family"]][0]
    grid = pipeline_grid({key: [value] for key, value in row["params"].items()})
    return build_pipeline(spec, estimator).set_params(**{k: v[0] for k, v in grid.items()})


def test_vote_is_built_from_the_top_k_families_and_competes_on_the_same_folds(
    parts, selected
) -> None:
    train, _, spec = parts
    X, y = train[feature_columns(spec)], train[LABEL]
    model, metrics = select_model(train, spec, {**TRAIN_PARAMS, "vote_top": 2})
    board = metrics["leaderboard"]
    singles = [row for row in board if row["family"] != "soft_vote"]
    assert singles == selected[1]["leaderboard"]  # the families are untouched by the vote
    (vote_row,) = [row for row in board if row["family"] == "soft_vote"]
    top = [row["family"] for row in singles[:2]]
    assert vote_row["members"] == top
    assert vote_row["params"] == {row["family"]: row["params"] for row in singles[:2]}
    # it competes: ranked among the families, and the winner is the board's best
    assert board == rank(board) and metrics["winner"]["family"] == board[0]["family"]
    assert metrics["cv_roc_auc_mean"] == board[0]["cv_roc_auc_mean"]
    # its score comes from the very folds the families were scored on
    splits = repeated_splits(y, train[GROUP], 3, 2, TRAIN_PARAMS["random_state"])
    tuned = {row["family"]: tuned_pipeline(spec, row) for row in singles}
    _, vote = vote_candidate(singles, tuned, X, y, splits, {**TRAIN_PARAMS, "vote_top": 2})
    again = cv_scores(vote, X, y, splits, 1, "roc_auc")
    assert again.mean() == pytest.approx(vote_row["cv_roc_auc_mean"])
    assert [name for name, _ in vote.estimators] == top
    if metrics["winner"]["family"] == "soft_vote":
        inner = model.estimator if isinstance(model, CalibratedClassifierCV) else model
        assert isinstance(inner, VotingClassifier)


@pytest.mark.parametrize("k", [1, 4, -1])
def test_vote_top_outside_two_to_the_family_count_is_one_clear_error(k: int) -> None:
    board = [{"family": f, "params": {}} for f in SPACE]
    with pytest.raises(DataError, match=r"train\.vote_top: .*0 = off or 2\.\.3"):
        vote_candidate(board, {}, pd.DataFrame(), pd.Series(), [], {**TRAIN_PARAMS, "vote_top": k})
