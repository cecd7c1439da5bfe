"""`oneclick outcomes`: what happened to last period's campaign, measured on the next period.

- effect: decline rate of the treatment group vs the control group among the campaign's
  customers found in the new period; the drop (control - treatment) with Newcombe's 95%
  interval (stats.py) and the profit it implies (drop x the treated customers' profit);
  "not measurable" when a group has fewer than MIN_GROUP customers found;
- model: last period's P(decline) against what happened, on customers who got no offer (an
  offer changes the outcome the model predicted): ROC-AUC, Brier, observed vs predicted by decile;
- adjusted: the same drop adjusted for the pre-campaign covariates (Lin 2013, adjusted.py:
  P(decline), and with --pre the campaign period's label and features), its interval and the
  variance reduction against the unadjusted estimate;
- by offer and by risk band, over every period of the intervention log: the drop, unadjusted
  and adjusted, "not measurable" below MIN_GROUP per group; an offer whose interval lies below
  zero is harmful (per offer the control group is all controls: the adjustment corrects for
  offers going to different customers);
- profit: the profit the drop implies vs the campaign's expected incremental profit, when its
  table has that column (the segment's economics);
- uplift: whether a T-learner fitted on the log ranks customers better than risk x profit on a
  held-out campaign (uplift.py);
- drift: PSI of every model feature, training part vs the new period (drift.py).
The new period's four files pass the pipeline's own cleaning contract, merge and feature spec;
with --log FILE --period P the campaign is appended to the intervention log (log.py) and the
breakdowns and uplift read every period logged.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from oneclick.campaign import adjusted, drift, stats, uplift
from oneclick.campaign import log as intervention_log
from oneclick.campaign.control import CONTROL, GROUP, PROBABILITY, TREATMENT
from oneclick.campaign.log import (
    COST,
    COVARIATES,
    DECLINED,
    DECLINED_BEFORE,
    EXPECTED_GAIN,
    GROUPS,
    OFFER,
    offered,
)
from oneclick.campaign.report import render_outcomes
from oneclick.core import config, entry, errors, guard, paths, writers
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import ID, LABEL, PROFIT
from oneclick.data.merging import merge_tables
from oneclick.data.reading import read_raw
from oneclick.features.spec import load_spec, prepare_features

MIN_GROUP = 10  # found customers per group below which a decline rate is not worth a CI
CORE = (PROBABILITY, DECLINED_BEFORE)  # the covariates a small campaign is adjusted for
RISK_BANDS = (0.0, 0.5, 0.7, 0.9, 1.0)  # P(decline) bands of the breakdown (lower bound inclusive)
DECILES = 10
METRICS_FILE, REPORT_FILE = "outcomes.json", "outcomes.md"


def read_table(path: Path, columns: list[str], option: str) -> pd.DataFrame:
    """A CSV of the pipeline's (campaign or scores table) with the columns it must hold."""
    if not path.is_file():
        raise errors.DataError(f"{paths.shown(path)}: missing ({option})")
    try:
        frame = pd.read_csv(path, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise errors.DataError(
            f"{paths.shown(path)}: not a CSV table ({option}): {reason}"
        ) from None
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise errors.DataError(f"{path.name}: missing column(s) {missing}")
    repeated = frame[ID][frame[ID].duplicated()].tolist()
    if repeated:
        raise errors.DataError(f"{path.name}: column {ID}: repeated ids {repeated[:5]}")
    return frame


def read_campaign(path: Path) -> pd.DataFrame:
    campaign = read_table(path, [ID, GROUP, PROBABILITY, PROFIT], "--campaign")
    for column in (PROBABILITY, PROFIT):
        if not pd.api.types.is_numeric_dtype(campaign[column]):
            raise errors.DataError(f"{path.name}: column {column}: not numeric")
    unknown = sorted(set(campaign[GROUP]) - set(GROUPS))
    if unknown:
        raise errors.DataError(
            f"{path.name}: column {GROUP}: unknown value(s) {unknown[:5]}; expected one of "
            f"{', '.join(GROUPS)}"
        )
    return campaign


def group_figures(frame: pd.DataFrame, customers: int) -> dict[str, Any]:
    found, declined = len(frame), int(frame[LABEL].sum())
    return {
        "customers": customers,
        "found": found,
        "declined": declined,
        "decline_rate": declined / found if found else None,
        "probability_mean": float(frame[PROBABILITY].mean()) if found else None,
        "profit_total": float(frame[PROFIT].sum()),
    }


def effect(campaign: pd.DataFrame, outcome: pd.Series) -> dict[str, Any]:
    """The offers' effect; outcome: the new period's 0/1 decline label by id."""
    joined = campaign.join(outcome.rename(LABEL), on=ID, how="inner")
    groups = {
        g: group_figures(joined[joined[GROUP] == g], int((campaign[GROUP] == g).sum()))
        for g in (TREATMENT, CONTROL)
    }
    t, c = groups[TREATMENT], groups[CONTROL]
    out: dict[str, Any] = {**groups, "min_group": MIN_GROUP, "confidence": 1 - stats.ALPHA}
    measurable = min(t["found"], c["found"]) >= MIN_GROUP
    keys = ("drop", "drop_ci_low", "drop_ci_high")
    out |= {"measurable": measurable, "significant": False, **dict.fromkeys(keys)}
    out |= {f"implied_profit{s}": None for s in ("", "_ci_low", "_ci_high")}
    if measurable:
        drop, low, high = stats.newcombe_difference(
            c["declined"], c["found"], t["declined"], t["found"]
        )
        out |= {"drop": drop, "drop_ci_low": low, "drop_ci_high": high}
        out["significant"] = bool(low > 0 or high < 0)
        # each decline the offers prevented keeps that customer's profit
        for suffix, value in (("", drop), ("_ci_low", low), ("_ci_high", high)):
            out[f"implied_profit{suffix}"] = value * t["profit_total"]
    return out


def _drop(adjustment: dict[str, Any] | None) -> dict[str, Any]:
    """Lin's treated-minus-control difference as the drop (control minus treated)."""
    keys = ("adjusted_drop", "adjusted_ci_low", "adjusted_ci_high", "variance_reduction")
    if adjustment is None:
        return dict.fromkeys(keys)
    a = adjustment
    return dict(zip(keys, (-a["adjusted"], -a["adjusted_ci_high"], -a["adjusted_ci_low"],
                           a["variance_reduction"]), strict=True))  # fmt: skip


def adjusted_effect(rows: pd.DataFrame) -> dict[str, Any]:
    """The drop adjusted for the covariates every row has (intervention log rows); when the
    groups are too small for all of them, for the CORE ones (P(decline), past activity) only."""
    known = [c for c in COVARIATES if rows[c].notna().all()]
    y, treated = rows[DECLINED].to_numpy(), offered(rows)
    for covariates in (known, [c for c in known if c in CORE]):
        fit = adjusted.lin_effect(y, treated, rows[covariates].to_numpy())
        if fit is not None:
            return {"covariates": covariates, **_drop(fit)}
    return {"covariates": [], **_drop(None)}


def subgroup_effect(rows: pd.DataFrame) -> dict[str, Any]:
    """Unadjusted (Newcombe) and adjusted drop of one subgroup of the log; harmful when the
    adjusted interval (the unadjusted one without enough customers for it) is below zero."""
    given = offered(rows)
    t, c = rows[DECLINED][given], rows[DECLINED][~given]
    out: dict[str, Any] = {"treatment": len(t), "control": len(c)}
    out["measurable"] = min(len(t), len(c)) >= MIN_GROUP
    keys = ("drop", "drop_ci_low", "drop_ci_high")
    out |= dict.fromkeys(keys) | _drop(None) | {"harmful": False}
    if not out["measurable"]:
        return out
    figures = stats.newcombe_difference(int(c.sum()), len(c), int(t.sum()), len(t))
    out |= dict(zip(keys, figures, strict=True)) | adjusted_effect(rows)
    out.pop("covariates")
    upper = out["adjusted_ci_high"] if out["adjusted_drop"] is not None else out["drop_ci_high"]
    out["harmful"] = bool(upper < 0)
    return out


def breakdowns(log: pd.DataFrame) -> dict[str, Any]:
    """The drop by offer (its customers vs everyone not offered) and by risk band, over the whole
    log (the exploration arm, when drawn, is what fills the lower bands)."""
    control = log[~offered(log)]
    offers = sorted(set(log.loc[offered(log), OFFER]) - {""})
    by_offer = {o: subgroup_effect(pd.concat([log[log[OFFER] == o], control])) for o in offers}
    bands = {}
    for low, high in itertools.pairwise(RISK_BANDS):
        inside = (log[PROBABILITY] >= low) & ((log[PROBABILITY] < high) | (high == 1.0))
        bands[f"{low:g}-{high:g}"] = subgroup_effect(log[inside])
    return {"periods": sorted(log["period"].astype(str).unique()), "min_group": MIN_GROUP,
            "by_offer": by_offer, "by_risk_band": bands}  # fmt: skip


def profit_check(
    campaign: pd.DataFrame, e: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Realised incremental profit (the drop, adjusted when it can be, x the treated customers'
    monthly profit x the segment's horizon) against the expected one, and net of the offers'
    cost, when the campaign table has the segment's economics columns (else those are null)."""
    treated = campaign[campaign[GROUP] == TREATMENT]
    economics = (params.get("segment") or {}).get("economics") or {}
    horizon = economics.get("horizon_months", 1)
    drop = e["adjusted"]["adjusted_drop"]
    drop = e["drop"] if drop is None else drop
    gain = drop * e[TREATMENT]["profit_total"] * horizon if drop is not None else None
    expected, cost = (
        float(treated[c].sum()) if c in campaign else None for c in (EXPECTED_GAIN, COST)
    )
    return {
        "horizon_months": horizon,
        "adjusted": e["adjusted"]["adjusted_drop"] is not None,
        "realised_gain": gain,
        "expected_gain": expected,
        "cost": cost,
        "realised_net": gain - cost if gain is not None and cost is not None else None,
        "expected_net": expected - cost if expected is not None and cost is not None else None,
    }


def calibration(probability: np.ndarray, label: np.ndarray, ids: np.ndarray) -> list[dict]:
    """Observed vs predicted decline rate in DECILES equal-count groups of predicted risk."""
    order = np.lexsort((ids, probability))
    rows = []
    for k, part in enumerate(np.array_split(order, min(DECILES, len(order))), start=1):
        rows.append(
            {
                "decile": k,
                "customers": len(part),
                "predicted": float(probability[part].mean()),
                "observed": float(label[part].mean()),
            }
        )
    return rows


def model_quality(scores: pd.DataFrame, outcome: pd.Series) -> dict[str, Any]:
    """Last period's probabilities (untreated customers) against the new period's outcome."""
    joined = scores.join(outcome.rename(LABEL), on=ID, how="inner")
    p, y = joined[PROBABILITY].to_numpy(float), joined[LABEL].to_numpy(int)
    both = len(np.unique(y)) == 2
    return {
        "customers": len(joined),
        "declined": int(y.sum()),
        "probability_mean": float(p.mean()) if len(p) else None,
        "decline_rate": float(y.mean()) if len(y) else None,
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p, labels=[0, 1])) if len(y) else None,
        "calibration": calibration(p, y, joined[ID].to_numpy()) if len(y) else [],
    }


def untreated_scores(campaign: pd.DataFrame, scores_path: Path | None) -> tuple[pd.DataFrame, str]:
    """Whose probabilities judge the model: every scored customer without an offer, or, with
    no scores file, the control group; and which of the two it is."""
    treated = set(campaign.loc[offered(campaign), ID])
    if scores_path is None:
        return campaign.loc[campaign[GROUP] == CONTROL, [ID, PROBABILITY]], CONTROL
    scores = read_table(scores_path, [ID, PROBABILITY], "--scores")
    return scores.loc[~scores[ID].isin(treated), [ID, PROBABILITY]], "untreated"


def read_pre(pre_dir: Path | None, params: dict[str, Any]) -> pd.DataFrame | None:
    """The campaign period's customers (merged, by id), through the cleaning contract."""
    if pre_dir is None:
        return None
    tables, _ = clean_tables(read_raw(pre_dir), params["clean"])
    return merge_tables(tables)


def analyse(
    campaign_path: Path,
    input_dir: Path,
    scores_path: Path | None,
    spec: dict[str, Any],
    pre_dir: Path | None = None,
    log: pd.DataFrame | None = None,
    period: str = "",
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The outcomes metrics (METRICS_FILE) of a campaign table and the next period's files, and
    the intervention log with this campaign appended (log: the earlier periods, if any)."""
    params = config.load_params()
    campaign = read_campaign(campaign_path)
    untreated, population = untreated_scores(campaign, scores_path)
    pre = read_pre(pre_dir, params)
    tables, quality = clean_tables(read_raw(input_dir), params["clean"], require_target=True)
    merged = merge_tables(tables)
    outcome = merged[LABEL]
    entry.log.info("outcomes: %d customers in the new period", len(merged))
    rows = intervention_log.campaign_rows(campaign, outcome, pre, period, params)
    logged = intervention_log.appended(log, rows) if log is not None else rows
    measured = effect(campaign, outcome)
    measured["adjusted"] = adjusted_effect(rows[rows[GROUP].isin([TREATMENT, CONTROL])])
    metrics = {
        "new_period": {
            "customers": len(merged),
            "removed_by_cleaning": len(quality["removed_customers"]["items"]),
        },
        "effect": measured,
        "profit": profit_check(campaign, measured, params),
        "breakdown": breakdowns(logged),
        "uplift": uplift.evaluate(logged),
        "model": {"population": population, **model_quality(untreated, outcome)},
        "drift": drift.training_drift(prepare_features(merged, spec), spec),
    }
    return metrics, logged


def outcomes(
    campaign_path: Path,
    input_dir: Path,
    scores_path: Path | None,
    output_dir: Path,
    pre_dir: Path | None = None,
    log_path: Path | None = None,
    period: str | None = None,
) -> dict[str, Any]:
    """Analyse, then write METRICS_FILE and the Russian REPORT_FILE (rendered from the rounded
    metrics, so every figure in it is one of them) to output_dir, and the intervention log with
    this campaign appended (log_path and period go together); returns the metrics."""
    guard.check_output(output_dir, "--output-dir", folder=True)  # before anything is read
    for name in (METRICS_FILE, REPORT_FILE):
        guard.check_output(output_dir / name, "--output-dir")
    if (log_path is None) != (period is None):
        raise errors.DataError("--log and --period go together: the log records each period")
    if log_path is not None:
        guard.check_output(log_path, "--log")
    errors.require(paths.TRAIN_FILE)
    earlier = None
    if log_path is not None:
        earlier = intervention_log.read_log(log_path)
        intervention_log.check_new_period(earlier, period or "")  # before the files are read
    metrics, logged = analyse(
        campaign_path, input_dir, scores_path, load_spec(), pre_dir, earlier, period or ""
    )
    metrics = writers.rounded(metrics)
    with writers.together():
        writers.write_json(metrics, output_dir / METRICS_FILE)
        writers.write_text(render_outcomes(metrics), output_dir / REPORT_FILE)
        if log_path is not None:
            intervention_log.write_log(logged, log_path)
    entry.log.info("outcomes: %s, %s", output_dir / METRICS_FILE, output_dir / REPORT_FILE)
    return metrics
