"""The `sample` stage's work: a deterministic, realistic stand-in for the store's four files.

The pipeline runs on this sample by default, so it looks like the store's exports byte for byte
(separators, decimal comma, CRLF, headers, period labels, row order) and carries their known
defects at the store's rates. The distributions live in oneclick/sample/customers.py.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from oneclick.core import entry, writers
from oneclick.core.errors import DataError
from oneclick.data import contract as c
from oneclick.sample.customers import PROFIT, REV_BEFORE, REV_CUR, REV_PREV, customers

MARKER = ".generated"  # marks a directory this generator owns (and may overwrite)
MARKER_TEXT = "written by stages.sample: generated data, not the store's\n"
# Defect rates as in the store's 1,300 customers.
OUTLIER_RATE, OUTLIER_RANGE = 1 / 1300, (95_000.0, 110_000.0)  # current-month revenue
ZERO_REVENUE_RATE = 3 / 1300  # declined customers without revenue in the two earlier months
DUPLICATE_RATE = 11 / 1300  # copies under new ids: same features and target, other profit
MISSPELLED_STANDARD_RATE = 10 / 924  # of standard-service customers
# Rows of a customer in the long files come in one of these period orders (indices into the
# file's periods), with the store's frequencies.
MONEY_ORDERS: dict[tuple[int, ...], int] = {
    (0, 2, 1): 314,
    (2, 1, 0): 298,
    (1, 0, 2): 288,
    (1, 2, 0): 145,
    (0, 1, 2): 132,
    (2, 0, 1): 123,
}
TIME_ORDERS: dict[tuple[int, ...], int] = {(0, 1): 677, (1, 0): 623}


def misspelled(column: c.Column) -> dict[str, str]:
    """Correct value -> the store's misspelling of it."""
    return {right: wrong for wrong, right in column.misspellings.items()}


SERVICE = c.MARKET_FILE.column("service_type")
(STANDARD, MISSPELLED_STANDARD), *_ = misspelled(SERVICE).items()
LABELS = {  # category code -> the store's label (every cosmetics customer is misspelled there)
    c.TARGET: [c.TARGET_NEGATIVE, c.TARGET_POSITIVE],
    "service_type": [*c.ORDINAL_FEATURES["service_type"], MISSPELLED_STANDARD],
    "allow_messages": c.ORDINAL_FEATURES["allow_messages"],
    "favourite_category": [
        misspelled(c.MARKET_FILE.column("favourite_category")).get(x, x) for x in c.CATEGORIES
    ],
}
TIME_PERIODS = [misspelled(c.MARKET_TIME.column(c.PERIOD)).get(p, p) for p in c.MARKET_TIME.periods]


def defect_count(n: int, rate: float) -> int:
    """How many customers carry a defect: the store's rate, at least one from 100 customers on."""
    count = round(n * rate)
    return max(count, 1) if n >= 100 else count


