"""Numeric columns against the contract: parsed exactly, then type- and range-checked.

Integers (ids, counts) never pass through a float: pandas hands them over as int64, as uint64,
or as text (past uint64, or an id whose spellings reading could not resolve), parsed once per
distinct value; only whole numbers beyond float precision (2**53) go through Python's int.
Floats must survive the writers' rounding. Every problem is one DataError naming the rows.
Expects no missing values (validation rejects them first).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from oneclick.core.errors import DataError
from oneclick.core.writers import FLOAT_DECIMALS
from oneclick.data.contract import Column, InputFile
from oneclick.data.reading import listed, where

INT64 = np.iinfo(np.int64)
EXACT = 2**53  # a float64 holds every integer up to here, and not all of them beyond
WHOLE_NUMBER = r"[+-]?\d+"


def to_number(
    values: pd.Series, column: Column, spec: InputFile, ids: pd.Series | None
) -> pd.Series:
    """Numeric column, type- and range-checked; raise naming the first offending rows.

    Integer columns come back as int64 holding exactly what the file says, floats as float64.
    """
    label = f"{spec.filename}: column {column.source!r}"
    if pd.api.types.is_bool_dtype(values):  # pandas reads a True/False column as bool, not 1/0
        raise DataError(
            f"{label}: true/false value(s) in a numeric column at {where(values.notna(), ids)}: "
            f"{listed(values.astype('str').unique())}"
        )
    if column.kind in ("int", "id"):
        return to_integer(values, column, spec, ids, label)
    numbers = values
    if not pd.api.types.is_numeric_dtype(values):  # pandas met text: find which rows
        text = values.astype("str").str.strip().str.replace(spec.decimal, ".", regex=False)
        numbers = pd.to_numeric(text, errors="coerce")
        check_parsed(values, (numbers.isna() & values.notna()).to_numpy(), ids, label)
    numbers = numbers.astype("float64")
    check_finite(values, np.isinf(numbers.to_numpy()), ids, label)
    with np.errstate(over="ignore"):  # the overflow is what is being looked for
        overflows = ~np.isfinite(np.round(numbers.to_numpy(), FLOAT_DECIMALS))
    if overflows.any():  # finite, but inf once a writer rounds it to FLOAT_DECIMALS
        raise DataError(
            f"{label}: value(s) {shown(values, overflows)} too large: not finite once rounded "
            f"to {FLOAT_DECIMALS} decimals, at {where(overflows, ids)}"
        )
    low = column.min_value if column.min_value is not None else -np.inf
    high = column.max_value if column.max_value is not None else np.inf
    outside = (numbers < low) | (numbers > high)
    if outside.any():
        found = listed(numbers[outside].unique())
        raise DataError(
            f"{label}: value(s) {found} outside the allowed range [{low}, {high}] "
            f"at {where(outside, ids)}"
        )
    return numbers


def shown(values: pd.Series, mask: np.ndarray) -> str:
    """The offending values as the file wrote them, first few distinct ones."""
    return listed(values[mask].astype("str").str.strip().unique())


def check_parsed(values: pd.Series, bad: np.ndarray, ids: pd.Series | None, label: str) -> None:
    if bad.any():
        examples = listed(values[bad].unique())
        raise DataError(f"{label}: text in a numeric column at {where(bad, ids)}: {examples}")


def check_finite(
    values: pd.Series, infinite: np.ndarray, ids: pd.Series | None, label: str
) -> None:
    if infinite.any():  # inf, Infinity, 1e400: no real amount, and invalid JSON
        found = listed(values[infinite].astype("str").unique())
        raise DataError(f"{label}: non-finite value(s) {found} at {where(infinite, ids)}")


def to_integer(
    values: pd.Series, column: Column, spec: InputFile, ids: pd.Series | None, label: str
) -> pd.Series:
    """Integer column -> exact int64; decimal notation (12.0) only where a float is exact."""
    text, codes = None, None
    numbers = values.to_numpy()
    if not pd.api.types.is_numeric_dtype(values):  # each distinct text parsed once
        text, codes = distinct_text(values)
        numbers = parsed_numbers(text, spec.decimal)

    def rows(flags: np.ndarray) -> np.ndarray:  # per distinct text -> per row
        return flags if codes is None else flags[codes]

    if numbers.dtype.kind == "f":
        check_parsed(values, rows(np.isnan(numbers)), ids, label)
        ints, beyond = from_floats(numbers, text, values, rows, ids, label)
    else:  # int64 is exact; uint64 is exact too, and beyond int64 when above its maximum
        beyond = numbers > INT64.max if numbers.dtype.kind == "u" else np.zeros(len(numbers), bool)
        ints = np.where(beyond, 0, numbers).astype("int64")
    low = int(column.min_value) if column.min_value is not None else INT64.min
    high = int(column.max_value) if column.max_value is not None else INT64.max
    if (outside := rows(beyond | (ints < low) | (ints > high))).any():
        raise DataError(
            f"{label}: value(s) {shown(values, outside)} outside the allowed range "
            f"[{low}, {high}] at {where(outside, ids)}"
        )
    if column.kind == "id" and codes is not None:
        check_spellings(text, ints, codes, label)
    return pd.Series(rows(ints), index=values.index)


def from_floats(
    numbers: np.ndarray,
    text: pd.Series | None,
    values: pd.Series,
    rows: Callable[[np.ndarray], np.ndarray],
    ids: pd.Series | None,
    label: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, beyond int64) of an integer column pandas parsed as floats.

    Whole numbers past 2**53 are re-read exactly from their text; one written with a decimal
    point or an exponent there cannot be, and is an error rather than a rounded guess.
    """
    ints, beyond = np.zeros(len(numbers), "int64"), np.zeros(len(numbers), bool)
    big = np.flatnonzero(np.abs(numbers) >= EXACT)
    exact = np.zeros(len(numbers), bool)
    if text is not None and len(big):
        whole = big[text.iloc[big].str.strip().str.fullmatch(WHOLE_NUMBER).to_numpy()]
        for i in whole:
            value = int(text.iloc[i])  # surrounding spaces are fine for int() too
            beyond[i] = not INT64.min <= value <= INT64.max
            ints[i] = 0 if beyond[i] else value
        exact[whole] = True
    check_finite(values, rows(np.isinf(numbers) & ~exact), ids, label)
    with np.errstate(invalid="ignore"):  # inf % 1: a whole number too long for a float
        fraction = numbers % 1 != 0
    if (fractional := rows(~exact & fraction)).any():
        raise DataError(f"{label}: non-integer value(s) at {where(fractional, ids)}")
    if (inexact := rows(~exact & (np.abs(numbers) >= EXACT))).any():
        raise DataError(
            f"{label}: value(s) {shown(values, inexact)} too large to be exact in decimal "
            f"notation (floats hold whole numbers exactly only up to 2**53; write the digits) "
            f"at {where(inexact, ids)}"
        )
    ints[~exact] = numbers[~exact].astype("int64")
    return ints, beyond


