"""The model file: skops format, loaded with an explicit list of trusted types, same bytes for
the same model.

A pickle (joblib) runs code while it loads, so a swapped model file is a swapped program.
skops stores the model as JSON plus numpy arrays and, on load, builds only types that are
trusted: numpy and builtins by default, plus TRUSTED_TYPES, the exact names the pipeline's own
models need (tests/model/test_persistence.py derives them from the training procedure's
fitted stack and its fold models, and fails if this list differs). A file asking for any other
type is refused before anything is built.

skops names objects and array files by id() (memory addresses) and stamps the zip entries with
the current time, so two dumps of one model differ; `dump_model` renumbers both in the schema's
order and writes fixed zip metadata, so the same data and params give the same file (and the
same md5 in dvc.lock).
"""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path, PurePosixPath
from typing import Any
from zipfile import ZIP_STORED, BadZipFile, ZipFile, ZipInfo

from oneclick.core import paths
from oneclick.core.errors import DataError
from oneclick.core.writers import ZIP_EPOCH

# Beyond skops' defaults (numpy, builtins, most scikit-learn estimators): what the pipeline's
# models hold. Sorted; tests/model/test_persistence.py checks this is exactly what they need.
TRUSTED_TYPES = [
    "oneclick.model.procedure.CappedKNN",  # train.knn.max_rows set
    "oneclick.model.procedure.CappedSVC",  # train.svc.max_rows set
    "sklearn.utils._bunch.Bunch",
]

SCHEMA = "schema.json"
_REFERENCE_KEYS = ("__class__", "__module__", "__loader__")  # kept in a repeat, for readers


def dump_model(model: Any) -> bytes:
    """The model as skops bytes, deterministic, and loadable with TRUSTED_TYPES (checked here,
    so a model needing another type fails in `train`, not later in `evaluate` or `predict`)."""
    import skops.io as sio

    data = canonical(_skops_bytes(model))
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if untrusted:
        raise DataError(
            f"{paths.shown(paths.MODEL_FILE)}: the model holds types outside the trusted list "
            f"{untrusted}; add them to TRUSTED_TYPES in oneclick/model/persistence.py only if "
            "the pipeline really builds them"
        )
    return data


def _skops_bytes(model: Any) -> bytes:
    """skops.io.dumps(model), its schema written without indentation: skops indents it, which
    sends json to the pure-Python encoder (half the time of dumping the protocol's 50 fold
    models). canonical() rewrites the schema compactly anyway: the file's bytes are the same."""
    from types import SimpleNamespace
    from unittest import mock  # here, not at the top: it imports asyncio (~30 ms) for every load

    import skops.io as sio
    import skops.io._persist as persist

    def compact(state: Any, **_: Any) -> str:
        return json.dumps(state, separators=(",", ":"))

    with mock.patch.object(persist, "json", SimpleNamespace(dumps=compact)):
        return sio.dumps(model)


def load_model_bytes(data: bytes, name: str = "model") -> Any:
    """The model from skops bytes; a file needing any type beyond skops' defaults and
    TRUSTED_TYPES, or not a skops file at all, is refused with one line."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.loads(data, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as error:
        raise DataError(f"{name}: refusing to load untrusted types: {error}") from error
    except (BadZipFile, ValueError, KeyError, OSError) as error:  # not a skops zip, bad schema
        raise DataError(f"{name}: not a readable skops model ({error})") from error


def load_model(path: Path | None = None) -> Any:
    """The fitted model (default: paths.MODEL_FILE; or the protocol's list of fold models, from
    paths.FOLD_MODELS_FILE); use predict_declined for P(declined)."""
    path = path or paths.MODEL_FILE
    return load_model_bytes(path.read_bytes(), paths.shown(path))


def canonical(archive: bytes) -> bytes:
    """skops bytes rewritten so the same model gives the same bytes, however it was made (in
    this process, or in a worker and pickled back): object ids renumbered 1, 2, ... and array
    files 0.npy, 1.npy, ... in the order the schema lists them (id 0 would turn off skops' memo
    of shared objects), entries stored in that order with a fixed time and mode, compact JSON.

    skops gives every value the id() of its object, writes an object reachable twice (a stack's
    `estimators_` and `named_estimators_`) twice, and on load builds it once, from the first
    copy. So later copies are cut down to their id, which is all skops reads of them (half the
    size and dump time of a stack); and whether equal values share one object must not show:
    plain values (strings, numbers) lose their ids, and each model of a list of models (the
    protocol's fold models) numbers its objects afresh, so no object is shared between them."""
    with ZipFile(io.BytesIO(archive)) as source:
        schema = json.loads(source.read(SCHEMA))
        members = set(source.namelist()) - {SCHEMA}
        numbers = itertools.count(1)
        files: dict[str, str] = {}

        def renumber(node: Any, ids: dict[int, int]) -> Any:
            if isinstance(node, list):
                return [renumber(item, ids) for item in node]
            if not isinstance(node, dict):
                return node
            if node.get("__loader__") == "JsonNode":
                return {key: value for key, value in node.items() if key != "__id__"}
            if isinstance(node.get("__id__"), int) and node["__id__"] in ids:
                kept = {key: node[key] for key in _REFERENCE_KEYS if key in node}
                return kept | {"__id__": ids[node["__id__"]]}
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    out[key] = ids.setdefault(value, next(numbers))
                elif key == "file" and isinstance(value, str) and value in members:
                    suffix = PurePosixPath(value).suffix
                    out[key] = files.setdefault(value, f"{len(files)}{suffix}")
                elif key == "content" and node.get("__loader__") == "ListNode" and node is schema:
                    out[key] = [renumber(model, {}) for model in value]
                else:
                    out[key] = renumber(value, ids)
            return out

        schema = renumber(schema, {})
        if set(files) != members:  # an entry renumbering would lose: refuse to drop data
            raise ValueError(f"skops entries not named in the schema: {members - set(files)}")
        out = io.BytesIO()
        with ZipFile(out, "w", compression=ZIP_STORED) as target:
            _put(target, SCHEMA, json.dumps(schema, separators=(",", ":")).encode("utf-8"))
            for old, new in files.items():
                _put(target, new, source.read(old))
    return out.getvalue()


def _put(archive: ZipFile, name: str, data: bytes) -> None:
    info = ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = ZIP_STORED
    info.create_system = 3  # unix, whatever OS wrote it
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
