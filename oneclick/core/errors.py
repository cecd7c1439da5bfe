"""Bad input as one kind of error: DataError, reported as one line (file, column, problem), and
how a value is shown in that line (shortened, invisible and look-alike characters named)."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

from oneclick.core.paths import shown

VALUE_LIMIT = 80  # characters of a value quoted in a message
LINE_LIMIT = 600  # characters of a whole message line
# visible escapes for the characters a terminal would act on or hide
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_WORD = re.compile(r"\w+")


class DataError(Exception):
    """Bad input: reported as one line naming file, column and problem; exit code 2."""


def missing_input(path: Path | str) -> DataError:
    """The one wording for an upstream output that is not there (a stage run out of order)."""
    return DataError(f"{shown(path)}: missing; run the upstream stages first (dvc repro)")


def require(*paths: Path) -> None:
    """Upstream outputs a stage needs before it starts work: the first missing one is named."""
    for path in paths:
        if not path.is_file():
            raise missing_input(path)


def _visible(char: str) -> str:
    """A character as printed: itself, or a named escape for one a reader would not see."""
    if char in _ESCAPES:
        return _ESCAPES[char]
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Mn", "Me") or (
        category == "Zs" and char != " "
    ):
        return f"<U+{ord(char):04X}>"
    return char


def _script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    return next((s for s in ("LATIN", "CYRILLIC", "GREEK") if name.startswith(s)), None)


def _mixed_words(text: str) -> list[str]:
    """'Latin c in a Cyrillic word' notes: words mixing scripts, the minority letters named."""
    notes = []
    for word in _WORD.findall(text):
        scripts = [s for c in word if (s := _script(c))]
        if len(set(scripts)) < 2:
            continue
        main = max(set(scripts), key=scripts.count)
        odd = "".join(dict.fromkeys(c for c in word if _script(c) not in (main, None)))
        others = {s for c in odd if (s := _script(c))}
        notes.append(f"{'/'.join(sorted(others)).title()} {odd} in a {main.title()} word")
    return notes


def readable(text: str, limit: int = LINE_LIMIT) -> str:
    """text as one line a terminal shows as it is: line breaks and escapes as \\n / <U+001B>,
    invisible characters (zero-width, NBSP, combining marks) as <U+XXXX>, words mixing Latin
    and Cyrillic letters named, and a text longer than limit cut in the middle with its length.
    """
    keep = limit // 2
    if len(text) <= limit:
        shown_text, seen = "".join(map(_visible, text)), text
    else:  # cut before escaping: a 10 MB cell costs nothing
        head = "".join(map(_visible, text[:keep]))[:keep]
        tail = "".join(map(_visible, text[-keep:]))[-keep:]
        middle = f"...[{len(text) - 2 * keep:,} more of {len(text):,} characters]..."
        shown_text, seen = head + middle + tail, text[:keep] + " " + text[-keep:]
    if len(shown_text) > limit + 60:  # escapes made it longer: cut what is shown
        shown_text = shown_text[:keep] + "..." + shown_text[-keep:]
    notes = _mixed_words(seen)
    return shown_text + (f" ({'; '.join(dict.fromkeys(notes))})" if notes else "")


def shown_value(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A value quoted in a message: JSON-like (a string in quotes), shortened with its length."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # nan, inf: not JSON
    quoted = json.dumps(value, ensure_ascii=False, default=str)
    if len(quoted) > limit:
        quoted = f"{quoted[: limit - 3]}... ({len(quoted):,} characters)"
    return quoted