def distinct_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(each distinct value as text, its code per row); the id arrives as categories already."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        text, codes = values.cat.categories, values.cat.codes.to_numpy()
    else:
        codes, text = pd.factorize(values)  # no sort: a million ids cost a hash each
    return pd.Series(text.astype("str")), codes


def parsed_numbers(text: pd.Series, decimal: str) -> np.ndarray:
    """Text -> numbers as pandas parses them (surrounding spaces allowed); NaN where not one."""
    numbers = pd.to_numeric(text, errors="coerce")
    if decimal != "." and (failed := numbers.isna().to_numpy()).any():  # only these can hold it
        retry = text[failed].str.replace(decimal, ".", regex=False)
        numbers = numbers.astype("float64")
        numbers[failed] = pd.to_numeric(retry, errors="coerce").to_numpy()
    return numbers.to_numpy()


def check_spellings(text: pd.Series, ints: np.ndarray, codes: np.ndarray, label: str) -> None:
    """Raise when two spellings of an id (0900002 and 900002) are one number: never merge them."""
    repeated = pd.Series(ints).duplicated(keep=False).to_numpy()
    if not repeated.any():  # every distinct text is a distinct number: the usual case, cheap
        return
    pairs = pd.DataFrame({"text": text[repeated].str.strip(), "id": ints[repeated]})
    pairs = pairs.drop_duplicates("text")  # ' 900002' is '900002': whitespace is no new id
    clash = pairs["id"].duplicated(keep=False).to_numpy()
    if not clash.any():
        return
    numbers = pairs.loc[clash, "id"].unique()
    spellings = sorted(pairs.loc[pairs["id"] == numbers[0], "text"])
    more = f" (and {len(numbers) - 1} more id(s))" if len(numbers) > 1 else ""
    raise DataError(
        f"{label}: one id written in different ways: {listed([repr(t) for t in spellings])} are "
        f"all {numbers[0]}{more}, at {where(np.isin(ints[codes], numbers))}; ids are compared "
        "as numbers, so fix the export rather than let two customers merge"
    )
