"""The exploration arm: a small random share of the lower-risk customers gets an offer too.

The segment only ever tests offers on high-risk customers, so the campaign alone can never tell
whether lower-risk customers respond differently (the "retention futility" question). With
segment.exploration_share > 0, that share of the pool (customers outside the segment with
P(decline) below segment.threshold) gets their offers, drawn at random within blocks of similar
risk exactly as the control group is (oneclick/campaign/control.py, seeded by campaign.seed);
the rest of the pool is its comparison group. When the arm is off, the page still quotes what
one of REFERENCE_SHARE would cost and detect.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from oneclick.campaign import stats
from oneclick.campaign.control import CONTROL, assign_groups
from oneclick.data.contract import ID
from oneclick.segment.economics import COST, EFFECT
from oneclick.segment.selection import PROBABILITY

EXPLORATION, COMPARISON = "exploration", "exploration_control"  # values of the group column
REFERENCE_SHARE = 0.05  # quoted when the arm is off


def pool(table: pd.DataFrame, segment: pd.Series, threshold: float) -> pd.Series:
    """Customers the arm draws from: outside the segment, P(decline) below the threshold."""
    return ~segment.to_numpy() & (table[PROBABILITY] < threshold)


def draw(table: pd.DataFrame, share: float, seed: int) -> pd.Series:
    """The arm among `table`'s rows (the pool): round(share x n), balanced by risk."""
    groups = assign_groups(table[ID].to_numpy(), table[PROBABILITY].to_numpy(), share, seed)
    return pd.Series(groups == CONTROL, index=table.index)


def exploration_metrics(pool: pd.DataFrame, arm: pd.DataFrame, share: float) -> dict[str, Any]:
    """The `exploration` block of reports/segment.json: the pool (its rows' probability), the
    arm (priced rows, drawn at `share`, or at REFERENCE_SHARE when off), its expected cost, the
    drop of its decline rate the assumed effects imply and the smallest drop it detects against
    the rest of the pool (two-proportion power, oneclick/campaign/stats.py)."""
    n_pool, n_arm = len(pool), len(arm)
    p0 = float(pool[PROBABILITY].mean()) if n_pool else None
    mde = stats.min_detectable_drop(n_pool - n_arm, n_arm, p0) if p0 else None
    return {
        "on": share > 0,
        "share": share if share > 0 else REFERENCE_SHARE,
        "pool_size": n_pool,
        "size": n_arm,
        "probability_mean": p0,
        "expected_cost": float(arm[COST].sum()),
        "assumed_drop": float((arm[EFFECT] * arm[PROBABILITY]).mean()) if n_arm else None,
        "min_detectable_drop": mde,
    }
