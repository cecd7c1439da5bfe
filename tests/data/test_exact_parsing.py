"""Numbers are read exactly or rejected: integers never pass through a float, booleans are not
1/0, two spellings of one id are never merged, nothing the writers would round to inf gets in,
and a file cut off mid-row is not read as if complete."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oneclick.core.errors import DataError
from oneclick.data import cleaning
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import (
    ID,
    INPUT_FILES,
    LINE_TERMINATOR,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MONEY,
    REVENUE,
)
from oneclick.data.reading import read_raw
from oneclick.data.validation import validate_tables
from tests.tiny_data import IDS, PARAMS, tiny_tables, write_store_files

INT64_MAX = 2**63 - 1
TENURE = MARKET_FILE.column("tenure_days").source
MINUTES = MARKET_TIME.column("minutes").source
PROFIT = MONEY.column("profit").source


def renumbered(changes: dict[int, int]) -> dict[str, pd.DataFrame]:
    tables = tiny_tables()
    for table in tables.values():
        table[ID] = table[ID].replace(changes)
    return tables


def edit_line(path: Path, number: int, change) -> None:
    """Rewrite one line of a CRLF file (1 = the header) through change(text)."""
    lines = path.read_bytes().decode("utf-8").split(LINE_TERMINATOR)
    lines[number - 1] = change(lines[number - 1])
    path.write_bytes(LINE_TERMINATOR.join(lines).encode("utf-8"))


def set_field(path: Path, number: int, column: int, value: str, sep: str = ",") -> None:
    def change(line: str) -> str:
        fields = line.split(sep)
        fields[column] = value
        return sep.join(fields)

    edit_line(path, number, change)


def column_index(spec, source: str) -> int:
    return spec.source_columns.index(source)


# ---- integers --------------------------------------------------------------------------------


def test_ids_past_float_precision_stay_exact(tmp_path: Path) -> None:
    big = {IDS[0]: 2**53 + 1, IDS[-1]: INT64_MAX}  # 2**53 + 1 is 2**53 as a float
    directory = write_store_files(renumbered(big), tmp_path)
    tables, _ = clean_tables(read_raw(directory), PARAMS)
    for spec in INPUT_FILES:
        ids = set(tables[spec.key][ID].tolist())
        assert set(big.values()) <= ids, spec.filename
        assert tables[spec.key][ID].dtype == np.int64


@pytest.mark.parametrize(
    "value",
    [str(2**63), "99999999999999999999999", "-99999999999999999999999"],
    ids=["uint64", "past-uint64", "negative-past-int64"],
)
def test_integer_beyond_int64_is_a_range_error_not_a_wrapped_number(
    tmp_path: Path, value: str
) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    set_field(directory / MARKET_FILE.filename, 3, column_index(MARKET_FILE, TENURE), value)
    expected = rf"'{TENURE}': value\(s\) {value} outside the allowed range \[0, {INT64_MAX}\] "
    with pytest.raises(DataError, match=expected + r"at line 3 \(id 102\)$"):
        validate_tables(read_raw(directory))


def test_integer_beyond_int64_in_a_frame_is_a_range_error() -> None:
    raw = tiny_tables()
    minutes = raw[MARKET_TIME.key][MINUTES].astype("object")
    minutes[1] = 10**23  # a Python int: what pandas gives for digits past uint64
    raw[MARKET_TIME.key][MINUTES] = minutes
    with pytest.raises(DataError, match=rf"value\(s\) {10**23} outside the allowed range"):
        validate_tables(raw)


def test_id_beyond_int64_is_a_range_error(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    set_field(directory / MONEY.filename, 2, 0, "99999999999999999999999", sep=";")
    with pytest.raises(
        DataError, match=rf"^money\.csv: column 'id': .*\[1, {INT64_MAX}\] at line 2$"
    ):
        validate_tables(read_raw(directory))


def test_whole_number_in_decimal_notation_is_exact_or_rejected(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / MARKET_FILE.filename
    set_field(path, 2, column_index(MARKET_FILE, TENURE), "819.0")  # as a float: exact
    tables, _ = validate_tables(read_raw(directory))
    assert tables[MARKET_FILE.key]["tenure_days"].tolist()[0] == 819
    assert tables[MARKET_FILE.key]["tenure_days"].dtype == np.int64
    set_field(path, 3, column_index(MARKET_FILE, TENURE), f"{2**53 + 1}.0")  # as a float: 2**53
    with pytest.raises(DataError, match=r"too large to be exact in decimal notation .* line 3"):
        validate_tables(read_raw(directory))


# ---- booleans --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["marketing_current", "marketing_6m", "promo_share"])
def test_true_false_column_is_not_read_as_one_and_zero(tmp_path: Path, name: str) -> None:
    raw = tiny_tables()
    source = MARKET_FILE.column(name).source
    raw[MARKET_FILE.key][source] = [i % 2 == 0 for i in range(len(IDS))]
    directory = write_store_files(raw, tmp_path)
    message = rf"'{source}': true/false value\(s\) in a numeric column at lines 2, 3"
    with pytest.raises(DataError, match=message):
        validate_tables(read_raw(directory))
    with pytest.raises(DataError, match=message):  # the frame itself, bool dtype
        validate_tables(raw)


# ---- ids that collide once read as numbers ---------------------------------------------------


def test_id_spelt_with_a_leading_zero_beside_itself_is_an_error(tmp_path: Path) -> None:
    """An exact copy of a row under '0101' must not vanish as a duplicate of '101'."""
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / MARKET_FILE.filename
    rows = path.read_bytes().decode("utf-8")
    first = rows.split(LINE_TERMINATOR)[1]
    path.write_bytes((rows + "0" + first + LINE_TERMINATOR).encode("utf-8"))
    with pytest.raises(
        DataError,
        match=r"^market_file\.csv: column 'id': one id written in different ways: "
        r"'0101', '101' are all 101, at lines 2, 9;",
    ):
        validate_tables(read_raw(directory))


def test_ids_spelt_alike_within_a_file_match_by_number_across_files(tmp_path: Path) -> None:
    """A file that pads every id (or puts spaces around one) still names the same customers."""
    directory = write_store_files(tiny_tables(), tmp_path)
    good, _ = clean_tables(read_raw(directory), PARAMS)
    money = directory / MONEY.filename
    for line in range(2, len(IDS) + 2):
        edit_line(money, line, lambda text: "00" + text)
    edit_line(directory / MARKET_MONEY.filename, 3, lambda text: " " + text)
    tables, _ = clean_tables(read_raw(directory), PARAMS)
    for key, table in good.items():
        pd.testing.assert_frame_equal(tables[key], table)


# ---- floats the writers would round to inf, and repairs ---------------------------------------


@pytest.mark.parametrize("value", ["1,7e308", "1e303"])
def test_finite_float_that_rounds_to_inf_is_rejected(tmp_path: Path, value: str) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    set_field(directory / MONEY.filename, 4, 1, value, sep=";")
    shown = re.escape(value.replace(",", ".").replace("e", "e+"))
    with pytest.raises(
        DataError,
        match=rf"'{PROFIT}': value\(s\) {shown} too large: not finite once rounded to 6 "
        r"decimals, at line 4 \(id 103\)$",
    ):
        validate_tables(read_raw(directory))


def test_large_float_that_survives_rounding_is_kept(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    set_field(directory / MONEY.filename, 4, 1, "1e300", sep=";")
    tables, _ = validate_tables(read_raw(directory))
    assert tables[MONEY.key]["profit"].max() == 1e300


def test_a_repair_that_leaves_a_non_finite_value_is_an_error() -> None:
    tables, _ = clean_tables(tiny_tables(), PARAMS)
    tables[MARKET_MONEY.key].loc[4, REVENUE] = np.inf
    bad_id = tables[MARKET_MONEY.key].loc[4, ID]
    with pytest.raises(
        DataError,
        match=rf"^market_money\.csv: column 'Выручка': cleaning gives non-finite value\(s\) "
        rf"for id {bad_id}$",
    ):
        cleaning.check_writable(tables)


# ---- a file cut off mid-row ------------------------------------------------------------------


@pytest.mark.parametrize("spec", INPUT_FILES, ids=lambda spec: spec.key)
def test_last_line_without_its_line_end_is_reported_as_possibly_truncated(
    tmp_path: Path, spec
) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / spec.filename
    data = path.read_bytes()
    lines = data.count(b"\r\n")
    path.write_bytes(data[:-3])  # the CRLF and the last digit
    with pytest.raises(
        DataError,
        match=rf"^{spec.filename}: the last line \(line {lines}\) has no line end, unlike the "
        r"others \(CRLF\): the file is possibly truncated",
    ):
        read_raw(directory)


def test_one_line_file_without_a_line_end_is_only_header(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / MONEY.filename
    path.write_bytes(path.read_bytes().split(b"\r\n")[0])
    with pytest.raises(DataError, match="no data rows"):
        read_raw(directory)
