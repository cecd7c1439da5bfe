"""Stage `shap`: explainers, the sampled path explainer's exactness, tables, and the outputs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
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

from oneclick.core.errors import DataError
from oneclick.data.contract import GROUP, ID, LABEL
from oneclick.explain import explainers, path_explainer
from oneclick.explain import values as sv
from oneclick.explain.decomposition import Chain, Unsupported, feature_blocks
from oneclick.explain.explainers import explain_model
from oneclick.explain.path_explainer import PathExplainer
from oneclick.model.evaluation import fold_table, protocol_inputs
from oneclick.model.protocol import protocol_folds, run_protocol

PARAMS = {
    "n_paths": 64,
    "n_paths_read": 256,
    "n_paths_close": 1024,
    "close_call_z": 2.0,
    "read_probability": 0.5,
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


MODELS = {  # name -> (model, what PathExplainer should decompose it into)
    "knn_uniform": (pipe(KNeighborsClassifier(7)), "KNN"),
    "knn_distance": (pipe(KNeighborsClassifier(7, weights="distance")), "KNN"),
    "forest": (pipe(RandomForestClassifier(20, random_state=0)), "RandomForestClassifier (rows)"),
    "stacking": (  # the procedure's shape: the SVC's decision value, the others' P(declined)
        StackingClassifier(
            [
                ("svc", pipe(SVC(gamma=0.3))),
                ("lr", pipe(LogisticRegression())),
                ("knn", pipe(KNeighborsClassifier(5))),
            ],
            cv=3,
        ),
        "SVC (rbf) + LogisticRegression + KNN",
    ),
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    return tiny_customers()


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
    explainer = PathExplainer(model, frame, n_paths=16, seed=1)
    assert explainer.kind == kind
    values, output = explainer.explain(frame.iloc[:25])
    expected = model.predict_proba(frame.iloc[:25])[:, 1]
    np.testing.assert_allclose(output, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(explainer.base + values.sum(axis=1), expected, rtol=0, atol=1e-9)
    assert values.shape == (25, frame.shape[1]) and np.abs(values).max() > 0


def test_features_the_model_drops_get_zero_and_the_rest_still_add_up(data) -> None:
    frame, y = data
    model = pipe(KNeighborsClassifier(7)).set_params(select__k=2).fit(frame, y)
    explainer = PathExplainer(model, frame, n_paths=16, seed=0)
    kept = model.named_steps["select"].get_support()  # columns: pages, promo, 3 x category, service
    alive = [bool(kept[0]), bool(kept[1]), bool(kept[2:5].any()), bool(kept[5])]
    assert [j in explainer.alive for j in range(4)] == alive and sum(alive) < 4
    values, output = explainer.explain(frame)
    assert (values[:, ~np.array(alive)] == 0).all()
    np.testing.assert_allclose(explainer.base + values.sum(axis=1), output, atol=1e-9)


def test_feature_blocks_of_a_selector_follow_the_encoding_layout(data) -> None:
    frame, y = data
    model = pipe(KNeighborsClassifier(7)).set_params(select__k=3).fit(frame, y)
    transform = Chain(tuple(step for _, step in model[:-1].steps))  # encoding, then the selector
    mapped = path_explainer._blocks(transform, frame)
    probed = feature_blocks(transform, path_explainer.probe_rows(frame))
    assert [list(b) for b in mapped] == [list(b) for b in probed]


def test_a_model_the_explainer_cannot_decompose_is_refused_by_name(data) -> None:
    frame, y = data
    model = VotingClassifier([("lr", pipe(LogisticRegression()))], voting="soft").fit(frame, y)
    with pytest.raises(Unsupported, match="cannot explain VotingClassifier"):
        PathExplainer(model, frame, n_paths=4, seed=0)


def test_explain_model_is_the_same_bits_whatever_n_jobs_and_reads_use_more_paths(data) -> None:
    frame, y = data
    model = MODELS["knn_distance"][0].fit(frame, y)
    read = np.arange(len(frame)) % 4 == 0
    small = {**PARAMS, "batch_elements": 5_000}  # several batches per path count
    one = explain_model(model, frame, frame, {**small, "n_jobs": 1}, read)
    two = explain_model(model, frame, frame, {**small, "n_jobs": 2}, read)
    for a, b in zip(one[:3], two[:3], strict=True):
        assert np.array_equal(a, b)
    values, base, output, _ = one
    np.testing.assert_allclose(base + values.sum(axis=1), output, rtol=0, atol=1e-9)
    explainer = PathExplainer(model, frame, PARAMS["n_paths_close"], PARAMS["random_state"])
    first, most = PARAMS["n_paths_read"], PARAMS["n_paths_close"]
    budgets = {explainer.base_value(n): n for n in (PARAMS["n_paths"], first, 4 * first, most)}
    paths = np.array([budgets[b] for b in base])  # a row's value: the first paths of the sequence
    assert (paths[~read] == PARAMS["n_paths"]).all() and (paths[read] >= first).all()
    assert (paths[read] == first).any() and (paths[read] > first).any()  # close calls go on
    for n in np.unique(paths):
        alone, _ = explainer.explain(frame[paths == n], n)
        np.testing.assert_allclose(values[paths == n], alone, rtol=0, atol=1e-12)
    # a row stops at n paths when its drivers are no close call there, goes on when they are
    z = PARAMS["close_call_z"]
    for n in (first,):  # 4 x first = n_paths_close here: the end
        reached = paths >= n
        pairs, _ = explainer.pair_means(frame[reached & read], 0, n)
        error = pairs.std(axis=1, ddof=1) / np.sqrt(pairs.shape[1])
        close = explainers.close_calls(pairs.mean(axis=1), error, z)
        assert np.array_equal(close, paths[reached & read] > n)


def test_close_calls_are_near_ties_for_the_first_decline_driver() -> None:
    values = np.array(
        [
            [0.30, 0.10, 0.05, -0.2],  # a clear first driver
            [0.30, 0.29, 0.05, -0.2],  # first and second within the error
            [0.01, 0.005, -0.1, -0.2],  # a first driver hardly a decline driver
            [0.30, 0.29, 0.28, 0.0],  # close below the first: not what picks the offer
            [-0.1, -0.2, -0.3, 0.0],  # no decline driver, clearly
        ]
    )
    errors = np.full_like(values, 0.01)
    errors[3] = [0.001, 0.001, 0.01, 0.0]  # a feature nobody reads: 0, error 0
    errors[4, 3] = 0.0
    close = explainers.close_calls(values, errors, z=2.0)
    assert close.tolist() == [False, True, True, False, False]
    assert not explainers.close_calls(values, errors, z=0.5)[1]


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


def test_path_explainer_converges_to_the_exact_definition(data) -> None:
    frame, y = data
    numeric = frame[["pages", "promo"]].assign(service=(frame["service"] == "premium") * 1.0)
    model = Pipeline([("scale", StandardScaler()), ("clf", SVC(probability=True, random_state=0))])
    model.fit(numeric, y)
    background = numeric.iloc[:8]
    explainer = PathExplainer(model, background, n_paths=4000, seed=0)
    values, _ = explainer.explain(numeric.iloc[10:13])

    def f(rows: np.ndarray) -> np.ndarray:
        return model.predict_proba(pd.DataFrame(rows, columns=numeric.columns))[:, 1]

    for i, row in enumerate(numeric.iloc[10:13].to_numpy()):
        exact = exact_interventional_shap(f, row, background.to_numpy())
        np.testing.assert_allclose(values[i], exact, atol=0.01)


def test_explain_model_adds_up_to_the_probability(data) -> None:
    frame, y = data
    model = pipe(SVC(probability=True, random_state=0)).fit(frame, y)
    values, base, explained, name = explain_model(model, frame, frame, PARAMS)
    assert name.startswith("PathExplainer") and values.shape == frame.shape
    np.testing.assert_allclose(explained, model.predict_proba(frame)[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(base + values.sum(axis=1), explained, atol=1e-6)


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


def protocol_parts(data, repeats: int = 2) -> tuple:
    """Everyone (id, label, group), the protocol's folds table, fitted fold models and parts."""
    train, test = customers_table(data)
    everyone = protocol_inputs(train, test)
    columns = ["pages", "promo", "category", "service"]
    X, y, groups = everyone[columns], everyone[LABEL], everyone[GROUP]
    folds = protocol_folds(y.to_numpy(), groups.to_numpy(), repeats, 3, 0)

    def fit(Xf, yf, gf):
        return pipe(KNeighborsClassifier(5, weights="distance")).fit(Xf, yf)

    _, held_out, models = run_protocol(fit, X, y, groups, folds)
    table = fold_table(everyone, folds)
    return (
        everyone,
        columns,
        held_out,
        models,
        sv.explanation_parts(models, everyone, table, columns),
    )


