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
- behaviour (every numeric feature but tenure) is drawn afresh for the new activity, from the
  same class distributions as the sample; who the customer is (service, consent, favourite
  category, profit) stays; tenure grows by PERIOD_DAYS;
- drift: FEATURE=SHIFT adds SHIFT (the feature's own units) to every customer, within the
  contract's range.
Only the store's format defects (misspellings) are written: a zero-revenue month or a copied
customer would remove or overwrite customers whose outcome the truth fixes.
"""

from __future__ import annotations

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
KEPT = ("tenure_days", "service_type", "allow_messages", "favourite_category", c.PROFIT)


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


def read_campaign(path: Path) -> pd.DataFrame:
    """id and group of the campaign table (data/segment/customers.csv)."""
    if not path.is_file():
        raise DataError(f"{shown(path)}: missing (the campaign table, --campaign)")
    try:
        campaign = pd.read_csv(path, usecols=lambda name: name in (c.ID, GROUP))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise DataError(f"{shown(path)}: not a CSV table (--campaign): {reason}") from None
    if set(campaign.columns) != {c.ID, GROUP}:
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


def next_period(
    n_customers: int, seed: int, campaign: pd.DataFrame, effect: float, drift: dict[str, float]
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The next period's four files (as generate() gives them) and the truth behind them."""
    check_size(n_customers)
    if not 0 <= effect < 1:
        raise DataError(f"--effect {effect}: must be in [0, 1)")
    rng = np.random.default_rng(seed)
    now = inject_defects(customers(n_customers, rng), rng)  # this period, as its files show it
    unknown = sorted(set(campaign[c.ID]) - set(now[c.ID]))
    if unknown:
        raise DataError(
            f"campaign table: ids {unknown[:5]} are not customers of the sample with "
            f"{n_customers} customers and seed {seed} (--n-customers, --seed)"
        )
    groups = now[c.ID].map(campaign.set_index(c.ID)[GROUP]).to_numpy()
    treated, control = groups == TREATMENT, groups == CONTROL
    base = PERSISTENCE * now[c.LABEL].to_numpy() + (1 - PERSISTENCE) * DECLINED_SHARE
    expected = float(base[treated].mean()) if treated.any() else 0.0
    if effect > expected:
        raise DataError(f"--effect {effect}: above the treated customers' decline rate {expected}")
    prevented = effect / expected if effect else 0.0
    rng = np.random.default_rng([seed, STREAM])
    declined = rng.random(n_customers) < base * np.where(treated, 1 - prevented, 1)
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
        "prevented_share_of_declines": prevented,
        "treated_decline_rate_without_offer": expected,
        "control_decline_rate": float(base[control].mean()) if control.any() else None,
        "drift": drift,
    }
    return store_files(frame, rng), truth
