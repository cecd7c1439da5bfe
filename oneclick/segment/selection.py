"""The `segment` stage's work: the valuable customers at risk, why they slip, what to offer.

Segment = P(declined) >= threshold (honest probabilities: held out for every customer)
and profit >= its profit_quantile over all scored customers (and the optional extra condition),
ranked by expected profit at risk = P(declined) x profit. Decline drivers come from SHAP, offers
from the rule table (offers.py); metrics in report.py, texts in markdown.py, page.py, plots.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneclick.core import errors, paths
from oneclick.data.contract import FEATURES, ID, LABEL, PROFIT
from oneclick.segment import report as report
from oneclick.segment.offers import assign_offers, decline_order, parse_offers, render_bulk

PROBABILITY, AT_RISK = "probability", "expected_profit_at_risk"
RULES = ("threshold", "profit_quantile", "min_promo_share")  # params.yaml segment.*


def _require(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise errors.DataError(f"{name}: missing column(s) {missing}")


def customer_table(scores: pd.DataFrame, merged: pd.DataFrame) -> pd.DataFrame:
    """Scored customers with their merged columns and expected profit at risk, by id."""
    _require(scores, "scores.csv", [ID, PROBABILITY])
    _require(merged, "customers.csv", [ID, PROFIT, *FEATURES])
    for name, frame in (("scores.csv", scores), ("customers.csv", merged)):
        repeated = frame[ID][frame[ID].duplicated()].tolist()
        if repeated:
            raise errors.DataError(f"{name}: column {ID}: repeated ids {repeated[:5]}")
    unknown = sorted(set(scores[ID]) - set(merged[ID]))
    if unknown:
        raise errors.DataError(f"customers.csv: column {ID}: scored ids missing {unknown[:5]}")
    table = scores[[ID, PROBABILITY]].merge(merged.drop(columns=[PROBABILITY], errors="ignore"))
    table[AT_RISK] = table[PROBABILITY] * table[PROFIT]
    return table.sort_values(ID, kind="mergesort").reset_index(drop=True)


def select(table: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.Series, dict[str, Any]]:
    """Who may enter the segment (economics.choose picks among them) and the rules with the
    profit cut they imply (None when profit_quantile is off)."""
    quantile = params["profit_quantile"]
    cut = None if quantile is None else float(table[PROFIT].quantile(quantile))
    mask = table[PROBABILITY] >= params["threshold"]
    if cut is not None:
        mask &= table[PROFIT] >= cut
    if params["min_promo_share"] is not None:
        mask &= table["promo_share"] >= params["min_promo_share"]
    if mask.any() and not table.loc[mask, PROFIT].gt(0).any():
        raise errors.DataError(
            f"{paths.MERGED_FILE.name}: column {PROFIT}: the {int(mask.sum())} customers "
            "selected all have profit 0: a segment worth nothing (check the profit data)"
        )
    rules = {key: params[key] for key in RULES}
    return mask, {**rules, "profit_cut": cut}


def not_selected(table: pd.DataFrame, rules: dict[str, Any]) -> dict[str, int]:
    """Customers failing each selection rule (one customer may fail several)."""
    out = {"probability_below_threshold": int((table[PROBABILITY] < rules["threshold"]).sum())}
    if rules["profit_cut"] is not None:
        out["profit_below_cut"] = int((table[PROFIT] < rules["profit_cut"]).sum())
    if rules["min_promo_share"] is not None:
        low = table["promo_share"] < rules["min_promo_share"]
        out["promo_share_below_minimum"] = int(low.sum())
    return out


def removed_by_reason(quality: dict[str, Any]) -> dict[str, int]:
    """Customers the clean stage dropped, by reason, from metrics/data_quality.json's
    `removed_<reason>` counts (reasons with nobody left out are not listed)."""
    prefix = "removed_"
    return {
        key.removeprefix(prefix): n
        for key, n in sorted(quality.items())
        if key.startswith(prefix) and n
    }


def segment_customers(
    table: pd.DataFrame,
    mask: pd.Series,
    shap: pd.DataFrame,
    values: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Segment rows by expected profit at risk: top decline drivers (value, SHAP) and offers.

    Vectorised over customers (offers.decline_order, offers.assign_offers).
    """
    offers, fallback = parse_offers(
        params["offers"], params["fallback_offer"], set(table.columns), params["non_actionable"]
    )
    chosen = table[mask].sort_values([AT_RISK, ID], ascending=[False, True], kind="mergesort")
    chosen = chosen.reset_index(drop=True)
    for path, frame in ((paths.SHAP_VALUES_FILE, shap), (paths.SHAP_FEATURES_FILE, values)):
        missing = sorted(set(chosen[ID]) - set(frame.index))
        if missing:
            raise errors.DataError(f"{path.name}: column {ID}: segment ids missing {missing[:5]}")
    ids, features = chosen[ID].to_numpy(), list(shap.columns)
    numbers = shap.loc[ids].to_numpy(dtype="float64")
    order, count = decline_order(numbers)
    listed, n = params["drivers_listed"], len(chosen)
    out = {key: chosen[key] for key in (ID, PROBABILITY, PROFIT, AT_RISK)}
    for rank in range(1, listed + 1):
        has = count >= rank
        position = order[:, rank - 1] if rank <= len(features) else np.zeros(n, dtype=int)
        names, own, strength = (np.full(n, None, dtype=object) for _ in range(3))
        for k in np.unique(position[has]):
            hit = np.flatnonzero(has & (position == k))
            column = values[features[k]].to_numpy()[values.index.get_indexer(ids[hit])]
            names[hit], own[hit] = features[k], list(column)  # keeps numpy scalars, as .at
            strength[hit] = list(numbers[hit, k])
        out |= {
            f"driver_{rank}": names,
            f"driver_{rank}_value": own,
            f"driver_{rank}_shap": strength,
        }
    slots, source = assign_offers(
        order, count, features, chosen, offers, listed, params["max_offers"]
    )
    every = [*offers, fallback]  # slots hold positions in this list, -1 = empty
    texts = [render_bulk(o, chosen) if (slots == k).any() else [] for k, o in enumerate(every)]
    picked = [[k for k in slot if k >= 0] for slot in slots.tolist()]
    out["offer_codes"] = [";".join(every[k].code for k in found) for found in picked]
    out["offers"] = [" | ".join(texts[k][i] for k in found) for i, found in enumerate(picked)]
    out["offer_source"] = source
    if not n:  # no rows to infer from: object columns, as pd.DataFrame([], columns=...)
        return pd.DataFrame([], columns=list(out))
    return pd.DataFrame({key: _listed(value) for key, value in out.items()})


