"""Reading the store's four CSV files: encoding, separator, header and column set.

Shared by the `clean` stage and by scoring of new data; every problem is one DataError line
naming file, column and rows, so the message helpers for rows and values live here too.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from oneclick.core.errors import DataError
from oneclick.data.contract import INPUT_FILES, MARKET_FILE, TARGET, Column, InputFile
from oneclick.data.rawfile import line_of, read_head

TEXT_KINDS = ("target", "category", "period")
SEPARATORS = (",", ";", "\t")
SHOWN = 5  # how many offending rows/ids/values an error message lists
LINE_OFFSET = 2  # row 0 of a frame is line 2 of its file (line 1 is the header)
FIELDS = re.compile(r"Expected \d+ fields in line (\d+), saw (\d+)")
OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def read_file(path: Path, spec: InputFile) -> pd.DataFrame:
    """One raw file as the store wrote it: Russian headers, nothing fixed.

    Text columns are read as categories: a million rows of a handful of values then cost codes,
    not strings, in every later comparison, sort and duplicate check. A file that changes
    while it is read (still being exported or copied) is refused: what was parsed is then
    neither the old file nor the new one.
    """
    before = signature(path)
    head, _ = read_head(path, spec.filename)
    header = decode(head, spec)
    if spec.sep not in header:
        found = [s for s in SEPARATORS if s in header]
        if found:
            raise DataError(
                f"{spec.filename}: header {header[:60]!r} looks like wrong separator "
                f"({found[0]!r} found, expected {spec.sep!r})"
            )
    names = next(csv.reader([header], delimiter=spec.sep))
    check_header(names, spec)
    dtype = {c.source: "category" for c in spec.columns if c.kind in TEXT_KINDS}
    # the id as text: parsed as a number (even as categories) 0900002 would already be 900002
    dtype.update({c.source: "str" for c in spec.columns if c.kind == "id"})
    try:
        frame = pd.read_csv(
            path, sep=spec.sep, decimal=spec.decimal, encoding="utf-8-sig", dtype=dtype
        )
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{spec.filename}: empty file (no header)") from error
    except UnicodeDecodeError as error:
        decode(path.read_bytes(), spec)  # raises, naming the line
        raise DataError(f"{spec.filename}: not UTF-8 text") from error
    except pd.errors.ParserError as error:
        raise parse_error(str(error), spec, len(names)) from error
    except OSError as error:  # the file changed or vanished after the checks above
        raise DataError(f"{spec.filename}: cannot read the file: {error}") from error
    check_unchanged_while_read(path, spec.filename, before)
    if not frame.index.equals(pd.RangeIndex(len(frame))):  # surplus fields became an index
        raise DataError(
            f"{spec.filename}: data rows have more fields than the header {surplus(spec)}"
        )
    if frame.empty:
        raise DataError(f"{spec.filename}: no data rows (header only)")
    for column in (c for c in spec.columns if c.kind == "id" and c.source in frame):
        frame[column.source] = exact_ids(frame[column.source])
    return frame


def signature(path: Path) -> tuple[int, int, int, int]:
    """What changes when a file is rewritten, appended to or replaced: (device, inode, size,
    modification time in ns)."""
    try:
        info = path.stat()
    except OSError:  # the file's own checks (read_head) name the problem
        return (0, 0, -1, 0)
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def check_unchanged_while_read(path: Path, file: str, before: tuple[int, int, int, int]) -> None:
    after = signature(path)
    if after != before:
        size = f"{before[2]:,} -> {after[2]:,} bytes" if after[2] != before[2] else "same size"
        raise DataError(
            f"{file}: the file changed while it was read ({size}, modified or replaced); "
            "wait until it is completely written, then rerun"
        )


def exact_ids(text: pd.Series) -> pd.Series:
    """The id column read as text -> int64, when every distinct text is a distinct int64.

    Otherwise (a missing id, text, a number past int64, two spellings of one number such as
    0900002 and 900002) the distinct texts are kept as categories for validation to name.
    Ids compact at once: a million as text cost ~90 MB, as int64 8 MB.
    """
    codes, distinct = pd.factorize(text)
    numbers = pd.to_numeric(distinct, errors="coerce")
    if numbers.dtype == np.int64 and not (codes < 0).any() and numbers.is_unique:
        return pd.Series(numbers.to_numpy()[codes], index=text.index)
    return pd.Series(
        pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(distinct)), index=text.index
    )


def surplus(spec: InputFile) -> str:
    return f"(a value containing {spec.sep!r}, e.g. a decimal comma?)"


def parse_error(message: str, spec: InputFile, header_fields: int) -> DataError:
    """pandas' tokenizer message in the project's words, with the file line (1 = the header)."""
    file = spec.filename
    if found := FIELDS.search(message):  # pandas' "line" is already the file line
        line, seen = found.groups()
        fields = f"line {line} has {seen} fields, the header has {header_fields}"
        return DataError(f"{file}: {fields} {surplus(spec)}")
    if found := OPEN_QUOTE.search(message):  # pandas' "row" counts from 0 at the header
        return DataError(f'{file}: a quote (") opened on line {int(found[1]) + 1} is never closed')
    reason = message.strip().splitlines()[-1].removeprefix("Error tokenizing data. ")
    return DataError(f"{file}: cannot parse: {reason}")


def decode(data: bytes, spec: InputFile) -> str:
    """UTF-8 text (a BOM is fine); anything else is a DataError naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = line_of(data, error.start)
        raise DataError(
            f"{spec.filename}: not UTF-8 text (line {line}, byte {error.start}); "
            "export the file as UTF-8"
        ) from error


def read_raw(directory: Path) -> dict[str, pd.DataFrame]:
    """The four input files of a directory, keyed by contract key (market_file, money, ...)."""
    return {spec.key: read_file(Path(directory) / spec.filename, spec) for spec in INPUT_FILES}


def where(mask: pd.Series | np.ndarray, ids: pd.Series | None = None) -> str:
    """'lines 5, 9 (id 900004, 900008)' for the rows flagged by mask, first few only."""
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
