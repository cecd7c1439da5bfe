"""Stage `sample`: the store's formats, its known defects, determinism, a learnable signal."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from oneclick.core import config, paths
from oneclick.core.errors import DataError
from oneclick.data import contract as c
from oneclick.sample import customers as sample_customers
from oneclick.sample import files as sample

PARAMS = config.load_params()["sample"]
N, SEED = PARAMS["n_customers"], PARAMS["seed"]
CURRENT, PREVIOUS, BEFORE = c.MARKET_MONEY.periods
PERIOD_TYPO = next(k for k, v in c.PERIOD_MISSPELLINGS.items() if v == PREVIOUS)
REV_CUR, REV_PREV, REV_BEFORE = (f"{c.REVENUE} {p}" for p in c.MARKET_MONEY.periods)
MIN_PREV = f"{c.MINUTES} {PERIOD_TYPO}"
SERVICE_TYPO = next(iter(c.MARKET_FILE.column("service_type").misspellings))
COSMETICS_TYPO, COSMETICS = next(
    iter(c.MARKET_FILE.column("favourite_category").misspellings.items())
)
SRC = {f.key: {col.name: col.source for col in f.columns} for f in c.INPUT_FILES}


def read(directory: Path, f: c.InputFile) -> pd.DataFrame:
    return pd.read_csv(directory / f.filename, sep=f.sep, decimal=f.decimal, encoding=c.ENCODING)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sample")
    sample.write_files(sample.generate(N, SEED), directory)
    return directory


@pytest.fixture(scope="module")
def files(sample_dir: Path) -> dict[str, pd.DataFrame]:
    return {f.key: read(sample_dir, f) for f in c.INPUT_FILES}


def wide(files: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per customer: market_file + revenue and minutes by period + profit (raw labels)."""
    frames = [files[c.MARKET_FILE.key].set_index(c.ID)]
    for f, measure in ((c.MARKET_MONEY, c.REVENUE), (c.MARKET_TIME, c.MINUTES)):
        src = SRC[f.key]
        long = files[f.key].pivot(index=c.ID, columns=src[c.PERIOD], values=src[measure])
        frames.append(long.add_prefix(f"{measure} "))
    frames.append(files[c.MONEY.key].set_index(c.ID))
    return pd.concat(frames, axis=1)


@pytest.mark.parametrize("f", c.INPUT_FILES, ids=lambda f: f.key)
def test_file_format_is_the_stores(sample_dir: Path, f: c.InputFile) -> None:
    raw = (sample_dir / f.filename).read_bytes()
    text = raw.decode(c.ENCODING)
    assert text.endswith(c.LINE_TERMINATOR)
    assert text.count("\n") == text.count(c.LINE_TERMINATOR)  # every line ends CRLF
    lines = text.split(c.LINE_TERMINATOR)[:-1]
    assert lines[0] == f.sep.join(f.source_columns)
    assert all(line.count(f.sep) == len(f.columns) - 1 for line in lines)
    if f.decimal == ",":
        assert "." not in text and all(re.fullmatch(r"\d+;\d+(,\d{1,2})?", x) for x in lines[1:])


def test_headers_match_the_real_files(sample_dir: Path, real_data_dir: Path) -> None:
    for f in c.INPUT_FILES:
        real = (real_data_dir / f.filename).read_bytes().split(b"\n")[0]
        assert (sample_dir / f.filename).read_bytes().split(b"\n")[0] == real


def test_class_means_are_close_to_the_real_ones(files: dict, real_data_dir: Path) -> None:
    real = wide({f.key: read(real_data_dir, f) for f in c.INPUT_FILES})
    generated = wide(files)
    target = SRC[c.MARKET_FILE.key][c.TARGET]
    numeric = [col for col in real.columns if pd.api.types.is_numeric_dtype(real[col])]
    usual = [t[t[numeric].max(axis=1) < 20_000] for t in (real, generated)]  # outlier aside
    real_means, generated_means = (t.groupby(target)[numeric].mean() for t in usual)
    gap = (generated_means - real_means).abs() / real[numeric].std()
    assert (gap < 0.25).all().all(), gap.round(2).to_dict()


def test_rows_ids_and_periods(files: dict[str, pd.DataFrame]) -> None:
    market = files[c.MARKET_FILE.key]
    assert market[c.ID].tolist() == list(
        range(sample_customers.FIRST_ID, sample_customers.FIRST_ID + N)
    )
    assert files[c.MONEY.key][c.ID].tolist() == market[c.ID].tolist()
    for f, labels in (
        (c.MARKET_MONEY, {CURRENT, PREVIOUS, BEFORE}),
        (c.MARKET_TIME, {CURRENT, PERIOD_TYPO}),
    ):
        table = files[f.key]
        assert len(table) == len(labels) * N
        assert table[c.ID].is_monotonic_increasing  # grouped by customer like the store's
        per_customer = table.groupby(c.ID)[SRC[f.key][c.PERIOD]].agg(frozenset)
        assert (per_customer == frozenset(labels)).all()
        first = table.groupby(c.ID)[SRC[f.key][c.PERIOD]].first()
        assert first.nunique() == len(labels)  # row order within a customer varies, as there


