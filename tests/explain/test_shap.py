"""Stage `shap`: explainers, the sampled path explainer's exactness, tables, and the outputs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from oneclick.core.errors import DataError
from oneclick.data.contract import GROUP, ID, LABEL
from oneclick.explain import path_explainer
from oneclick.explain import values as sv
from oneclick.explain.decomposition import Unsupported, feature_blocks
from oneclick.explain.explainers import choose_explainer, explain_model, fold, output_space
from oneclick.explain.leaves import libsvm_binary_proba
from oneclick.explain.path_explainer import PathExplainer
from oneclick.model.evaluation import out_of_fold
from oneclick.model.pipelines import predict_declined

PARAMS = {
    "n_paths": 64,
    "background_size": None,
    "random_state": 0,
    "n_jobs": 2,
    "batch_elements": 200_000,
    "top_drivers": 2,
    "additivity_tolerance": 1e-6,
}


def tiny_customers(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Two numeric features, a 3-level nominal and a 2-level ordinal one; a noisy rule target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "pages": rng.uniform(1, 15, n),  # continuous: no exact KNN distance ties
            "promo": rng.random(n).round(2),
            "category": rng.choice(["toys", "kitchen", "beauty"], n),
            "service": rng.choice(["standard", "premium"], n),
        }
    )
    score = -0.4 * frame["pages"] + 4 * frame["promo"] + (frame["category"] == "toys") + 1.5
    y = pd.Series((score + rng.normal(0, 1, n) > 0).astype(int), name="declined")
    return frame, y


def prep() -> ColumnTransformer:
    return ColumnTransformer(
        [
            ("num", StandardScaler(), ["pages", "promo"]),
            ("nom", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["category"]),
            ("ord", OrdinalEncoder(categories=[["standard", "premium"]]), ["service"]),
        ]
    )


def pipe(estimator) -> Pipeline:
    return Pipeline([("prep", prep()), ("select", SelectKBest(k="all")), ("clf", estimator)])


def calibrated(estimator, method: str = "sigmoid", ensemble: bool = False):
    return CalibratedClassifierCV(estimator, method=method, cv=3, ensemble=ensemble)


MODELS = {  # name -> (model, what PathExplainer should decompose it into)
    "svc_probability": (pipe(SVC(probability=True, random_state=0)), "SVC (rbf)"),
    "calibrated_svc": (pipe(calibrated(SVC(gamma=0.3))), "SVC (rbf)"),
    "calibrated_svc_isotonic_ensemble": (
        pipe(calibrated(SVC(), "isotonic", ensemble=True)),
        " + ".join(["SVC (rbf)"] * 3),
    ),
    "svc_poly_probability": (
        pipe(SVC(kernel="poly", probability=True, random_state=0)),
        "SVC (poly)",
    ),
    "knn_uniform": (pipe(KNeighborsClassifier(7)), "KNN"),
    "knn_distance": (pipe(KNeighborsClassifier(7, weights="distance")), "KNN"),
    "calibrated_knn": (pipe(calibrated(KNeighborsClassifier(9), "isotonic")), "KNN"),
    "calibrated_logistic": (pipe(calibrated(LogisticRegression())), "LogisticRegression"),
    "calibrated_forest": (
        pipe(calibrated(RandomForestClassifier(20, random_state=0))),
        "RandomForestClassifier (rows)",
    ),
    "calibrated_pipeline": (calibrated(pipe(SVC())), "SVC (rbf)"),
    "soft_vote": (
        VotingClassifier(
            [("knn", pipe(KNeighborsClassifier(9))), ("lr", pipe(LogisticRegression()))],
            voting="soft",
            weights=[2, 1],
        ),
        "KNN + LogisticRegression",
    ),
    "stacking": (
        StackingClassifier(
            [("lr", pipe(LogisticRegression())), ("knn", pipe(KNeighborsClassifier(5)))], cv=3
        ),
        "model (raw rows)",
    ),
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    return tiny_customers()


def test_libsvm_replica_matches_svc_predict_proba(data) -> None:
    frame, y = data
    model = pipe(SVC(probability=True, C=3, random_state=0)).fit(frame, y)
    rows = model[:-1].transform(frame)
    svc = model[-1]
    got = libsvm_binary_proba(svc.decision_function(rows), svc._probA[0], svc._probB[0])
    np.testing.assert_allclose(got, svc.predict_proba(rows)[:, 1], rtol=0, atol=1e-12)
    plain = 1 / (1 + np.exp(svc._probA[0] * -svc.decision_function(rows) + svc._probB[0]))
    assert np.abs(plain - got).max() > 1e-6, "the coupling iteration matters, else test is moot"


def test_feature_blocks_follow_the_column_transformer(data) -> None:
    frame, _ = data
    transform = prep().fit(frame).transform
    blocks = feature_blocks(transform, frame)
    assert [list(b) for b in blocks] == [[0], [1], [2, 3, 4], [5]]


def test_feature_blocks_reject_a_transform_that_mixes_features(data) -> None:
    frame, _ = data
    mixed = FunctionTransformer(lambda f: np.c_[f["pages"] * f["promo"], f["promo"]])
    with pytest.raises(Unsupported):
        feature_blocks(mixed.fit(frame).transform, frame[["pages", "promo"]])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_path_explainer_decomposes_and_adds_up(data, name: str) -> None:
    frame, y = data
    model, kind = MODELS[name]
    model.fit(frame, y)
    explainer = PathExplainer(model, frame, frame, n_paths=16, seed=1)
    assert explainer.kind == kind
    values, output = explainer.explain(frame.iloc[:25])
    expected = model.predict_proba(frame.iloc[:25])[:, 1]
    np.testing.assert_allclose(output, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(explainer.base + values.sum(axis=1), expected, rtol=0, atol=1e-9)
    assert values.shape == (25, frame.shape[1]) and np.abs(values).max() > 0


def test_features_the_model_drops_get_zero_and_the_rest_still_add_up(data) -> None:
    frame, y = data
    model = pipe(KNeighborsClassifier(7)).set_params(select__k=2).fit(frame, y)
    explainer = PathExplainer(model, frame, frame, n_paths=16, seed=0)
    kept = model.named_steps["select"].get_support()  # columns: pages, promo, 3 x category, service
    alive = [bool(kept[0]), bool(kept[1]), bool(kept[2:5].any()), bool(kept[5])]
    assert [j in explainer.alive for j in range(4)] == alive and sum(alive) < 4
    values, output = explainer.explain(frame)
    assert (values[:, ~np.array(alive)] == 0).all()
    np.testing.assert_allclose(explainer.base + values.sum(axis=1), output, atol=1e-9)


@pytest.mark.parametrize("name", ["svc_probability", "calibrated_svc", "knn_distance"])
def test_structured_leaves_give_the_raw_model_result(data, name: str, monkeypatch) -> None:
    """Same paths, same hybrids: kernel/distance statistics must equal predict_proba on rows."""
    frame, y = data
    model = MODELS[name][0].fit(frame, y)
    fast = PathExplainer(model, frame, frame, n_paths=32, seed=3)

    def unsupported(*args, **kwargs):
        raise Unsupported("forced")

    monkeypatch.setattr(path_explainer, "decompose", unsupported)
    slow = PathExplainer(model, frame, frame, n_paths=32, seed=3)
    assert slow.kind == "model (raw rows)" and fast.kind != slow.kind
    np.testing.assert_allclose(fast.explain(frame)[0], slow.explain(frame)[0], atol=1e-5)


def exact_interventional_shap(f, x: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Textbook definition: Shapley weights over all coalitions, averaged over background rows."""
    m = len(x)
    phi = np.zeros(m)
    weight = {s: 1 / (m * len(list(itertools.combinations(range(m - 1), s)))) for s in range(m)}
    for j in range(m):
        others = [k for k in range(m) if k != j]
        for size in range(m):
            for subset in itertools.combinations(others, size):
                with_j = background.copy()
                with_j[:, [*subset, j]] = x[[*subset, j]]
                without = background.copy()
                without[:, list(subset)] = x[list(subset)]
                phi[j] += weight[size] * (f(with_j) - f(without)).mean()
    return phi


