"""Offer rules (params segment.offers) and their assignment from a customer's decline drivers.

A rule names the drivers it answers (features whose SHAP value pushes the customer toward
decline), optional conditions on the customer's own values (allow_messages: да) and a text that
may quote the customer's values ({favourite_category}). A customer gets the rules matching the
decline drivers among their top ones (strongest first, at most max_offers); if none matches, the
first rule matching any driver further down; if still none, the fallback offer.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stages.common import DataError

PARAMS = "params.yaml: segment"
TOP, FURTHER, FALLBACK = "top drivers", "further drivers", "fallback"
SOURCES = (TOP, FURTHER, FALLBACK)


@dataclass(frozen=True)
class Offer:
    code: str
    text: str
    drivers: tuple[str, ...] = ()
    require: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, driver: str, customer: dict[str, Any]) -> bool:
        return driver in self.drivers and all(
            str(customer.get(column)) in allowed for column, allowed in self.require.items()
        )

    def render(self, customer: dict[str, Any]) -> str:
        return self.text.format_map(customer)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def parse_offers(
    rules: list[dict[str, Any]], fallback: dict[str, Any], columns: set[str],
    non_actionable: list[str],
) -> tuple[list[Offer], Offer]:  # fmt: skip
    """Validated rules and fallback; every problem is a one-line DataError naming the rule."""
    offers = []
    for i, rule in enumerate([*rules, fallback]):
        where = f"{PARAMS}.offers[{i}]" if i < len(rules) else f"{PARAMS}.fallback_offer"
        unknown = sorted(set(rule) - {"code", "text", "drivers", "require"})
        if unknown or not rule.get("code") or not rule.get("text"):
            raise DataError(f"{where}: needs code and text, unknown keys {unknown}")
        drivers = tuple(rule.get("drivers") or ())
        if i < len(rules) and not drivers:
            raise DataError(f"{where} ({rule['code']}): no drivers")
        blocked = sorted(set(drivers) & set(non_actionable))
        if blocked:
            raise DataError(f"{where} ({rule['code']}): non-actionable driver(s) {blocked}")
        require = {k: tuple(map(str, v if isinstance(v, list) else [v])) for k, v in
                   (rule.get("require") or {}).items()}  # fmt: skip
        missing = sorted((set(require) | _placeholders(rule["text"])) - columns)
        if missing:
            raise DataError(f"{where} ({rule['code']}): unknown customer column(s) {missing}")
        offers.append(Offer(rule["code"], rule["text"], drivers, require))
    codes = [o.code for o in offers]
    if len(set(codes)) < len(codes):
        raise DataError(f"{PARAMS}.offers: duplicate offer codes in {codes}")
    return offers[:-1], offers[-1]


def decline_drivers(shap_row: pd.Series) -> list[str]:
    """Features pushing toward decline (SHAP > 0), strongest first (ties: feature order)."""
    positive = shap_row[shap_row > 0]
    order = np.argsort(-positive.to_numpy(), kind="stable")
    return list(positive.index[order])


def assign_offers(
    drivers: list[str], customer: dict[str, Any], offers: list[Offer], fallback: Offer,
    top: int, max_offers: int,
) -> tuple[list[tuple[Offer, str | None]], str]:  # fmt: skip
    """[(offer, driver it answers)] and how they were found (TOP, FURTHER or FALLBACK)."""
    chosen: list[tuple[Offer, str | None]] = []
    for driver in drivers[:top]:
        for offer in offers:
            fresh = offer.code not in {o.code for o, _ in chosen}
            if len(chosen) < max_offers and fresh and offer.applies(driver, customer):
                chosen.append((offer, driver))
    if chosen:
        return chosen, TOP
    for driver in drivers[top:]:
        match = next((o for o in offers if o.applies(driver, customer)), None)
        if match:
            return [(match, driver)], FURTHER
    return [(fallback, None)], FALLBACK
