"""Text from params or data on its way into a spreadsheet or a page: shown, never run.

- Spreadsheets: a CSV field starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
  read by Excel and LibreOffice as a formula (OWASP, CSV injection). Such a field gets a leading
  apostrophe, the spreadsheets' own mark of "this is text": "+7 (495) 123-45-67" shows as
  '+7 (495) 123-45-67 and "-20% на категорию" as '-20% на категорию, readable and inert
  (docs/reliability.md says why not an invisible character). xlsx cells are typed: text cells
  are written as text whatever they start with (oneclick/segment/export.py).
- Markdown: characters that would start markup (emphasis, links, code, HTML, table cells) are
  backslash-escaped, so a text reads as typed. HTML: html.escape at each insertion point.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")  # mid-line markup: #, +, - only start one


def formula_safe(value: object) -> object:
    """A spreadsheet field that cannot run: text starting like a formula gets a leading `'`;
    anything else (numbers included) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def markdown_text(text: object) -> str:
    """`text` as literal Markdown (GitHub's, tables included): markup characters escaped, line
    breaks as spaces (a break would end a table row)."""
    flat = " ".join(str(text).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
