"""The intervention log: one row per customer of every measured campaign, kept across periods.

Each `oneclick outcomes --log FILE --period P` appends its campaign: who (id), which group (the
segment's treatment and control, and the exploration arm and its comparison group when the
segment drew one), which
offer and channel, the period, the pre-campaign figures (P(decline), profit, expected gain when
the campaign table has it, the numeric features of the campaign period when given), the outcome
next period (declined 0/1), and the versions that made the campaign (md5 of the model and of the
`segment` and `campaign` params). A period already in the log is refused, so a rerun cannot count
a campaign twice. The file is rewritten whole through writers (temporary file, then rename): a
failed append leaves the previous log as it was. Keep it under version control (`dvc add FILE`):
on the store's files it describes real customers, so never in git.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oneclick.campaign.control import CONTROL, GROUP, PROBABILITY, TREATMENT
from oneclick.core import errors, paths, writers
from oneclick.data.contract import ID, LABEL, NUMERIC_FEATURES, PROFIT

PERIOD, OFFER, CHANNEL, DECLINED = "period", "offer", "channel", "declined"
DECLINED_BEFORE = "declined_before"  # the campaign period's own label, when its files have it
# the segment's economics per customer, when it prices them: expected gain and offers' cost
EXPECTED_GAIN, COST = "expected_gain", "expected_cost"
# the segment's exploration arm (lower-risk customers offered at random) and its comparison group
EXPLORATION, COMPARISON = "exploration", "exploration_control"
OFFERED, NOT_OFFERED = (TREATMENT, EXPLORATION), (CONTROL, COMPARISON)
GROUPS = (*OFFERED, *NOT_OFFERED)
MODEL_VERSION, PARAMS_VERSION = "model_md5", "params_md5"
COVARIATES = [PROBABILITY, DECLINED_BEFORE, *NUMERIC_FEATURES]  # known before the campaign
COLUMNS = [PERIOD, ID, GROUP, OFFER, CHANNEL, PROFIT, EXPECTED_GAIN, DECLINED, MODEL_VERSION,
           PARAMS_VERSION, *COVARIATES]  # fmt: skip
NUMERIC = [PROFIT, EXPECTED_GAIN, DECLINED, *COVARIATES]


def offered(frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's customer got an offer (the segment's treated or the exploration arm)."""
    return frame[GROUP].isin(OFFERED).to_numpy()


def model_version(model_file: Path = paths.MODEL_FILE) -> str:
    """md5 of the model file (what dvc.lock records for it); empty when there is none."""
    return hashlib.md5(model_file.read_bytes()).hexdigest() if model_file.is_file() else ""


def params_version(params: dict[str, Any]) -> str:
    """md5 of the `segment` and `campaign` params blocks: the rules that chose the campaign."""
    blocks = {k: params.get(k) for k in ("segment", "campaign")}
    return hashlib.md5(json.dumps(blocks, sort_keys=True).encode()).hexdigest()


def channels(params: dict[str, Any]) -> dict[str, str]:
    """Offer code -> its channel, from the segment params."""
    segment = params.get("segment") or {}
    offers = [*(segment.get("offers") or []), segment.get("fallback_offer") or {}]
    return {o["code"]: o["channel"] for o in offers if "code" in o and "channel" in o}


def campaign_rows(
    campaign: pd.DataFrame,
    outcome: pd.Series,
    pre: pd.DataFrame | None,
    period: str,
    params: dict[str, Any],
) -> pd.DataFrame:
    """The log rows of one campaign: its customers found in the new period, with their outcome.

    campaign: the campaign table; outcome: the new period's 0/1 decline by id; pre: the campaign
    period's merged customers (by id) for the features, or None (features left empty).
    """
    found = campaign[campaign[ID].isin(outcome.index)].reset_index(drop=True)
    offers = found.get("offer_codes", pd.Series("", index=found.index)).astype(str)
    offer = offers.str.split(";").str[0].where(offered(found), "")
    rows = pd.DataFrame(
        {
            PERIOD: period,
            ID: found[ID].to_numpy(),
            GROUP: found[GROUP].to_numpy(),
            OFFER: offer.to_numpy(),
            CHANNEL: offer.map(channels(params)).fillna("").to_numpy(),
            PROBABILITY: found[PROBABILITY].to_numpy(),
            PROFIT: found[PROFIT].to_numpy(),
            EXPECTED_GAIN: found[EXPECTED_GAIN].to_numpy() if EXPECTED_GAIN in found else np.nan,
            DECLINED: outcome.loc[found[ID]].to_numpy().astype(int),
            MODEL_VERSION: model_version(),
            PARAMS_VERSION: params_version(params),
        }
    )
    features = pre.reindex(found[ID]) if pre is not None else None
    sources = {DECLINED_BEFORE: LABEL} | {f: f for f in NUMERIC_FEATURES}
    for name, column in sources.items():
        known = features is not None and column in features
        rows[name] = features[column].to_numpy() if known else np.nan  # type: ignore[index]
    return rows[COLUMNS]


def read_log(path: Path) -> pd.DataFrame:
    """The log with its columns checked; an empty log when the file does not exist yet."""
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    try:
        log = pd.read_csv(path, dtype={PERIOD: str, GROUP: str, OFFER: str, CHANNEL: str,
                                       MODEL_VERSION: str, PARAMS_VERSION: str},
                          keep_default_na=False, na_values={c: [""] for c in NUMERIC})  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise errors.DataError(
            f"{paths.shown(path)}: not an intervention log (--log): {reason}"
        ) from None
    missing = [c for c in COLUMNS if c not in log]
    if missing:
        raise errors.DataError(f"{paths.shown(path)}: missing column(s) {missing} (--log)")
    for column in NUMERIC:
        if not pd.api.types.is_numeric_dtype(log[column]):
            raise errors.DataError(f"{paths.shown(path)}: column {column}: not numeric (--log)")
    unknown = sorted(set(log[GROUP]) - set(GROUPS))
    if unknown:
        raise errors.DataError(f"{paths.shown(path)}: column {GROUP}: unknown value(s) {unknown}")
    return log[COLUMNS]


def check_new_period(log: pd.DataFrame, period: str) -> None:
    """A period already in the log is refused: a campaign is counted once."""
    if period in set(log[PERIOD].astype(str)):
        raise errors.DataError(
            f"--period {period}: already in the intervention log (--log); a campaign is logged once"
        )


def appended(log: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The log with one more period (refused if the log already holds it)."""
    check_new_period(log, str(rows[PERIOD].iloc[0]) if len(rows) else "")
    parts = [frame for frame in (log, rows) if len(frame)]
    return pd.concat(parts, ignore_index=True) if parts else rows


def write_log(log: pd.DataFrame, path: Path) -> None:
    """Rewrite the log atomically (the previous file stays whole if the write fails)."""
    writers.write_csv(log.sort_values([PERIOD, ID], kind="mergesort"), path)
