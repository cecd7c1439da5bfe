"""The next period: the same generated customers a period later, with a known offer effect and
optional drift, so campaign outcomes and drift checks are tested against a known truth.

Truth, per customer of the sample (same n and seed):
- without an offer, this period's activity persists with probability PERSISTENCE and is
  otherwise redrawn from the store's class shares, so the share of declined customers stays
  the same from period to period: P(decline next) = PERSISTENCE * declined + (1 - PERSISTENCE)
  * DECLINED_SHARE (an assumption: the store has one period, no transition rates);
- an offer (the campaign table's treatment group) prevents a decline with probability
  effect / (mean P(decline next) of the treated), the same for each treated customer, so the
  treated group's expected decline rate is exactly `effect` below what it would have been;
- response "promo" (heterogeneous effects): the offer prevents declines only for
  promotion-sensitive customers (promo_share >= PROMO_SENSITIVE this period), with the
  probability that still lowers the treated group's expected rate by exactly `effect`;
- a harmful offer (harmful = (code, rise)): the treated customers whose first offer is `code`
  decline more, not less: P(decline) + k (1 - P(decline)), k such that their expected decline
  rate rises by exactly `rise` (the proactive campaign that raised churn, Ascarza et al.);
- behaviour (every numeric feature but tenure) is drawn afresh for the new activity, from the
  same class distributions as the sample; who the customer is (service, consent, favourite
  category, profit) stays; tenure grows by PERIOD_DAYS;
- drift: FEATURE=SHIFT adds SHIFT (the feature's own units) to every customer, within the
  contract's range.
Only the store's format defects (misspellings) are written: a zero-revenue month or a copied
customer would remove or overwrite customers whose outcome the truth fixes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oneclick.core.errors import DataError
from oneclick.core.paths import shown
from oneclick.data import contract as c
from oneclick.sample.customers import (
    DECLINED_SHARE,
    HIDDEN_SHARE,
    MARKETING_CURRENT,
    PROMO,
    customers,
    numeric_features,
)
from oneclick.sample.files import check_size, inject_defects, store_files

PERSISTENCE = 0.8
PERIOD_DAYS = 30  # a month: the files' periods are months
STREAM = 1  # the next period's random stream, apart from the sample's own
TRUTH_FILE = "next_period.json"
# the campaign table's vocabulary (oneclick/campaign/control.py; a test keeps them equal:
# sample sits below campaign in the layers and must not import it)
GROUP, TREATMENT, CONTROL = "group", "treatment", "control"
OFFER_CODES = "offer_codes"  # ";"-separated; the first is the customer's offer
RESPONSES = ("uniform", "promo")
PROMO_SENSITIVE = 0.5  # promo_share from which a customer responds under response "promo"
KEPT = ("tenure_days", "service_type", "allow_messages", "favourite_category", c.PROFIT)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The --next-period options of stage `sample` (the stage's entry point stays short)."""
    parser.add_argument(
        "--campaign",
        type=Path,
        metavar="FILE",
        help="campaign table with id and group (data/segment/customers.csv of this sample)",
    )
    parser.add_argument(
        "--effect",
        type=float,
        default=0.0,
        help="drop of the treated customers' decline rate the offers cause (default: 0)",
    )
    parser.add_argument(
        "--drift",
        action="append",
        default=[],
        metavar="FEATURE=SHIFT",
        help="add SHIFT to a numeric feature (its own units), e.g. promo_share=0.3; repeatable",
    )
    parser.add_argument(
        "--response",
        choices=RESPONSES,
        default="uniform",
        help="who the offers help: everyone treated alike, or only promotion-sensitive "
        "customers (promo_share >= 0.5) (default: %(default)s)",
    )
    parser.add_argument(
        "--harmful",
        metavar="OFFER=RISE",
        help="the treated customers whose first offer is OFFER decline more: their decline "
        "rate rises by RISE, e.g. cart_reminder=0.1",
    )


def parse_drift(items: list[str]) -> dict[str, float]:
    """['promo_share=0.3', ...] -> {'promo_share': 0.3}; only numeric contract features."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in c.NUMERIC_FEATURES:
            raise DataError(f"--drift {item}: {name!r} is not one of {c.NUMERIC_FEATURES}")
        try:
            out[name] = float(value)
        except ValueError:
            raise DataError(f"--drift {item}: expected FEATURE=SHIFT (a number)") from None
    return out


def parse_harmful(item: str | None) -> tuple[str, float] | None:
    """'cart_reminder=0.1' -> ('cart_reminder', 0.1): the offer and the rise of its decline rate."""
    if item is None:
        return None
    code, _, value = item.partition("=")
    try:
        rise = float(value)
    except ValueError:
        raise DataError(f"--harmful {item}: expected OFFER=RISE (a number)") from None
    if not code or not 0 < rise < 1:
        raise DataError(f"--harmful {item}: expected OFFER=RISE with RISE in (0, 1)")
    return code, rise


def read_campaign(path: Path) -> pd.DataFrame:
    """id, group (and offer_codes when present) of the campaign table."""
    if not path.is_file():
        raise DataError(f"{shown(path)}: missing (the campaign table, --campaign)")
    try:
        campaign = pd.read_csv(
            path, usecols=lambda name: name in (c.ID, GROUP, OFFER_CODES), keep_default_na=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise DataError(f"{shown(path)}: not a CSV table (--campaign): {reason}") from None
    if not {c.ID, GROUP} <= set(campaign.columns):
        raise DataError(f"{shown(path)}: needs columns {c.ID} and {GROUP}")
    unknown = sorted(set(campaign[GROUP]) - {TREATMENT, CONTROL})
    if unknown:
        raise DataError(f"{shown(path)}: column {GROUP}: unknown value(s) {unknown[:5]}")
    return campaign


def _range(name: str) -> tuple[float, float]:
    if name in c.REVENUE_COLUMNS:
        column = c.MARKET_MONEY.column(c.REVENUE)
    elif name in c.MINUTES_COLUMNS:
        column = c.MARKET_TIME.column(c.MINUTES)
    else:
        column = c.MARKET_FILE.column(name)
    low = -np.inf if column.min_value is None else column.min_value
    return low, np.inf if column.max_value is None else column.max_value


def shifted(values: np.ndarray, name: str, shift: float) -> np.ndarray:
    """values + shift within the contract's range; integer columns stay integers."""
    moved = np.clip(values + shift, *_range(name))
    return np.round(moved).astype(np.int64) if values.dtype.kind == "i" else np.round(moved, 2)


