"""Stage `features`: split over duplicate groups, phik analysis, collinearity rule, engineered
features and the feature spec, on synthetic customers built from the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneclick.core.errors import DataError
from oneclick.data.contract import (
    CATEGORIES,
    FEATURES,
    GROUP,
    ID,
    LABEL,
    MINUTES_COLUMNS,
    NOMINAL_FEATURES,
    ORDINAL_FEATURES,
    PROFIT,
    REVENUE_COLUMNS,
    TARGET,
    TARGET_NEGATIVE,
    TARGET_POSITIVE,
)
from oneclick.features.build import (
    build_features,
    check_merged,
    collinear_drops,
    make_spec,
    phik_matrix,
    split_train_test,
    top_pairs,
)
from oneclick.features.engineered import ENGINEERED, add_engineered
from oneclick.features.spec import feature_columns, prepare_features

PARAMS = {
    "test_size": 0.25,
    "random_state": 42,
    "phik_top_pairs": 5,
    "collinearity_threshold": 0.9,
    "engineered": {"revenue_trend": True, "minutes_trend": True},
}


def synthetic_merged(n: int = 300, seed: int = 0, twins: int = 10) -> pd.DataFrame:
    """Merged-table-shaped customers: a latent risk drives a few features and the label; the
    last `twins` rows copy earlier customers under new ids (same duplicate_group)."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    declined = (risk + rng.normal(scale=0.7, size=n) > 0.3).astype(int)
    revenue_prev = rng.normal(5000, 600, n).round(1)
    frame = pd.DataFrame({
        ID: np.arange(1000, 1000 + n),
        "marketing_6m": (4.2 - 0.8 * risk + rng.normal(0, 0.4, n)).round(1).clip(0.5),
        "marketing_current": rng.integers(3, 6, n),
        "tenure_days": rng.integers(100, 1100, n),
        "promo_share": (0.3 + 0.15 * risk + rng.normal(0, 0.1, n)).clip(0, 1).round(2),
        "categories_per_visit": (3 - risk + rng.normal(0, 0.7, n)).round().clip(1, 6).astype(int),
        "unpaid_items_quarter": rng.integers(0, 10, n),
        "service_errors": rng.integers(0, 9, n),
        "pages_per_visit": (8 - 3 * risk + rng.normal(0, 1.5, n)).round().clip(1, 20).astype(int),
        REVENUE_COLUMNS[0]: (revenue_prev + rng.normal(250, 300, n)).round(1),
        REVENUE_COLUMNS[1]: revenue_prev,
        REVENUE_COLUMNS[2]: rng.normal(4800, 300, n).round(1),
        MINUTES_COLUMNS[0]: (13 - 2 * risk + rng.normal(0, 2, n)).round().clip(4).astype(int),
        MINUTES_COLUMNS[1]: (13 - 2.5 * risk + rng.normal(0, 2, n)).round().clip(4).astype(int),
        "favourite_category": rng.choice(CATEGORIES, n),
        "service_type": rng.choice(ORDINAL_FEATURES["service_type"], n),
        "allow_messages": rng.choice(ORDINAL_FEATURES["allow_messages"], n),
    })  # fmt: skip
    frame[TARGET] = np.where(declined == 1, TARGET_POSITIVE, TARGET_NEGATIVE)
    frame[LABEL] = declined
    frame[PROFIT] = rng.uniform(1, 7, n).round(2)
    frame[GROUP] = frame[ID]
    copies = frame.iloc[:twins].copy()
    copies[ID] = np.arange(5000, 5000 + twins)
    copies[PROFIT] = copies[PROFIT] + 1
    return pd.concat([frame, copies], ignore_index=True)[
        [ID, *FEATURES, TARGET, LABEL, PROFIT, GROUP]
    ]


def toy_matrix(values: dict[tuple[str, str], float], target: dict[str, float]) -> pd.DataFrame:
    """A symmetric phik-like matrix over the target's keys plus the label."""
    names = [*target, LABEL]
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for (a, b), value in {**values, **{(k, LABEL): v for k, v in target.items()}}.items():
        matrix.loc[a, b] = matrix.loc[b, a] = value
    return matrix


# --- split -------------------------------------------------------------------------------------


