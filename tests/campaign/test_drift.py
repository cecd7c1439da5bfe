"""PSI drift: ~0 for the same data, > 0.25 for an injected shift, and only in that feature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oneclick.campaign import drift
from oneclick.data import contract as c
from oneclick.features.spec import prepare_features
from oneclick.sample import files as sample
from tests.campaign.generated import campaign_for, next_merged, through_contract

SPEC = {
    "numeric": [*c.NUMERIC_FEATURES, "revenue_trend", "minutes_trend"],
    "nominal": c.NOMINAL_FEATURES,
    "ordinal": c.ORDINAL_FEATURES,
    "engineered": {"revenue_trend": "", "minutes_trend": ""},
}
COLUMNS = [*SPEC["numeric"], *SPEC["nominal"], *SPEC["ordinal"]]


def test_psi_is_zero_for_the_same_data() -> None:
    rng = np.random.default_rng(0)
    numbers = pd.Series(rng.normal(size=1000))
    assert drift.psi(numbers, numbers) == 0.0
    assert drift.psi(numbers, numbers.sample(frac=1, random_state=1)) == 0.0
    words = pd.Series(rng.choice(["да", "нет"], 500))
    assert drift.psi(words, words) == 0.0


def test_psi_is_small_between_samples_of_one_distribution_and_large_after_a_shift() -> None:
    rng = np.random.default_rng(1)
    reference, same = pd.Series(rng.normal(size=2000)), pd.Series(rng.normal(size=2000))
    assert drift.psi(reference, same) < 0.02
    assert drift.psi(reference, same + 1.0) > drift.DRIFT  # one standard deviation
    assert drift.WATCH < drift.psi(reference, same + 0.45) < drift.DRIFT


def test_psi_of_discrete_and_categorical_features() -> None:
    rng = np.random.default_rng(2)
    counts = pd.Series(rng.choice([3, 4, 5], 1000, p=[0.25, 0.5, 0.25]))
    assert drift.psi(counts, counts.sample(frac=1, random_state=0)) == 0.0
    assert drift.psi(counts, pd.Series(rng.choice([3, 4, 5], 1000, p=[0.6, 0.3, 0.1]))) > 0.25
    known = pd.Series(["a"] * 500 + ["b"] * 500)
    unseen = pd.Series(["a"] * 450 + ["b"] * 450 + ["c"] * 100)  # a category training never saw
    assert drift.psi(known, unseen) > drift.DRIFT


def test_flags_follow_the_thresholds() -> None:
    assert [drift.flag(v) for v in (0.05, 0.1, 0.2, 0.25, 0.3)] == [
        "ok",
        "ok",
        "watch",
        "watch",
        "drift",
    ]


@pytest.fixture(scope="module")
def periods(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """This period (a generated sample) and its next period without and with promo drift."""
    root = tmp_path_factory.mktemp("periods")
    n, seed = 2000, 31
    now = through_contract(sample.generate(n, seed), root / "now")
    campaign = campaign_for(n, seed, root / "campaign")
    out = {"now": now}
    for name, shift in (("same", {}), ("drifted", {"promo_share": 0.3})):
        out[name] = next_merged(campaign, n, seed, root / name, 0.15, shift)
    return {k: prepare_features(v, SPEC) for k, v in out.items()}


def test_a_next_period_without_drift_is_stable_in_every_feature(periods) -> None:
    table = drift.psi_table(periods["now"], periods["same"], COLUMNS)
    assert max(table.values()) < drift.WATCH, table


def test_an_injected_shift_drifts_that_feature_and_only_that_one(periods) -> None:
    table = drift.psi_table(periods["now"], periods["drifted"], COLUMNS)
    assert {k for k, v in table.items() if v > drift.DRIFT} == {"promo_share"}, table
    assert max(v for k, v in table.items() if k != "promo_share") < drift.WATCH
    summary = drift.summary(table, 2000, 2000)
    assert summary["features_above_drift"] == 1 and summary["features_above_watch"] == 1


def test_training_drift_warns_once_per_drifted_feature(
    periods, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    train = tmp_path / "train.csv"
    periods["now"].to_csv(train, index=False)
    monkeypatch.setattr(drift.paths, "TRAIN_FILE", train)
    with caplog.at_level("WARNING", logger="oneclick"):
        same = drift.training_drift(periods["now"], SPEC)
        moved = drift.training_drift(periods["drifted"], SPEC)
    assert set(same["psi"].values()) == {0.0}
    assert moved["features_above_drift"] == 1
    assert len(caplog.records) == 1 and "promo_share PSI" in caplog.records[0].getMessage()
