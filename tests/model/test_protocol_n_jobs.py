"""evaluate.n_jobs changes nothing: the protocol on 1 and on 2 processes gives the same bytes.

A unit test on tiny data of what the `evaluate` stage does with the knob (the whole procedure
refitted in the protocol's folds, the fold models dumped), instead of a forced pipeline rerun."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneclick.data.contract import GROUP, LABEL
from oneclick.features.build import build_features
from oneclick.features.spec import feature_columns
from oneclick.model.evaluation import protocol_inputs
from oneclick.model.persistence import dump_model
from oneclick.model.procedure import fit_procedure
from oneclick.model.protocol import Fold, protocol_folds, run_protocol, start_workers
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged
from tests.model.test_procedure import TRAIN_PARAMS

REPEATS, K = 2, 3


def tiny_protocol(n_jobs: int) -> tuple[pd.DataFrame, list[str], list[Fold], tuple]:
    """(everyone, feature columns, folds, run_protocol's result) on 160 synthetic customers."""
    train, test, spec, _, _ = build_features(synthetic_merged(160, twins=8), FEATURE_PARAMS)
    everyone, columns = protocol_inputs(train, test), feature_columns(spec)
    X, y, groups = everyone[columns], everyone[LABEL], everyone[GROUP]
    folds = protocol_folds(y.to_numpy(), groups.to_numpy(), REPEATS, K, seed=0)

    def fit(Xf: pd.DataFrame, yf: pd.Series, gf: pd.Series):
        return fit_procedure(spec, TRAIN_PARAMS, Xf, yf, gf)

    start_workers(n_jobs).join()  # as the stage does: the workers started before the folds run
    return everyone, columns, folds, run_protocol(fit, X, y, groups, folds, n_jobs=n_jobs)


@pytest.fixture(scope="module")
def runs() -> dict[int, tuple]:
    return {n_jobs: tiny_protocol(n_jobs)[3] for n_jobs in (1, 2)}


@pytest.mark.slow  # two worker processes start and import the stack
def test_protocol_results_are_byte_identical_on_1_and_2_processes(runs) -> None:
    (scores, held_out, models), (scores_2, held_out_2, _) = runs[1], runs[2]
    assert len(models) == REPEATS * K and not np.isnan(held_out).any()
    assert scores.to_csv() == scores_2.to_csv()
    assert held_out.tobytes() == held_out_2.tobytes()


@pytest.mark.slow
def test_fold_models_file_is_byte_identical_on_1_and_2_processes(runs) -> None:
    assert dump_model(runs[1][2]) == dump_model(runs[2][2])