def test_split_keeps_duplicate_groups_on_one_side_and_is_stratified() -> None:
    merged = synthetic_merged(400, twins=30)
    train, test = split_train_test(merged, 0.25, 42)
    assert sorted([*train[ID], *test[ID]]) == sorted(merged[ID])
    assert not set(train[GROUP]) & set(test[GROUP])
    assert abs(len(test) / len(merged) - 0.25) < 0.02
    assert abs(test[LABEL].mean() - train[LABEL].mean()) < 0.03
    twins_in_test = test[GROUP].value_counts()
    assert (twins_in_test == 2).any(), "some twin pairs should land in the test part together"


def test_split_is_deterministic_and_follows_the_seed() -> None:
    merged = synthetic_merged(200)
    first, _ = split_train_test(merged, 0.25, 7)
    again, _ = split_train_test(merged.sample(frac=1, random_state=1), 0.25, 7)
    other, _ = split_train_test(merged, 0.25, 8)
    assert first[ID].tolist() == again[ID].tolist()  # row order of the input does not matter
    assert first[ID].tolist() != other[ID].tolist()


# --- phik and collinearity -----------------------------------------------------------------


def test_phik_sees_a_dependency_and_ignores_noise() -> None:
    rng = np.random.default_rng(1)
    label = rng.integers(0, 2, 400)
    frame = pd.DataFrame({
        "copy": label * 10.0 + rng.normal(0, 0.5, 400),
        "noise": rng.normal(size=400),
        "colour": np.where(label == 1, "red", "blue"),
        LABEL: label,
    })  # fmt: skip
    matrix = phik_matrix(frame, ["copy", "noise"], ["colour"])
    assert list(matrix.columns) == ["copy", "noise", "colour", LABEL]
    assert np.allclose(matrix.to_numpy(), matrix.to_numpy().T)
    assert matrix.loc["copy", LABEL] > 0.9 and matrix.loc["colour", LABEL] > 0.9
    assert matrix.loc["noise", LABEL] < 0.2


def test_top_pairs_excludes_the_label_and_sorts_strongest_first() -> None:
    matrix = toy_matrix(
        {("a", "b"): 0.3, ("a", "c"): 0.8, ("b", "c"): 0.5}, {"a": 1, "b": 0, "c": 0}
    )
    pairs = top_pairs(matrix, 2)
    assert [(p["a"], p["b"]) for p in pairs] == [("a", "c"), ("b", "c")]
    assert pairs[0]["phik"] == 0.8


def test_collinearity_drops_the_member_less_related_to_the_target() -> None:
    target = {"a": 0.2, "b": 0.6, "c": 0.4, "d": 0.4, "e": 0.1}
    matrix = toy_matrix({("a", "b"): 0.95, ("c", "d"): 0.92, ("b", "e"): 0.5}, target)
    drops = collinear_drops(matrix, 0.9)
    assert [(d["dropped"], d["kept"]) for d in drops] == [("a", "b"), ("d", "c")]  # tie: later
    assert collinear_drops(matrix, 0.96) == []


def test_collinearity_walks_pairs_strongest_first_and_skips_dropped_members() -> None:
    # a-b strongest: b goes; a-c would drop c, but b-c no longer counts (b is gone)
    target = {"a": 0.9, "b": 0.5, "c": 0.7}
    matrix = toy_matrix({("a", "b"): 0.99, ("b", "c"): 0.98, ("a", "c"): 0.3}, target)
    assert [d["dropped"] for d in collinear_drops(matrix, 0.9)] == ["b"]


# --- engineered features and the spec ----------------------------------------------------


def test_engineered_features_switch_on_and_off() -> None:
    merged = synthetic_merged(40)
    on = add_engineered(merged, ["revenue_trend", "minutes_trend"])
    assert np.allclose(on["revenue_trend"], merged[REVENUE_COLUMNS[0]] - merged[REVENUE_COLUMNS[1]])
    assert np.allclose(on["minutes_trend"], merged[MINUTES_COLUMNS[0]] - merged[MINUTES_COLUMNS[1]])
    assert "revenue_trend" not in merged  # the input is not modified
    for switches, expected in [
        ({"revenue_trend": False, "minutes_trend": True}, {"minutes_trend"})
    ]:
        train, _, spec, metrics, _ = build_features(merged, {**PARAMS, "engineered": switches})
        assert set(spec["engineered"]) == expected == set(metrics["engineered"])
        assert "revenue_trend" not in train and "minutes_trend" in train
    with pytest.raises(DataError, match=r"^params\.yaml: features\.engineered\.no_such_feature"):
        add_engineered(merged, ["no_such_feature"])