def test_values_have_the_stores_granularity_and_ranges(files: dict[str, pd.DataFrame]) -> None:
    market, src = files[c.MARKET_FILE.key], SRC[c.MARKET_FILE.key]
    for column in c.MARKET_FILE.columns:
        values = market[column.source]
        if column.kind == "int":
            assert pd.api.types.is_integer_dtype(values), column.name
        if column.min_value is not None:
            assert values.min() >= column.min_value, column.name
    assert np.allclose(market[src["marketing_6m"]] * 10, (market[src["marketing_6m"]] * 10).round())
    promo = market[src["promo_share"]]
    assert promo.between(0, 1).all() and np.allclose(promo * 100, (promo * 100).round())
    assert ((promo > 0.8).mean() > 0.05) and ((promo < 0.5).mean() > 0.8)  # bimodal
    minutes = files[c.MARKET_TIME.key][SRC[c.MARKET_TIME.key][c.MINUTES]]
    assert minutes.between(4, 23).all()
    profit = files[c.MONEY.key][SRC[c.MONEY.key][c.PROFIT]]
    assert profit.between(0.86, 7.43).all() and np.allclose(profit * 100, (profit * 100).round())
    money = files[c.MARKET_MONEY.key]
    current = money[money[SRC[c.MARKET_MONEY.key][c.PERIOD]] == CURRENT][
        SRC[c.MARKET_MONEY.key][c.REVENUE]
    ]
    assert current.median() == pytest.approx(5200, rel=0.05)
    assert (current < 20_000).mean() == pytest.approx(1, abs=0.01)
    declined = (market[src[c.TARGET]] == c.TARGET_POSITIVE).mean()
    assert declined == pytest.approx(498 / 1300, abs=0.01)


def test_features_depend_on_the_target_as_in_the_store(files: dict[str, pd.DataFrame]) -> None:
    table = wide(files)
    src = SRC[c.MARKET_FILE.key]
    declined = table[src[c.TARGET]] == c.TARGET_POSITIVE
    lower_when_declined = ["pages_per_visit", "categories_per_visit", "marketing_6m"]
    higher_when_declined = ["promo_share", "unpaid_items_quarter"]
    for name in lower_when_declined:
        assert table.loc[declined, src[name]].mean() < table.loc[~declined, src[name]].mean(), name
    for name in higher_when_declined:
        assert table.loc[declined, src[name]].mean() > table.loc[~declined, src[name]].mean(), name
    assert table.loc[declined, MIN_PREV].mean() < table.loc[~declined, MIN_PREV].mean() - 2


def test_signal_is_learnable(files: dict[str, pd.DataFrame]) -> None:
    table = wide(files)
    y = (table.pop(SRC[c.MARKET_FILE.key][c.TARGET]) == c.TARGET_POSITIVE).astype(int)
    table = table.drop(columns=SRC[c.MONEY.key][c.PROFIT])
    X = pd.get_dummies(table, dtype=float).clip(upper=20_000)  # tame the revenue outlier
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    auc = cross_val_score(model, X, y, cv=cv, scoring="roc_auc").mean()
    assert 0.85 < auc < 0.97  # the store's own data gives ~0.91


def test_known_defects_are_present(files: dict[str, pd.DataFrame]) -> None:
    market, src = files[c.MARKET_FILE.key], SRC[c.MARKET_FILE.key]
    services = market[src["service_type"]].value_counts()
    assert 0 < services[SERVICE_TYPO] < 0.02 * services.sum()
    categories = set(market[src["favourite_category"]])
    assert COSMETICS_TYPO in categories and COSMETICS not in categories
    money_periods = set(files[c.MARKET_MONEY.key][SRC[c.MARKET_MONEY.key][c.PERIOD]])
    assert PREVIOUS in money_periods and PERIOD_TYPO not in money_periods  # typo in time only
    table = wide(files)
    outliers = table[table[REV_CUR] > 20_000]
    assert len(outliers) == sample.defect_count(N, sample.OUTLIER_RATE)
    assert outliers[REV_CUR].between(*sample.OUTLIER_RANGE).all()
    zeros = table[(table[REV_PREV] == 0) & (table[REV_BEFORE] == 0)]
    assert len(zeros) == sample.defect_count(N, sample.ZERO_REVENUE_RATE)
    assert (zeros[src[c.TARGET]] == c.TARGET_POSITIVE).all()
    assert (table[REV_CUR] > 0).all()


def test_duplicates_match_in_every_feature_but_profit(files: dict[str, pd.DataFrame]) -> None:
    table = wide(files)
    profit = SRC[c.MONEY.key][c.PROFIT]
    features = [col for col in table.columns if col != profit]
    dup = table[table.duplicated(features, keep=False)]
    groups = dup.groupby(features, sort=False)[profit]
    assert len(dup) == 2 * sample.defect_count(N, sample.DUPLICATE_RATE)
    assert (groups.size() == 2).all() and (groups.nunique() == 2).all()  # target is a feature here


