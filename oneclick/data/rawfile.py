"""One input file's bytes before any parsing: what the path is, the encoding, the line ends.

Everything here is about the file, not its values: a directory, FIFO or unreadable file in
place of a CSV, UTF-16 or NUL bytes instead of UTF-8 text, and a last line without the line end
every other line has (an export cut off mid-row). Each is one DataError line; only a file that
passes is handed to the CSV parser.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from oneclick.core.errors import DataError

HEAD_BYTES = 1 << 16  # enough for the header and the encoding's signature, cheap for any file
WIDE = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
LINE_END_NAMES = {b"\r\n": "CRLF", b"\n": "LF", b"\r": "CR"}


def read_head(path: Path, file: str) -> tuple[bytes, bytes | None]:
    """(first line without its line end, the line end it uses or None for a one-line file).

    Raises when the path is not a readable regular file, is not UTF-8 text by its first bytes,
    or looks truncated (the last line lacks the line end of the first).
    """
    size = regular_file_size(path, file)
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            handle.seek(max(size - 1, 0))
            last = handle.read(1)
    except OSError as error:  # permission, I/O error: the OS's own words
        raise DataError(f"{file}: cannot read the file: {error.strerror} ({path})") from error
    check_text(head, file)
    header, line_end = first_line(head)
    # A cut-off export ends mid-row; every complete one ends its last line like the others.
    if line_end is not None and last not in (b"\n", b"\r"):
        line = count_lines(path, line_end)
        raise DataError(
            f"{file}: the last line (line {line}) has no line end, unlike the others "
            f"({LINE_END_NAMES[line_end]}): the file is possibly truncated; export it again"
        )
    return header, line_end


def regular_file_size(path: Path, file: str) -> int:
    """The size of path, which must be a regular file (or a link to one) with some bytes."""
    try:
        info = os.stat(path)  # follows links: a link to a good file is a good file
    except FileNotFoundError as error:
        if path.is_symlink():
            raise DataError(
                f"{file}: a broken symbolic link (to {os.readlink(path)}) at {path}"
            ) from error
        raise DataError(f"{file}: file is missing (looked for {path})") from error
    except NotADirectoryError as error:
        raise DataError(f"{file}: file is missing ({path.parent} is not a directory)") from error
    except OSError as error:
        raise DataError(f"{file}: cannot read the file: {error.strerror} ({path})") from error
    for is_kind, kind in KINDS:
        if is_kind(info.st_mode):
            raise DataError(f"{file}: {path} is {kind}, not a regular file")
    if info.st_size == 0:
        raise DataError(f"{file}: empty file (0 bytes)")
    return info.st_size


def check_text(head: bytes, file: str) -> None:
    """Raise when the first bytes are UTF-16/32 or binary: UTF-8 text never holds a NUL byte."""
    for bom, encoding in WIDE:
        if head.startswith(bom):
            raise DataError(f"{file}: encoded as {encoding}, expected UTF-8; export it as UTF-8")
    if b"\0" not in head:
        return
    if not head.strip(b"\0"):
        raise DataError(f"{file}: NUL bytes instead of text (a zeroed file), expected UTF-8 CSV")
    # UTF-16 without a BOM: the ASCII characters (digits, separators) put NULs at every other
    # byte, always on the same side; Cyrillic letters have none.
    zeros = sorted((head[0::2].count(0) / len(head[0::2]), head[1::2].count(0) / len(head[1::2])))
    if zeros[0] == 0 and zeros[1] > 0.25:
        raise DataError(f"{file}: looks like UTF-16 text, expected UTF-8; export it as UTF-8")
    first = head.index(b"\0")
    raise DataError(f"{file}: NUL byte at byte {first}: binary data, not UTF-8 CSV text")


def first_line(head: bytes) -> tuple[bytes, bytes | None]:
    """The header line and the file's line end: CRLF, LF or CR (an old export; pandas reads it)."""
    newline, carriage = head.find(b"\n"), head.find(b"\r")
    if newline < 0 and carriage < 0:
        return head, None
    if newline < 0 or 0 <= carriage < newline - 1:
        return head[:carriage], b"\r"
    if carriage == newline - 1:
        return head[:carriage], b"\r\n"
    return head[:newline], b"\n"


def count_lines(path: Path, line_end: bytes) -> int:
    """Lines in the file (the last one without its end counted too): error path only."""
    return path.read_bytes().count(line_end) + 1


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset, whatever the line ends (CRLF, LF or CR)."""
    return len(data[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"))
