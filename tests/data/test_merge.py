"""Stage `merge`: one row per customer from the clean tables, and the EDA plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oneclick.core import writers
from oneclick.core.errors import DataError
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import (
    FEATURES,
    GROUP,
    ID,
    LABEL,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MINUTES,
    NOT_FEATURES,
    PERIOD,
    PROFIT,
    REVENUE,
    TARGET,
    TARGET_POSITIVE,
    wide_column,
)
from oneclick.data.merging import (
    integer_bins,
    merge_tables,
    plot_categorical,
    plot_class_balance,
    plot_numeric,
    read_clean,
)
from tests.conftest import clone_project, dvc
from tests.tiny_data import IDS, PARAMS, TWINS, ZERO_ID, tiny_tables


@pytest.fixture
def clean() -> dict[str, pd.DataFrame]:
    return clean_tables(tiny_tables(), PARAMS)[0]


def test_one_row_per_customer_in_contract_order(clean: dict[str, pd.DataFrame]) -> None:
    merged = merge_tables(clean)
    assert list(merged.columns) == FEATURES + NOT_FEATURES
    assert merged.index.name == ID
    assert merged.index.tolist() == sorted(i for i in IDS if i != ZERO_ID)
    assert merged.loc[TWINS[1], GROUP] == TWINS[0]
    market = clean[MARKET_FILE.key].set_index(ID)
    for column in market.columns:
        assert (merged[column] == market[column]).all(), column


def test_long_tables_land_in_their_period_columns(clean: dict[str, pd.DataFrame]) -> None:
    merged = merge_tables(clean)
    for spec, measure in ((MARKET_MONEY, REVENUE), (MARKET_TIME, MINUTES)):
        for row in clean[spec.key].itertuples(index=False):
            record = row._asdict()
            column = wide_column(measure, record[PERIOD])
            assert merged.loc[record[ID], column] == record[measure]
    profit = clean["money"].set_index(ID)[PROFIT]
    assert (merged[PROFIT] == profit.reindex(merged.index)).all()


def test_label_is_one_for_declined(clean: dict[str, pd.DataFrame]) -> None:
    merged = merge_tables(clean)
    assert merged[LABEL].dtype.kind == "i"
    assert ((merged[TARGET] == TARGET_POSITIVE) == (merged[LABEL] == 1)).all()
    assert set(merged[LABEL]) == {0, 1}


def test_merge_works_without_target(clean: dict[str, pd.DataFrame]) -> None:
    clean[MARKET_FILE.key] = clean[MARKET_FILE.key].drop(columns=[TARGET, GROUP])
    merged = merge_tables(clean)
    assert list(merged.columns) == [*FEATURES, PROFIT, GROUP]
    assert (merged[GROUP] == merged.index).all()


def test_customers_missing_from_a_table_are_an_error(clean: dict[str, pd.DataFrame]) -> None:
    minutes = clean[MARKET_TIME.key]
    clean[MARKET_TIME.key] = minutes[minutes[ID] != TWINS[0]]
    with pytest.raises(DataError, match=MARKET_FILE.filename):
        merge_tables(clean)


def test_round_trip_through_clean_csv_gives_the_same_table(
    clean: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    for spec_key, table in clean.items():
        writers.write_csv(table, tmp_path / f"{spec_key}.csv")
    merged = merge_tables(clean)
    again = merge_tables(read_clean(tmp_path))
    pd.testing.assert_frame_equal(merged, again, check_dtype=False, check_categorical=False)


def test_missing_clean_table_is_named(clean: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    writers.write_csv(clean[MARKET_FILE.key], tmp_path / MARKET_FILE.filename)
    with pytest.raises(DataError, match=MARKET_MONEY.filename):
        read_clean(tmp_path)


def test_integer_bins_one_per_value_for_small_integer_ranges() -> None:
    edges = integer_bins(pd.Series([0, 3, 5]))
    assert np.allclose(edges, np.arange(-0.5, 6.0))
    assert len(integer_bins(pd.Series([0.1, 2.5, 7.0]))) == 31
    assert len(integer_bins(pd.Series([0, 1000]))) == 31


def test_plots_have_one_panel_per_feature_and_are_byte_stable(
    clean: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    writers.setup_matplotlib()
    merged = merge_tables(clean)
    numeric = plot_numeric(merged)
    visible = [axis for axis in numeric.axes if axis.get_visible() and axis.get_title()]
    assert len(visible) == len([f for f in FEATURES if merged[f].dtype.kind in "if"])
    categorical = plot_categorical(merged)
    assert len([a for a in categorical.axes if a.get_visible()]) == len(FEATURES) - len(visible)
    for attempt in ("a", "b"):
        writers.save_figure(plot_class_balance(merged), tmp_path / f"{attempt}.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_dvc_lists_the_eda_plots(reproduced_project: Path, tmp_path: Path) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")  # DVC commands lock the repo
    shown = json.loads(dvc(["plots", "show", "--json"], repo).stdout)
    eda = [p for p in shown["data"] if p.startswith("plots/eda/")]
    assert sorted(eda) == [
        "plots/eda/categorical_by_class.png",
        "plots/eda/class_balance.png",
        "plots/eda/numeric_by_class.png",
    ]
    merged = pd.read_csv(reproduced_project / "data" / "merged" / "customers.csv")
    assert list(merged.columns) == [ID, *FEATURES, *NOT_FEATURES]
    assert merged[ID].is_unique and merged[ID].is_monotonic_increasing
