"""The contract's vocabulary names every code identifier a business output can show."""

from __future__ import annotations

import re

import pytest
import yaml

from oneclick.core.paths import PARAMS_FILE, ROOT
from oneclick.data import contract as c
from oneclick.features.engineered import ENGINEERED
from oneclick.segment.offers import SOURCES
from oneclick.segment.selection import AT_RISK, PROBABILITY
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import LANGUAGES

LATIN = re.compile(r"[A-Za-z]")


def test_every_feature_and_customer_figure_has_a_name_and_unit() -> None:
    named = {*c.FEATURES, *ENGINEERED, c.PROFIT, PROBABILITY, AT_RISK}
    assert named <= set(vocab.TERMS), sorted(named - set(vocab.TERMS))
    for column, term in vocab.TERMS.items():
        assert term.unit in vocab.UNITS, column
        assert not LATIN.search(term.ru), (column, term.ru)
        assert term.en and term.en.isascii(), (column, term.en)


def test_every_category_value_has_an_english_name() -> None:
    values = {v for f in c.INPUT_FILES for col in f.columns if col.kind != "period"
              for v in col.categories}  # fmt: skip
    assert values <= set(vocab.VALUES_EN), sorted(values - set(vocab.VALUES_EN))


def test_every_offer_of_params_has_a_unique_name_in_both_languages() -> None:
    segment = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))["segment"]
    codes = [o["code"] for o in [*segment["offers"], segment["fallback_offer"]]]
    assert set(codes) <= set(vocab.OFFERS), sorted(set(codes) - set(vocab.OFFERS))
    for language in LANGUAGES:
        names = [vocab.offer_name(code, language) for code in vocab.OFFERS]
        assert len(set(names)) == len(names), language  # a name stands for its code
    assert not any(LATIN.search(o["text"].split("{")[0]) for o in segment["offers"])


def test_every_removal_reason_and_offer_source_is_named() -> None:
    source = (ROOT / "oneclick/data/cleaning.py").read_text(encoding="utf-8")
    reasons = set(re.findall(r'"reason": "(\w+)"', source))
    assert reasons and reasons <= set(vocab.EXCLUSIONS)
    assert set(SOURCES) == set(vocab.SOURCES)


@pytest.mark.parametrize(
    ("column", "value", "language", "shown"),
    [
        ("promo_share", 0.62, "ru", "62%"),
        ("minutes_current", 9, "ru", "9 мин"),
        (c.PROFIT, 4.734, "ru", "4,73 у.е. в месяц"),
        (c.PROFIT, 4.734, "en", "4.73 c.u. per month"),
        ("pages_per_visit", 4, "ru", "4"),
        ("favourite_category", "Кухонная посуда", "ru", "«Кухонная посуда»"),
        ("favourite_category", "Кухонная посуда", "en", "«Kitchenware»"),
    ],
)
def test_value_text_has_units_and_the_decimal_mark(column, value, language, shown) -> None:
    assert vocab.value_text(column, value, language) == shown


def test_labels_statuses_and_language_check() -> None:
    assert vocab.label(c.PROFIT, "ru") == "Прибыль, у.е. в месяц"
    assert vocab.label("promo_share", "en") == "Share of promo purchases, %"
    assert vocab.status("zero_revenue", "ru") == "исключён: месяц без выручки"
    assert vocab.status("something_new", "ru") == "исключён: something_new"
    assert vocab.offer_name("cart_reminder", "ru") == "Напоминание о корзине"
