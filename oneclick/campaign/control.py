"""The control group: a deterministic random holdout of the segment, balanced by risk.

The segment is sorted by P(decline) (ties by id) and cut into blocks of BLOCK customers of
similar risk; each block gives its share of control customers, chosen at random within the
block. So both groups have the same risk mix (a plain random draw of 30 from 108 can differ in
mean risk by several points by chance alone, and that difference would pass for an effect).
The random choice is a keyed hash of (campaign.seed, id): the same segment and seed give the
same groups on every run and machine, whatever the row order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneclick.data.contract import ID

GROUP = "group"
TREATMENT, CONTROL = "treatment", "control"
BLOCK = 10  # customers of similar risk per block: with control_share 0.3, 3 of each 10
PROBABILITY = "probability"
# columns a control customer leaves empty: nobody sends them an offer by mistake
OFFER_COLUMNS = ("offer_codes", "offers", "offer_source")


def random_keys(ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform-looking uint64 per id, fixed by (seed, id): splitmix64 of the pair."""
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) ^ (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15))
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def assign_groups(
    ids: np.ndarray, probability: np.ndarray, control_share: float, seed: int
) -> np.ndarray:
    """TREATMENT or CONTROL per customer (in the given order); round(share * n) controls.

    Block b of the risk order holds round(share * end_b) - round(share * start_b) controls, so
    the total is exact and every block is within one customer of its share.
    """
    ids, probability = np.asarray(ids), np.asarray(probability, dtype=float)
    n = len(ids)
    order = np.lexsort((ids, probability))  # by risk, then id
    keys = random_keys(ids, seed)
    control = np.zeros(n, dtype=bool)
    for start in range(0, n, BLOCK):
        block = order[start : start + BLOCK]
        wanted = round(control_share * (start + len(block))) - round(control_share * start)
        chosen = block[np.lexsort((ids[block], keys[block]))[:wanted]]
        control[chosen] = True
    return np.where(control, CONTROL, TREATMENT).astype(object)


def with_groups(customers: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The segment table with `group` after the id; control customers' offer columns emptied."""
    groups = assign_groups(
        customers[ID].to_numpy(),
        customers[PROBABILITY].to_numpy(),
        params["control_share"],
        params["seed"],
    )
    out = customers.copy()
    out.insert(out.columns.get_loc(ID) + 1, GROUP, groups)
    control = out[GROUP] == CONTROL
    for column in OFFER_COLUMNS:
        if column in out:
            out[column] = out[column].astype(object).where(~control, "")
    return out


def treated(customers: pd.DataFrame) -> pd.DataFrame:
    """The customers who receive an offer (everyone, in a table without groups)."""
    return customers[customers[GROUP] == TREATMENT] if GROUP in customers else customers
