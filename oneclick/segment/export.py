"""Files for the store's spreadsheets: a Russian-locale CSV and a deterministic xlsx workbook.

csv-ru is what a Russian-locale Excel or LibreOffice opens correctly by double click: UTF-8
with a BOM (else Cyrillic is read as cp1251), `;` between fields and a decimal comma (as the
store's own money.csv), CRLF. The xlsx holds real numbers with a number format, a bold frozen
header and a filter. Same table => same bytes: openpyxl stamps the workbook with the time of
saving and zip entries with the time of writing, so both are fixed here.
"""

from __future__ import annotations

import datetime
import gc
import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from oneclick.core import writers
from oneclick.core.escaping import formula_safe
from oneclick.core.writers import ZIP_EPOCH
from oneclick.data.contract import ID, PROFIT
from oneclick.segment.selection import AT_RISK, PROBABILITY
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import say

FIXED_TIME = datetime.datetime(2000, 1, 1)  # workbook created/modified: not the time of the run
WIDEST = 70  # characters: longer texts wrap in the cell instead of widening the column
NARROWEST = 10  # characters: a column of short numbers still shows its header's words
PERCENT = ", %"  # a header ending so holds percentages (95.3): stored as 0.953 shown as 95,3 %


SHEETS = {"campaign": ("Кампания", "Campaign"), "customers": ("Все клиенты", "All customers")}


def write_csv_ru(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM, `;`, decimal comma, CRLF: opens as a table in a Russian-locale sheet.
    Text that a spreadsheet would run as a formula is neutralised (escaping.formula_safe)."""
    safe = frame.rename(columns=formula_safe)
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):  # numbers stay numbers, -1,5 too
            safe[column] = safe[column].map(formula_safe)

    def write(handle: IO[str]) -> None:
        safe.to_csv(handle, sep=";", decimal=",", index=False, lineterminator="\r\n")

    writers.write_with(path, write, encoding="utf-8-sig")


def _number_format(column: pd.Series) -> str | None:
    if pd.api.types.is_integer_dtype(column):
        return "0"
    if not pd.api.types.is_float_dtype(column):
        return None
    tenths = (column.dropna() * 10).round(6)
    return "0.0" if (tenths == tenths.round()).all() else "0.00"


def _cell(value: object) -> object:
    """A cell value: numpy scalars as Python ones, missing and empty text as an empty cell."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _workbook_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append([str(c) for c in frame.columns])
        percents = [str(c).endswith(PERCENT) for c in frame.columns]
        frame = frame.apply(lambda c: c / 100 if str(c.name).endswith(PERCENT) else c)
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for k, column in enumerate(frame.columns, start=1):
            letter, fmt = get_column_letter(k), _number_format(frame[column])
            fmt = "0.0%" if percents[k - 1] else fmt
            # the values set the width, not the header (it wraps): a long header on a column of
            # short numbers would otherwise make the sheet several screens wide
            longest = max([0, *(len(str(v)) for v in frame[column])])
            longest_word = max(len(word) for word in str(column).split() or [""])
            width = min(max(longest, longest_word, NARROWEST), WIDEST)
            sheet.column_dimensions[letter].width = width + 2
            for (cell,) in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
                if fmt:
                    cell.number_format = fmt
                elif longest > WIDEST:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.cell(1, k).font = Font(bold=True)
            sheet.cell(1, k).alignment = Alignment(wrap_text=True, vertical="top")
        for cells in sheet.iter_rows():
            for cell in cells:  # openpyxl makes text starting with "=" a formula: keep it text
                if cell.data_type == "f":
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    book.properties.creator = "oneclick"
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp `modified` with the clock
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every entry dated ZIP_EPOCH (zipfile dates entries with the clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """One workbook, a sheet per table (in order); deterministic bytes."""
    with writers.atomic(path, "wb") as handle:  # openpyxl's own temporary files too: one line
        handle.write(_quietly_failing(_workbook_bytes, sheets))


def _quietly_failing(build: Callable[..., bytes], *args: object) -> bytes:
    """build(*args); when it fails (openpyxl writes each sheet through a temporary file: a full
    disk), openpyxl's half-written sheet fails again as it is discarded, which Python would
    print as an "Exception ignored" traceback after the one error line: not printed."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        try:
            return build(*args)
        except OSError as error:  # its traceback holds openpyxl's writers: let them go here
            failure = OSError(error.errno, error.strerror, error.filename)
        gc.collect()
        raise failure
    finally:
        sys.unraisablehook = hook


def customers_sheet(
    scored: pd.DataFrame, in_segment: np.ndarray, removed: list[dict], language: str
) -> pd.DataFrame:
    """Every input customer by id, in words: status, probability (%), segment yes/no, profit
    and expected profit at risk. scored: id, probability, profit, expected profit at risk;
    removed: the clean stage's removed customers ({"id", "reason"})."""
    rows = pd.DataFrame(
        {
            ID: scored[ID].to_numpy(),
            "status": vocab.status(None, language),
            PROBABILITY: (100 * scored[PROBABILITY]).round(1).to_numpy(),
            "in_segment": [vocab.yes_no(v, language) for v in in_segment],
            PROFIT: scored[PROFIT].round(2).to_numpy(),
            AT_RISK: scored[AT_RISK].round(2).to_numpy(),
        }
    )
    gone = pd.DataFrame(
        {
            ID: pd.Series([r["id"] for r in removed], dtype="int64"),
            "status": [vocab.status(r["reason"], language) for r in removed],
        }
    )
    out = pd.concat([rows, gone], ignore_index=True).sort_values(ID, kind="mergesort")
    out["in_segment"] = out["in_segment"].fillna(vocab.yes_no(False, language))
    headers = {
        "status": ("Статус", "Status"),
        "in_segment": ("В сегменте", "In the segment"),
    }
    names = {key: say(pair, language) for key, pair in headers.items()}
    names |= {key: vocab.label(key, language) for key in (PROBABILITY, PROFIT, AT_RISK)}
    return out.rename(columns=names).reset_index(drop=True)
