"""shap.n_jobs changes nothing: the shap stage's explanations on 1 and on 2 threads are the same
bytes. A unit test on tiny data (the procedure's fold models, several batches of customers per
model), instead of a forced pipeline rerun."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneclick.data.contract import ID
from oneclick.explain import values as sv
from oneclick.explain.explainers import explain_model
from oneclick.model.evaluation import fold_table
from tests.explain.test_shap import PARAMS
from tests.model.test_protocol_n_jobs import REPEATS, tiny_protocol


@pytest.mark.slow  # the stack's sampled explanation, in small batches, twice
def test_explanations_are_byte_identical_on_1_and_2_threads() -> None:
    everyone, columns, folds, (_, _, models) = tiny_protocol(n_jobs=1)
    parts = sv.explanation_parts(models, everyone, fold_table(everyone, folds), columns)
    tables = {}
    for n_jobs in (1, 2):
        # a few customers per batch; on 2 threads two models are explained at once
        params = {**PARAMS, "n_paths": 4, "n_paths_read": 8, "n_jobs": n_jobs}
        params["batch_elements"] = 1_000
        read = pd.Series(everyone.index % 3 == 0, index=everyone[ID])  # some read, some not
        table, summary = sv.explain_parts(parts, columns, params, REPEATS, read)
        tables[n_jobs] = table.to_csv(float_format="%.17g")
    assert "PathExplainer" in summary["explainer"], summary  # the sampled explainer, batched
    assert len(tables[1].splitlines()) == len(everyone) + 1
    assert tables[1] == tables[2]


@pytest.mark.slow
def test_one_models_batches_are_byte_identical_on_1_and_2_threads() -> None:
    """explain_model alone (predict --drivers shap, one model at a time): the threads share the
    model's batches of customers."""
    everyone, columns, folds, (_, _, models) = tiny_protocol(n_jobs=1)
    _, model, background, rows = sv.explanation_parts(
        models, everyone, fold_table(everyone, folds), columns
    )[0]
    read = rows.index % 2 == 0
    results = []
    for n_jobs in (1, 2):
        params = {**PARAMS, "n_paths": 4, "n_paths_read": 8, "n_jobs": n_jobs}
        params["batch_elements"] = 1_000
        values, base, output, _ = explain_model(model, background, rows[columns], params, read)
        results.append((values.tobytes(), np.asarray(base).tobytes(), output.tobytes()))
    assert results[0] == results[1]
