"""Uplift targeting from the intervention log: rank customers by what the offer changes, and use
that ranking only when held-out campaigns show it beats ranking by risk.

- Learner: a T-learner (Künzel et al., PNAS 2019): one classifier of P(decline) fitted on the
  customers offered (the segment's treated and the exploration arm), one on those not (control
  and the arm's comparison group: the arm shows how lower-risk customers respond); a customer's
  uplift is the drop of P(decline) the offer brings (control model minus treated model), and
  the ranking score is uplift x profit (the profit the offer is expected to keep), against risk
  targeting's P(decline) x profit.
- Held out: the latest period when the log holds two or more (the models learn from earlier
  campaigns and are judged on the next one, as they would be used), else a fixed HOLDOUT share
  of customers chosen by a keyed hash of their id.
- Judged by the Qini curve on the held-out campaign: the profit kept by contacting the top share
  of customers by a score, measured as the treated customers' kept profit minus the control
  customers' scaled to the same number (Radcliffe 2007); the Qini area is its mean over the
  shares 10%, 20%, ..., 100% per held-out customer. Uplift minus risk, with a bootstrap 95%
  interval (customers resampled; the models are fixed).
- Used only when that interval is above zero; otherwise risk targeting stays, with the reason
  and, when the uplift ranking is ahead but not surely, roughly how many logged customers would
  make its advantage clear (the interval narrows as 1/sqrt(n)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from oneclick.campaign import stats
from oneclick.campaign.control import PROBABILITY, random_keys
from oneclick.campaign.log import COVARIATES, DECLINED, PERIOD, offered
from oneclick.core.stats import two_class_resamples
from oneclick.data.contract import ID, PROFIT

HOLDOUT = 0.3  # held-out share of customers when the log has one period
MIN_ARM = 10  # treated and control customers, each, to fit on and to judge on
FRACTIONS = np.linspace(0.1, 1.0, 10)
RESAMPLES = 200
SEED = 20261203
LEARNER = {"max_iter": 60, "max_leaf_nodes": 8, "min_samples_leaf": 40, "early_stopping": False}


def known_covariates(log: pd.DataFrame) -> list[str]:
    """The log's pre-campaign columns every logged customer has (P(decline) at least)."""
    return [c for c in COVARIATES if log[c].notna().all()]


def split(log: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training part, held-out part) of the log."""
    periods = sorted(log[PERIOD].astype(str).unique())
    if len(periods) > 1:
        held = log[PERIOD].astype(str) == periods[-1]
    else:
        held = random_keys(log[ID].to_numpy(), SEED) % np.uint64(1000) < np.uint64(HOLDOUT * 1000)
    return log[~held], log[held]


def fit_uplift(train: pd.DataFrame, columns: list[str]) -> Any:
    """The T-learner: a function giving each customer's drop of P(decline) under the offer."""
    treated = offered(train)
    x, y = train[columns].to_numpy(float), train[DECLINED].to_numpy(int)
    models = [
        HistGradientBoostingClassifier(**LEARNER, random_state=SEED).fit(x[arm], y[arm])
        for arm in (~treated, treated)
    ]

    def drop(frame: pd.DataFrame) -> np.ndarray:
        values = frame[columns].to_numpy(float)
        without, with_offer = (m.predict_proba(values)[:, 1] for m in models)
        return without - with_offer

    return drop


def qini_area(
    order: np.ndarray, treated: np.ndarray, kept: np.ndarray, weights: np.ndarray
) -> float:
    """Qini area per customer of a ranking (order: customers best first; weights: how many times
    each customer counts, 1 or a bootstrap count)."""
    w, t, v = weights[order], treated[order], kept[order]
    n_t, n_c = np.cumsum(w * t), np.cumsum(w * ~t)
    v_t, v_c = np.cumsum(w * t * v), np.cumsum(w * ~t * v)
    total = n_t[-1] + n_c[-1]
    at = np.minimum(np.searchsorted(n_t + n_c, FRACTIONS * total), len(w) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(n_c[at] > 0, v_t[at] - v_c[at] * n_t[at] / n_c[at], 0.0)
    return float(gain.mean() / total)


def arms(frame: pd.DataFrame) -> tuple[int, int]:
    treated = int(offered(frame).sum())
    return treated, len(frame) - treated


def evaluate(log: pd.DataFrame, resamples: int = RESAMPLES) -> dict[str, Any]:
    """Uplift vs risk targeting on the log's held-out campaign, and whether to use uplift."""
    train, test = split(log)
    out: dict[str, Any] = {"logged": len(log), "periods": int(log[PERIOD].nunique()),
                           "train": len(train), "held_out": len(test), "min_arm": MIN_ARM,
                           "use_uplift": False, "reason": "too_little_data",
                           "customers_needed": None}  # fmt: skip
    out |= dict.fromkeys(("qini_uplift", "qini_risk", "difference", "ci_low", "ci_high"))
    if min(*arms(train), *arms(test)) < MIN_ARM:
        return out
    with threadpool_limits(1):  # a few thousand rows: threads cost more than they save
        drop = fit_uplift(train, [*known_covariates(log), PROFIT])(test)
    treated = offered(test)
    profit = test[PROFIT].to_numpy(float)
    kept = profit * (1 - test[DECLINED].to_numpy(float))
    scores = (drop * profit, test[PROBABILITY].to_numpy(float) * profit)
    orders = [np.argsort(-score, kind="mergesort") for score in scores]

    def areas(weights: np.ndarray) -> tuple[float, float]:
        uplift_area, risk_area = (qini_area(order, treated, kept, weights) for order in orders)
        return uplift_area, risk_area

    uplift, risk = areas(np.ones(len(test)))
    differences = [
        np.subtract(*areas(np.bincount(rows, minlength=len(test))))
        for rows in two_class_resamples(treated.astype(int), resamples, SEED)
    ]
    low, high = np.percentile(differences, [2.5, 97.5])
    out |= {"qini_uplift": uplift, "qini_risk": risk, "difference": uplift - risk,
            "ci_low": float(low), "ci_high": float(high)}  # fmt: skip
    out["use_uplift"] = bool(low > 0)
    if out["use_uplift"]:
        out["reason"] = "uplift_better"
    elif uplift - risk <= 0:
        out["reason"] = "uplift_not_better"
    else:
        out["reason"] = "uplift_not_sure"
        spread = np.std(differences, ddof=1)
        z = stats.z_value(1 - stats.ALPHA / 2)
        out["customers_needed"] = int(np.ceil(len(log) * (z * spread / (uplift - risk)) ** 2))
    return out
