"""Work sent to a Dask cluster (ONECLICK_DASK_SCHEDULER) gives the bytes of a local run: the
protocol's refits, the SHAP batches and predict's chunks, on a LocalCluster started here (two
one-thread worker processes, so every task and result is serialized as on a real cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from oneclick.core.errors import DataError
from oneclick.data.contract import ID
from oneclick.explain import values as sv
from oneclick.model import cluster
from oneclick.model.evaluation import fold_table
from oneclick.model.persistence import dump_model
from oneclick.scoring import artifacts as scoring
from tests.conftest import clone_project, dvc, git
from tests.explain.test_shap import PARAMS
from tests.model.test_protocol_n_jobs import REPEATS, tiny_protocol


def small_cluster() -> LocalCluster:
    """Two worker processes of one thread each, as docs/cluster.md starts them: their nannies
    set BLAS and OpenMP to one thread, and no two fits share a process (two protocol folds
    fitted at once on threads of one process gave probabilities 1e-4 apart from a local run)."""
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[LocalCluster]:
    with small_cluster() as local:
        yield local


@pytest.fixture
def scheduler(local_cluster) -> str:
    return local_cluster.scheduler_address


def executed(local: LocalCluster) -> list[int]:
    """Tasks each worker of the cluster has run so far."""
    with Client(local) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return [counts[address] for address in sorted(counts)]


@pytest.fixture(scope="module")
def local_run() -> tuple:
    return tiny_protocol(n_jobs=1)


@pytest.mark.slow  # the tiny protocol twice, its SHAP twice
def test_protocol_and_shap_on_a_dask_cluster_give_the_local_bytes(
    local_run, local_cluster, scheduler, monkeypatch
) -> None:
    everyone, columns, folds, (scores, held_out, models) = local_run
    monkeypatch.setenv(cluster.SCHEDULER_VARIABLE, scheduler)
    before = executed(local_cluster)
    _, _, _, (scores_d, held_out_d, models_d) = tiny_protocol(n_jobs=1)
    after_protocol = executed(local_cluster)
    assert all(a > b for a, b in zip(after_protocol, before, strict=True))  # both workers fit
    assert scores.to_csv() == scores_d.to_csv()
    assert held_out.tobytes() == held_out_d.tobytes()
    assert dump_model(models) == dump_model(models_d)

    parts = sv.explanation_parts(models, everyone, fold_table(everyone, folds), columns)
    params = {**PARAMS, "n_paths": 16, "n_paths_read": 32, "n_jobs": 1, "batch_elements": 4_000}
    read = pd.Series(everyone.index % 3 == 0, index=everyone[ID])
    tables = {}
    for where in ("dask", "local"):
        if where == "local":
            monkeypatch.delenv(cluster.SCHEDULER_VARIABLE)
        table, summary = sv.explain_parts(parts, columns, params, REPEATS, read)
        tables[where] = table.to_csv(float_format="%.17g")
        if where == "dask":  # the batches ran there
            assert sum(executed(local_cluster)) > sum(after_protocol) + len(parts)
    assert "PathExplainer" in summary["explainer"], summary  # the batched, sampled explainer
    assert tables["dask"] == tables["local"]


def test_predict_chunks_on_a_dask_cluster_give_the_local_scores(
    local_cluster, scheduler, monkeypatch
) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    model = LogisticRegression().fit(x, (x["a"] + rng.normal(size=300) > 0).astype(int))
    local = scoring.predict_in_chunks(model, x, 40, 1)
    monkeypatch.setenv(cluster.SCHEDULER_VARIABLE, scheduler)
    before = sum(executed(local_cluster))
    assert scoring.predict_in_chunks(model, x, 40, 1).tobytes() == local.tobytes()
    assert sum(executed(local_cluster)) > before


def test_an_unreachable_scheduler_is_one_error_line(monkeypatch) -> None:
    monkeypatch.setenv(cluster.SCHEDULER_VARIABLE, "tcp://127.0.0.1:9")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(DataError, match=r"ONECLICK_DASK_SCHEDULER=tcp://127\.0\.0\.1:9: cannot"):
        scoring.predict_in_chunks(None, pd.DataFrame({"a": [1.0]}), 1, 1)


def test_evaluate_and_shap_stages_on_a_dask_cluster_reproduce_the_lock(
    reproduced_project: Path, tmp_path: Path, scheduler, monkeypatch
) -> None:
    """`dvc repro -f` of evaluate and shap with ONECLICK_DASK_SCHEDULER set: the stages' own
    processes send their work to the cluster, and every output keeps its md5 in dvc.lock."""
    repo = clone_project(reproduced_project, tmp_path / "repo")
    lock = (repo / "dvc.lock").read_bytes()
    metrics = (repo / "metrics" / "evaluate.json").read_bytes()
    monkeypatch.setenv(cluster.SCHEDULER_VARIABLE, scheduler)
    result = dvc(["repro", "-f", "-s", "evaluate", "shap"], repo)
    assert f"dask: {scheduler}" in result.stderr + result.stdout
    assert (repo / "metrics" / "evaluate.json").read_bytes() == metrics
    assert (repo / "dvc.lock").read_bytes() == lock
    assert git(["status", "--porcelain"], repo).stdout == ""
