"""The store's four files: read them, validate them against the contract, reshape them wide.

Shared by the `clean` stage and by scoring of new data, so every check is vectorised (a million
customers validate in seconds) and every problem is one DataError line naming file, column, rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from stages.common import DataError
from stages.contract import (
    ID,
    INPUT_FILES,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MINUTES,
    MONEY,
    PERIOD,
    REVENUE,
    TARGET,
    Column,
    InputFile,
    wide_column,
)

TEXT_KINDS = ("target", "category", "period")
SEPARATORS = (",", ";", "\t")
SHOWN = 5  # how many offending rows/ids/values an error message lists
LINE_OFFSET = 2  # row 0 of a frame is line 2 of its file (line 1 is the header)


def read_file(path: Path, spec: InputFile) -> pd.DataFrame:
    """One raw file as the store wrote it: Russian headers, nothing fixed.

    Text columns are read as categories: a million rows of a handful of values then cost codes,
    not strings, in every later comparison, sort and duplicate check.
    """
    if not path.is_file():
        raise DataError(f"{spec.filename}: file is missing (looked for {path})")
    if path.stat().st_size == 0:
        raise DataError(f"{spec.filename}: empty file (0 bytes)")
    with open(path, "rb") as handle:
        header = decode(handle.readline(), spec).rstrip("\r\n")
    if spec.sep not in header:
        found = [s for s in SEPARATORS if s in header]
        if found:
            raise DataError(
                f"{spec.filename}: header {header[:60]!r} looks like wrong separator "
                f"({found[0]!r} found, expected {spec.sep!r})"
            )
    check_header(next(csv.reader([header], delimiter=spec.sep)), spec)
    text = {c.source: "category" for c in spec.columns if c.kind in TEXT_KINDS}
    try:
        frame = pd.read_csv(
            path, sep=spec.sep, decimal=spec.decimal, encoding="utf-8-sig", dtype=text
        )
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{spec.filename}: empty file (no header)") from error
    except UnicodeDecodeError as error:
        decode(path.read_bytes(), spec)  # raises, naming the line
        raise DataError(f"{spec.filename}: not UTF-8 text") from error
    except pd.errors.ParserError as error:
        reason = str(error).strip().splitlines()[-1].removeprefix("Error tokenizing data. ")
        raise DataError(f"{spec.filename}: cannot parse: {reason}") from error
    if not frame.index.equals(pd.RangeIndex(len(frame))):  # surplus fields became an index
        raise DataError(
            f"{spec.filename}: data rows have more fields than the header "
            f"(a value containing {spec.sep!r}, e.g. a decimal comma?)"
        )
    if frame.empty:
        raise DataError(f"{spec.filename}: no data rows (header only)")
    return frame


def decode(data: bytes, spec: InputFile) -> str:
    """UTF-8 text (a BOM is fine); anything else is a DataError naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataError(
            f"{spec.filename}: not UTF-8 text (line {line}, byte {error.start}); "
            "export the file as UTF-8"
        ) from error


def read_raw(directory: Path) -> dict[str, pd.DataFrame]:
    """The four input files of a directory, keyed by contract key (market_file, money, ...)."""
    return {spec.key: read_file(Path(directory) / spec.filename, spec) for spec in INPUT_FILES}


def where(mask: pd.Series | np.ndarray, ids: pd.Series | None = None) -> str:
    """'lines 5, 9 (id 215351, 215355)' for the rows flagged by mask, first few only."""
    positions = np.flatnonzero(np.asarray(mask))
    lines = ", ".join(str(p + LINE_OFFSET) for p in positions[:SHOWN])
    more = f" and {len(positions) - SHOWN} more" if len(positions) > SHOWN else ""
    text = f"line{'s' if len(positions) > 1 else ''} {lines}{more}"
    if ids is not None:
        text += f" (id {', '.join(str(i) for i in ids.to_numpy()[positions[:SHOWN]])})"
    return text


