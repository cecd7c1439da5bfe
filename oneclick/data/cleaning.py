"""The `clean` stage's work: validate the store's four files, fix what is fixable, report every fix.

Fixes: misspelled and badly spaced category values, exact duplicate rows, revenue outliers
(`clean.revenue_outlier_*`), customers without purchases in a month (`clean.drop_zero_revenue`).
Customers whose features are identical across all tables keep their rows but share a
`duplicate_group`, so the split never puts one copy in train and the other in test.
Anything not fixable is a DataError, raised before any output is written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from oneclick.core import errors
from oneclick.core.writers import FLOAT_DECIMALS
from oneclick.data.contract import (
    FEATURES,
    GROUP,
    ID,
    INPUT_FILES,
    MARKET_FILE,
    MARKET_MONEY,
    PERIOD,
    REVENUE,
    TARGET,
)
from oneclick.data.quality import quality_metrics
from oneclick.data.reading import listed
from oneclick.data.validation import validate_tables
from oneclick.data.wide import sort_table, split_by, widen


def zero_revenue(money: pd.DataFrame) -> list[dict[str, Any]]:
    """Customers with a month without purchases, with the months (money sorted by id)."""
    zero = money[money[REVENUE] == 0]
    ids = zero[ID].to_numpy()
    months = split_by(ids, zero[PERIOD].astype("str").to_numpy())
    return [
        {"id": i, "reason": "zero_revenue", "periods": p}
        for i, p in zip(np.unique(ids).tolist(), months, strict=True)
    ]


def fix_outliers(
    money: pd.DataFrame, limit: float, action: str
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[dict[str, Any]]]:
    """(money with outlier months fixed, the outliers, customers to remove), money sorted by id."""
    outlier = money[REVENUE] > limit
    if not outlier.any():
        return money, [], []
    found = money[outlier]
    if action == "cap":
        new_values = pd.Series(limit, index=found.index)
    else:  # median of the customer's ordinary months; none left -> the customer goes
        ordinary = money.loc[money[ID].isin(found[ID]) & ~outlier]
        medians = ordinary.groupby(ID)[REVENUE].median()
        nothing = pd.Series(np.nan, index=found.index)
        new_values = found[ID].map(medians) if action == "median" else nothing
    items = [
        {"id": i, "period": p, "value": v, "new_value": None if np.isnan(n) else n}
        for i, p, v, n in zip(found[ID], found[PERIOD], found[REVENUE], new_values, strict=True)
    ]
    lost = found.loc[new_values.isna(), ID].unique()
    removed = [{"id": i, "reason": "revenue_outlier", "periods": []} for i in lost]
    fixed = money.copy()
    fixed.loc[new_values.index, REVENUE] = new_values
    return fixed, items, removed


def duplicate_groups(wide: pd.DataFrame) -> tuple[pd.Series, list[list[int]], list[list[int]]]:
    """(group per id = smallest id with identical features, groups, groups with mixed targets)."""
    group = pd.Series(wide.index, index=wide.index, name=GROUP)
    copies = wide[wide.duplicated(subset=FEATURES, keep=False)].reset_index()
    if copies.empty:
        return group, [], []
    copies[GROUP] = copies.groupby(FEATURES, sort=False, dropna=False)[ID].transform("min")
    copies = copies.sort_values([GROUP, ID], kind="mergesort")
    group.loc[copies[ID].to_numpy()] = copies[GROUP].to_numpy()
    groups = split_by(copies[GROUP].to_numpy(), copies[ID].to_numpy())
    conflicts = []
    if TARGET in copies:
        mixed = copies.groupby(GROUP, sort=True, observed=True)[TARGET].nunique() > 1
        conflicts = [groups[i] for i in np.flatnonzero(mixed.to_numpy())]
    return group, groups, conflicts


def clean_tables(
    raw: dict[str, pd.DataFrame], params: dict[str, Any], require_target: bool = True
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Raw tables (read_raw) and the `clean` params block -> (clean tables, data quality report)."""
    # the values params_schema validated (each stage checks its declared keys first)
    drop_zero = params["drop_zero_revenue"]
    limit, action = float(params["revenue_outlier_max"]), params["revenue_outlier_action"]
    tables, report = validate_tables(raw, require_target)
    tables = {s.key: sort_table(tables[s.key], s) for s in INPUT_FILES}
    money = tables[MARKET_MONEY.key]
    removed = zero_revenue(money) if drop_zero else []
    money = money[~money[ID].isin([r["id"] for r in removed])]
    money, outliers, lost = fix_outliers(money, limit, action)
    removed = sorted(removed + lost, key=lambda r: r["id"])
    check_someone_left(tables[MARKET_FILE.key], removed)
    gone = [r["id"] for r in removed]
    tables[MARKET_MONEY.key] = money
    tables = {k: t[~t[ID].isin(gone)].reset_index(drop=True) for k, t in tables.items()}
    group, groups, conflicts = duplicate_groups(widen(tables))
    market = tables[MARKET_FILE.key]
    tables[MARKET_FILE.key] = market.assign(**{GROUP: market[ID].map(group).to_numpy()})
    check_writable(tables)
    quality = quality_metrics(report, tables, (limit, action, outliers), removed, groups, conflicts)
    return tables, quality


REASONS = {
    "zero_revenue": "with a zero-revenue month (clean.drop_zero_revenue)",
    "revenue_outlier": "with revenue above clean.revenue_outlier_max that "
    "clean.revenue_outlier_action removes",
}


def check_someone_left(market: pd.DataFrame, removed: list[dict[str, Any]]) -> None:
    """Raise when the cleaning rules remove every customer: there is nothing to merge or score."""
    if len(removed) < market[ID].nunique():
        return
    reasons = Counter(r["reason"] for r in removed)
    why = ", ".join(f"{n} {REASONS[reason]}" for reason, n in sorted(reasons.items()))
    raise errors.DataError(
        f"{MARKET_MONEY.filename}: column {MARKET_MONEY.column(REVENUE).source!r}: cleaning "
        f"excludes every customer, all {len(removed)} ({why}); nothing left to clean or score"
    )


def check_writable(tables: dict[str, pd.DataFrame]) -> None:
    """Raise when a repair left a value the writers cannot round to a finite number.

    Validation rejects such values in the input; this holds the repairs (median, cap) to it too.
    """
    for spec in INPUT_FILES:
        table = tables[spec.key]
        for column in (c for c in spec.columns if c.kind == "float" and c.name in table):
            with np.errstate(over="ignore"):  # the overflow is what is being looked for
                bad = ~np.isfinite(np.round(table[column.name].to_numpy(), FLOAT_DECIMALS))
            if bad.any():
                raise errors.DataError(
                    f"{spec.filename}: column {column.source!r}: cleaning gives non-finite "
                    f"value(s) for id {listed(table.loc[bad, ID].unique())}"
                )
