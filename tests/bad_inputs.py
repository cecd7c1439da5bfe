"""A corpus of broken (and tolerably odd) input directories, built from a small generated sample.

Each case copies a good sample directory and breaks one file in one way an export can go wrong:
encoding, separator, decimal mark (on every row or a few), quoting, header, type, range,
infinity, ids, periods, duplicates, emptiness, truncation, and something other than a file in
its place (a directory, a FIFO).
`ok` cases are oddities a tolerant reader must absorb (BOM, LF or CR line ends, stray
whitespace, exact duplicate rows): their clean tables must equal the untouched sample's. Every
other case must end in one `error: <file>: ...` line on stderr and a non-zero exit, without a
traceback.

Never built from the store's real files. `python -m tests.bad_inputs OUT` writes the corpus.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oneclick.data import contract as c
from oneclick.sample import files as sample

SAMPLE_SIZE = 200
SAMPLE_SEED = 7
NEWLINE = c.LINE_TERMINATOR
FILES = {f.key: f for f in c.INPUT_FILES}

Rows = list[list[str]]


@dataclass(frozen=True)
class Case:
    """One way to break one file; `expect` is a fragment the error line must contain."""

    name: str
    file: str  # InputFile.filename the error must name
    mutate: Callable[[Path], None]  # edits the copied directory in place
    ok: bool = False
    expect: str = ""


def write_sample(directory: Path, n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> Path:
    sample.write_files(sample.generate(n, seed), directory)
    return directory


def read_rows(path: Path, spec: c.InputFile) -> Rows:
    text = path.read_bytes().decode(c.ENCODING)  # read_text would turn CRLF into LF
    return [line.split(spec.sep) for line in text.split(NEWLINE) if line]


def write_rows(path: Path, spec: c.InputFile, rows: Rows, newline: str = NEWLINE) -> None:
    text = "".join(spec.sep.join(row) + newline for row in rows)
    path.write_bytes(text.encode(c.ENCODING))


def edit_rows(key: str, change: Callable[[Rows, c.InputFile], Rows]) -> Callable[[Path], None]:
    """A mutation that rewrites one file's rows (header first) through change(rows, spec)."""
    spec = FILES[key]

    def mutate(directory: Path) -> None:
        path = directory / spec.filename
        write_rows(path, spec, change(read_rows(path, spec), spec))

    return mutate


