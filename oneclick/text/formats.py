"""Picking a (ru, en) phrase in report.language, numbers with the language's decimal mark,
Markdown tables: the one implementation every text output uses."""

from __future__ import annotations

from collections.abc import Callable

from oneclick.core import params_schema

LANGUAGES = params_schema.LANGUAGES  # what params.yaml report.language may be
MISSING = {"ru": "нет данных", "en": "n/a"}  # a figure that could not be computed


def say(pair: tuple[str, str], language: str, **values: object) -> str:
    """A (ru, en) phrase in `language`, its {placeholders} filled from `values`."""
    return pair[LANGUAGES.index(language)].format(**values)


def number(x: float, decimals: int, language: str = "en") -> str:
    """A number with the language's decimal mark (Russian: comma)."""
    text = f"{x:.{decimals}f}"
    return text.replace(".", ",") if language == "ru" else text


def count(x: int | None, missing: str = "—") -> str:
    return missing if x is None else str(int(x))


def money(x: float | None, language: str = "en", missing: str | None = None) -> str:
    """Money to the cent; None (a figure that could not be computed) as `missing`."""
    if x is None:
        return MISSING[language] if missing is None else missing
    return number(x, 2, language)


def percent(x: float | None, language: str = "en", missing: str | None = None) -> str:
    """A share in [0, 1] as a percentage with one decimal: 0.123 -> "12.3%"."""
    if x is None:
        return MISSING[language] if missing is None else missing
    return number(100 * x, 1, language) + "%"


def fraction(x: float, language: str = "en") -> str:
    """A param such as 0.7 or 0.75 as written (%g), with the language's decimal mark."""
    return f"{x:g}".replace(".", ",") if language == "ru" else f"{x:g}"


def table(header: list[str], rows: list[list[str]], cell: Callable[[str], str] = str) -> list[str]:
    """A Markdown table's lines; `cell` renders each body cell (e.g. escaping.markdown_text)."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(map(cell, row)) + " |" for row in rows),
    ]