def test_every_engineered_feature_is_finite_on_zero_minutes() -> None:
    merged = synthetic_merged(20)
    merged[MINUTES_COLUMNS[0]] = 0
    out = add_engineered(merged, list(ENGINEERED))
    assert np.isfinite(out[list(ENGINEERED)].to_numpy()).all()


def test_spec_lists_the_kept_features_and_survives_json_order() -> None:
    numeric = ["marketing_6m", REVENUE_COLUMNS[0], "revenue_trend"]
    spec = make_spec(numeric, ["revenue_trend"], dropped=[REVENUE_COLUMNS[0], "allow_messages"])
    assert spec["numeric"] == ["marketing_6m", "revenue_trend"]
    assert spec["nominal"] == NOMINAL_FEATURES
    assert list(spec["ordinal"]) == sorted(set(ORDINAL_FEATURES) - {"allow_messages"})
    assert spec["ordinal"]["service_type"] == ORDINAL_FEATURES["service_type"]
    assert set(spec["engineered"]) == {"revenue_trend"}


def test_build_features_outputs_and_prepare_features_agree() -> None:
    merged = synthetic_merged(200)
    train, test, spec, metrics, matrix = build_features(merged, PARAMS)
    assert list(train.columns[:3]) == [ID, GROUP, LABEL]
    assert list(train.columns[3:]) == feature_columns(spec) == list(test.columns[3:])
    assert metrics["n_train"] + metrics["n_test"] == len(merged)
    assert len(metrics["phik_top_pairs"]) == PARAMS["phik_top_pairs"]
    assert set(metrics["phik_with_target"]) == set(matrix.columns) - {LABEL}
    # scoring new customers: the spec rebuilds the same columns from merged rows
    again = prepare_features(merged.set_index(ID).loc[test[ID]].reset_index(), spec)
    pd.testing.assert_frame_equal(
        again.reset_index(drop=True), test[feature_columns(spec)].reset_index(drop=True)
    )


def test_collinear_features_are_dropped_from_the_outputs() -> None:
    merged = synthetic_merged(300)
    merged["minutes_previous"] = merged["minutes_current"]  # perfectly collinear twin
    train, _, spec, metrics, _ = build_features(merged, PARAMS)
    dropped = {d["dropped"] for d in metrics["dropped"]}
    assert dropped & {"minutes_current", "minutes_previous"}
    # their difference, minutes_trend, is now constant: no information, dropped as such
    assert {"dropped": "minutes_trend", "reason": "constant"} in metrics["dropped"]
    assert not dropped & set(train.columns) and not dropped & set(spec["numeric"])


def test_label_based_choices_ignore_the_test_part() -> None:
    merged = synthetic_merged(300)
    train, test, spec, metrics, _ = build_features(merged, PARAMS)
    mutated = merged.copy()
    in_test = mutated[ID].isin(test[ID])
    # make a feature collinear with another on the test rows only: a rule fitted on all rows
    # (or leaking test rows) would react, one fitted on the training part must not
    mutated.loc[in_test, "tenure_days"] = mutated.loc[in_test, "marketing_current"] * 1000
    train2, test2, spec2, metrics2, _ = build_features(mutated, PARAMS)
    pd.testing.assert_frame_equal(train, train2)
    assert spec == spec2 and metrics == metrics2
    assert test2[ID].tolist() == test[ID].tolist()


def test_check_merged_names_file_column_and_ids() -> None:
    merged = synthetic_merged(20)
    check_merged(merged, "customers.csv")
    with pytest.raises(DataError, match=r"customers.csv: missing column\(s\) \['tenure_days'\]"):
        check_merged(merged.drop(columns="tenure_days"), "customers.csv")
    bad = merged.assign(**{LABEL: merged[LABEL].where(merged[ID] != 1003, 2)})
    with pytest.raises(DataError, match=r"'declined': not 0/1 for id\(s\) \[1003\]"):
        check_merged(bad, "customers.csv")
    bad = merged.assign(service_type=merged["service_type"].where(merged[ID] != 1004, "gold"))
    with pytest.raises(DataError, match=r"'service_type': value not in .* \[1004\]"):
        check_merged(bad, "customers.csv")
    bad = merged.assign(promo_share=merged["promo_share"].where(merged[ID] != 1005))
    with pytest.raises(DataError, match=r"'promo_share': empty for id\(s\) \[1005\]"):
        check_merged(bad, "customers.csv")