def test_every_customer_is_explained_by_each_model_that_scored_it_and_none_that_saw_it(
    data,
) -> None:
    everyone, columns, held_out, models, parts = protocol_parts(data)
    assert len(parts) == len(models) == 6
    explained = np.concatenate([rows[ID].to_numpy() for _, _, _, rows in parts])
    assert sorted(explained) == sorted(np.tile(everyone[ID], 2))  # once per repeat
    for name, part_model, background, rows in parts:
        assert not set(rows.index) & set(background.index), name  # background = its fit rows
        assert len(background) + len(rows) == len(everyone)
        assert part_model[-1].n_samples_fit_ == len(background)  # fitted on exactly those
        assert set(rows[GROUP]).isdisjoint(everyone.loc[background.index, GROUP])
    params = {**PARAMS, "n_paths": 2 * PARAMS["n_paths"]}  # split over the 2 repeats
    read = pd.Series(everyone[ID].to_numpy() % 3 == 0, index=everyone[ID])
    table, summary = sv.explain_parts(parts, columns, params, repeats=2, read=read)
    assert summary["paths_per_model"] == PARAMS["n_paths"] and summary["read"] == read.sum()
    by_id = table.set_index(ID)[sv.OUTPUT]
    # the explained output is the mean held-out probability: scores.csv's
    np.testing.assert_allclose(
        by_id.loc[everyone[ID]].to_numpy(), held_out.mean(axis=0), atol=1e-12
    )
    scores = pd.Series(held_out.mean(axis=0), index=everyone[ID])
    checks = sv.check_explained(table, columns, scores, 1e-9)
    assert checks["max_abs_gap_to_scores"] <= 1e-12 and checks["max_abs_error"] <= 1e-9


