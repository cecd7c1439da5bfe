"""Picking a (ru, en) phrase in report.language, numbers with the language's decimal mark,
Markdown tables: the one implementation every text output uses."""

from __future__ import annotations

from oneclick.core.errors import DataError

LANGUAGES = ("ru", "en")
MISSING = {"ru": "нет данных", "en": "n/a"}  # a figure that could not be computed


def check_language(language: object) -> str:
    """params.yaml report.language must be one of LANGUAGES."""
    if language not in LANGUAGES:
        raise DataError(f"params.yaml: report.language: {language!r} is not one of {LANGUAGES}")
    return str(language)


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


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
