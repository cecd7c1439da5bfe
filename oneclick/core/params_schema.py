"""params.yaml's one schema: every key's type, range or allowed values, declared in one table
(SCHEMA, in the style of scikit-learn's `_parameter_constraints`), and the cross-key rules that
need the data (checked where the data is known, by `check_fit`).

Each stage validates exactly the keys it declares in dvc.yaml (config.load_stage), before any
work: the first problem is one line naming the key, the value and what is allowed (a DataError,
exit code 2). Names the data contract and the feature spec define (offer codes, drivers,
engineered features, the customer columns a text may quote) are checked by the code that owns
them (segment/offers.py, features/engineered.py), with the same message (`invalid`).
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from oneclick.core.errors import DataError, shown_value

FILE = "params.yaml"
LANGUAGES = ("ru", "en")  # oneclick/text/vocabulary.py names everything in these
# how an offer reaches the customer (segment.offers[].channel): a message needs their consent
CHANNELS = ("message", "site", "app")
SEED_MAX = 2**32 - 1  # numpy and scikit-learn seeds


@dataclass(frozen=True)
class Rule:
    """One leaf: `allowed` says in words what `accepts` holds; `wrong` are values it refuses
    (a wrong type first, then out of range), for the generated test."""

    allowed: str
    accepts: Callable[[Any], bool]
    wrong: tuple[Any, ...]
    nullable: bool = False
    optional: bool = False  # the key may be left out of its block (an offer's own terms)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def integer(low: int, high: int | None = None, even: bool = False, nullable: bool = False) -> Rule:
    """An integer in [low, high] (even only if `even`)."""
    words = f"an {'even ' if even else ''}integer >= {low}"
    words += f" and <= {high}" if high is not None else ""

    def accepts(value: Any) -> bool:
        inside = _is_int(value) and value >= low and (high is None or value <= high)
        return inside and (not even or value % 2 == 0)

    wrong = ("x", 1.5, low - 1) + ((high + 1,) if high is not None else ())
    return Rule(words + (" or empty" if nullable else ""), accepts, wrong, nullable)


def number(
    low: float, high: float | None = None, low_open: bool = False, high_open: bool = False
) -> Rule:
    """A finite number between low and high (each bound included unless open)."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    words = f"a number in {left}{low}, {high}{right}" if high is not None else None
    words = words or f"a finite number {'>' if low_open else '>='} {low}"

    def accepts(value: Any) -> bool:
        if not _is_number(value):
            return False
        above = value > low if low_open else value >= low
        below = high is None or (value < high if high_open else value <= high)
        return above and below

    wrong = ("x", True, float("nan"), float("inf"), low - 1) + ((high + 1,) if high else ())
    return Rule(words, accepts, wrong)


def fraction(low_open: bool = False, high_open: bool = False, nullable: bool = False) -> Rule:
    """A probability, share or quantile."""
    rule = number(0, 1, low_open, high_open)
    return Rule(
        rule.allowed + (" or empty" if nullable else ""), rule.accepts, rule.wrong, nullable
    )


def choice(*values: Any, also: Rule | None = None) -> Rule:
    """One of `values` (or what `also` accepts)."""
    words = "one of " + ", ".join(map(str, values)) + (f", or {also.allowed}" if also else "")

    def accepts(value: Any) -> bool:
        known = isinstance(value, str | bool) and value in values
        return known or (also is not None and also.accepts(value))

    return Rule(words, accepts, (["list"], "unknown"))


def boolean() -> Rule:
    return Rule("true or false", lambda value: isinstance(value, bool), ("yes", 1))


def text() -> Rule:
    """A non-empty string of printable characters."""
    return Rule("a non-empty text without control characters", _printable, (1, "", "a\x1bb"))


def template() -> Rule:
    """A text that may quote the customer's columns as {column}: plain names only (no
    attribute, index, conversion or format spec), every brace paired ({{ and }} are braces)."""
    return Rule(
        "a text quoting customer columns as {column} (a brace itself as {{ or }})",
        lambda value: _printable(value) and placeholders(value) is not None,
        (1, "50% {off", "{favourite_category.__class__}"),
    )


def listing(item: Rule, nonempty: bool = True) -> Rule:
    """A list of items `item` accepts."""
    words = f"a {'non-empty ' if nonempty else ''}list of {item.allowed.removeprefix('a ')}"

    def accepts(value: Any) -> bool:
        return isinstance(value, list) and (value or not nonempty) and all(map(item.accepts, value))

    return Rule(words, accepts, ("x", [item.wrong[0]]))


def mapping() -> Rule:
    """A mapping whose details the owning module checks (an offer rule's require)."""
    return Rule(
        "a mapping", lambda value: isinstance(value, dict) and _printable_all(value), ("x",)
    )