def test_sampled_shap_converges_to_the_exact_definition(data) -> None:
    frame, y = data
    numeric = frame[["pages", "promo"]].assign(service=(frame["service"] == "premium") * 1.0)
    model = Pipeline([("scale", StandardScaler()), ("clf", SVC(probability=True, random_state=0))])
    model.fit(numeric, y)
    background = numeric.iloc[:8]
    explainer = PathExplainer(model, background, numeric, n_paths=4000, seed=0)
    values, _ = explainer.explain(numeric.iloc[10:13])

    def f(rows: np.ndarray) -> np.ndarray:
        return model.predict_proba(pd.DataFrame(rows, columns=numeric.columns))[:, 1]

    for i, row in enumerate(numeric.iloc[10:13].to_numpy()):
        exact = exact_interventional_shap(f, row, background.to_numpy())
        np.testing.assert_allclose(values[i], exact, atol=0.01)


def test_choose_explainer_by_family(data) -> None:
    assert choose_explainer(pipe(LogisticRegression())) == "linear"
    assert choose_explainer(pipe(RandomForestClassifier())) == "tree"
    assert choose_explainer(pipe(DecisionTreeClassifier())) == "tree"
    assert choose_explainer(pipe(calibrated(LogisticRegression()))) == "sampled"
    assert choose_explainer(pipe(SVC())) == "sampled"
    assert choose_explainer(LogisticRegression()) == "sampled"  # no preprocessing to fold


