"""Clean generated customers for stage `sample`: distributions calibrated on the store's data.

Every number here is an aggregate statistic of the store's 1,300 customers (class shares, means,
standard deviations, ranges, category counts); no rows or per-customer values. Features are drawn
per class (declined / unchanged), so they depend on the target as in the store's data. A share of
declined customers shows no sign of it (they are drawn like the unchanged): that overlap is what
keeps the store's data from being separable (ROC-AUC ~0.91) and it also produces the correlations
seen among declined customers (pages, minutes, marketing, revenue move together).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from oneclick.data import contract as c

# Sample ids start far above the store's id range (the data dictionary gives it), so no committed
# output of the sample (reports, metrics, plots) can be taken for, or joined to, a real customer.
FIRST_ID = 900001
DECLINED_SHARE = 498 / 1300
HIDDEN_SHARE = 0.18  # declined customers who look unchanged; calibrates ROC-AUC to the store's
REV_CUR, REV_PREV, REV_BEFORE = c.REVENUE_COLUMNS
MIN_CUR, MIN_PREV = c.MINUTES_COLUMNS

# name: (low, high, step, (mean, sd) if unchanged, (mean, sd) if declined); int step: int column
NUMERIC = {
    "marketing_6m": (0.9, 6.6, 0.1, (4.57, 0.85), (3.74, 1.05)),
    "categories_per_visit": (1, 6, 1, (3.67, 1.28), (2.63, 1.23)),
    "unpaid_items_quarter": (0, 10, 1, (2.29, 1.5), (3.72, 2.29)),
    "service_errors": (0, 9, 1, (4.34, 1.98), (3.94, 1.89)),
    "pages_per_visit": (1, 20, 1, (9.8, 3.38), (5.57, 3.45)),
    REV_CUR: (2758.7, 7799.4, 0.1, (5198, 793), (5304, 895)),
    REV_PREV: (2890, 6870, 0.5, (4933, 625), (4972, 809)),
    REV_BEFORE: (4098, 5663, 1.0, (4933, 320), (4678, 291)),
    MIN_CUR: (4, 23, 1, (14.6, 4.06), (10.94, 3.42)),
    MIN_PREV: (5, 23, 1, (15.03, 3.35), (10.95, 3.47)),
}
SKEWED_WHEN_DECLINED = {"pages_per_visit"}  # lognormal: declined bunch at 2-5 pages, long tail
REVENUE_CORR = np.array([[1, 0.84, 0.15], [0.84, 1, 0.4], [0.15, 0.4, 1]])  # in REVENUE_COLUMNS
# Promo share is bimodal: 0.11-0.47, and a promo-hunter mode 0.89-0.99 commoner among declined.
PROMO = "promo_share"
PROMO_LOW = ((0.207, 0.064), (0.273, 0.075), 0.11, 0.47)  # (mean, sd) by class, range
PROMO_HIGH = ((0.041, 0.269), 0.89, 0.99)  # share of the high mode by class, range
MARKETING_CURRENT = ((3, 4, 5), (0.237, 0.515, 0.248))
TENURE = (110, 1079, 1.3)  # low, high, beta shape: flat with thinner ends
PROFIT = (4.0, 1.01, 0.86, 7.43)  # mean, sd, low, high; unrelated to the target
PREMIUM_SHARE = (0.257, 0.341)  # by class
ALLOW_SHARE = (0.695, 0.87)  # consent by service level: premium customers consent more often
CATEGORY_COUNTS = ((184, 149, 118, 132, 147, 72), (146, 102, 105, 52, 27, 66))  # c.CATEGORIES


def visible_moments(unchanged: tuple, declined: tuple, hidden: float) -> tuple[float, float]:
    """Mean and sd of the visibly declined such that, mixed with a `hidden` share drawn like the
    unchanged, the declined class has the store's mean and sd."""
    (m0, s0), (m1, s1) = unchanged, declined
    mean = (m1 - hidden * m0) / (1 - hidden)
    var = (s1**2 - hidden * s0**2 - hidden * (1 - hidden) * (mean - m0) ** 2) / (1 - hidden)
    return mean, float(np.sqrt(max(var, (s1 / 4) ** 2)))