def switches() -> Rule:
    """name: true/false pairs (the owning module knows the names)."""
    return Rule(
        "a mapping of names to true or false",
        lambda value: (
            isinstance(value, dict)
            and all(_printable(k) and isinstance(v, bool) for k, v in value.items())
        ),
        ("x", {"revenue_trend": "yes"}),
    )


def names() -> Rule:
    """One name or a list of names."""
    name = text()
    return Rule(
        "a name or a list of names",
        lambda value: name.accepts(value) or listing(name).accepts(value),
        (1, [1]),
    )


def _printable(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and _printable_all(value)


def _printable_all(value: Any) -> bool:
    """No control character (line breaks, escapes, NUL) in any string inside value."""
    if isinstance(value, str):
        return not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value)
    if isinstance(value, dict):
        return all(_printable_all(k) and _printable_all(v) for k, v in value.items())
    if isinstance(value, list):
        return all(map(_printable_all, value))
    return True


def placeholders(value: str) -> set[str] | None:
    """The column names a text quotes, or None when its braces are not plain {name} fields."""
    try:
        fields = list(string.Formatter().parse(value))
    except ValueError:  # a stray { or }
        return None
    found = set()
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            return None
        found.add(name)
    return found


SEED = integer(0, SEED_MAX)
POSITIVE = number(0, low_open=True)
# an offer's economics (у.е., the units of money.csv's profit): segment.economics sets them for
# every offer, an offer rule may set its own (segment/economics.py)
OFFER_TERMS = {
    "cost_per_contact": number(0),
    "cost_per_redemption": number(0),
    "redemption_rate": fraction(),
    "effect": number(-1, 1),  # the share of would-be decliners kept; < 0: the offer harms
}
OWN_TERMS = {key: replace(rule, optional=True) for key, rule in OFFER_TERMS.items()}

# Every key of params.yaml: a block is a dict (its keys all required, no other key allowed), a
# leaf a Rule.
SCHEMA: dict[str, Any] = {
    "data": {"raw_dir": text()},
    "sample": {"n_customers": integer(1), "seed": SEED},
    "clean": {
        "drop_zero_revenue": boolean(),
        "revenue_outlier_max": POSITIVE,
        "revenue_outlier_action": choice("median", "cap", "drop"),
    },
    "features": {
        "test_size": fraction(low_open=True, high_open=True),
        "random_state": SEED,
        "phik_top_pairs": integer(1),
        "collinearity_threshold": fraction(low_open=True),
        "engineered": switches(),  # features/engineered.py knows the names
    },
    "train": {
        "random_state": SEED,
        "svc": {
            "C": POSITIVE,
            "gamma": choice("scale", "auto", also=POSITIVE),
            "select_C": POSITIVE,
            "max_rows": integer(2, nullable=True),
        },
        "knn": {
            "n_neighbors": integer(1),
            "weights": choice("uniform", "distance"),
            "max_rows": integer(2, nullable=True),
        },
        "logistic_regression": {"C": POSITIVE},
        "meta": {"C": POSITIVE, "folds": integer(2)},
    },
    "evaluate": {
        "threshold": fraction(low_open=True, high_open=True),
        "calibration_bins": integer(2),
        "bootstrap_samples": integer(1),
        "protocol_repeats": integer(1),
        "protocol_folds": integer(2),
        "protocol_seed": SEED,
        "n_jobs": integer(1),
    },
    "shap": {
        "n_paths": integer(2, even=True),  # antithetic: paths come in pairs
        "n_paths_read": integer(2, even=True),
        "n_paths_close": integer(2, even=True),  # the most a close call gets
        "close_call_z": number(0),
        "read_probability": fraction(),
        "background_size": integer(1, nullable=True),
        "random_state": SEED,
        "n_jobs": integer(1),
        "batch_elements": integer(1),
        "top_drivers": integer(1),
        "additivity_tolerance": POSITIVE,
    },
    "segment": {
        "threshold": fraction(low_open=True, high_open=True),
        "profit_quantile": fraction(nullable=True),
        "min_promo_share": fraction(nullable=True),
        "economics": {
            "horizon_months": POSITIVE,
            "budget": replace(POSITIVE, allowed=POSITIVE.allowed + " or empty", nullable=True),
            **OFFER_TERMS,
        },
        "exploration_share": fraction(high_open=True),
        "drivers_listed": integer(1),
        "max_offers": integer(1),
        "offers": listing(mapping()),  # each rule: segment/offers.py
        # everyone may get it: on the site or in the app, never a message (consent)
        "fallback_offer": {
            "code": text(),
            "text": template(),
            "channel": choice(*CHANNELS[1:]),
            **OWN_TERMS,
        },
        "non_actionable": listing(text(), nonempty=False),
        "value_curve_points": integer(2),
        "report_contact_shares": listing(fraction(low_open=True)),
        "profile_highlights": integer(0),
        "profile_plots": integer(0),
        "report_top_customers": integer(0),
    },
    "report": {"language": choice(*LANGUAGES)},
    "campaign": {
        "control_share": fraction(high_open=True),  # 1 would leave nobody to get an offer
        "seed": SEED,
        "target_effect": fraction(low_open=True, high_open=True),
    },
}
# the parts of one offer rule (segment.offers[i]); code, text and channel required
OFFER = {
    "code": text(),
    "text": template(),
    "channel": choice(*CHANNELS),
    "drivers": names(),
    "require": mapping(),
    **OWN_TERMS,
}


