"""The model file: skops with an explicit trusted-type list that is exactly what the training
procedure's models need, deterministic bytes, and refusal of anything else."""

from __future__ import annotations

import io
import os
import pickle
import re
import subprocess
import sys
from functools import cache
from typing import Any
from zipfile import ZipFile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from oneclick.core.errors import DataError
from oneclick.core.paths import PARAMS_FILE, ROOT
from oneclick.data.contract import LABEL
from oneclick.features.build import build_features
from oneclick.features.spec import feature_columns
from oneclick.model import persistence
from oneclick.model.pipelines import build_preprocessor
from oneclick.model.procedure import fit_procedure
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged

SEED = 0


@cache
def training_data() -> tuple[pd.DataFrame, pd.Series, dict[str, Any]]:
    # 400 customers: ~300 training rows, several times the stack's kNN n_neighbors (49)
    train, _, spec, _, _ = build_features(synthetic_merged(400, twins=20), FEATURE_PARAMS)
    return train[feature_columns(spec)], train[LABEL], spec


def procedure_models() -> dict[str, Any]:
    """The training procedure's models as the pipeline writes them: the stack fitted with the
    committed train params (models/model.skops), with both kNN weightings and with capped
    members (train.svc/knn.max_rows), and a list of fold
    models (models/folds.skops)."""
    X, y, spec = training_data()
    params = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))["train"]
    groups = pd.Series(np.arange(len(y)))
    models = {}
    with threadpool_limits(1):
        for weights in ("distance", "uniform"):
            variant = {**params, "knn": {**params["knn"], "weights": weights}}
            models[f"stack, {weights} kNN"] = fit_procedure(spec, variant, X, y, groups)
        capped = {key: {**params[key], "max_rows": 100} for key in ("svc", "knn")}
        models["stack, capped members"] = fit_procedure(spec, {**params, **capped}, X, y, groups)
    models["fold models"] = [models["stack, distance kNN"], models["stack, uniform kNN"]]
    return models


@pytest.fixture(scope="module")
def dumped() -> dict[str, tuple[Any, bytes]]:
    return {name: (model, sio.dumps(model)) for name, model in procedure_models().items()}


def test_trusted_types_are_exactly_what_the_procedures_models_hold(dumped) -> None:
    """The list is neither short (a model the pipeline writes would not load) nor long (every
    extra type widens what a tampered file could build)."""
    needed = set()
    for _, data in dumped.values():
        needed |= set(sio.get_untrusted_types(data=data))
    listed = set(persistence.TRUSTED_TYPES)
    assert listed == needed, (
        f"missing {sorted(needed - listed)}, not needed {sorted(listed - needed)}"
    )
    assert sorted(listed) == persistence.TRUSTED_TYPES


def test_every_procedure_model_round_trips_through_the_model_file(dumped) -> None:
    X, _, _ = training_data()
    for name, (model, _) in dumped.items():
        again = persistence.load_model_bytes(persistence.dump_model(model), name)
        pairs = zip(again, model, strict=True) if isinstance(model, list) else [(again, model)]
        for loaded, fitted in pairs:
            # a loaded copy's arrays sit elsewhere in memory: allow for last-bit BLAS differences
            np.testing.assert_allclose(
                loaded.predict_proba(X), fitted.predict_proba(X), rtol=0, atol=1e-12, err_msg=name
            )


def test_the_model_file_is_canonical_skops_whatever_skops_indents(dumped) -> None:
    """dump_model skips skops' indented schema for speed: the bytes are canonical(skops')."""
    for name, (model, data) in dumped.items():
        assert persistence.dump_model(model) == persistence.canonical(data), name


DUMP = """
import hashlib, sys
import numpy as np, pandas as pd
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from oneclick.model.persistence import dump_model

rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "c"])
y = (X["a"] + rng.normal(size=120) > 0).astype(int)
nn = KNeighborsClassifier(15, weights="distance", algorithm="brute")  # no neighbour tree
knn = make_pipeline(StandardScaler(), nn)
model = StackingClassifier([("knn", knn), ("lr", LogisticRegression())], cv=3).fit(X, y)
first = dump_model(model)
assert dump_model(model) == first
sys.stdout.write(hashlib.md5(first).hexdigest())
"""


@pytest.mark.slow  # a new interpreter per process
def test_same_model_gives_the_same_bytes_in_every_process() -> None:
    """skops alone writes memory addresses and the clock into the file."""
    digests = set()
    for seed in ("0", "1"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", DUMP], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout)
    assert len(digests) == 1


def test_canonical_bytes_renumber_ids_and_fix_the_zip_metadata() -> None:
    X, y, spec = training_data()
    model = make_pipeline(build_preprocessor(spec), KNeighborsClassifier(15)).fit(X, y)
    raw = sio.dumps(model)
    data = persistence.canonical(raw)
    with ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        schema = archive.read("schema.json").decode("utf-8")
    assert names[0] == "schema.json" and names[1:] == [f"{i}.npy" for i in range(len(names) - 1)]
    ids = sorted(set(re.findall(r'"__id__":(\d+)', schema)), key=int)
    assert len(ids) > 10 and ids == [str(i) for i in range(1, len(ids) + 1)]  # no address left
    assert persistence.canonical(data) == data
    assert persistence.canonical(sio.dumps(model)) == data
    # a fitted KDTree counts its queries: a model that was used dumps differently (the train
    # stage dumps the model it fitted, untouched)
    np.testing.assert_array_equal(persistence.load_model_bytes(data).predict(X), model.predict(X))


def test_a_file_asking_for_an_untrusted_type_is_refused_before_anything_runs() -> None:
    """A transformer whose function is os.system: the classic payload, as skops data."""
    payload = make_pipeline(FunctionTransformer(os.system), LogisticRegression())  # unfitted
    data = persistence.canonical(sio.dumps(payload))
    with pytest.raises(DataError, match=r"^evil\.skops: refusing to load untrusted types"):
        persistence.load_model_bytes(data, "evil.skops")
    with pytest.raises(DataError, match=r"types outside the trusted list \['posix\.system'\]"):
        persistence.dump_model(payload)  # the train stage would fail, not write it


@pytest.mark.parametrize(
    "data", [b"not a model", pickle.dumps({"a": 1}), b"PK\x05\x06" + b"\0" * 18]
)
def test_anything_but_a_skops_file_is_one_line(data: bytes) -> None:
    with pytest.raises(DataError, match=r"^model\.skops: not a readable skops model"):
        persistence.load_model_bytes(data, "model.skops")


if __name__ == "__main__":  # prints the types the procedure's models need: the list to trust
    found = set()
    for _, data in {k: sio.dumps(m) for k, m in procedure_models().items()}.items():
        found |= set(sio.get_untrusted_types(data=data))
    print("\n".join(sorted(found)))


def test_a_stack_member_is_written_once_and_loads_as_one_object(dumped) -> None:
    """skops writes each member twice (`estimators_` and `named_estimators_`); the model file
    keeps one copy, and loading still gives one object under both names."""
    model, raw = dumped["stack, distance kNN"]
    data = persistence.dump_model(model)
    schema = ZipFile(io.BytesIO(data)).read(persistence.SCHEMA).decode()
    assert schema.count('"support_vectors_"') == 1
    assert len(data) < 0.6 * len(raw)
    stack = persistence.load_model_bytes(data)["stack"]
    for (name, _), member in zip(stack.estimators, stack.estimators_, strict=True):
        assert stack.named_estimators_[name] is member
