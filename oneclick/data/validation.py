"""Raw tables -> typed English-named tables: every column, duplicate keys, periods and ids.

Every problem is one DataError line naming file, column and rows; what was fixed on the way
(spellings, exact duplicate rows) is counted for the data quality report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oneclick.core.errors import DataError
from oneclick.data.contract import ID, INPUT_FILES, MARKET_FILE, PERIOD, InputFile
from oneclick.data.numbers import to_number
from oneclick.data.reading import TEXT_KINDS, check_columns, listed, where
from oneclick.data.values import normalise


def validate_table(
    frame: pd.DataFrame, spec: InputFile, require_target: bool = True
) -> tuple[pd.DataFrame, dict[str, dict], int]:
    """Raw table -> (typed table, English names; fixes per column; exact duplicate rows dropped).

    Exact duplicate rows (after fixing spellings) are an export artefact and are dropped; the same
    key with different values is ambiguous and raises, as does a missing period of a long table.
    Text columns come back as categoricals whose categories are the contract's values.
    """
    file = spec.filename
    frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    columns = check_columns(frame, spec, require_target)
    typed, fixes, ids = {}, {}, None
    for column in columns:  # the id comes first, so later messages can name ids
        values = frame[column.source]
        if column.kind in TEXT_KINDS:
            typed[column.name], found = normalise(values, column, file, ids)
            if found:
                fixes[column.name] = found
        else:
            if (missing := values.isna()).any():
                raise DataError(
                    f"{file}: column {column.source!r}: missing value(s) at {where(missing, ids)}"
                )
            typed[column.name] = to_number(values, column, spec, ids)
        ids = typed[ID]
    table = pd.DataFrame(typed)
    # One integer key per row: duplicates of it are rare, so whole rows are compared only there.
    key = pd.factorize(table[ID])[0]  # small codes: id * periods + period cannot overflow
    if spec.periods:
        key = key * len(spec.column(PERIOD).categories) + table[PERIOD].cat.codes.to_numpy()
    exact = np.zeros(len(table), dtype=bool)
    if (repeated := pd.Series(key).duplicated(keep=False).to_numpy()).any():
        exact[repeated] = table[repeated].duplicated().to_numpy()
        table, key = table[~exact], key[~exact]
    if (clash := pd.Series(key).duplicated(keep=False).to_numpy()).any():
        raise DataError(
            f"{file}: column {ID!r}: duplicate {'(id, period)' if spec.periods else 'id'}"
            f" with different values: id {listed(table.loc[clash, ID].unique())}"
        )
    if spec.periods:
        counts = table[ID].value_counts(sort=False)
        short = np.sort(counts.index[counts.to_numpy() < len(spec.periods)])
        if len(short):
            have = set(table.loc[table[ID] == short[0], PERIOD])
            lacking = [p for p in spec.periods if p not in have]
            raise DataError(
                f"{file}: column {spec.column(PERIOD).source!r}: missing period(s) for id "
                f"{listed(short)} (id {short[0]} lacks {lacking})"
            )
    return table, fixes, int(exact.sum())


def check_ids(tables: dict[str, pd.DataFrame]) -> None:
    """Every table must describe exactly the customers of market_file."""
    reference = pd.Index(tables[MARKET_FILE.key][ID].unique())
    for spec in INPUT_FILES[1:]:
        ids = pd.Index(tables[spec.key][ID].unique())
        absent = reference.difference(ids)
        stray = ids.difference(reference)
        if len(absent):
            raise DataError(
                f"{spec.filename}: column {ID!r}: {len(absent)} id(s) of "
                f"{MARKET_FILE.filename} missing here: {listed(absent)}"
            )
        if len(stray):
            raise DataError(
                f"{spec.filename}: column {ID!r}: {len(stray)} id(s) not in "
                f"{MARKET_FILE.filename}: {listed(stray)}"
            )


def validate_tables(
    raw: dict[str, pd.DataFrame], require_target: bool = True
) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """All four raw tables -> typed English-named tables and a report of what was fixed."""
    tables: dict[str, pd.DataFrame] = {}
    report: dict[str, dict] = {"fixes": {}, "exact_duplicate_rows": {}, "rows_in": {}}
    for spec in INPUT_FILES:
        if spec.key not in raw:
            raise DataError(f"{spec.filename}: table is missing")
        table, fixes, exact = validate_table(raw[spec.key], spec, require_target)
        tables[spec.key] = table
        report["rows_in"][spec.key] = len(raw[spec.key])
        report["exact_duplicate_rows"][spec.key] = exact
        if fixes:
            report["fixes"][spec.key] = fixes
    check_ids(tables)
    return tables, report