@pytest.mark.parametrize(
    ("estimator", "space", "explainer"),
    [
        (LogisticRegression(), "log_odds", "LinearExplainer"),
        (DecisionTreeClassifier(max_depth=3, random_state=0), "probability", "TreeExplainer"),
        (SVC(probability=True, random_state=0), "probability", "PathExplainer"),
    ],
)
def test_explain_model_adds_up_in_its_output_space(data, estimator, space, explainer) -> None:
    frame, y = data
    model = pipe(estimator).fit(frame, y)
    values, base, name = explain_model(model, frame, frame, PARAMS)
    assert name.startswith(explainer) and values.shape == frame.shape
    found, output = output_space(base + values.sum(axis=1), model.predict_proba(frame)[:, 1])
    assert found == space
    np.testing.assert_allclose(base + values.sum(axis=1), output, atol=1e-6)


def test_fold_adds_up_a_one_hot_block() -> None:
    values = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, -0.5, 0.0, 1.0]])
    folded = fold(values, [np.array([0]), np.array([1, 2]), np.array([3])])
    np.testing.assert_array_equal(folded, [[1.0, 5.0, 4.0], [0.5, -0.5, 1.0]])


def test_output_space_detects_log_odds() -> None:
    p = np.array([0.2, 0.5, 0.9])
    assert output_space(p + 1e-12, p)[0] == "probability"
    name, target = output_space(np.log(p / (1 - p)), p)
    assert name == "log_odds" and np.allclose(target, [-1.386294, 0.0, 2.197225])


def test_driver_table_ranks_by_absolute_shap_with_direction() -> None:
    data = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 0.7]})
    values = np.array([[0.1, -0.3, 0.2], [0.2, 0.2, -0.05]])
    table = sv.driver_table(np.array([7, 8]), data, values, top=2)
    assert table["id"].tolist() == [7, 7, 8, 8]
    assert table["feature"].tolist() == ["b", "c", "a", "b"]  # tie at 8: feature order
    assert table["value"].tolist() == ["x", 0.5, 2, "y"]
    assert table["direction"].tolist() == ["retention", "decline", "decline", "decline"]
    assert table["rank"].tolist() == [1, 2, 1, 2]


def test_importance_is_mean_absolute_shap_largest_first() -> None:
    ranking = sv.importance(["a", "b", "c"], np.array([[1.0, -3.0, 0.0], [-1.0, 1.0, 0.5]]))
    assert ranking == [
        {"feature": "b", "mean_abs_shap": 2.0},
        {"feature": "a", "mean_abs_shap": 1.0},
        {"feature": "c", "mean_abs_shap": 0.25},
    ]


# --- who explains whom --------------------------------------------------------------------


