"""The campaign's design: who gets an offer, who is held out, who explores.

The segment is chosen by expected net profit (economics.choose) among the eligible customers
(selection.select); its control group is drawn as oneclick/campaign/control.py says; the
exploration arm (exploration.py) is drawn from the lower-risk customers outside it. Offers and
their prices come from `price`, which the segment stage answers from every customer's offers and
`oneclick predict` by explaining only the customers asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from oneclick.campaign import control
from oneclick.data.contract import ID, PROFIT
from oneclick.segment import economics, exploration
from oneclick.segment.selection import AT_RISK, PROBABILITY

# price(rows): the customers of the table rows `rows` (a boolean Series) with their offers and
# the economics columns, in the table's order and index
Pricing = Callable[[pd.Series], pd.DataFrame]


def pricing(
    table: pd.DataFrame, params: dict[str, Any], offered: Callable[[pd.Series], pd.DataFrame]
) -> Pricing:
    """`price` from `offered(rows)`: segment_customers' rows (any order, a superset allowed) of
    at least the table rows asked for. params: the `segment` block."""
    econ = params["economics"]
    terms = economics.offer_terms([*params["offers"], params["fallback_offer"]], econ)

    def price(rows: pd.Series) -> pd.DataFrame:
        ids = table.loc[rows.to_numpy(), ID]
        found = economics.priced(offered(rows), terms, econ["horizon_months"]).set_index(ID)
        return found.loc[ids.to_numpy()].reset_index().set_axis(ids.index)

    return price


@dataclass(frozen=True)
class Design:
    mask: pd.Series  # segment membership per table row
    customers: pd.DataFrame  # the segment by expected net profit, with its group
    listed: pd.DataFrame  # data/segment/customers.csv: the segment, the arm, its comparison
    pool: pd.DataFrame  # the table rows the arm is drawn from
    arm: pd.DataFrame  # the arm's priced rows (drawn at the reference share when off)
    left_out: dict[str, int]  # eligible customers the economics leave out

    def reached(self) -> pd.DataFrame:
        """The listed customers the campaign deals with: all but the arm's comparison group."""
        return self.listed[self.listed[control.GROUP] != exploration.COMPARISON]


def metrics(plan: Design, params: dict[str, Any]) -> dict[str, Any]:
    """The `economics` block and, when the arm is on or quoted, the `exploration` block.
    params: the `segment` block."""
    out = {"economics": economics.campaign_economics(plan.customers, params["economics"])}
    share = params["exploration_share"]
    if share or len(plan.arm):
        out["exploration"] = exploration.exploration_metrics(plan.pool, plan.arm, share)
    return out


def design(
    table: pd.DataFrame,
    eligible: pd.Series,
    price: Pricing,
    params: dict[str, Any],
    campaign: dict[str, Any],
    reference: bool = True,
) -> Design:
    """The design on the scored table (its index 0..n-1). params: the `segment` block,
    campaign: the `campaign` block; reference: draw the arm at REFERENCE_SHARE when it is off
    (its cost and power are quoted on the page), else leave it empty."""
    econ = params["economics"]
    terms = economics.offer_terms([*params["offers"], params["fallback_offer"]], econ)
    best = economics.best_case(table, terms, params["max_offers"], econ["horizon_months"])
    candidates = price(eligible & (best > 0))  # nobody else can have a positive net profit
    chosen = economics.choose(candidates, econ["budget"], campaign["control_share"])
    mask = pd.Series(table.index.isin(candidates.index[chosen.to_numpy()]), index=table.index)
    customers = control.with_groups(economics.by_net(candidates[chosen]), campaign)
    left_out = economics.left_out(candidates, chosen)
    left_out["net_profit_not_positive"] += int((eligible & (best <= 0)).sum())
    pool = table[exploration.pool(table, mask, params["threshold"])]
    share = params["exploration_share"] or (exploration.REFERENCE_SHARE if reference else 0)
    drawn = exploration.draw(pool, share, campaign["seed"]) if share else pool[ID] < 0
    arm = economics.by_net(price(pd.Series(table.index.isin(pool.index[drawn]), table.index)))
    listed = [customers]
    if params["exploration_share"]:
        comparison = pool.loc[~drawn.to_numpy(), [ID, PROBABILITY, PROFIT, AT_RISK]]
        listed += [
            arm.assign(**{control.GROUP: exploration.EXPLORATION}),
            comparison.assign(**{control.GROUP: exploration.COMPARISON}),
        ]
    listed = pd.concat(listed, ignore_index=True)[customers.columns]
    return Design(mask, customers, listed, pool, arm, left_out)
