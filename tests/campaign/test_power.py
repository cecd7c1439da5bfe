"""What the campaign can detect: the segment's `campaign` metrics and their report section."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from oneclick.campaign import control, power, stats
from oneclick.campaign.segment_text import segment_section
from oneclick.data.contract import ID
from oneclick.segment.selection import value_curve
from tests.segment.test_segment import numbers_in, renderings

PARAMS = {"control_share": 0.3, "seed": 7, "target_effect": 0.15}


def scored(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    p, profit = rng.beta(2, 3, n), rng.uniform(1, 7, n)
    return pd.DataFrame(
        {ID: np.arange(n), "probability": p, "profit": profit, power.AT_RISK: p * profit}
    )


def metrics_for(table: pd.DataFrame, threshold: float) -> dict:
    chosen = table[table["probability"] >= threshold]
    customers = control.with_groups(chosen.reset_index(drop=True), PARAMS)
    curve = value_curve(table, 101)
    return power.campaign_metrics(customers, table, curve, PARAMS), customers


def test_campaign_metrics_are_numbers_and_consistent() -> None:
    table = scored()
    m, customers = metrics_for(table, 0.7)
    assert all(v is None or isinstance(v, int | float) for v in m.values())
    assert m["control_size"] + m["treatment_size"] == len(customers)
    p0 = customers["probability"].mean()
    sizes = (m["control_size"], m["treatment_size"])
    assert m["min_detectable_drop"] == pytest.approx(stats.min_detectable_drop(*sizes, p0))
    needed = m["size_needed"]
    assert stats.size_needed(0.15, 0.3, p0) <= needed < stats.size_needed(0.15, 0.3, p0) + 1
    assert m["size_needed_share_of_customers"] == needed / len(table)
    assert 0 < m["size_needed_share_of_expected_profit_at_risk"] <= 1


def test_grown_segment_is_the_smallest_value_curve_top_that_detects_the_target() -> None:
    table = scored()
    n, p = power.grown_size(table, 0.15, 0.3)
    ranked = table.sort_values(power.AT_RISK, ascending=False)
    assert p == pytest.approx(ranked["probability"].head(n).mean())
    assert stats.size_needed(0.15, 0.3, p) <= n
    before = ranked["probability"].head(n - 1).mean()
    assert stats.size_needed(0.15, 0.3, before) > n - 1


def test_a_larger_segment_detects_a_smaller_drop() -> None:
    table = scored()
    small, _ = metrics_for(table, 0.8)
    large, _ = metrics_for(table, 0.5)
    assert large["min_detectable_drop"] < small["min_detectable_drop"]


def test_segment_section_states_the_figures_and_only_metrics() -> None:
    table = scored()
    m, customers = metrics_for(table, 0.7)
    seg = {
        "size": len(customers),
        "probability_mean": float(customers["probability"].mean()),
        "share_of_expected_profit_at_risk": 0.3,
    }
    metrics = json.loads(json.dumps({"campaign": m, "segment": seg}))
    text = "\n".join(segment_section(metrics))
    assert f"**{m['min_detectable_drop']:.2f}**".replace(".", ",") in text
    assert f"**{m['size_needed']}**" in text
    decimal_points = re.sub(r"(?<=\d),(?=\d)", ".", text)  # the Russian text: decimal commas
    stray = [x for x in numbers_in(decimal_points) if x not in renderings(metrics)]
    assert not stray, stray
    assert segment_section({"segment": seg}) == []