def _scaled(effect: float, base: np.ndarray, name: str) -> float:
    """k such that the mean of k * base is `effect` (k in [0, 1]), else a DataError."""
    expected = float(base.mean()) if len(base) else 0.0
    if effect > expected:
        raise DataError(f"{name} {effect}: above what these customers can change, {expected:.3f}")
    return effect / expected if effect else 0.0


def next_period(
    n_customers: int,
    seed: int,
    campaign: pd.DataFrame,
    effect: float,
    drift: dict[str, float],
    response: str = "uniform",
    harmful: tuple[str, float] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The next period's four files (as generate() gives them) and the truth behind them."""
    check_size(n_customers)
    if not 0 <= effect < 1:
        raise DataError(f"--effect {effect}: must be in [0, 1)")
    if response not in RESPONSES:
        raise DataError(f"--response {response}: expected one of {RESPONSES}")
    rng = np.random.default_rng(seed)
    now = inject_defects(customers(n_customers, rng), rng)  # this period, as its files show it
    unknown = sorted(set(campaign[c.ID]) - set(now[c.ID]))
    if unknown:
        raise DataError(
            f"campaign table: ids {unknown[:5]} are not customers of the sample with "
            f"{n_customers} customers and seed {seed} (--n-customers, --seed)"
        )
    by_id = campaign.set_index(c.ID)
    groups = now[c.ID].map(by_id[GROUP]).to_numpy()
    treated, control = groups == TREATMENT, groups == CONTROL
    base = PERSISTENCE * now[c.LABEL].to_numpy() + (1 - PERSISTENCE) * DECLINED_SHARE
    harmed = np.zeros(n_customers, dtype=bool)
    if harmful is not None:
        offers = now[c.ID].map(by_id.get(OFFER_CODES, pd.Series(dtype=object))).fillna("")
        harmed = treated & (offers.astype(str).str.split(";").str[0] == harmful[0]).to_numpy()
        if not harmed.any():
            raise DataError(f"--harmful {harmful[0]}: no treated customer has this first offer")
    helped = treated & ~harmed
    if response == "promo":
        helped &= now[PROMO].to_numpy() >= PROMO_SENSITIVE
    # the prevented share of declines among the helped, lowering the mean of the treated by effect
    helped_total = base[helped].sum() / max(int((treated & ~harmed).sum()), 1)
    prevented = effect / helped_total if effect else 0.0
    if prevented > 1:
        raise DataError(
            f"--effect {effect}: above the treated customers' decline rate the offers can "
            f"change, {helped_total:.3f}"
        )
    rise = _scaled(harmful[1], 1 - base[harmed], "--harmful") if harmful else 0.0
    expected = float(base[treated].mean()) if treated.any() else 0.0
    probability = np.where(helped, base * (1 - prevented), base)
    probability = np.where(harmed, base + rise * (1 - base), probability)
    rng = np.random.default_rng([seed, STREAM])
    declined = rng.random(n_customers) < probability
    visible = declined & (rng.random(n_customers) >= HIDDEN_SHARE)
    frame = pd.DataFrame({c.ID: now[c.ID], c.LABEL: declined.astype(int)})
    frame = frame.assign(**numeric_features(visible, rng))
    values, shares = MARKETING_CURRENT
    frame["marketing_current"] = rng.choice(np.array(values), n_customers, p=shares)
    frame[list(KEPT)] = now[list(KEPT)]
    frame["tenure_days"] += PERIOD_DAYS
    for name, shift in drift.items():
        frame[name] = shifted(frame[name].to_numpy(), name, shift)
    truth = {
        "n_customers": n_customers,
        "seed": seed,
        "effect": effect,
        "persistence": PERSISTENCE,
        "treated": int(treated.sum()),
        "control": int(control.sum()),
        "response": response,
        "prevented_share_of_declines": prevented,
        "responding": int(helped.sum()),
        "harmful": {"offer": harmful[0], "rise": harmful[1], "treated": int(harmed.sum())}
        if harmful
        else None,
        "treated_decline_rate_without_offer": expected,
        "control_decline_rate": float(base[control].mean()) if control.any() else None,
        "drift": drift,
    }
    return store_files(frame, rng), truth