def invalid(key: str, value: Any, allowed: str) -> DataError:
    """The one wording of a bad param: key, value, what is allowed."""
    return DataError(f"{FILE}: {key}: {shown_value(value)} is not allowed; expected {allowed}")


def missing(key: str, allowed: str) -> DataError:
    return DataError(f"{FILE}: {key}: missing; expected {allowed}")


def validate(params: Any, keys: list[str]) -> None:
    """The declared dotted `keys` of params (a stage's, from dvc.yaml) against SCHEMA."""
    for key in keys:
        node: Any = SCHEMA
        value: Any = params
        for depth, part in enumerate(key.split(".")):
            where = ".".join(key.split(".")[: depth + 1])
            if not isinstance(node, dict) or part not in node:
                raise DataError(f"{FILE}: {where}: not a known param (dvc.yaml declares it)")
            node = node[part]
            if not isinstance(value, dict) or part not in value:
                raise missing(where, _described(node))
            value = value[part]
        _check(key, node, value)


def _described(node: Any) -> str:
    return node.allowed if isinstance(node, Rule) else "a block with " + ", ".join(node)


def _check(key: str, node: Any, value: Any) -> None:
    if isinstance(node, Rule):
        if value is None and node.nullable:
            return
        if value is None or not node.accepts(value):
            raise invalid(key, value, node.allowed)
        return
    if not isinstance(value, dict):
        raise invalid(key, value, _described(node))
    unknown = [k for k in value if k not in node]
    if unknown:
        raise invalid(f"{key}.{unknown[0]}", value[unknown[0]], f"only the keys {', '.join(node)}")
    for part, child in node.items():
        if part not in value:
            if isinstance(child, Rule) and child.optional:
                continue
            raise missing(f"{key}.{part}", _described(child))
        _check(f"{key}.{part}", child, value[part])


def check_offer(key: str, rule: Any) -> None:
    """One offer rule's parts (OFFER): code, text and channel required, drivers, require and
    the offer's own economics terms optional."""
    if not isinstance(rule, dict):
        raise invalid(key, rule, "a mapping with code, text, channel, drivers, require")
    for part in ("code", "text", "channel"):
        if part not in rule:
            raise missing(f"{key}.{part}", OFFER[part].allowed)
    for part, value in rule.items():
        if part not in OFFER:
            raise invalid(f"{key}.{part}", value, f"only the keys {', '.join(OFFER)}")
        _check(f"{key}.{part}", OFFER[part], value)


def check_classes(class_counts: dict[Any, int], where: str) -> tuple[int, int]:
    """(customers, customers of the smaller class) of a target with two classes."""
    counts = {label: n for label, n in class_counts.items() if n > 0}
    if len(counts) < 2:
        only = shown_value(next(iter(counts), None))
        raise DataError(f"{where}: only one class in the target ({only}); a model needs two")
    return sum(counts.values()), min(counts.values())


def check_fit(
    train: dict[str, Any],
    class_counts: dict[Any, int],
    where: str,
    protocol_folds: int | None = None,
) -> None:
    """The rules on the `train` block that need the data (`where` names its file and column):
    two classes; enough
    customers of each class for the folds (evaluate.protocol_folds around the procedure when
    given, train.meta.folds inside it); kNN neighbours fewer than the rows of the smallest
    training fold it is fitted on."""
    total, smallest = check_classes(class_counts, where)
    folds = [("train.meta.folds", train["meta"]["folds"])]
    if protocol_folds:
        folds.insert(0, ("evaluate.protocol_folds", protocol_folds))
    rows, fewest = total, smallest
    for key, k in folds:
        if fewest < k:
            raise DataError(
                f"{where}: {total} customers, {smallest} in the smaller class: at least {k} "
                f"of each class needed (after the outer folds) for {key} = {k}"
            )
        rows, fewest = rows - -(-rows // k), fewest - -(-fewest // k)  # a training part
    neighbours, cap = train["knn"]["n_neighbors"], train["knn"]["max_rows"]
    if cap is not None and neighbours >= cap:
        raise invalid("train.knn.n_neighbors", neighbours, f"fewer than train.knn.max_rows = {cap}")
    if neighbours >= rows:
        allowed = f"fewer than the ~{rows} customers of the smallest training fold ({where})"
        raise invalid("train.knn.n_neighbors", neighbours, allowed)
