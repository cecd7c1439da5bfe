"""The control group: deterministic, exact in size, balanced by risk; control gets no offer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneclick.campaign import control
from oneclick.data.contract import ID
from oneclick.sample import next_period

PARAMS = {"control_share": 0.3, "seed": 7, "target_effect": 0.15}


def segment(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            ID: rng.permutation(np.arange(215000, 215000 + n)),
            "probability": np.round(rng.uniform(0.7, 1.0, n), 3),  # ties too
            "offer_codes": "promo",
            "offers": "Discount",
            "offer_source": "top drivers",
        }
    )


def test_assignment_is_stable_across_reruns_and_row_orders() -> None:
    frame = segment()
    first = control.with_groups(frame, PARAMS)
    again = control.with_groups(frame, PARAMS)
    shuffled = control.with_groups(frame.sample(frac=1, random_state=3), PARAMS)
    pd.testing.assert_frame_equal(first, again)
    by_id = first.set_index(ID)[control.GROUP]
    assert (shuffled.set_index(ID)[control.GROUP] == by_id.loc[shuffled[ID]]).all()
    other = control.with_groups(frame, {**PARAMS, "seed": 8})
    assert (other[control.GROUP] != first[control.GROUP]).any()


@pytest.mark.parametrize("share", [0.0, 0.1, 0.25, 0.3, 0.5])
def test_control_size_is_exact_and_every_risk_block_holds_its_share(share: float) -> None:
    frame = segment(503)
    groups = control.assign_groups(frame[ID], frame["probability"], share, 7)
    is_control = groups == control.CONTROL
    assert is_control.sum() == round(share * 503)
    order = np.lexsort((frame[ID], frame["probability"]))
    per_block = [is_control[order[s : s + control.BLOCK]].sum() for s in range(0, 503, 10)]
    assert max(per_block) - min(per_block[:-1]) <= 1  # within one customer of the share


def test_groups_have_the_same_risk_mix() -> None:
    frame = segment(300, seed=1)
    groups = control.assign_groups(frame[ID], frame["probability"], 0.3, 11)
    p = frame["probability"].to_numpy()
    treated, held = p[groups == control.TREATMENT], p[groups == control.CONTROL]
    assert abs(treated.mean() - held.mean()) < 0.005  # the segment's risk spans 0.3
    for q in (0.1, 0.5, 0.9):
        assert abs(np.quantile(treated, q) - np.quantile(held, q)) < 0.03


def test_control_customers_get_no_offer_and_the_group_follows_the_id() -> None:
    out = control.with_groups(segment(50), PARAMS)
    assert out.columns[:2].tolist() == [ID, control.GROUP]
    held = out[out[control.GROUP] == control.CONTROL]
    assert len(held) == 15
    assert (held[list(control.OFFER_COLUMNS)] == "").all().all()
    assert (control.treated(out)["offer_codes"] == "promo").all()
    assert control.with_groups(segment(0), PARAMS).empty


def test_the_sample_generator_reads_the_campaign_tables_vocabulary() -> None:
    """sample cannot import campaign (it sits lower), so it repeats the names: keep them equal."""
    assert (next_period.GROUP, next_period.TREATMENT, next_period.CONTROL) == (
        control.GROUP,
        control.TREATMENT,
        control.CONTROL,
    )
