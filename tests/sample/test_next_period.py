"""`stages.sample --next-period`: the same customers a period later, a known offer effect on the
treated, optional drift; deterministic for a seed, and readable by the cleaning contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oneclick.core import paths
from oneclick.core.errors import DataError
from oneclick.data import contract as c
from oneclick.sample import files as sample
from oneclick.sample import next_period as nxt
from oneclick.sample.customers import FIRST_ID
from tests.campaign.generated import through_contract

N, SEED = 600, 5


def campaign(share_treated: float = 0.7) -> pd.DataFrame:
    """The first 300 customers as a campaign, share_treated of them treated."""
    ids = FIRST_ID + np.arange(300)
    treated = np.arange(300) < round(300 * share_treated)
    return pd.DataFrame({c.ID: ids, nxt.GROUP: np.where(treated, nxt.TREATMENT, nxt.CONTROL)})


@pytest.fixture(scope="module")
def periods(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("next")
    now = through_contract(sample.generate(N, SEED), root / "now")
    frames, truth = nxt.next_period(N, SEED, campaign(), 0.2, {"pages_per_visit": -2})
    return {"now": now, "next": through_contract(frames, root / "next"), "truth": truth}


def test_same_customers_same_identity_a_month_older(periods) -> None:
    now, later = periods["now"], periods["next"]
    assert set(now.index) <= set(later.index) and len(later) == N  # clean dropped some of now
    both = now.index
    for column in ("service_type", "allow_messages", "favourite_category", c.PROFIT):
        assert (later.loc[both, column] == now.loc[both, column]).all(), column
    assert (later.loc[both, "tenure_days"] == now.loc[both, "tenure_days"] + nxt.PERIOD_DAYS).all()
    assert (later.loc[both, "revenue_current"] != now.loc[both, "revenue_current"]).mean() > 0.9


def test_truth_is_recorded_and_the_offer_lowers_the_treated_rate(periods) -> None:
    truth = periods["truth"]
    assert truth["treated"] == 210 and truth["control"] == 90 and truth["effect"] == 0.2
    assert truth["prevented_share_of_declines"] == pytest.approx(
        0.2 / truth["treated_decline_rate_without_offer"]
    )
    assert truth["drift"] == {"pages_per_visit": -2}


def test_drift_shifts_the_feature_within_the_contracts_range(periods) -> None:
    pages = periods["next"]["pages_per_visit"]
    assert pages.min() >= 0 and pd.api.types.is_integer_dtype(pages)
    assert pages.mean() < periods["now"]["pages_per_visit"].mean() - 1.5
    moved = nxt.shifted(np.array([0.9, 0.5]), "promo_share", 0.3)
    assert moved.tolist() == [1.0, 0.8]  # promo share stays a share


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        frames, _ = nxt.next_period(N, SEED, campaign(), 0.1, {"promo_share": 0.3})
        sample.write_files(frames, tmp_path / name)
    for f in c.INPUT_FILES:
        assert (tmp_path / "a" / f.filename).read_bytes() == (
            tmp_path / "b" / f.filename
        ).read_bytes()
    other, _ = nxt.next_period(N, SEED + 1, campaign(), 0.1, {})
    first, _ = nxt.next_period(N, SEED, campaign(), 0.1, {})
    assert not other[c.MARKET_FILE.key].equals(first[c.MARKET_FILE.key])


def test_bad_requests_are_one_line_errors() -> None:
    with pytest.raises(DataError, match=r"not customers of the sample with 600 customers"):
        nxt.next_period(N, SEED, campaign().assign(id=1), 0.1, {})
    with pytest.raises(DataError, match=r"--effect 0\.99: above the treated"):
        nxt.next_period(N, SEED, campaign(), 0.99, {})
    with pytest.raises(DataError, match=r"--drift promo=0\.3: 'promo' is not one of"):
        nxt.parse_drift(["promo=0.3"])
    with pytest.raises(DataError, match=r"expected FEATURE=SHIFT"):
        nxt.parse_drift(["promo_share=lots"])
    assert nxt.parse_drift(["promo_share=0.3", "minutes_current=-2"]) == {
        "promo_share": 0.3,
        "minutes_current": -2.0,
    }


def run_sample(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stages.sample", *args], cwd=paths.ROOT, capture_output=True,
        text=True,
    )  # fmt: skip


def test_cli_writes_the_next_period_and_its_truth(tmp_path: Path) -> None:
    table = tmp_path / "customers.csv"
    campaign().to_csv(table, index=False)
    out = tmp_path / "next"
    args = ["--output", str(out), "--n-customers", str(N), "--seed", str(SEED), "--next-period"]
    run = run_sample(
        *args, "--campaign", str(table), "--effect", "0.1", "--drift", "promo_share=0.3"
    )
    assert run.returncode == 0, run.stderr
    truth = json.loads((out / nxt.TRUTH_FILE).read_text(encoding="utf-8"))
    assert truth["effect"] == 0.1 and truth["drift"] == {"promo_share": 0.3}
    assert all((out / f.filename).is_file() for f in c.INPUT_FILES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--effect", "0.1"],
            "--campaign, --effect, --drift, --response and --harmful need --next-period",
        ),
        (
            ["--next-period"],
            "--next-period needs --campaign and an --output other than data/sample",
        ),
    ],
)
def test_cli_refuses_incomplete_requests_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    run = run_sample("--output", str(tmp_path / "x"), *args)
    assert run.returncode == 2 and run.stderr.splitlines() == [f"error: {message}"]
    assert not (tmp_path / "x").exists()
