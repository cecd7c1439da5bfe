"""Campaigns on generated data whose truth is known: a sample, an honest risk score, a segment
with its control group, and the next period through the pipeline's cleaning contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from oneclick.campaign.control import GROUP, TREATMENT, assign_groups
from oneclick.campaign.log import campaign_rows
from oneclick.core import config
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import ID, LABEL, NUMERIC_FEATURES, PROFIT
from oneclick.data.merging import merge_tables
from oneclick.data.reading import read_raw
from oneclick.sample import files as sample
from oneclick.sample.next_period import next_period

PARAMS = config.load_params()
CLEAN = PARAMS["clean"]


def through_contract(frames: dict[str, pd.DataFrame], directory: Path) -> pd.DataFrame:
    """Write the four files as the store would, then read, clean and merge them."""
    sample.write_files(frames, directory)
    tables, _ = clean_tables(read_raw(directory), CLEAN)
    return merge_tables(tables)


def campaign_for(n: int, seed: int, directory: Path, threshold: float = 0.5) -> pd.DataFrame:
    """The generated sample's segment (out-of-fold P >= threshold) with its groups (share 0.3)."""
    return campaign_and_period(n, seed, directory, threshold)[0]


def campaign_and_period(
    n: int, seed: int, directory: Path, threshold: float = 0.5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The segment with its groups and the campaign period's merged customers (by id); the
    treated get a first offer as a rule of the segment would: a cart reminder with 4 or more
    unpaid items, else personal recommendations."""
    merged = through_contract(sample.generate(n, seed), directory)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    x, y = merged[NUMERIC_FEATURES], merged[LABEL]
    probability = cross_val_predict(model, x, y, cv=3, method="predict_proba")[:, 1]
    table = pd.DataFrame({ID: merged.index, "probability": probability, PROFIT: merged[PROFIT]})
    segment = table[table["probability"] >= threshold].reset_index(drop=True)
    segment.insert(1, GROUP, assign_groups(segment[ID], segment["probability"], 0.3, seed))
    unpaid = merged.loc[segment[ID], "unpaid_items_quarter"].to_numpy()
    offer = np.where(unpaid >= 4, "cart_reminder", "personal_recommendations")
    segment["offer_codes"] = np.where(segment[GROUP] == TREATMENT, offer, "")
    return segment, merged


def logged_period(
    n: int,
    seed: int,
    directory: Path,
    period: str,
    effect: float,
    response: str = "uniform",
    harmful: tuple[str, float] | None = None,
) -> pd.DataFrame:
    """One generated campaign measured a period later, as intervention-log rows."""
    table, before = campaign_and_period(n, seed, directory / "before")
    frames, _ = next_period(n, seed, table, effect, {}, response, harmful)
    after = through_contract(frames, directory / "after")
    return campaign_rows(table, after[LABEL], before, period, PARAMS)


def next_merged(
    campaign: pd.DataFrame,
    n: int,
    seed: int,
    directory: Path,
    effect: float,
    drift: dict[str, float] | None = None,
) -> pd.DataFrame:
    frames, _ = next_period(n, seed, campaign, effect, drift or {})
    return through_contract(frames, directory)


def seeds(k: int) -> list[int]:
    return [int(s) for s in np.random.default_rng(15).integers(1, 10**6, k)]