def customers_table(data, n_duplicates: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) frames with id, label and duplicate group around the tiny features; the
    first n_duplicates pairs of training customers share a duplicate group."""
    frame, y = data
    table = frame.assign(**{ID: np.arange(1000, 1000 + len(frame)), LABEL: y})
    table[GROUP] = table[ID]
    table.loc[1 : 2 * n_duplicates : 2, GROUP] = table[ID].iloc[0 : 2 * n_duplicates : 2].to_numpy()
    return table.iloc[:45].reset_index(drop=True), table.iloc[45:].reset_index(drop=True)


def test_training_customers_are_explained_by_a_model_that_never_saw_them(data) -> None:
    train, test = customers_table(data)
    columns = ["pages", "promo", "category", "service"]
    model = pipe(KNeighborsClassifier(5, weights="distance")).fit(train[columns], train[LABEL])
    # the final model remembers its training labels exactly: explaining it there is pointless
    assert (predict_declined(model, train[columns]) == train[LABEL]).all()
    parts = sv.explanation_parts(model, train, test, columns, folds=3, seed=0)
    assert [name for name, *_ in parts] == ["final model", "fold 1/3", "fold 2/3", "fold 3/3"]
    explained = np.concatenate([rows[ID].to_numpy() for _, _, _, rows in parts])
    assert sorted(explained) == sorted([*train[ID], *test[ID]])  # everyone exactly once
    for name, part_model, background, rows in parts[1:]:
        assert not set(rows.index) & set(background.index), name  # background = its fit rows
        assert len(background) + len(rows) == len(train)
        assert part_model[-1].n_samples_fit_ == len(background)  # fitted on exactly those
        assert set(rows[GROUP]).isdisjoint(train.loc[background.index, GROUP])  # pairs together
    # the fold models are exactly the evaluate stage's out-of-fold models
    oof = out_of_fold(model, train[columns], train[LABEL], train[GROUP], 3, 0)
    table, summary = sv.explain_parts(parts, columns, PARAMS)
    by_id = table.set_index(ID)[sv.OUTPUT]
    assert np.allclose(by_id.loc[train[ID]].to_numpy(), oof, atol=0)
    assert summary["output_space"] == "probability" and set(summary["parts"]) == {
        name for name, *_ in parts
    }
    scores = pd.Series(
        np.r_[oof, predict_declined(model, test[columns])], index=[*train[ID], *test[ID]]
    )
    checks = sv.check_explained(table, columns, "probability", scores, 1e-9)
    assert checks["max_abs_gap_to_scores"] <= 1e-12 and checks["max_abs_error"] <= 1e-9


def test_explanations_of_another_probability_than_the_scored_one_are_refused(data) -> None:
    train, test = customers_table(data)
    columns = ["pages", "promo", "category", "service"]
    model = pipe(KNeighborsClassifier(5, weights="distance")).fit(train[columns], train[LABEL])
    parts = sv.explanation_parts(model, train, test, columns, folds=3, seed=0)
    table, _ = sv.explain_parts(parts, columns, PARAMS)
    # scores.csv from the final model in-sample (the old mistake): training customers differ
    in_sample = pd.Series(
        predict_declined(model, pd.concat([train, test])[columns]), index=[*train[ID], *test[ID]]
    )
    with pytest.raises(DataError, match=r"scores\.csv: probability differs .* rerun the evaluate"):
        sv.check_explained(table, columns, "probability", in_sample, 1e-6)
    with pytest.raises(DataError, match=r"scores\.csv"):  # a customer without a score
        sv.check_explained(table, columns, "probability", in_sample.iloc[1:], 1e-6)
    broken = table.assign(**{sv.BASE: table[sv.BASE] + 0.01})
    with pytest.raises(DataError, match="miss the model output"):
        sv.check_explained(broken, columns, "probability", in_sample, 1e-6)


# --- integration: the stage's outputs in the reproduced sample project -----------------------


def test_shap_stage_outputs(reproduced_project: Path) -> None:
    repo = reproduced_project
    values = pd.read_csv(repo / "data/shap/values.csv")
    scores = pd.read_csv(repo / "data/predictions/scores.csv")
    assert values["id"].tolist() == sorted(scores["id"])
    metrics = json.loads((repo / "metrics/shap.json").read_text(encoding="utf-8"))
    features = [f["feature"] for f in metrics["global_importance"]]
    assert sorted(features) == sorted(set(values.columns) - {"id", "base_value", "model_output"})
    total = values["base_value"] + values[features].sum(axis=1)
    assert (total - values["model_output"]).abs().max() <= 1e-5  # CSV rounding only
    assert metrics["additivity"]["within_tolerance"] and metrics["n_customers"] == len(values)
    if metrics["output_space"] == "probability":  # every customer: the probability scored
        merged = scores.merge(values, on="id")
        assert (merged["probability"] - merged["model_output"]).abs().max() <= 1e-5
    assert sum(part["customers"] for part in metrics["parts"].values()) == len(values)
    assert metrics["additivity"]["max_abs_gap_to_scores"] <= metrics["additivity"]["tolerance"]
    top = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["shap"]["top_drivers"]
    drivers = pd.read_csv(repo / "data/shap/drivers.csv")
    assert drivers.groupby("id").size().eq(top).all() and drivers["id"].nunique() == len(values)
    for name in ("importance.png", "beeswarm.png"):
        assert (repo / "plots/shap" / name).stat().st_size > 10_000
