"""params.yaml: loading it (each stage's declared keys validated by params_schema), and the
check that a stage's params did not change while it ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from oneclick.core import params_schema, paths
from oneclick.core.errors import DataError, require
from oneclick.core.paths import DVC_FILE, PARAMS_FILE

ABSENT = object()  # a key params.yaml does not hold


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C: fast


class _UniqueKeyLoader(_SafeLoader):
    """YAML's safe loader refusing a key written twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise DataError(f"{PARAMS_FILE.name}: line {line}: key {key!r} written twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_params(path: Path | None = None) -> dict[str, Any]:
    """The whole params.yaml as a dict: one line for a file that is not a YAML mapping of
    blocks (empty, a list, invalid YAML, a duplicated key)."""
    path = path or paths.PARAMS_FILE
    require(path)
    try:
        with open(path, encoding="utf-8") as handle:
            params = yaml.load(handle, Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as error:
        raise DataError(f"{path.name}: not UTF-8 text ({error.reason})") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or "not YAML"
        raise DataError(f"{path.name}: {where}invalid YAML ({problem})") from error
    if not isinstance(params, dict):
        kind = "empty" if params is None else f"a {type(params).__name__}"
        raise DataError(f"{path.name}: {kind}; expected a mapping of blocks (data:, train:, ...)")
    return params


def load_stage(stage: str) -> dict[str, Any]:
    """params.yaml with the keys `stage` declares in dvc.yaml validated (params_schema), before
    the stage does any work."""
    params = load_params()
    params_schema.validate(params, stage_params(stage))
    return params


def stage_params(stage: str, dvc_file: Path | None = None) -> list[str]:
    """The dotted params.yaml keys `stage` declares in dvc.yaml (what DVC records in dvc.lock)."""
    dvc_file = dvc_file or paths.DVC_FILE
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
        before, after = lookup(read, key), lookup(now, key)
        if before != after:
            where, old, new = first_difference(key, before, after)
            raise DataError(
                f"{path.name}: {where} changed while the stage ran "
                f"({shown_value(old)} -> {shown_value(new)}); rerun"
            )


def lookup(params: Any, key: str) -> Any:
    """The value of dotted `key` in nested `params`; ABSENT when it is not there."""
    for part in key.split("."):
        if not isinstance(params, dict) or part not in params:
            return ABSENT
        params = params[part]
    return params


def first_difference(key: str, old: Any, new: Any) -> tuple[str, Any, Any]:
    """The deepest dotted key where two values differ (a block's changed leaf, not the block)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for part in [*old, *(k for k in new if k not in old)]:
            before, after = old.get(part, ABSENT), new.get(part, ABSENT)
            if before != after:
                return first_difference(f"{key}.{part}", before, after)
    return key, old, new


def shown_value(value: Any, limit: int = 60) -> str:
    """A param's value as a message quotes it (JSON, cut at `limit` characters)."""
    if value is ABSENT:
        return "absent"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
