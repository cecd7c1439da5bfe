"""Segment customers for people: each decline driver as a sentence, and the campaign table.

A driver in words names the feature, the customer's own value with its unit and where that value
sits among all scored customers: "доля акционных покупок 62% — выше, чем у 90% клиентов". The
campaign table is the segment as the marketing team uses it (data/segment/campaign.xlsx/.csv and
`oneclick predict --format xlsx|csv-ru`): one row per customer, ranked by expected profit at
risk, headers and values in report.language.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from oneclick.data.contract import ID, PROFIT
from oneclick.segment.economics import NET
from oneclick.segment.selection import AT_RISK, PROBABILITY
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import say

CODE_SEP, TEXT_SEP = ";", " | "  # how segment_customers joins a customer's offer codes and texts
# (ru, en) phrase templates; {p} is a whole percentage of all scored customers
HIGHER = ("выше, чем у {p}% клиентов", "higher than for {p}% of customers")
LOWER = ("ниже, чем у {p}% клиентов", "lower than for {p}% of customers")
SAME = ("как у {p}% клиентов", "as for {p}% of customers")
HEADERS = {
    "offer": ("Предложение {k}", "Offer {k}"),
    "offer_text": ("Текст предложения {k}", "Offer {k} text"),
    "driver": ("Причина снижения {k}", "Decline driver {k}"),
}


def header(key: str, k: int, language: str) -> str:
    return say(HEADERS[key], language, k=k)


def _comparison(values: np.ndarray, population: pd.Series, language: str) -> list[str]:
    """Where each value sits among the population: the larger side, in whole percent (rounded
    down, so a phrase never claims more than is true)."""
    if not pd.api.types.is_numeric_dtype(population):
        counts = population.astype(str).value_counts(normalize=True)
        share = [counts.get(str(v), 0.0) for v in values]
        return [say(SAME, language, p=int(100 * s)) for s in share]
    ordered = np.sort(population.dropna().to_numpy(dtype="float64"))
    numbers = values.astype("float64")
    below = np.searchsorted(ordered, numbers, side="left") / max(len(ordered), 1)
    above = 1 - np.searchsorted(ordered, numbers, side="right") / max(len(ordered), 1)
    return [
        say(HIGHER, language, p=int(100 * b)) if b >= a else say(LOWER, language, p=int(100 * a))
        for b, a in zip(below, above, strict=True)
    ]


def driver_words(
    features: pd.Series, values: pd.Series, population: pd.DataFrame, language: str
) -> list[str]:
    """One sentence per row for the driver named in `features` (empty where there is none), its
    value in `values`, compared with that column of `population` (every scored customer)."""
    out = [""] * len(features)
    names = features.to_numpy(dtype=object)
    own = values.to_numpy(dtype=object)
    for feature in sorted({f for f in names if isinstance(f, str)}):
        rows = np.flatnonzero(names == feature)
        compared = _comparison(own[rows], population[feature], language)
        for row, phrase in zip(rows, compared, strict=True):
            shown = vocab.value_text(feature, own[row], language)
            out[row] = f"{vocab.name(feature, language)} {shown} — {phrase}"
    return out


def _nth(lists: list[list[str]], k: int) -> list[str]:
    """The k-th item (1-based) of each list, "" where a list is shorter."""
    return [items[k - 1] if len(items) >= k else "" for items in lists]


def campaign_table(
    customers: pd.DataFrame,
    table: pd.DataFrame,
    population: pd.DataFrame,
    max_offers: int,
    language: str,
) -> pd.DataFrame:
    """The segment as the campaign needs it, in segment_customers' order (expected profit at
    risk, highest first). customers: segment_customers' output; table: customer rows by id with
    allow_messages and favourite_category; population: model columns of every scored customer."""
    own = table.set_index(ID).reindex(customers[ID])
    out = {
        ID: customers[ID].to_numpy(),  # the store's own header in market_file.csv
        vocab.label(PROBABILITY, language): (100 * customers[PROBABILITY]).round(1).to_numpy(),
        vocab.label(PROFIT, language): customers[PROFIT].round(2).to_numpy(),
        vocab.label(AT_RISK, language): customers[AT_RISK].round(2).to_numpy(),
    }
    if NET in customers:  # the offers' expected gain minus their cost (segment/economics.py)
        out[vocab.label(NET, language)] = customers[NET].astype(float).round(2).to_numpy()
    if "group" in customers:  # the control group gets no offer (oneclick/campaign/control.py)
        pick = 0 if language == "ru" else 1
        out[vocab.label("group", language)] = [vocab.GROUPS[g][pick] for g in customers["group"]]
    for column in ("allow_messages", "favourite_category"):
        out[vocab.label(column, language)] = [vocab.category(v, language) for v in own[column]]
    codes = [s.split(CODE_SEP) if s else [] for s in customers["offer_codes"].fillna("")]
    texts = [s.split(TEXT_SEP) if s else [] for s in customers["offers"].fillna("")]
    for k in range(1, max_offers + 1):
        names = [vocab.offer_name(code, language) if code else "" for code in _nth(codes, k)]
        out[header("offer", k, language)] = names
        out[header("offer_text", k, language)] = _nth(texts, k)
    listed = sorted(int(m[1]) for c in customers if (m := re.fullmatch(r"driver_(\d+)", c)))
    for k in listed:
        drivers, values = customers[f"driver_{k}"], customers[f"driver_{k}_value"]
        out[header("driver", k, language)] = driver_words(drivers, values, population, language)
    return pd.DataFrame(out)
