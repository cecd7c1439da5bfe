"""The contract's vocabulary: what every code name means to a person, in Russian and English.

The code works with English snake_case identifiers (contract.py); the store's team reads
Russian. Every identifier that can reach a business output (features, engineered features,
category values, offer codes, customer statuses and exclusion reasons) has a human name here,
with its unit, so the segment report and page, the plots and the campaign export print words
and units instead of code names. `report.language` (params.yaml) picks ru or en.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from oneclick.data import contract as c
from oneclick.text.formats import number, say

if TYPE_CHECKING:
    import pandas as pd

Number = TypeVar("Number", float, "pd.Series")  # one value, or a column of them

# unit key -> (ru, en); "percent" values are shares in [0, 1], shown times 100
UNITS = {
    "": ("", ""),
    "money": ("у.е.", "c.u."),
    "profit": ("у.е. в месяц", "c.u. per month"),
    "money_per_minute": ("у.е. за минуту", "c.u. per minute"),
    "minutes": ("мин", "min"),
    "days": ("дн.", "days"),
    "items": ("шт.", "items"),
    "percent": ("%", "%"),
}


@dataclass(frozen=True)
class Term:
    """A column's name in a sentence (lower case), its unit key and decimals when shown."""

    ru: str
    en: str
    unit: str = ""
    decimals: int = 0

    def name(self, language: str) -> str:
        return say((self.ru, self.en), language)


_R, _M = c.REVENUE_COLUMNS, c.MINUTES_COLUMNS
# Every column a business output may name: model features (contract and engineered), then the
# customer figures the segment adds. Engineered names must match oneclick/features/engineered.py
# (tests/text/test_vocabulary.py checks it; this layer cannot import features).
TERMS: dict[str, Term] = {
    "marketing_6m": Term(
        "маркетинговые контакты в месяц (в среднем за 6 мес.)",
        "marketing contacts per month (6-month average)",
        decimals=1,
    ),
    "marketing_current": Term(
        "маркетинговые контакты в текущем месяце", "marketing contacts this month"
    ),
    "tenure_days": Term("стаж на сайте", "time since registration", "days"),
    "promo_share": Term("доля акционных покупок", "share of promo purchases", "percent"),
    "categories_per_visit": Term("категорий за визит", "categories viewed per visit"),
    "unpaid_items_quarter": Term(
        "неоплаченные товары в корзине за 3 мес.", "unpaid items in the cart (3 months)", "items"
    ),
    "service_errors": Term("сбои сайта у клиента", "site failures met"),
    "pages_per_visit": Term("страниц за визит", "pages per visit"),
    _R[0]: Term("выручка за текущий месяц", "revenue this month", "money"),
    _R[1]: Term("выручка за прошлый месяц", "revenue last month", "money"),
    _R[2]: Term("выручка за позапрошлый месяц", "revenue two months ago", "money"),
    _M[0]: Term("время на сайте в текущем месяце", "minutes on the site this month", "minutes"),
    _M[1]: Term("время на сайте в прошлом месяце", "minutes on the site last month", "minutes"),
    "favourite_category": Term("популярная категория", "favourite category"),
    "service_type": Term("тип сервиса", "service type"),
    "allow_messages": Term("согласие на сообщения", "consent to messages"),
    "revenue_trend": Term(
        "изменение выручки к прошлому месяцу", "revenue change on last month", "money"
    ),
    "revenue_prev_trend": Term(
        "изменение выручки прошлого месяца к позапрошлому",
        "revenue change, last month on the month before",
        "money",
    ),
    "minutes_trend": Term(
        "изменение времени на сайте к прошлому месяцу",
        "change of minutes on the site on last month",
        "minutes",
    ),
    "marketing_trend": Term(
        "маркетинговые контакты: текущий месяц минус среднее за 6 мес.",
        "marketing contacts: this month minus the 6-month average",
        decimals=1,
    ),
    "revenue_per_minute": Term(
        "выручка на минуту на сайте", "revenue per minute on the site", "money_per_minute", 1
    ),
    c.PROFIT: Term("прибыль", "profit", "profit", 2),
    "probability": Term("вероятность снижения активности", "probability of decline", "percent", 1),
    "expected_profit_at_risk": Term(
        "ожидаемая прибыль под риском", "expected profit at risk", "profit", 2
    ),
    "expected_net_profit": Term(
        "ожидаемая чистая прибыль от предложений", "expected net profit of the offers", "money", 2
    ),
    "group": Term("группа кампании", "campaign group"),
}