def test_explanations_of_another_probability_than_the_scored_one_are_refused(data) -> None:
    everyone, columns, held_out, _, parts = protocol_parts(data)
    nobody = pd.Series(False, index=everyone[ID])
    table, _ = sv.explain_parts(parts, columns, PARAMS, repeats=2, read=nobody)
    # one repeat's probabilities instead of the mean over repeats: they differ
    one_repeat = pd.Series(held_out[0], index=everyone[ID])
    with pytest.raises(DataError, match=r"scores\.csv: probability differs .* rerun the evaluate"):
        sv.check_explained(table, columns, one_repeat, 1e-6)
    mean = pd.Series(held_out.mean(axis=0), index=everyone[ID])
    with pytest.raises(DataError, match=r"scores\.csv"):  # a customer without a score
        sv.check_explained(table, columns, mean.iloc[1:], 1e-6)
    broken = table.assign(**{sv.BASE: table[sv.BASE] + 0.01})
    with pytest.raises(DataError, match="miss the model output"):
        sv.check_explained(broken, columns, mean, 1e-6)


def test_fold_models_and_folds_out_of_step_are_refused(data) -> None:
    everyone, columns, _, models, _ = protocol_parts(data)
    table = pd.DataFrame({ID: everyone[ID], "repeat": 0, "fold": 0})
    with pytest.raises(DataError, match=r"folds\.csv: 1 folds, but 6 fold models"):
        sv.explanation_parts(models, everyone, table, columns)


