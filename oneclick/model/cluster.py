"""Where the parallel work runs: on this machine, or on a Dask cluster when one is given.

With ONECLICK_DASK_SCHEDULER=tcp://host:8786 set, the protocol's refits (evaluate), the SHAP
batches (shap, predict --drivers shap) and predict's model chunks run on the workers of the
Dask scheduler at that address; unset, on n_jobs local processes or threads. Results do not
depend on where the work runs: every task is a pure function of what it is sent, and its
results come back in the order the tasks were made. A worker started by `dask worker` (its
nanny) runs BLAS and OpenMP with one thread, as the local runs do. docs/performance.md shows
how to start a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from oneclick.core import entry
from oneclick.core.errors import DataError

SCHEDULER_VARIABLE = "ONECLICK_DASK_SCHEDULER"
CONNECT_TIMEOUT = "20s"


def scheduler_address() -> str | None:
    """The Dask scheduler's address from the environment, or None: work stays local."""
    return os.environ.get(SCHEDULER_VARIABLE, "").strip() or None


@contextmanager
def _client(address: str) -> Iterator[Any]:
    """A dask.distributed Client of the scheduler at address; an unreachable one (or dask not
    installed) is one error line."""
    try:
        from distributed import Client
    except ImportError as error:
        raise DataError(
            f"{SCHEDULER_VARIABLE}={address}: dask.distributed is not installed "
            "(pip install -e '.[dask]')"
        ) from error
    try:
        client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise DataError(
            f"{SCHEDULER_VARIABLE}={address}: cannot reach the Dask scheduler ({error})"
        ) from error
    with client:
        workers = client.scheduler_info()["workers"]
        threads = sum(w["nthreads"] for w in workers.values())
        entry.log.info("dask: %s, %d workers, %d threads", address, len(workers), threads)
        yield client


@contextmanager
def joblib_backend() -> Iterator[None]:
    """joblib.Parallel calls inside run on the cluster when one is given (joblib's Dask
    backend: one task slot per worker thread, whatever n_jobs says), else as they are."""
    address = scheduler_address()
    if address is None:
        yield
        return
    from joblib import parallel_config

    with _client(address) as client, parallel_config(backend="dask", client=client):
        yield


def _call(item: Any, fn: Callable[[Any, Any], Any], shared: Any) -> Any:
    return fn(shared, item)


@contextmanager
def shared_map(n_threads: int, shared: Any) -> Iterator[Callable[[Callable, list], list]]:
    """map(fn, items) -> [fn(shared, item) for item in items], in the items' order: on the
    cluster when one is given, else on n_threads local threads. On the cluster `shared` is sent
    once to every worker and stays there for all the tasks (with whatever it caches), so a
    task ships only its item."""
    address = scheduler_address()
    if address is None:
        with ThreadPoolExecutor(n_threads) as pool:
            yield lambda fn, items: list(pool.map(lambda item: fn(shared, item), items))
        return
    with _client(address) as client:
        remote = client.scatter(shared, broadcast=True, hash=False)

        def run(fn: Callable[[Any, Any], Any], items: list) -> list:
            # pure=False: two batches are never the same task
            return client.gather(client.map(_call, items, fn=fn, shared=remote, pure=False))

        yield run