def inject_defects(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The store's known defects at its rates; no customer carries two of the value defects."""
    frame, n = frame.copy(), len(frame)
    order = rng.permutation(n)
    n_outliers = defect_count(n, OUTLIER_RATE)
    outliers, rest = order[:n_outliers], order[n_outliers:]
    zeros = rest[frame[c.LABEL].to_numpy()[rest] == 1][: defect_count(n, ZERO_REVENUE_RATE)]
    rest = rest[~np.isin(rest, zeros)]
    n_pairs = min(defect_count(n, DUPLICATE_RATE), len(rest) // 2)
    pairs = np.sort(rest[: 2 * n_pairs].reshape(2, n_pairs), axis=0)  # the copy has the later id
    frame.loc[outliers, REV_CUR] = np.round(rng.uniform(*OUTLIER_RANGE, n_outliers), 1)
    frame.loc[zeros, [REV_PREV, REV_BEFORE]] = 0.0
    standard = LABELS["service_type"].index(STANDARD)
    candidates = np.flatnonzero(frame["service_type"].to_numpy() == standard)
    candidates = rng.permutation(candidates[~np.isin(candidates, pairs[1])])
    wrong = candidates[: defect_count(len(candidates), MISSPELLED_STANDARD_RATE)]
    frame.loc[wrong, "service_type"] = LABELS["service_type"].index(MISSPELLED_STANDARD)
    for column in frame.columns.drop([c.ID, c.PROFIT]):
        values = frame[column].to_numpy().copy()
        values[pairs[1]] = values[pairs[0]]
        frame[column] = values
    profit = frame[c.PROFIT].to_numpy().copy()
    same = profit[pairs[1]] == profit[pairs[0]]
    profit[pairs[1]] += np.where(same, np.where(profit[pairs[1]] < PROFIT[3], 0.01, -0.01), 0)
    frame[c.PROFIT] = np.round(profit, 2)
    return frame


def long_table(
    frame: pd.DataFrame,
    columns: list[str],
    orders: dict[tuple[int, ...], int],
    periods: list[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """id x period rows (value in column "value"), a customer's rows in one of the given orders."""
    n, k = len(frame), len(columns)
    patterns, weights = np.array(list(orders)), np.array(list(orders.values()), dtype=float)
    period = patterns[rng.choice(len(patterns), n, p=weights / weights.sum())].ravel()
    return pd.DataFrame(
        {
            c.ID: np.repeat(frame[c.ID].to_numpy(), k),
            c.PERIOD: pd.Categorical.from_codes(period, periods),
            "value": frame[columns].to_numpy()[np.repeat(np.arange(n), k), period],
        }
    )


def store_files(frame: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The four files as the store exports them (Russian headers), keyed by InputFile.key."""
    market = frame.rename(columns={c.LABEL: c.TARGET})
    for column, labels in LABELS.items():
        market[column] = pd.Categorical.from_codes(market[column], labels)
    money = long_table(frame, c.REVENUE_COLUMNS, MONEY_ORDERS, list(c.MARKET_MONEY.periods), rng)
    time = long_table(frame, c.MINUTES_COLUMNS, TIME_ORDERS, TIME_PERIODS, rng)
    tables = {
        c.MARKET_FILE.key: market,
        c.MARKET_MONEY.key: money.rename(columns={"value": c.REVENUE}),
        c.MARKET_TIME.key: time.rename(columns={"value": c.MINUTES}),
        c.MONEY.key: frame,
    }
    return {
        f.key: tables[f.key][[col.name for col in f.columns]].set_axis(f.source_columns, axis=1)
        for f in c.INPUT_FILES
    }


def check_size(n_customers: int) -> None:
    if n_customers < 1:
        raise DataError(f"sample.n_customers (--n-customers) must be at least 1, got {n_customers}")


def generate(n_customers: int, seed: int) -> dict[str, pd.DataFrame]:
    """The four files for n_customers customers; the same n and seed give the same data."""
    check_size(n_customers)
    rng = np.random.default_rng(seed)
    return store_files(inject_defects(customers(n_customers, rng), rng), rng)


def check_output_dir(path: Path) -> None:
    """Refuse a directory holding any of the store's files that this generator did not write."""
    if not (path / MARKER).is_file() and any((path / f.filename).exists() for f in c.INPUT_FILES):
        raise DataError(f"{path}: holds input files not written by stages.sample (no {MARKER})")


def write_files(frames: dict[str, pd.DataFrame], path: Path) -> None:
    """Write the files in the store's formats (separator, decimal mark, CRLF, UTF-8)."""
    check_output_dir(path)
    with writers.together():  # all four files or none (and the marker with them)
        writers.write_text(MARKER_TEXT, path / MARKER)
        for f in c.INPUT_FILES:
            entry.log.info("writing %s (%d rows)", path / f.filename, len(frames[f.key]))
            to_csv = partial(
                frames[f.key].to_csv,
                sep=f.sep,
                decimal=f.decimal,
                index=False,
                lineterminator=c.LINE_TERMINATOR,
            )
            writers.write_with(path / f.filename, to_csv, c.ENCODING)