def edit_bytes(key: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def mutate(directory: Path) -> None:
        path = directory / FILES[key].filename
        path.write_bytes(change(path.read_bytes()))

    return mutate


def column_index(spec: c.InputFile, name: str) -> int:
    return spec.source_columns.index(spec.column(name).source)


def set_value(name: str, value: str, row: int = 1) -> Callable[[Rows, c.InputFile], Rows]:
    """Put value into column `name` (English) of data row `row` (1 = first data row)."""

    def change(rows: Rows, spec: c.InputFile) -> Rows:
        rows[row][column_index(spec, name)] = value
        return rows

    return change


def map_column(name: str, fn: Callable[[str], str]) -> Callable[[Rows, c.InputFile], Rows]:
    def change(rows: Rows, spec: c.InputFile) -> Rows:
        k = column_index(spec, name)
        for row in rows[1:]:
            row[k] = fn(row[k])
        return rows

    return change


def map_cell(row: int, name: str, fn: Callable[[str], str]) -> Callable[[Rows, c.InputFile], Rows]:
    def change(rows: Rows, spec: c.InputFile) -> Rows:
        k = column_index(spec, name)
        rows[row][k] = fn(rows[row][k])
        return rows

    return change


def rows_of_first_id(rows: Rows) -> list[int]:
    return [i for i, row in enumerate(rows) if i and row[0] == rows[1][0]]


def drop_rows(select: Callable[[Rows], list[int]]) -> Callable[[Rows, c.InputFile], Rows]:
    def change(rows: Rows, spec: c.InputFile) -> Rows:
        gone = set(select(rows))
        return [row for i, row in enumerate(rows) if i not in gone]

    return change


def append_row(make: Callable[[Rows], list[str]]) -> Callable[[Rows, c.InputFile], Rows]:
    return lambda rows, spec: [*rows, make(rows)]


def with_id(row: list[str], new_id: str) -> list[str]:
    return [new_id, *row[1:]]


def reencode(encoding: str) -> Callable[[bytes], bytes]:
    return lambda data: data.decode(c.ENCODING).encode(encoding)


def decimal_comma(name: str) -> Callable[[Rows, c.InputFile], Rows]:
    """The Russian-locale export of a comma-separated file: 4971.6 -> 4971,6 (unquoted)."""
    return map_column(name, lambda v: v.replace(".", ","))


def semicolons(rows: Rows, spec: c.InputFile) -> Rows:
    return [[";".join(row)] for row in rows]


def money_with_commas(rows: Rows, spec: c.InputFile) -> Rows:
    """money.csv as an English-locale export: comma separator, decimal point."""
    return [[",".join(v.replace(",", ".") for v in row)] for row in rows]


def rename_header(name: str, new: str) -> Callable[[Rows, c.InputFile], Rows]:
    return set_value(name, new, row=0)


def drop_column(name: str) -> Callable[[Rows, c.InputFile], Rows]:
    def change(rows: Rows, spec: c.InputFile) -> Rows:
        k = column_index(spec, name)
        return [row[:k] + row[k + 1 :] for row in rows]

    return change


def extra_column(rows: Rows, spec: c.InputFile) -> Rows:
    return [[*rows[0], "Комментарий"], *[[*row, "x"] for row in rows[1:]]]


def duplicate_column(name: str) -> Callable[[Rows, c.InputFile], Rows]:
    def change(rows: Rows, spec: c.InputFile) -> Rows:
        k = column_index(spec, name)
        return [[*row, row[k]] for row in rows]

    return change


def no_header(rows: Rows, spec: c.InputFile) -> Rows:
    return rows[1:]


def header_only(rows: Rows, spec: c.InputFile) -> Rows:
    return rows[:1]


def empty_file(directory: Path, key: str) -> None:
    (directory / FILES[key].filename).write_bytes(b"")


def missing_file(directory: Path, key: str) -> None:
    (directory / FILES[key].filename).unlink()


def bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


def lf_only(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def cr_only(data: bytes) -> bytes:
    """Line ends of an old (classic Mac OS) export: a bare CR."""
    return data.replace(b"\r\n", b"\r")


def truncated(data: bytes) -> bytes:
    """Cut off mid-number: the final line end and the last digit gone, every other line intact."""
    return data[: -len(NEWLINE.encode()) - 1]


def zeroed(data: bytes) -> bytes:
    return bytes(len(data))


def replace_file(directory: Path, key: str, make: Callable[[Path], None]) -> None:
    """Something else (a directory, a FIFO) where the file should be."""
    path = directory / FILES[key].filename
    path.unlink()
    make(path)


def padded_twin(rows: Rows, spec: c.InputFile) -> Rows:
    """An exact copy of the first row under its id with a leading zero (0900001 for 900001)."""
    return [*rows, with_id(rows[1], "0" + rows[1][0])]


def booleans(rows: Rows, spec: c.InputFile) -> Rows:
    """A 0/1-like count exported as True/False in every row."""
    return map_column("marketing_current", lambda v: str(int(v) % 2 == 1))(rows, spec)


def cases() -> list[Case]:
    """Every case, named `<file key>-<what is wrong>`."""
    mf, mm, mt, mo = (f.key for f in c.INPUT_FILES)
    out: list[Case] = []
    for spec in c.INPUT_FILES:
        key, name = spec.key, spec.filename
        out += [
            Case(f"{key}-cp1251", name, edit_bytes(key, reencode("cp1251")), expect="UTF-8"),
            Case(f"{key}-utf16", name, edit_bytes(key, reencode("utf-16")), expect="UTF-8"),
            Case(f"{key}-empty", name, lambda d, k=key: empty_file(d, k), expect="empty"),
            Case(f"{key}-header-only", name, edit_rows(key, header_only), expect="no data"),
            Case(f"{key}-missing", name, lambda d, k=key: missing_file(d, k), expect="missing"),
            Case(f"{key}-no-header", name, edit_rows(key, no_header), expect="column"),
            Case(f"{key}-extra-column", name, edit_rows(key, extra_column), expect="Комментарий"),
            Case(f"{key}-id-text", name, edit_rows(key, set_value(c.ID, BAD_ID)), expect=BAD_ID),
            Case(f"{key}-id-empty", name, edit_rows(key, set_value(c.ID, "")), expect="missing"),
            Case(f"{key}-bom", name, edit_bytes(key, bom), ok=True),
            Case(f"{key}-lf", name, edit_bytes(key, lf_only), ok=True),
            Case(f"{key}-cr", name, edit_bytes(key, cr_only), ok=True),
            Case(f"{key}-nul", name, edit_bytes(key, zeroed), expect="NUL bytes"),
            Case(f"{key}-truncated", name, edit_bytes(key, truncated), expect=TRUNCATED),
            Case(
                f"{key}-directory",
                name,
                lambda d, k=key: replace_file(d, k, Path.mkdir),
                expect="is a directory, not a regular file",
            ),
            Case(
                f"{key}-huge-id",
                name,
                edit_rows(key, set_value(c.ID, HUGE)),
                expect=f"{HUGE} outside the allowed range [1, {INT64_MAX}] at line 2",
            ),
            Case(
                f"{key}-padded-id-twin",
                name,
                edit_rows(key, padded_twin),
                expect="one id written in different ways",
            ),
        ]
        if spec.sep == ",":
            semi = edit_rows(key, semicolons)
            out.append(Case(f"{key}-semicolons", name, semi, expect="separator"))
        value = spec.columns[-1]
        out += [
            Case(
                f"{key}-renamed-header",
                name,
                edit_rows(key, rename_header(value.name, value.source + "_руб")),
                expect=value.source,
            ),
            Case(
                f"{key}-missing-column",
                name,
                edit_rows(key, drop_column(value.name)),
                expect=value.source,
            ),
            Case(
                f"{key}-duplicated-column",
                name,
                edit_rows(key, duplicate_column(value.name)),
                expect=value.source,
            ),
        ]
        if key != mf:  # long tables and money: one id must appear in market_file
            stray = append_row(lambda rows: with_id(rows[-1], "999999"))
            out.append(Case(f"{key}-extra-id", name, edit_rows(key, stray), expect="999999"))
            lost = drop_rows(rows_of_first_id)
            out.append(Case(f"{key}-lost-id", name, edit_rows(key, lost), expect="missing"))
    out += [
        # separators and decimal marks
        Case(f"{mo}-commas", "money.csv", edit_rows(mo, money_with_commas), expect="separator"),
        Case(f"{mo}-decimal-point", "money.csv", edit_rows(mo, map_column(c.PROFIT, dot)), ok=True),
        Case(
            f"{mm}-decimal-comma",
            "market_money.csv",
            edit_rows(mm, decimal_comma(c.REVENUE)),
            expect="more fields",
        ),
        Case(
            f"{mf}-decimal-comma",
            "market_file.csv",
            edit_rows(mf, decimal_comma(PROMO)),
            expect="more fields",
        ),
        Case(
            f"{mm}-decimal-comma-one-row",
            "market_money.csv",
            edit_rows(mm, set_value(c.REVENUE, "4971,6", row=5)),
            expect="line 6 has 4 fields, the header has 3 (a value containing ','",
        ),
        Case(
            f"{mf}-unclosed-quote",
            "market_file.csv",
            edit_rows(mf, map_cell(3, "favourite_category", lambda v: f'"{v}')),
            expect='quote (") opened on line 4 is never closed',
        ),
        # types and ranges
        Case(f"{mm}-text-number", "market_money.csv", edit_rows(mm, set_value(c.REVENUE, "пять"))),
        Case(f"{mm}-empty-number", "market_money.csv", edit_rows(mm, set_value(c.REVENUE, ""))),
        Case(f"{mm}-negative", "market_money.csv", edit_rows(mm, set_value(c.REVENUE, "-5.0"))),
        Case(f"{mt}-fraction", "market_time.csv", edit_rows(mt, set_value(c.MINUTES, "10.5"))),
        Case(f"{mt}-negative", "market_time.csv", edit_rows(mt, set_value(c.MINUTES, "-3"))),
        Case(f"{mo}-negative", "money.csv", edit_rows(mo, set_value(c.PROFIT, "-1,5"))),
        Case(f"{mf}-promo-above-1", "market_file.csv", edit_rows(mf, set_value(PROMO, "1.3"))),
        Case(f"{mf}-text-number", "market_file.csv", edit_rows(mf, set_value("tenure_days", "?"))),
        Case(f"{mf}-id-fraction", "market_file.csv", edit_rows(mf, set_value(c.ID, "900001.5"))),
        Case(f"{mf}-id-zero", "market_file.csv", edit_rows(mf, set_value(c.ID, "0"))),
        # numbers too large for a float, or spelt as infinity, parse as inf: named with the line
        Case(
            f"{mm}-inf",
            "market_money.csv",
            edit_rows(mm, set_value(c.REVENUE, "inf")),
            expect=f"{INF} inf at line 2 (id",
        ),
        Case(
            f"{mm}-overflow",
            "market_money.csv",
            edit_rows(mm, set_value(c.REVENUE, "1e400", row=4)),
            expect=f"{INF} inf at line 5 (id",
        ),
        Case(
            f"{mo}-infinity",
            "money.csv",
            edit_rows(mo, set_value(c.PROFIT, "Infinity", row=2)),
            expect=f"{INF} inf at line 3 (id",
        ),
        Case(
            f"{mf}-minus-inf",
            "market_file.csv",
            edit_rows(mf, set_value("marketing_6m", "-inf")),
            expect=f"{INF} -inf at line 2 (id",
        ),
        # categories
        Case(f"{mf}-unknown-category", "market_file.csv", edit_rows(mf, set_value(SVC, "VIP"))),
        Case(f"{mf}-unknown-target", "market_file.csv", edit_rows(mf, set_value(c.TARGET, "?"))),
        Case(f"{mf}-whitespace", "market_file.csv", edit_rows(mf, map_column(SVC, pad)), ok=True),
        # periods
        Case(f"{mm}-unknown-period", "market_money.csv", edit_rows(mm, set_value(c.PERIOD, "x"))),
        Case(f"{mt}-unknown-period", "market_time.csv", edit_rows(mt, set_value(c.PERIOD, "x"))),
        Case(f"{mm}-lost-period", "market_money.csv", edit_rows(mm, drop_rows(first_row))),
        Case(f"{mt}-lost-period", "market_time.csv", edit_rows(mt, drop_rows(first_row))),
        Case(f"{mm}-clashing-period", "market_money.csv", edit_rows(mm, clash(c.REVENUE))),
        Case(f"{mt}-clashing-period", "market_time.csv", edit_rows(mt, clash(c.MINUTES))),
        Case(f"{mm}-repeated-row", "market_money.csv", edit_rows(mm, repeat_row), ok=True),
        # duplicate customers
        Case(f"{mf}-clashing-id", "market_file.csv", edit_rows(mf, clash("tenure_days"))),
        Case(f"{mo}-clashing-id", "money.csv", edit_rows(mo, clash(c.PROFIT))),
        Case(f"{mf}-repeated-row", "market_file.csv", edit_rows(mf, repeat_row), ok=True),
        Case(f"{mf}-no-target", "market_file.csv", edit_rows(mf, drop_column(c.TARGET))),
        # file kinds and encodings
        Case(
            f"{mf}-fifo",
            "market_file.csv",
            lambda d: replace_file(d, mf, os.mkfifo),
            expect="is a FIFO (named pipe), not a regular file",
        ),
        Case(
            f"{mf}-utf16-no-bom",
            "market_file.csv",
            edit_bytes(mf, reencode("utf-16-le")),
            expect="looks like UTF-16 text, expected UTF-8",
        ),
        # exact integers, booleans, floats the writers cannot round
        Case(
            f"{mf}-huge-int",
            "market_file.csv",
            edit_rows(mf, set_value("tenure_days", HUGE, row=3)),
            expect=f"{HUGE} outside the allowed range [0, {INT64_MAX}] at line 4",
        ),
        Case(
            f"{mt}-int-above-int64",
            "market_time.csv",
            edit_rows(mt, set_value(c.MINUTES, str(2**63))),
            expect=f"{2**63} outside the allowed range [0, {INT64_MAX}] at line 2",
        ),
        Case(
            f"{mf}-int-inexact-decimal",
            "market_file.csv",
            edit_rows(mf, set_value("tenure_days", f"{2**53 + 1}.0")),
            expect="too large to be exact in decimal notation",
        ),
        Case(f"{mf}-booleans", "market_file.csv", edit_rows(mf, booleans), expect=BOOLEANS),
        Case(
            f"{mf}-boolean-float",
            "market_file.csv",
            edit_rows(mf, map_column("marketing_6m", lambda v: "True")),
            expect=BOOLEANS,
        ),
        Case(
            f"{mo}-huge-float",
            "money.csv",
            edit_rows(mo, set_value(c.PROFIT, "1,7e308", row=2)),
            expect=f"1.7e+308 {TOO_LARGE} at line 3",
        ),
        Case(
            f"{mm}-huge-float",
            "market_money.csv",
            edit_rows(mm, set_value(c.REVENUE, "1.7e308")),
            expect=f"1.7e+308 {TOO_LARGE} at line 2",
        ),
        # cleaning leaves nobody
        Case(
            f"{mm}-all-zero-revenue",
            "market_money.csv",
            edit_rows(mm, map_column(c.REVENUE, lambda v: "0")),
            expect="cleaning excludes every customer",
        ),
    ]
    return out


PROMO = "promo_share"
INF = "non-finite value(s)"
TRUNCATED = "has no line end, unlike the others (CRLF): the file is possibly truncated"
HUGE = "99999999999999999999999"  # past uint64: pandas hands it over as a Python int
INT64_MAX = 2**63 - 1
BOOLEANS = "true/false value(s) in a numeric column"
TOO_LARGE = "too large: not finite once rounded to 6 decimals,"
BAD_ID = "9000x1"
SVC = "service_type"


def dot(value: str) -> str:
    return value.replace(",", ".")


def pad(value: str) -> str:
    return f" {value} "


def first_row(rows: Rows) -> list[int]:
    return [1]


def repeat_row(rows: Rows, spec: c.InputFile) -> Rows:
    return [*rows, list(rows[1])]


def clash(name: str) -> Callable[[Rows, c.InputFile], Rows]:
    """A second row with the first row's key and a different value in column `name`."""

    def change(rows: Rows, spec: c.InputFile) -> Rows:
        k = column_index(spec, name)
        twin = list(rows[1])
        twin[k] = "7" if twin[k] != "7" else "8"
        return [*rows, twin]

    return change


def build(case: Case, good: Path, directory: Path) -> Path:
    """A copy of the good sample directory with the case applied."""
    shutil.copytree(good, directory)
    case.mutate(directory)
    return directory


def main(out: Path) -> None:
    good = write_sample(out / "good")
    for case in cases():
        build(case, good, out / case.name)
    print(f"{len(cases())} cases under {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