# Russian category values (the store's own, kept as they are in ru) -> English
VALUES_EN = {
    "Товары для детей": "Children's goods",
    "Домашний текстиль": "Home textiles",
    "Косметика и аксессуары": "Cosmetics and accessories",
    "Техника для красоты и здоровья": "Beauty and health devices",
    "Мелкая бытовая техника и электроника": "Small appliances and electronics",
    "Кухонная посуда": "Kitchenware",
    "стандарт": "standard",
    "премиум": "premium",
    "да": "yes",
    "нет": "no",
    c.TARGET_POSITIVE: "declined",
    c.TARGET_NEGATIVE: "unchanged",
}

# Offer codes of params.yaml segment.offers / fallback_offer -> (ru, en) short name
OFFERS = {
    "promo_category_discount": ("Скидка в любимой категории", "Favourite-category discount"),
    "cart_reminder": ("Напоминание о корзине", "Cart reminder"),
    "personal_recommendations": ("Персональные рекомендации", "Personal recommendations"),
    "relevant_mailings": ("Рассылки по любимой категории", "Relevant mailings"),
    "premium_trial": ("Месяц премиум-сервиса", "Premium trial month"),
    "category_coupon": ("Разовый купон", "One-off coupon"),
}

# Customer status in predict's output; exclusion reasons are the `clean` stage's removal reasons
STATUS_SCORED = "scored"
STATUSES = {STATUS_SCORED: ("оценён", "scored")}
EXCLUSIONS = {
    "zero_revenue": ("месяц без выручки", "zero revenue month"),
    "revenue_outlier": ("выброс выручки", "revenue outlier"),
}
# How a customer's offers were found (oneclick/segment/offers.py SOURCES)
SOURCES = {
    "top drivers": ("по главным причинам", "top drivers"),
    "further drivers": ("по другим причинам", "further drivers"),
    "fallback": ("запасное предложение", "fallback"),
}
EXCLUDED = ("исключён", "excluded")  # status prefix of an excluded customer
YES_NO = {True: ("да", "yes"), False: ("нет", "no")}
# Campaign groups (oneclick/campaign/control.py): who gets the offer, who is held out to measure it
CHANNELS = {  # params.yaml segment.offers[].channel: how an offer reaches the customer
    "message": ("сообщение (нужно согласие)", "message (needs consent)"),
    "site": ("на сайте", "on the site"),
    "app": ("в приложении", "in the app"),
}
GROUPS = {
    "treatment": ("получает предложение", "gets the offer"),
    "control": ("контроль: без предложения", "control: no offer"),
    "exploration": ("исследование: получает предложение", "exploration: gets the offer"),
}


def name(column: str, language: str) -> str:
    """A column's human name for a sentence ("доля акционных покупок")."""
    return TERMS[column].name(language)


def title_name(column: str, language: str) -> str:
    """A column's name to begin a caption or axis: "Доля акционных покупок"."""
    text = name(column, language)
    return text[:1].upper() + text[1:]


def unit(column: str, language: str) -> str:
    return say(UNITS[TERMS[column].unit], language)


def label(column: str, language: str) -> str:
    """A column's name for a header or axis, capitalised, with its unit: "Прибыль, у.е. в месяц"."""
    text, shown = title_name(column, language), unit(column, language)
    return f"{text}, {shown}" if shown else text


def category(value: object, language: str) -> str:
    """A category value as shown: the store's Russian value, or its English name."""
    return str(value) if language == "ru" else VALUES_EN.get(str(value), str(value))


def shown_number(column: str, value: Number) -> Number:
    """A column's value in the unit it is shown in (shares as %)."""
    return 100 * value if TERMS[column].unit == "percent" else value


def value_text(column: str, value: str | float | None, language: str) -> str:
    """A value with its unit: "62%", "9 мин", "4,73 у.е. в месяц", "«Кухонная посуда»"."""
    if isinstance(value, str):
        return f"«{category(value, language)}»"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    term, shown = TERMS[column], unit(column, language)
    text = number(shown_number(column, float(value)), term.decimals, language)
    return text + shown if term.unit == "percent" else f"{text} {shown}".rstrip()


def offer_name(code: str, language: str) -> str:
    """An offer code's short name; a code not named here shows as itself (tests require names
    for every offer of params.yaml)."""
    return say(OFFERS[code], language) if code in OFFERS else code


def reason_name(reason: str, language: str) -> str:
    """Why the clean stage removed a customer; an unnamed reason shows as itself."""
    return say(EXCLUSIONS[reason], language) if reason in EXCLUSIONS else reason


def status(reason: str | None, language: str) -> str:
    """A customer's status: scored (reason None) or "excluded: <reason>" (clean's reason)."""
    if reason is None:
        return say(STATUSES[STATUS_SCORED], language)
    return f"{say(EXCLUDED, language)}: {reason_name(reason, language)}"


def yes_no(flag: bool, language: str) -> str:
    return say(YES_NO[bool(flag)], language)


def source_name(source: str, language: str) -> str:
    return say(SOURCES[source], language)