def quantise(values: np.ndarray, low: float, high: float, step: float) -> np.ndarray:
    """Round to the store's granularity and range; an int step gives an int column."""
    values = np.clip(np.round(values / step) * step, low, high)
    return values.astype(np.int64) if isinstance(step, int) else np.round(values, 2)


def numeric_features(visible: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Numeric columns; `visible` marks the visibly declined, everyone else is drawn unchanged."""
    profile = visible.astype(int)
    z = rng.standard_normal((visible.size, len(NUMERIC) + 1))
    revenue = [list(NUMERIC).index(name) for name in c.REVENUE_COLUMNS]
    z[:, revenue] = z[:, revenue] @ np.linalg.cholesky(REVENUE_CORR).T
    out = {}
    for k, (name, (low, high, step, unchanged, declined)) in enumerate(NUMERIC.items()):
        moments = np.array([unchanged, visible_moments(unchanged, declined, HIDDEN_SHARE)])
        mean, sd = moments.T[:, profile]
        values = mean + sd * z[:, k]
        if name in SKEWED_WHEN_DECLINED:  # lognormal with the same mean and sd
            s2 = np.log1p((sd / mean) ** 2)
            values = np.where(visible, mean * np.exp(np.sqrt(s2) * z[:, k] - s2 / 2), values)
        out[name] = quantise(values, low, high, step)
    # Promo: the top quantiles of its normal become the high mode, the rest the low mode.
    low0, low1, low_min, low_max = PROMO_LOW
    (share0, share1), high_min, high_max = PROMO_HIGH
    mean, sd = np.array([low0, visible_moments(low0, low1, HIDDEN_SHARE)]).T[:, profile]
    share = np.where(visible, (share1 - HIDDEN_SHARE * share0) / (1 - HIDDEN_SHARE), share0)
    u, cut = ndtr(z[:, -1]), 1 - share
    low = np.clip(mean + sd * ndtri(np.minimum(u / cut, 0.999)), low_min, low_max)
    high = high_min + (high_max - high_min) * (u - cut) / share
    out[PROMO] = quantise(np.where(u < cut, low, high), 0, 1, 0.01)
    return out


def draw_categories(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """One category index per row; row i is drawn with probabilities shares[i] (summing to 1)."""
    above = rng.random(len(shares))[:, None] >= np.cumsum(shares, axis=1)
    return np.minimum(above.sum(axis=1), shares.shape[1] - 1)


def customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n clean customers, one row each, English names. Categorical columns hold codes: indices
    into contract.ORDINAL_FEATURES (service_type, allow_messages) or contract.CATEGORIES."""
    declined = np.zeros(n, dtype=bool)
    declined[rng.permutation(n)[: round(n * DECLINED_SHARE)]] = True
    visible = declined & (rng.random(n) >= HIDDEN_SHARE)
    cls = declined.astype(int)
    frame = pd.DataFrame({c.ID: FIRST_ID + np.arange(n, dtype=np.int64), c.LABEL: cls})
    frame = frame.assign(**numeric_features(visible, rng))
    premium = (rng.random(n) < np.take(PREMIUM_SHARE, cls)).astype(int)
    frame["service_type"] = premium
    frame["allow_messages"] = (rng.random(n) < np.take(ALLOW_SHARE, premium)).astype(int)
    counts = np.array(CATEGORY_COUNTS, dtype=float)
    frame["favourite_category"] = draw_categories(rng, (counts / counts.sum(1, keepdims=True))[cls])
    values, shares = MARKETING_CURRENT
    frame["marketing_current"] = rng.choice(np.array(values), n, p=shares)
    low, high, shape = TENURE
    frame["tenure_days"] = np.round(low + (high - low) * rng.beta(shape, shape, n)).astype(np.int64)
    mean, sd, least, most = PROFIT
    frame[c.PROFIT] = np.clip(np.round(rng.normal(mean, sd, n), 2), least, most)
    return frame