def _listed(column: Any) -> list:
    """Plain lists, so pandas infers each column's dtype as from a list of row dicts."""
    return column.tolist() if isinstance(column, pd.Series) else list(column)


def summary(frame: pd.DataFrame, total: int) -> dict[str, Any]:
    """Size, share and profit figures of a group of customers."""
    n = len(frame)
    mean = (lambda s: float(s.mean())) if n else (lambda s: None)
    return {
        "size": n,
        "share_of_customers": n / total if total else 0.0,
        "probability_mean": mean(frame[PROBABILITY]),
        "profit_total": float(frame[PROFIT].sum()),
        "profit_mean": mean(frame[PROFIT]),
        "expected_profit_at_risk_total": float(frame[AT_RISK].sum()),
        "expected_profit_at_risk_mean": mean(frame[AT_RISK]),
    }


def value_curve(table: pd.DataFrame, points: int) -> pd.DataFrame:
    """Share of all expected profit at risk reached by contacting the top share of customers."""
    ranked = table.sort_values([AT_RISK, ID], ascending=[False, True], kind="mergesort")
    reached = np.concatenate([[0.0], ranked[AT_RISK].cumsum().to_numpy()])
    share = np.linspace(0, 1, points)
    contacted = np.round(share * len(ranked)).astype(int)
    total = reached[-1] if reached[-1] > 0 else 1.0
    return pd.DataFrame(
        {"share_contacted": share, "share_profit_at_risk": reached[contacted] / total}
    )


def profile(frame: pd.DataFrame, mask: pd.Series, features: list[str]) -> pd.DataFrame:
    """Mean (numeric) or share (each category) per feature, segment vs rest."""
    rows = []
    for feature in features:
        column = frame[feature]
        if pd.api.types.is_numeric_dtype(column):
            levels = [("", column.astype(float))]
        else:
            levels = [(v, (column == v).astype(float)) for v in sorted(column.dropna().unique())]
        for level, numbers in levels:
            seg, rest = numbers[mask], numbers[~mask]
            spread = float(numbers.std()) or 1.0
            rows.append(
                {
                    "feature": feature,
                    "level": level,
                    "segment": float(seg.mean()) if len(seg) else np.nan,
                    "rest": float(rest.mean()) if len(rest) else np.nan,
                    "standardised_difference": (seg.mean() - rest.mean()) / spread,
                }
            )
    return pd.DataFrame(rows)


def scored_customers(
    scores: pd.DataFrame, merged: pd.DataFrame, values: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """customer_table plus the explained engineered columns (values: index id, the shap stage's
    feature values); also the profiled columns: contract features, then those extra ones."""
    table = customer_table(scores, merged)
    extra = values.drop(columns=[c for c in values.columns if c in table.columns])
    table = table.merge(extra, left_on=ID, right_index=True, how="left")
    return table, [*FEATURES, *extra.columns]


def calibration_above(table: pd.DataFrame, threshold: float) -> dict[str, float]:
    """Calibration where the segment's cut falls: among customers with P(declined) >= threshold,
    the mean probability against the observed decline rate (held-out probabilities and this
    period's labels: an honest check of the number the segment ranks by)."""
    above = table[table[PROBABILITY] >= threshold]
    out: dict[str, float] = {"customers": len(above)}
    if LABEL in table and len(above):
        out["mean_probability"] = float(above[PROBABILITY].mean())
        out["observed_decline_rate"] = float(above[LABEL].mean())
    return out


def read_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """(scores, merged customers, SHAP values and the values they explain by id, data quality):
    the segment stage's inputs, SHAP restricted to the explained features."""
    import json

    scores, merged = pd.read_csv(paths.SCORES_FILE), pd.read_csv(paths.MERGED_FILE)
    shap = pd.read_csv(paths.SHAP_VALUES_FILE).set_index(ID)
    values = pd.read_csv(paths.SHAP_FEATURES_FILE).set_index(ID)
    quality = json.loads(paths.DATA_QUALITY_METRICS.read_text(encoding="utf-8"))
    return scores, merged, shap[[c for c in values.columns if c in shap.columns]], values, quality
