"""The params a stage's outputs were made with, recorded beside them, and the checks that
nothing pairs those outputs with other params; the versions (DVC md5s) of what a stage reads.

DVC records params.yaml in dvc.lock (and the run-cache) after a stage's command exits, so an
edit made while the stage ran (after its own end-of-stage check, config.check_unchanged) would
pair the outputs with params they were not made with. So the stages whose outputs later stages
build on write the params they read (the keys they declare in dvc.yaml, as dvc.lock lists them)
into a small record that is one of their outs: the run-cache restores it together with them.
A consumer compares the records it builds on with the params it declares (`check_records`; a
key it does not declare is not its to read: `dvc repro -s` may have left it ahead), and the
records with each other where they share a key; `predict` compares them with the params
dvc.lock recorded (`check_against`).
"""

from __future__ import annotations

import hashlib
import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from oneclick.core import config, paths, writers
from oneclick.core.errors import DataError, missing_input, require

# the producing stage -> its record (inside a directory out, or an out of its own)
RECORDS = {
    "train": paths.MODELS_DIR / "model.params.json",
    "evaluate": paths.PREDICTIONS_DIR / "params.json",
    "shap": paths.SHAP_DIR / "params.json",
}
# knobs that change how fast, never what (tests/pipeline/test_determinism.py): not recorded, so
# outputs stay byte-identical whatever their value
SPEED_ONLY = "n_jobs"


class LockLoader(yaml.SafeLoader):
    """YAML as DVC writes dvc.lock (YAML 1.2): PyYAML's 1.1 rules read its `1e-06` as text."""


LockLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_lock_text(data: bytes | str) -> Any:
    """dvc.lock's content, numbers read as DVC wrote them."""
    return yaml.load(data, Loader=LockLoader)  # a SafeLoader: nothing but plain data


def made_with(stage: str, params: dict[str, Any], dvc_file: Path = paths.DVC_FILE) -> dict:
    """{declared key: its value in params}: what dvc.lock records for `stage` when params.yaml
    did not change while it ran (values as JSON holds them)."""
    keys = [k for k in config.stage_params(stage, dvc_file) if k.split(".")[-1] != SPEED_ONLY]
    found = {key: config.lookup(params, key) for key in keys}
    return {key: _normal(value) for key, value in found.items() if value is not config.ABSENT}


