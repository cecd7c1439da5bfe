"""`oneclick outcomes`: what happened to last period's campaign, measured on the next period.

- effect: decline rate of the treatment group vs the control group among the campaign's
  customers found in the new period; the drop (control - treatment) with Newcombe's 95%
  interval (stats.py) and the profit it implies (drop x the treated customers' profit);
  "not measurable" when a group has fewer than MIN_GROUP customers found;
- model: last period's P(decline) against what happened, on customers who got no offer (an
  offer changes the outcome the model predicted): ROC-AUC, Brier, observed vs predicted by decile;
- drift: PSI of every model feature, training part vs the new period (drift.py).
The new period's four files pass the pipeline's own cleaning contract, merge and feature spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from oneclick.campaign import drift, stats
from oneclick.campaign.control import CONTROL, GROUP, PROBABILITY, TREATMENT
from oneclick.campaign.report import render_outcomes
from oneclick.core import config, entry, errors, guard, paths, writers
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import ID, LABEL, PROFIT
from oneclick.data.merging import merge_tables
from oneclick.data.reading import read_raw
from oneclick.features.spec import load_spec, prepare_features

MIN_GROUP = 10  # found customers per group below which a decline rate is not worth a CI
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
    unknown = sorted(set(campaign[GROUP]) - {TREATMENT, CONTROL})
    if unknown:
        raise errors.DataError(
            f"{path.name}: column {GROUP}: unknown value(s) {unknown[:5]}; expected "
            f"{TREATMENT} or {CONTROL}"
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
    treated = set(campaign.loc[campaign[GROUP] == TREATMENT, ID])
    if scores_path is None:
        return campaign.loc[campaign[GROUP] == CONTROL, [ID, PROBABILITY]], CONTROL
    scores = read_table(scores_path, [ID, PROBABILITY], "--scores")
    return scores.loc[~scores[ID].isin(treated), [ID, PROBABILITY]], "untreated"


def analyse(
    campaign_path: Path, input_dir: Path, scores_path: Path | None, spec: dict[str, Any]
) -> dict[str, Any]:
    """The outcomes metrics (METRICS_FILE) of a campaign table and the next period's files."""
    params = config.load_params()
    campaign = read_campaign(campaign_path)
    untreated, population = untreated_scores(campaign, scores_path)
    tables, quality = clean_tables(read_raw(input_dir), params["clean"], require_target=True)
    merged = merge_tables(tables)
    outcome = merged[LABEL]
    entry.log.info("outcomes: %d customers in the new period", len(merged))
    return {
        "new_period": {
            "customers": len(merged),
            "removed_by_cleaning": len(quality["removed_customers"]["items"]),
        },
        "effect": effect(campaign, outcome),
        "model": {"population": population, **model_quality(untreated, outcome)},
        "drift": drift.training_drift(prepare_features(merged, spec), spec),
    }


def outcomes(
    campaign_path: Path, input_dir: Path, scores_path: Path | None, output_dir: Path
) -> dict[str, Any]:
    """Analyse, then write METRICS_FILE and the Russian REPORT_FILE (rendered from the rounded
    metrics, so every figure in it is one of them) to output_dir; returns the metrics."""
    guard.check_output(output_dir, "--output-dir", folder=True)  # before anything is read
    for name in (METRICS_FILE, REPORT_FILE):
        guard.check_output(output_dir / name, "--output-dir")
    errors.require(paths.TRAIN_FILE)
    metrics = writers.rounded(analyse(campaign_path, input_dir, scores_path, load_spec()))
    with writers.together():
        writers.write_json(metrics, output_dir / METRICS_FILE)
        writers.write_text(render_outcomes(metrics), output_dir / REPORT_FILE)
    entry.log.info("outcomes: %s, %s", output_dir / METRICS_FILE, output_dir / REPORT_FILE)
    return metrics
