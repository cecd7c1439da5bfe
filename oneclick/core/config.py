"""params.yaml: loading it, the checks shared by several stages' params, and the check that a
stage's params did not change while it ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from oneclick.core.errors import DataError, require
from oneclick.core.paths import DVC_FILE, PARAMS_FILE

_ABSENT = object()  # a key params.yaml does not hold


def check_fraction(
    name: str, value: Any, open_interval: bool = False, nullable: bool = False
) -> None:
    """A probability, share or quantile param (dotted `name`) must be a number in [0, 1]."""
    if value is None and nullable:
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    inside = number and (0 < value < 1 if open_interval else 0 <= value <= 1)  # NaN fails both
    if not inside:
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise DataError(f"params.yaml: {name}: {value!r} is not a number in {interval}")


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """The whole params.yaml as a dict."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def stage_params(stage: str, dvc_file: Path = DVC_FILE) -> list[str]:
    """The dotted params.yaml keys `stage` declares in dvc.yaml (what DVC records in dvc.lock)."""
    require(dvc_file)
    stages = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))["stages"]
    keys: list[str] = []
    for item in stages[stage].get("params", []) or []:
        if isinstance(item, str):
            keys.append(item)
        elif isinstance(item, dict):  # {file: [keys]}: only params.yaml is read by the stages
            keys.extend(item.get(PARAMS_FILE.name, []) or [])
    return keys


def check_unchanged(
    stage: str, read: dict[str, Any], path: Path = PARAMS_FILE, dvc_file: Path = DVC_FILE
) -> None:
    """At a stage's end: its declared params must still hold the values it read (`read`, the
    params.yaml it loaded at its start). DVC records params.yaml as it is when the stage ends,
    so an edit made while the stage ran would put params into dvc.lock (and the run cache)
    that the outputs were not made with; this stops the stage with one line instead."""
    now = load_params(path)
    for key in stage_params(stage, dvc_file):
        before, after = _lookup(read, key), _lookup(now, key)
        if before != after:
            where, old, new = _first_difference(key, before, after)
            raise DataError(
                f"{path.name}: {where} changed while the stage ran "
                f"({_shown(old)} -> {_shown(new)}); rerun"
            )


def _lookup(params: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(params, dict) or part not in params:
            return _ABSENT
        params = params[part]
    return params


def _first_difference(key: str, old: Any, new: Any) -> tuple[str, Any, Any]:
    """The deepest dotted key where two values differ (a block's changed leaf, not the block)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for part in [*old, *(k for k in new if k not in old)]:
            before, after = old.get(part, _ABSENT), new.get(part, _ABSENT)
            if before != after:
                return _first_difference(f"{key}.{part}", before, after)
    return key, old, new


def _shown(value: Any, limit: int = 60) -> str:
    if value is _ABSENT:
        return "absent"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