def record_bytes(stage: str, params: dict[str, Any], dvc_file: Path = paths.DVC_FILE) -> bytes:
    text = json.dumps(made_with(stage, params, dvc_file), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def write_record(stage: str, params: dict[str, Any]) -> None:
    """Record the params `stage` read (inside the stage's writers.together() block)."""
    writers.write_bytes(record_bytes(stage, params), RECORDS[stage])


def parse_record(data: bytes, name: str) -> dict[str, Any]:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{name}: not a params record ({error.__class__.__name__})") from error
    if not isinstance(record, dict):
        raise DataError(f"{name}: not a params record (a JSON object expected)")
    return record


def read_record(stage: str) -> dict[str, Any]:
    path = RECORDS[stage]
    require(path)
    return parse_record(path.read_bytes(), paths.shown(path))


def check_records(consumer: str, params: dict[str, Any], *producers: str) -> None:
    """A consumer's check of the records of the stages it builds on: each param `consumer`
    declares holds in every record the value it has in params.yaml, and the records agree
    wherever two hold the same param (the model, its scores and their SHAP values were made
    with the same train params)."""
    declared = [k for k in config.stage_params(consumer) if k.split(".")[-1] != SPEED_ONLY]
    records = {stage: _nested(read_record(stage)) for stage in producers}
    for stage, record in records.items():
        made = {k: v for k in declared if (v := config.lookup(record, k)) is not config.ABSENT}
        check_against(stage, made, params, paths.PARAMS_FILE.name, paths.shown(RECORDS[stage]))
    for (first, one), (later, other) in combinations(records.items(), 2):
        mine, theirs = _leaves(one), _leaves(other)
        for key in mine.keys() & theirs.keys():
            if mine[key] != theirs[key]:
                raise DataError(
                    f"{paths.shown(RECORDS[later])}: the {later} stage's outputs were made with "
                    f"{key} = {config.shown_value(theirs[key])}, the {first} stage's with "
                    f"{config.shown_value(mine[key])}; rerun it: dvc repro {later}"
                )


def check_against(
    stage: str, record: dict[str, Any], params: dict[str, Any], source: str, name: str
) -> None:
    """Every key of `stage`'s record must hold the same value in `params` (read from `source`,
    params.yaml or dvc.lock); else one line naming the first differing leaf."""
    for key, value in record.items():
        now = _normal(config.lookup(params, key))
        if now != value:
            where, made, found = config.first_difference(key, value, now)
            raise DataError(
                f"{name}: the {stage} stage's outputs were made with {where} = "
                f"{config.shown_value(made)}, {source} has {config.shown_value(found)} (an edit "
                f"while it ran?); rerun it: dvc repro --force --single-item {stage}"
            )


def _leaves(record: dict[str, Any]) -> dict[str, Any]:
    """A record by dotted leaf key ({"train": {"knn": {"k": 5}}} -> {"train.knn.k": 5})."""
    leaves = {}
    for key, value in record.items():
        if isinstance(value, dict) and value:
            leaves.update(_leaves({f"{key}.{k}": v for k, v in value.items()}))
        else:
            leaves[key] = value
    return leaves


def locked_params(lock: dict[str, Any], stage: str) -> dict[str, Any]:
    """The params dvc.lock recorded for `stage` (dotted and block keys, as params.yaml
    nests them)."""
    record = ((lock.get("stages") or {}).get(stage) or {}).get("params") or {}
    return _nested(record.get(paths.PARAMS_FILE.name) or {})


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys as params.yaml nests them ({"shap.n_paths": 8} -> {"shap": {"n_paths": 8}})."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *blocks, leaf = str(key).split(".")
        place = nested
        for block in blocks:
            place = place.setdefault(block, {})
        place[leaf] = value
    return nested


def check_lock_file(lock_file: Path = paths.LOCK_FILE) -> None:
    """Before `dvc repro`: a dvc.lock that is there must be a YAML mapping. A kill while DVC
    rewrites it leaves it empty, and every DVC command then fails with a traceback."""
    if not lock_file.exists():
        return  # the first `dvc repro` writes it
    recover = f"recover with `git checkout -- {lock_file.name}` (docs/reliability.md)"
    text = lock_file.read_bytes()
    if not text.strip():
        raise DataError(
            f"{lock_file.name}: empty ({len(text)} bytes; a run killed while DVC wrote it?); "
            f"{recover}"
        )
    try:
        lock = load_lock_text(text)
    except yaml.YAMLError as error:
        kind = error.__class__.__name__
        raise DataError(f"{lock_file.name}: not valid YAML ({kind}); {recover}") from error
    if not isinstance(lock, dict) or not isinstance(lock.get("stages", {}), dict):
        raise DataError(f"{lock_file.name}: not a DVC lock file (no stages mapping); {recover}")


def dir_files(path: Path) -> dict[str, bytes]:
    """Every file of a directory output, by relative POSIX path."""
    files = sorted(f for f in path.rglob("*") if f.is_file())
    return {file.relative_to(path).as_posix(): file.read_bytes() for file in files}


def dir_md5(files: dict[str, bytes]) -> str:
    """DVC's hash of a directory output with these files (relative POSIX path -> bytes)."""
    entries = sorted(
        ({"md5": hashlib.md5(data).hexdigest(), "relpath": rel} for rel, data in files.items()),
        key=lambda entry: entry["relpath"],
    )
    listing = json.dumps(entries, sort_keys=True).encode("utf-8")
    return hashlib.md5(listing).hexdigest() + ".dir"


def out_md5(path: Path) -> str:
    """The md5 dvc.lock records for a pipeline output (a file, or a directory: "<md5>.dir"),
    computed from the files themselves: a stage that declares the output may quote it."""
    if not path.exists():
        raise missing_input(path)
    return dir_md5(dir_files(path)) if path.is_dir() else hashlib.md5(path.read_bytes()).hexdigest()


def _normal(value: Any) -> Any:
    """A value as the JSON record holds it (speed-only knobs left out), so both sides of a
    comparison read alike."""
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items() if k != SPEED_ONLY}
    return value if value is config.ABSENT else json.loads(json.dumps(value, default=str))


if __name__ == "__main__":  # `make repro` runs this before `dvc repro`
    from oneclick.core import entry

    entry.run(check_lock_file)
