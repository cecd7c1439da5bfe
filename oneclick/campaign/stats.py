"""Two-proportion statistics of a campaign: the 95% interval of a difference and its power.

Interval: Newcombe's hybrid score interval (his method 10) for the difference of two
proportions, built from each group's Wilson interval. Unlike the Wald interval it stays inside
[-1, 1] and keeps close to 95% coverage for groups of a few dozen customers with decline rates
near 0 or 1, which is where a retention segment sits (mean P(decline) ~0.9).

Power: the closed form on Cohen's arcsine effect size h = 2 asin(sqrt p0) - 2 asin(sqrt p1),
h = (z_{1-alpha/2} + z_power) * sqrt(1/n_control + 1/n_treatment) (a two-sided test of two
independent proportions; statsmodels' NormalIndPower with proportion_effectsize gives the same
numbers). A closed form, so no statsmodels dependency.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

ALPHA = 0.05  # two-sided
POWER = 0.8


def z_value(confidence: float) -> float:
    """The standard normal quantile of `confidence` (0.975 -> 1.96)."""
    return float(ndtri(confidence))


def wilson(successes: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion; (nan, nan) for an empty group."""
    if n <= 0:
        return math.nan, math.nan
    z, p = z_value(1 - alpha / 2), successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, alpha: float = ALPHA
) -> tuple[float, float, float]:
    """(p1 - p2, lower, upper): Newcombe's hybrid score interval of a difference of proportions."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, alpha), wilson(k2, n2, alpha)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, lower, upper


def _h_needed(alpha: float, power: float) -> float:
    return z_value(1 - alpha / 2) + z_value(power)


def min_detectable_drop(
    n_control: float, n_treatment: float, p0: float, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest drop of a decline rate p0 (control) that the test detects with `power`.

    None when a group is empty or when even a drop to 0 would not be detected.
    """
    if n_control <= 0 or n_treatment <= 0 or not 0 < p0 <= 1:
        return None
    h = _h_needed(alpha, power) * math.sqrt(1 / n_control + 1 / n_treatment)
    angle = math.asin(math.sqrt(p0)) - h / 2
    if angle < 0:
        return None
    return p0 - math.sin(angle) ** 2


def size_needed(
    effect: float,
    control_share: float,
    p0: float | np.ndarray,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float | np.ndarray:
    """Customers (both groups) needed to detect a drop of `effect` from the decline rate p0,
    with control_share of them in the control group (continuous; inf when not attainable).
    Works elementwise on an array of p0."""
    p0 = np.asarray(p0, dtype=float)
    p1 = p0 - effect
    if not 0 < control_share < 1:
        allocation = math.inf  # one group empty: nothing is detectable
    else:
        allocation = 1 / control_share + 1 / (1 - control_share)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = 2 * np.arcsin(np.sqrt(p0)) - 2 * np.arcsin(np.sqrt(np.clip(p1, 0, 1)))
        n = _h_needed(alpha, power) ** 2 / h**2 * allocation
    n = np.where((p1 >= 0) & (h > 0), n, np.inf)
    return float(n) if n.ndim == 0 else n
