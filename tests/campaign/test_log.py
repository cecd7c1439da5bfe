"""The intervention log: campaigns accumulate period after period, a period is logged once, a
damaged log is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oneclick.campaign import log as intervention_log
from oneclick.campaign import outcomes, uplift
from oneclick.campaign.control import GROUP, TREATMENT
from oneclick.campaign.log import COLUMNS, OFFER, PERIOD
from oneclick.core.errors import DataError
from oneclick.data.contract import ID
from tests.campaign.generated import logged_period


@pytest.fixture(scope="module")
def two_periods(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[pd.DataFrame]]:
    """Two generated campaigns appended one after the other, as two months' `outcomes --log`."""
    root = tmp_path_factory.mktemp("log")
    path = root / "interventions.csv"
    periods = [
        logged_period(1500, seed, root / str(seed), period, 0.15)
        for seed, period in ((3, "2026-01"), (4, "2026-02"))
    ]
    for rows in periods:
        logged = intervention_log.appended(intervention_log.read_log(path), rows)
        intervention_log.write_log(logged, path)
    return path, periods


def test_the_log_keeps_both_periods_and_the_analysis_reads_both(two_periods) -> None:
    path, periods = two_periods
    log = intervention_log.read_log(path)
    assert list(log.columns) == COLUMNS
    assert log[PERIOD].value_counts().to_dict() == {p[PERIOD].iloc[0]: len(p) for p in periods}
    first = periods[0].set_index(ID)
    kept = log[log[PERIOD] == "2026-01"].set_index(ID).loc[first.index]
    pd.testing.assert_frame_equal(kept, first, check_dtype=False)  # what was logged comes back
    treated = log[log[GROUP] == TREATMENT]
    assert set(treated[OFFER]) == {"cart_reminder", "personal_recommendations"}
    assert set(treated["channel"]) == {"message", "site"}  # from the segment params
    assert outcomes.breakdowns(log)["periods"] == ["2026-01", "2026-02"]
    verdict = uplift.evaluate(log)
    assert verdict["periods"] == 2 and verdict["train"] == len(periods[0])


def test_a_period_already_logged_is_refused_and_the_log_is_unchanged(two_periods) -> None:
    path, periods = two_periods
    before = path.read_bytes()
    with pytest.raises(DataError, match=r"^--period 2026-02: already in the intervention log"):
        intervention_log.appended(intervention_log.read_log(path), periods[1])
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda log: log.drop(columns=["declined"]), r"missing column\(s\) \['declined'\]"),
        (lambda log: log.assign(profit="много"), r"column profit: not numeric"),
        (
            lambda log: log.assign(group="holdout"),
            r"column group: unknown value\(s\) \['holdout'\]",
        ),
    ],
)
def test_a_damaged_log_is_refused_in_one_line(two_periods, tmp_path: Path, change, message):
    damaged = tmp_path / "log.csv"
    change(intervention_log.read_log(two_periods[0])).to_csv(damaged, index=False)
    with pytest.raises(DataError, match=message) as error:
        intervention_log.read_log(damaged)
    assert "\n" not in str(error.value)


def test_log_and_period_go_together_and_nothing_is_written(tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "log.csv"
    for path, period in ((log, None), (None, "2026-01")):
        with pytest.raises(DataError, match=r"^--log and --period go together"):
            outcomes.outcomes(tmp_path / "c.csv", tmp_path, None, out, None, path, period)
    assert not out.exists() and not log.exists()
