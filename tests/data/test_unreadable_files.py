"""Files that cannot be read as the store's CSVs end in one line naming the file and what it is;
one that can (bare-CR line ends of an old export) is simply read. Cleaning that leaves nobody
is one line too, not a KeyError deep in the merge."""

from __future__ import annotations

import builtins
import os
import socket
from pathlib import Path

import pandas as pd
import pytest

from oneclick.core import entry
from oneclick.core.errors import DataError
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import INPUT_FILES, MARKET_FILE, MARKET_MONEY, MONEY, REVENUE
from oneclick.data.reading import read_raw
from tests.tiny_data import IDS, PARAMS, ZERO_ID, tiny_tables, write_store_files


def test_cr_line_ends_are_read_like_crlf(tmp_path: Path) -> None:
    crlf = write_store_files(tiny_tables(), tmp_path / "crlf")
    cr = write_store_files(tiny_tables(), tmp_path / "cr")
    for spec in INPUT_FILES:
        path = cr / spec.filename
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    expected, got = read_raw(crlf), read_raw(cr)
    for spec in INPUT_FILES:
        pd.testing.assert_frame_equal(got[spec.key], expected[spec.key])


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("utf-16", "encoded as UTF-16, expected UTF-8"),
        ("utf-16-le", "looks like UTF-16 text, expected UTF-8"),
        ("utf-16-be", "looks like UTF-16 text, expected UTF-8"),
        ("utf-32", "encoded as UTF-32, expected UTF-8"),
    ],
)
def test_utf16_and_utf32_are_named(tmp_path: Path, encoding: str, message: str) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / MARKET_MONEY.filename
    path.write_bytes(path.read_bytes().decode("utf-8").encode(encoding))
    with pytest.raises(DataError, match=rf"^market_money\.csv: {message}; export it as UTF-8$"):
        read_raw(directory)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: bytes(len(data)), r"NUL bytes instead of text \(a zeroed file\)"),
        (lambda data: data[:40] + b"\0" + data[41:], r"NUL byte at byte 40: binary data"),
    ],
    ids=["all-nul", "one-nul"],
)
def test_nul_bytes_are_named(tmp_path: Path, damage, message: str) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / MONEY.filename
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=rf"^money\.csv: {message}"):
        read_raw(directory)


def make_socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (Path.mkdir, "is a directory, not a regular file"),
        (os.mkfifo, r"is a FIFO \(named pipe\), not a regular file"),
        (make_socket, "is a socket, not a regular file"),
        (lambda path: path.symlink_to(path.with_name("gone.csv")), "a broken symbolic link"),
    ],
    ids=["directory", "fifo", "socket", "broken-link"],
)
def test_something_else_in_place_of_a_file_is_named(tmp_path: Path, make, what: str) -> None:
    directory = write_store_files(tiny_tables(), tmp_path / "data")
    path = directory / MARKET_FILE.filename
    path.unlink()
    make(path)
    with pytest.raises(DataError, match=rf"^market_file\.csv: .*{what}") as error:
        read_raw(directory)
    assert "missing" not in str(error.value)


def test_unreadable_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Permission denied (simulated: root reads every file) ends in one line and exit code 2."""
    directory = write_store_files(tiny_tables(), tmp_path)
    target = directory / MARKET_FILE.filename
    real_open = builtins.open

    def denied(file, *args, **kwargs):
        if Path(file) == target:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(SystemExit) as stop:
        entry.run(lambda: read_raw(directory))
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        f"error: market_file.csv: cannot read the file: Permission denied "
        f"({directory / MARKET_FILE.filename})\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_file_without_read_permission_is_one_line(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    (directory / MONEY.filename).chmod(0)
    with pytest.raises(DataError, match=r"^money\.csv: cannot read the file: Permission denied"):
        read_raw(directory)


def test_cleaning_that_excludes_every_customer_is_one_error() -> None:
    raw = tiny_tables()
    raw[MARKET_MONEY.key][MARKET_MONEY.column(REVENUE).source] = 0.0
    with pytest.raises(
        DataError,
        match=rf"^market_money\.csv: column 'Выручка': cleaning excludes every customer, all "
        rf"{len(IDS)} \({len(IDS)} with a zero-revenue month \(clean.drop_zero_revenue\)\); "
        r"nothing left to clean or score$",
    ):
        clean_tables(raw, PARAMS)


def test_every_customer_excluded_for_mixed_reasons_names_both() -> None:
    raw = tiny_tables()
    revenue = MARKET_MONEY.column(REVENUE).source
    money = raw[MARKET_MONEY.key]
    money[revenue] = 99_999.0  # every month an outlier: `drop` removes everyone ...
    money.loc[money["id"] == ZERO_ID, revenue] = 0.0  # ... this one for zero revenue first
    with pytest.raises(
        DataError,
        match=r"all 7 \(6 with revenue above clean.revenue_outlier_max that "
        r"clean.revenue_outlier_action removes, 1 with a zero-revenue month",
    ):
        clean_tables(raw, {**PARAMS, "revenue_outlier_action": "drop"})
