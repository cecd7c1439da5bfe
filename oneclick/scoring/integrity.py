"""Everything `predict` reads from the pipeline, verified against dvc.lock before it is used.

The trust root is dvc.lock, versioned in git: in a commit you trust, it names the md5 of every
pipeline output. Each artifact is read into memory once, its md5 is compared with dvc.lock's,
and it is parsed from those same bytes, so a file swapped after the check is never the one
used. The model is a skops file (oneclick/model/persistence.py), built only from trusted types;
the md5 check comes first, so not even that parser sees a file the pipeline did not write.

A directory output (data/features, data/shap) is verified the way DVC hashes it: the md5 of
each file, listed as sorted JSON ({"md5", "relpath"}), whose own md5 is the `.dir` hash in
dvc.lock. So every file in it is checked, including the ones predict does not read, and no
DVC cache is needed on a scoring host.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from oneclick.core import errors, paths, provenance
from oneclick.core.errors import DataError
from oneclick.features.spec import SPEC_FILE

LOCK_FILE = paths.LOCK_FILE


def out_name(path: Path) -> str:
    """A pipeline output's path as dvc.lock writes it (relative to the project, POSIX)."""
    return path.relative_to(paths.ROOT).as_posix()


def load_lock(lock_file: Path = LOCK_FILE, dvc_file: Path = paths.DVC_FILE) -> dict[str, Any]:
    """dvc.lock, parsed, after checking that it lists only stages dvc.yaml declares, each with
    outputs dvc.yaml declares for it, and no output twice. (A stage appended to dvc.lock that
    lists the model with a forged md5 leaves `dvc status` quiet; predict must not trust it.)"""
    if not lock_file.is_file():
        raise DataError(f"{lock_file.name}: missing; cannot verify the pipeline's outputs")
    try:
        lock = provenance.load_lock_text(lock_file.read_bytes())
    except yaml.YAMLError as error:
        raise DataError(f"{lock_file.name}: not valid YAML ({error.__class__.__name__})") from error
    stages = lock.get("stages") if isinstance(lock, dict) else None
    if not isinstance(stages, dict):
        raise DataError(f"{lock_file.name}: no stages mapping; cannot verify the pipeline")
    declared = declared_outs(dvc_file)
    owner: dict[str, str] = {}
    for stage, record in stages.items():
        if stage not in declared:
            raise DataError(
                f"{lock_file.name}: stage {stage!r} is not declared in {dvc_file.name}; "
                "refusing to trust it (restore dvc.lock from git)"
            )
        for item in (record or {}).get("outs", []) or []:
            out = item.get("path") if isinstance(item, dict) else None
            if out in owner:
                raise DataError(
                    f"{lock_file.name}: {out} is listed twice (stages {owner[out]!r} and "
                    f"{stage!r}); refusing to trust it (restore dvc.lock from git)"
                )
            if out not in declared[stage]:
                raise DataError(
                    f"{lock_file.name}: stage {stage!r} lists {out}, which {dvc_file.name} "
                    "does not declare as its output; refusing to trust it"
                )
            owner[out] = stage
    return lock


def declared_outs(dvc_file: Path = paths.DVC_FILE) -> dict[str, set[str]]:
    """{stage: the paths dvc.yaml declares as its outs, metrics and plots}."""
    errors.require(dvc_file)
    stages = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))["stages"]
    return {
        stage: {
            next(iter(item)) if isinstance(item, dict) else item
            for kind in ("outs", "metrics", "plots")
            for item in (definition or {}).get(kind, []) or []
        }
        for stage, definition in stages.items()
    }