def listed(values: list | np.ndarray | pd.Index) -> str:
    shown = ", ".join(str(v) for v in list(values)[:SHOWN])
    return shown + (f" and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def check_header(names: list[str], spec: InputFile) -> None:
    """Raise when the header row is missing (data in its place) or names a column twice.

    Runs on the raw header line too, before pandas renames a repeated 'X' to 'X.1'.
    """
    names = [str(name).strip() for name in names]
    if not set(names) & set(spec.source_columns):
        shown = spec.sep.join(names)
        raise DataError(
            f"{spec.filename}: header row missing (first line looks like data: {shown[:60]!r}); "
            f"expected column names {listed(spec.source_columns)}"
        )
    repeated = list(dict.fromkeys(n for i, n in enumerate(names) if n in names[:i]))
    if repeated:
        plural = "s" if len(repeated) > 1 else ""
        raise DataError(
            f"{spec.filename}: duplicated column{plural} {listed([repr(n) for n in repeated])}"
        )


def check_columns(frame: pd.DataFrame, spec: InputFile, require_target: bool) -> list[Column]:
    """The contract columns present in frame; raise on wrong separator, missing/extra columns."""
    present = [str(c) for c in frame.columns]
    if len(present) == 1 and any(s in present[0] for s in SEPARATORS if s != spec.sep):
        raise DataError(f"{spec.filename}: single column {present[0][:60]!r}: wrong separator")
    check_header(present, spec)
    optional = set() if require_target else {MARKET_FILE.column(TARGET).source}
    missing = [c for c in spec.source_columns if c not in present and c not in optional]
    extra = [c for c in present if c not in spec.source_columns]
    if missing or extra:
        problems = [f"missing column(s) {missing}" if missing else ""]
        problems.append(f"unexpected column(s) {extra}" if extra else "")
        raise DataError(f"{spec.filename}: {'; '.join(p for p in problems if p)}")
    return [c for c in spec.columns if c.source in present]


def to_number(
    values: pd.Series, column: Column, spec: InputFile, ids: pd.Series | None
) -> pd.Series:
    """Numeric column, type- and range-checked; raise naming the first offending rows."""
    label = f"{spec.filename}: column {column.source!r}"
    numbers = values
    if not pd.api.types.is_numeric_dtype(values):  # pandas met text: find which rows
        text = values.astype("str").str.strip().str.replace(spec.decimal, ".", regex=False)
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            examples = listed(values[bad].unique())
            raise DataError(f"{label}: text in a numeric column at {where(bad, ids)}: {examples}")
    numbers = numbers.astype("float64")
    integral = column.kind in ("int", "id")
    if integral and (fractional := numbers % 1 != 0).any():
        raise DataError(f"{label}: non-integer value(s) at {where(fractional, ids)}")
    low = column.min_value if column.min_value is not None else -np.inf
    high = column.max_value if column.max_value is not None else np.inf
    outside = (numbers < low) | (numbers > high)
    if outside.any():
        found = listed(numbers[outside].unique())
        raise DataError(
            f"{label}: value(s) {found} outside the allowed range [{low}, {high}] "
            f"at {where(outside, ids)}"
        )
    return numbers.astype("int64") if integral else numbers


def fold(text: str) -> str:
    """Spelling with stray whitespace and letter case removed, for comparison only."""
    return " ".join(str(text).split()).casefold()


def normalise(
    values: pd.Series, column: Column, file: str, ids: pd.Series | None
) -> tuple[pd.Series, dict[str, dict]]:
    """Raw text -> categorical of the contract's values; fixes counted per raw value.

    Works on the distinct values and the integer codes only, so a column costs milliseconds.
    """
    raw = values.astype("category")
    codes = raw.cat.codes.to_numpy()
    if (missing := codes < 0).any():
        raise DataError(
            f"{file}: column {column.source!r}: missing value(s) at {where(missing, ids)}"
        )
    counts = np.bincount(codes, minlength=len(raw.cat.categories))
    canonical = {fold(value): value for value in column.categories}
    misspelt = {fold(wrong): value for wrong, value in column.misspellings.items()}
    seen = {v: int(n) for v, n in zip(raw.cat.categories, counts, strict=True) if n}
    mapping = {v: canonical.get(fold(v), misspelt.get(fold(v))) for v in seen}
    unknown = sorted(str(v) for v, target in mapping.items() if target is None)
    if unknown:
        raise DataError(
            f"{file}: column {column.source!r}: unknown value(s) {listed(unknown)} "
            f"at {where(values.astype('str').isin(unknown), ids)}; "
            f"expected one of {list(column.categories)}"
        )
    fixes = {
        str(v): {
            "to": target,
            "count": seen[v],
            "reason": "misspelling" if fold(v) in misspelt else "whitespace/case",
        }
        for v, target in sorted(mapping.items(), key=lambda item: str(item[0]))
        if v != target
    }
    position = {value: i for i, value in enumerate(column.categories)}
    lookup = np.array([position.get(mapping.get(v), -1) for v in raw.cat.categories], "int64")
    fixed = pd.Categorical.from_codes(lookup[codes], categories=list(column.categories))
    return pd.Series(fixed, index=values.index), fixes


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
    key = table[ID].to_numpy()
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
    tables, report = {}, {"fixes": {}, "exact_duplicate_rows": {}, "rows_in": {}}
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


def widen(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per customer (index id): market_file columns, revenue and minutes per period, profit.

    Expects validated tables (each id has every period), so the join is exact.
    """
    parts = [tables[MARKET_FILE.key].set_index(ID)]
    for spec, measure in ((MARKET_MONEY, REVENUE), (MARKET_TIME, MINUTES)):
        wide = tables[spec.key].pivot(index=ID, columns=PERIOD, values=measure)
        parts.append(
            wide[list(spec.periods)].set_axis(
                [wide_column(measure, p) for p in spec.periods], axis=1
            )
        )
    parts.append(tables[MONEY.key].set_index(ID))
    return pd.concat(parts, axis=1, join="inner").sort_index(kind="mergesort")


def sort_table(table: pd.DataFrame, spec: InputFile) -> pd.DataFrame:
    """By id, long tables then by the contract's period order, so outputs are byte-stable."""
    keys = [table[ID].to_numpy()]
    if spec.periods:
        periods = table[PERIOD].astype(pd.CategoricalDtype(list(spec.periods), ordered=True))
        keys.insert(0, periods.cat.codes.to_numpy())
    return table.iloc[np.lexsort(keys)].reset_index(drop=True)


def split_by(keys: np.ndarray, values: np.ndarray) -> list[list]:
    """Values as one list per run of equal keys (keys sorted): groupby(...).agg(list), fast."""
    starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return [chunk.tolist() for chunk in np.split(values, starts)] if len(keys) else []