# --- integration: the stage's outputs in the reproduced sample project -----------------------


def test_shap_stage_outputs(reproduced_project: Path) -> None:
    repo = reproduced_project
    values = pd.read_csv(repo / "data/shap/values.csv")
    scores = pd.read_csv(repo / "data/predictions/scores.csv")
    assert values["id"].tolist() == sorted(scores["id"])
    metrics = json.loads((repo / "metrics/shap.json").read_text(encoding="utf-8"))
    features = pd.read_csv(repo / "plots/shap_data/importance.csv")["feature"].tolist()
    assert sorted(features) == sorted(set(values.columns) - {"id", "base_value", "model_output"})
    total = values["base_value"] + values[features].sum(axis=1)
    assert (total - values["model_output"]).abs().max() <= 1e-5  # CSV rounding only
    merged = scores.merge(values, on="id")  # every customer: the probability scored
    assert (merged["probability"] - merged["model_output"]).abs().max() <= 1e-5
    tolerance = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["shap"]
    assert metrics["additivity"]["max_abs_gap_to_scores"] <= tolerance["additivity_tolerance"]
    top = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["shap"]["top_drivers"]
    drivers = pd.read_csv(repo / "data/shap/drivers.csv")
    assert drivers.groupby("id").size().eq(top).all() and drivers["id"].nunique() == len(values)
    for name in ("importance.png", "beeswarm.png"):
        assert (repo / "plots/shap" / name).stat().st_size > 10_000


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_path_kernel_answers_as_the_estimator_on_every_hybrid(data, weights: str) -> None:
    """The fused kNN kernel (bounds, quickselect) gives the estimator's own response at every
    interior hybrid, equal distances (duplicated customers) included."""
    frame, y = data
    frame = pd.concat([frame, frame.iloc[:10]], ignore_index=True)
    y = pd.concat([y, y.iloc[:10]], ignore_index=True)
    model = pipe(KNeighborsClassifier(7, weights=weights)).fit(frame, y)
    explainer = PathExplainer(model, frame, n_paths=8, seed=3)
    (leaf,) = explainer.leaves
    (stats,) = explainer._stats(frame.iloc[:12])
    (rest,) = explainer.rest()
    found = leaf.paths(stats, explainer.perms, rest)
    by_feature = stats.astype(np.float32).transpose(1, 0, 2)
    for p, perm in enumerate(explainer.perms):
        swapped = np.cumsum(by_feature[perm], axis=0)[:-1]  # (steps, rows, training rows)
        for t in range(len(perm) - 1):
            hybrid = swapped[t] + rest[p, t]
            # the kernel's distances lose their lowest bit to the label (6e-8 relative)
            np.testing.assert_allclose(found[p, :, t], leaf.respond(hybrid), rtol=0, atol=1e-7)
    model_answer = model.predict_proba(frame.iloc[:12])[:, 1]
    assert not np.allclose(found[:, :, -1], model_answer)  # interiors are not the endpoints


def test_progress_lines_count_the_models_after_the_first(
    data, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The estimate starts at the first model's end (it pays numba's compilation on a fresh
    clone: with it, the first estimate was 300 s for a 40 s run); none after the last model."""
    everyone, columns, _, _, parts = protocol_parts(data)
    monkeypatch.setattr(sv, "PROGRESS_SECONDS", 0)
    nobody = pd.Series(False, index=everyone[ID])
    with caplog.at_level("INFO", logger="oneclick"):
        sv.explain_parts(parts, columns, {**PARAMS, "n_jobs": 2}, repeats=2, read=nobody)
    lines = [r.getMessage() for r in caplog.records if " models, " in r.getMessage()]
    assert [line.split()[1] for line in lines] == ["2/6", "3/6", "4/6", "5/6"], lines
    assert all(line.endswith(" s left") for line in lines)