def lock_outs(lock: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """dvc.lock's outputs by path: {out: its record (md5, size, ...) and its stage}."""
    return {
        item["path"]: {**item, "stage": stage}
        for stage, record in lock["stages"].items()
        for item in (record or {}).get("outs", []) or []
    }


def read_lock(lock_file: Path = LOCK_FILE) -> dict[str, dict[str, Any]]:
    """dvc.lock's outputs by path, from a lock load_lock accepted."""
    return lock_outs(load_lock(lock_file))


def locked_md5(outs: dict[str, dict[str, Any]], out: str, lock_name: str = "dvc.lock") -> str:
    """The md5 dvc.lock records for output path `out`; DataError when there is none."""
    if out not in outs:
        raise DataError(f"{lock_name}: no entry for {out}; run `dvc repro` to produce it")
    item = outs[out]
    if item.get("hash", "md5") != "md5" or not item.get("md5"):
        raise DataError(f"{lock_name}: stage {item['stage']!r}: {out} has no md5 recorded")
    return str(item["md5"])


def _mismatch(path: Path, actual: str, expected: str, out: str) -> DataError:
    return DataError(
        f"{paths.shown(path)}: md5 {actual} differs from {expected} recorded for {out} in "
        f"{LOCK_FILE.name}; refusing to load an artifact the pipeline did not produce"
    )


def verified_file(path: Path, out: str, outs: dict[str, dict[str, Any]]) -> bytes:
    """The bytes of `path`, read once, after their md5 matched dvc.lock's for `out`."""
    expected = locked_md5(outs, out)
    errors.require(path)
    data = path.read_bytes()
    actual = hashlib.md5(data).hexdigest()
    if actual != expected:
        raise _mismatch(path, actual, expected, out)
    return data


def verified_dir(path: Path, outs: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """Every file of directory output `path`, read once, after the directory's DVC hash of
    those bytes matched dvc.lock's."""
    out = out_name(path)
    expected = locked_md5(outs, out)
    if not path.is_dir():
        raise errors.missing_input(path)
    files = provenance.dir_files(path)
    actual = provenance.dir_md5(files)
    if actual != expected:
        raise _mismatch(path, actual, expected, out)
    return files


def locked_versions(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """The model's and the merged data's versions as the segment stage quotes them
    (oneclick/segment/workbook.py), from the md5s dvc.lock records for them."""
    outs = read_lock(lock_file)
    model, data = (locked_md5(outs, out_name(p)) for p in (paths.MODEL_FILE, paths.MERGED_DIR))
    return {"model": model, "data": data.removesuffix(".dir")}


@dataclass(frozen=True)
class Artifacts:
    """What `predict` takes from the pipeline, each parsed from bytes dvc.lock vouched for."""

    model: Any
    spec: dict[str, Any]
    train: pd.DataFrame  # training part: the background of the shap stage's explainer
    shap_values: pd.DataFrame  # the shap stage's values, for drivers borrowed from neighbours
    shap_features: pd.DataFrame  # the feature values those SHAP values explain


def _member(files: dict[str, bytes], path: Path) -> bytes:
    if path.name not in files:
        raise errors.missing_input(path)
    return files[path.name]


def load_verified_model(model_path: Path, outs: dict[str, dict[str, Any]]) -> Any:
    """The model at model_path (the pipeline's, or a copy), loaded only if its bytes are the
    ones dvc.lock records for models/model.skops."""
    from oneclick.model.persistence import load_model_bytes

    data = verified_file(model_path, out_name(paths.MODEL_FILE), outs)
    return load_model_bytes(data, paths.shown(model_path))


def check_made_with_locked_params(
    stage: str, record: bytes, lock: dict[str, Any], name: str
) -> None:
    """`stage`'s params record (bytes dvc.lock vouched for) must hold the params dvc.lock
    recorded for it: an edit while the stage ran would have put other params there."""
    made = provenance.parse_record(record, name)
    locked = provenance.locked_params(lock, stage)
    provenance.check_against(stage, made, locked, LOCK_FILE.name, name)


def load_artifacts(model_path: Path = paths.MODEL_FILE, lock_file: Path = LOCK_FILE) -> Artifacts:
    """The model, feature spec, training part and SHAP tables, all verified against dvc.lock,
    made with the params dvc.lock records for them."""
    lock = load_lock(lock_file)
    outs = lock_outs(lock)
    model = load_verified_model(model_path, outs)
    train_record = provenance.RECORDS["train"]
    record = verified_file(train_record, out_name(train_record), outs)
    check_made_with_locked_params("train", record, lock, paths.shown(train_record))
    features = verified_dir(paths.FEATURES_DIR, outs)
    shap = verified_dir(paths.SHAP_DIR, outs)
    shap_record = provenance.RECORDS["shap"]
    record = _member(shap, shap_record)
    check_made_with_locked_params("shap", record, lock, paths.shown(shap_record))
    return Artifacts(
        model=model,
        spec=json.loads(_member(features, SPEC_FILE).decode("utf-8")),
        train=pd.read_csv(io.BytesIO(_member(features, paths.TRAIN_FILE))),
        shap_values=pd.read_csv(io.BytesIO(_member(shap, paths.SHAP_VALUES_FILE))),
        shap_features=pd.read_csv(io.BytesIO(_member(shap, paths.SHAP_FEATURES_FILE))),
    )