def test_same_seed_same_bytes_other_seed_other_data(sample_dir: Path, tmp_path: Path) -> None:
    sample.write_files(sample.generate(N, SEED), tmp_path / "same")
    sample.write_files(sample.generate(N, SEED + 1), tmp_path / "other")
    for f in c.INPUT_FILES:
        original = (sample_dir / f.filename).read_bytes()
        assert (tmp_path / "same" / f.filename).read_bytes() == original
        assert (tmp_path / "other" / f.filename).read_bytes() != original


@pytest.mark.parametrize("n", [1, 7, 99, 100])
def test_small_samples_are_well_formed(n: int) -> None:
    frames = sample.generate(n, 3)
    assert [len(frames[f.key]) for f in c.INPUT_FILES] == [n, 3 * n, 2 * n, n]
    revenue = frames[c.MARKET_MONEY.key][SRC[c.MARKET_MONEY.key][c.REVENUE]]
    assert (revenue > 20_000).sum() == (1 if n >= 100 else 0)


def test_no_customers_is_an_error() -> None:
    with pytest.raises(DataError, match="n_customers"):
        sample.generate(0, 1)


def test_defect_count_scales_and_keeps_one_from_100() -> None:
    assert sample.defect_count(1300, 11 / 1300) == 11
    assert sample.defect_count(1_000_000, 3 / 1300) == 2308
    assert sample.defect_count(100, 1 / 1300) == 1
    assert sample.defect_count(99, 1 / 1300) == 0


def test_refuses_to_overwrite_foreign_files(tmp_path: Path) -> None:
    foreign = tmp_path / c.MONEY.filename
    foreign.write_text("the store's file\n", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(str(tmp_path))):
        sample.write_files(sample.generate(10, 1), tmp_path)
    assert foreign.read_text(encoding="utf-8") == "the store's file\n"
    assert not (tmp_path / sample.MARKER).exists()


def test_overwrites_its_own_output(tmp_path: Path) -> None:
    sample.write_files(sample.generate(10, 1), tmp_path)
    sample.write_files(sample.generate(20, 1), tmp_path)
    assert len(read(tmp_path, c.MARKET_FILE)) == 20


def test_cli_refusal_is_one_line(tmp_path: Path) -> None:
    (tmp_path / c.MARKET_FILE.filename).write_text("id\r\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "stages.sample", "--output", str(tmp_path), "--n-customers", "5"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(tmp_path) in result.stderr


def test_cli_refuses_zero_customers_before_any_progress_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.sample", "--output", str(tmp_path), "--n-customers", "0"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: sample.n_customers (--n-customers) must be at least 1, got 0"
    ]
    assert not any(tmp_path.iterdir())


def test_visible_moments_restore_the_declined_moments() -> None:
    unchanged, declined, hidden = (10.0, 3.0), (6.0, 3.5), 0.2
    mean, sd = sample_customers.visible_moments(unchanged, declined, hidden)
    mix_mean = hidden * unchanged[0] + (1 - hidden) * mean
    mix_var = hidden * unchanged[1] ** 2 + (1 - hidden) * sd**2
    mix_var += hidden * (1 - hidden) * (mean - unchanged[0]) ** 2
    assert mix_mean == pytest.approx(declined[0])
    assert np.sqrt(mix_var) == pytest.approx(declined[1])


def test_quantise_rounds_clips_and_types() -> None:
    ints = sample_customers.quantise(np.array([-3.0, 2.4, 2.6, 99.0]), 0, 10, 1)
    assert ints.dtype == np.int64 and ints.tolist() == [0, 2, 3, 10]
    halves = sample_customers.quantise(np.array([2890.2, 4000.26, 9000.0]), 2890, 6870, 0.5)
    assert halves.tolist() == [2890.0, 4000.5, 6870.0]


def test_draw_categories_follows_the_row_probabilities() -> None:
    rng = np.random.default_rng(0)
    shares = np.array([[0, 0, 1.0], [1.0, 0, 0], [0, 0.5, 0.5]] * 2000)
    drawn = sample_customers.draw_categories(rng, shares)
    assert (drawn[0::3] == 2).all() and (drawn[1::3] == 0).all()
    assert set(drawn[2::3]) == {1, 2} and abs((drawn[2::3] == 1).mean() - 0.5) < 0.05


def test_long_table_keeps_values_with_their_period() -> None:
    frame = pd.DataFrame({c.ID: [1, 2], "a": [10.0, 20.0], "b": [11.0, 21.0]})
    orders = {(0, 1): 1, (1, 0): 1}
    table = sample.long_table(frame, ["a", "b"], orders, ["A", "B"], np.random.default_rng(0))
    assert table[c.ID].tolist() == [1, 1, 2, 2]
    expected = {(1, "A"): 10.0, (1, "B"): 11.0, (2, "A"): 20.0, (2, "B"): 21.0}
    assert {(i, str(p)): v for i, p, v in table.itertuples(index=False)} == expected
