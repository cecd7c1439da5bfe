"""An input file that changes while it is read (an export still being written, a copy still
running) is refused with one line, not cleaned from whatever part was there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from oneclick.core.errors import DataError
from oneclick.data import reading
from oneclick.data.contract import MARKET_MONEY
from tests.tiny_data import tiny_tables, write_store_files


def exporter_writes_during_the_read(monkeypatch: pytest.MonkeyPatch, target: Path, change) -> None:
    """pandas' read of `target` sees the file as it is, then the 'exporter' changes it."""
    real_read_csv = pd.read_csv

    def read_then_change(path, *args, **kwargs):
        frame = real_read_csv(path, *args, **kwargs)
        if Path(path) == target:
            change(target)
        return frame

    monkeypatch.setattr(reading.pd, "read_csv", read_then_change)


def append_rows(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines, *lines[1:]]))  # more rows, as an export goes on


def rewrite_same_size(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data)  # same bytes, same size: a new modification time only
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize(
    ("change", "shown"),
    [(append_rows, r"\d[\d,]* -> \d[\d,]* bytes"), (rewrite_same_size, "same size")],
)
def test_a_file_that_changes_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change, shown: str
) -> None:
    directory = write_store_files(tiny_tables(), tmp_path / "store")
    target = directory / MARKET_MONEY.filename
    exporter_writes_during_the_read(monkeypatch, target, change)
    with pytest.raises(DataError) as caught:
        reading.read_raw(directory)
    message = str(caught.value)
    assert message.startswith(f"{MARKET_MONEY.filename}: the file changed while it was read (")
    assert "\n" not in message
    assert re.search(shown, message), message


def test_a_file_replaced_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaced by rename (same bytes, a new inode): still not the file that was read."""
    directory = write_store_files(tiny_tables(), tmp_path / "store")
    target = directory / MARKET_MONEY.filename

    def replace(path: Path) -> None:
        fresh = path.with_suffix(".new")
        fresh.write_bytes(path.read_bytes())
        fresh.replace(path)

    exporter_writes_during_the_read(monkeypatch, target, replace)
    with pytest.raises(DataError, match="changed while it was read"):
        reading.read_raw(directory)


def test_a_file_left_alone_reads_as_before(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path / "store")
    first, second = reading.read_raw(directory), reading.read_raw(directory)
    for key, frame in first.items():
        pd.testing.assert_frame_equal(frame, second[key])
