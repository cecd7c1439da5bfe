"""Small, one-class and degenerate data: one line saying what is missing, never a traceback from
deep inside scikit-learn, never a segment silently worth nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from oneclick.core.errors import DataError
from oneclick.core.paths import PARAMS_FILE
from oneclick.data.contract import GROUP, LABEL, PROFIT
from oneclick.features.build import build_features, check_merged
from oneclick.model.training import train_model
from oneclick.segment.selection import PROBABILITY, select
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged

PARAMS = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))


def test_one_class_in_the_target_is_named_before_the_split() -> None:
    merged = synthetic_merged(300).assign(**{LABEL: 0})
    with pytest.raises(DataError, match=r"^customers\.csv: column 'declined': only one class"):
        check_merged(merged, "customers.csv")


def test_a_class_of_one_customer_cannot_be_split() -> None:
    merged = synthetic_merged(40, twins=0).assign(**{LABEL: 0})
    merged.loc[0, LABEL] = 1
    with pytest.raises(DataError, match="1 customer in the smaller class: at least 2 needed"):
        check_merged(merged, "customers.csv")


@pytest.mark.parametrize("n", [10, 30, 60])
def test_too_few_customers_for_the_procedure_is_one_line(n: int) -> None:
    """The probe's 10, 30 and 60 customers with the committed params: tracebacks in train."""
    train, _, spec, _, _ = build_features(synthetic_merged(n, twins=0), FEATURE_PARAMS)
    with pytest.raises(DataError, match=r"^train\.csv: column declined: \d+ customers|n_neighbors"):
        train_model(train, spec, PARAMS["train"])


def test_one_class_in_the_training_part_is_one_line() -> None:
    train, _, spec, _, _ = build_features(synthetic_merged(200), FEATURE_PARAMS)
    with pytest.raises(DataError, match="only one class in the target"):
        train_model(train.assign(**{LABEL: 1}), spec, PARAMS["train"])


def test_a_segment_whose_customers_all_have_profit_0_is_refused() -> None:
    table = pd.DataFrame({
        PROBABILITY: [0.9, 0.8, 0.2, 0.95], PROFIT: [0.0] * 4, "promo_share": [0.5] * 4,
        GROUP: range(4),
    })  # fmt: skip
    with pytest.raises(DataError, match="the 3 customers selected all have profit 0"):
        select(table, PARAMS["segment"])
    table[PROFIT] = [1.0, 0.0, 0.0, 0.0]
    mask, _ = select(table, PARAMS["segment"])  # one customer worth something: a segment
    assert mask.sum() >= 1
