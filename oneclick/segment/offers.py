"""Offer rules (params segment.offers) and their assignment from a customer's decline drivers.

A rule names the drivers it answers (features whose SHAP value pushes the customer toward
decline), optional conditions on the customer's own values (allow_messages: да) and a text that
may quote the customer's values ({favourite_category}). A customer gets the rules matching the
decline drivers among their top ones (strongest first, at most max_offers); if none matches, the
first rule matching any driver further down; if still none, the fallback offer. Each offer
reaches the customer through its `channel`; a message (mailing, reminder) only a customer who
consented to messages (CONSENT), so the others get the best offer their channels allow.

decline_drivers/assign_offers state the rule for one customer (and are the tests' reference);
decline_order/assign_offers_bulk apply it to a whole segment at once with arrays (a million
scored customers put ~70k in the segment, where a loop over rows took seconds).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oneclick.core import params_schema
from oneclick.data.contract import FEATURES, INPUT_FILES
from oneclick.features.engineered import ENGINEERED
from oneclick.text.vocabulary import OFFERS

PARAMS = "segment"  # params.yaml block
DRIVERS = {*FEATURES, *ENGINEERED}  # a driver is a model input column: any the features stage makes
FEW = 8  # a list of known names this short is worth printing in full
# the values a `require` on a text column can ever match
CATEGORIES = {c.name: c.categories for f in INPUT_FILES for c in f.columns if c.categories}
TOP, FURTHER, FALLBACK = "top drivers", "further drivers", "fallback"
SOURCES = (TOP, FURTHER, FALLBACK)
MESSAGE = "message"  # the channel that needs the customer's consent
CONSENT = ("allow_messages", "да")  # the customer's column and the value that means consent


@dataclass(frozen=True)
class Offer:
    code: str
    text: str
    channel: str
    drivers: tuple[str, ...] = ()
    require: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _listed(value: Any) -> tuple[str, ...]:
    """A YAML scalar or list as a tuple of strings (a bare string is one item, not letters)."""
    return tuple(map(str, value if isinstance(value, list) else [value]))


def _check_names(names: Any, known: set[str], where: str, what: str) -> None:
    """A name not in `known` is a typo that would silently switch a rule off: refuse it."""
    unknown = sorted(set(names) - known)
    if unknown:
        close = [m for n in unknown for m in difflib.get_close_matches(n, sorted(known), 1)]
        few = f": {', '.join(sorted(known))}" if len(known) <= FEW else ""
        hint = f" (did you mean {', '.join(close)}?)" if close else few
        shown = unknown[0] if len(unknown) == 1 else unknown
        raise params_schema.invalid(where, shown, f"a known {what}{hint}")


def parse_offers(
    rules: list[dict[str, Any]],
    fallback: dict[str, Any],
    columns: set[str],
    non_actionable: list[str],
) -> tuple[list[Offer], Offer]:
    """Validated rules and fallback; every problem is a one-line DataError naming the rule.

    Drivers are checked against every feature a model may have (not this model's spec), so
    switching an engineered feature off or a collinearity drop never invalidates the rules.
    """
    _check_names(non_actionable, DRIVERS, f"{PARAMS}.non_actionable", "feature")
    offers = []
    for i, rule in enumerate([*rules, fallback]):
        where = f"{PARAMS}.offers[{i}]" if i < len(rules) else f"{PARAMS}.fallback_offer"
        params_schema.check_offer(where, rule)
        _check_names([rule["code"]], set(OFFERS), f"{where}.code", "offer code")
        where = f"{PARAMS}.offers[{rule['code']}]" if i < len(rules) else where
        drivers = _listed(rule["drivers"]) if rule.get("drivers") else ()
        if i < len(rules) and not drivers:
            raise params_schema.missing(f"{where}.drivers", "the drivers the offer answers")
        _check_names(drivers, DRIVERS, f"{where}.drivers", "feature")
        blocked = sorted(set(drivers) & set(non_actionable))
        if blocked:
            raise params_schema.invalid(f"{where}.drivers", blocked, "no non-actionable driver")
        require = {k: _listed(v) for k, v in (rule.get("require") or {}).items()}
        _check_names(require, columns, f"{where}.require", "customer column")
        for column, allowed in require.items():
            known = set(CATEGORIES.get(column, allowed))
            _check_names(allowed, known, f"{where}.require.{column}", "value")
        quoted = params_schema.placeholders(rule["text"]) or set()  # syntax: check_offer
        _check_names(quoted, columns, f"{where}.text", "customer column")
        offers.append(Offer(rule["code"], rule["text"], rule["channel"], drivers, require))
    if offers[-1].channel == MESSAGE:  # the fallback reaches everyone, consent or not
        raise params_schema.invalid(f"{PARAMS}.fallback_offer.channel", MESSAGE, "site or app")
    codes = [o.code for o in offers]
    if len(set(codes)) < len(codes):
        raise params_schema.invalid(f"{PARAMS}.offers", codes, "each offer code once")
    return offers[:-1], offers[-1]


def decline_order(shap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: feature positions, decline drivers (SHAP > 0) first, strongest first, ties in
    feature order (a stable sort of -SHAP); and the count of decline drivers."""
    return np.argsort(-shap, axis=1, kind="stable"), (shap > 0).sum(axis=1)


def _requirement_met(offer: Offer, customers: pd.DataFrame) -> np.ndarray:
    """Per customer: the offer may go to them (its `require` holds, and consent for a message)."""
    require = dict(offer.require)
    if offer.channel == MESSAGE:
        column, consent = CONSENT
        require[column] = tuple(v for v in require.get(column, (consent,)) if v == consent)
    met = np.ones(len(customers), dtype=bool)
    for column, allowed in require.items():  # params list values as text
        met &= np.array([str(v) in allowed for v in customers[column].tolist()], dtype=bool)
    return met


def assign_offers(
    order: np.ndarray,
    count: np.ndarray,
    features: list[str],
    customers: pd.DataFrame,
    offers: list[Offer],
    top: int,
    max_offers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every customer's offers, from decline_order's output: the rules answering any of the
    `top` strongest decline drivers (TOP; in driver then rule order, each rule once, at most
    max_offers), else the first rule answering a weaker one (FURTHER), else the fallback.

    Returns (offer positions per row, -1 = none, len(offers) = the fallback; source per row).
    """
    n, width = order.shape
    met = [_requirement_met(offer, customers) for offer in offers]
    answers = np.array([[f in o.drivers for f in features] for o in offers], bool).reshape(
        len(offers), width
    )
    chosen = np.full((n, max(max_offers, 1)), -1)
    taken = np.zeros((n, len(offers)), dtype=bool)
    size = np.zeros(n, dtype=int)
    for rank in range(min(top, width)):
        driver = order[:, rank]
        for k in range(len(offers)):
            hit = (count > rank) & answers[k, driver] & met[k] & ~taken[:, k] & (size < max_offers)
            rows = np.flatnonzero(hit)
            chosen[rows, size[rows]] = k
            taken[rows, k] = True
            size[rows] += 1
    source = np.where(size > 0, TOP, FALLBACK).astype(object)
    pending = size == 0
    for rank in range(top, width):  # the first rule answering a weaker driver
        driver = order[:, rank]
        for k in range(len(offers)):
            hit = pending & (count > rank) & answers[k, driver] & met[k]
            chosen[hit, 0], source[hit] = k, FURTHER
            pending &= ~hit
    chosen[pending, 0] = len(offers)
    return chosen, source


def render_bulk(offer: Offer, customers: pd.DataFrame) -> list[str]:
    """The offer's text for every row, its {columns} filled in; each distinct combination of
    quoted values is formatted once."""
    names = sorted(params_schema.placeholders(offer.text) or ())
    if not names:
        return [offer.text.format_map({})] * len(customers)
    cache: dict[tuple, str] = {}
    out = []
    for quoted in zip(*(customers[name].tolist() for name in names), strict=True):
        if quoted not in cache:
            cache[quoted] = offer.text.format_map(dict(zip(names, quoted, strict=True)))
        out.append(cache[quoted])
    return out
