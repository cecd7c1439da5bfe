"""params.yaml is kept in the exact format `dvc exp run -S key=value` writes back, so an
experiment's params.yaml diff is the one line it sets (no reformatting noise in branches and PRs).

`dvc exp run -S` (no hydra in .dvc/config) calls `dvc.utils.hydra.apply_overrides`: the file is
loaded with ruamel's round-trip loader, every value replaced by the overridden copy, and dumped
by DVC's own writer (block lists, plain strings, null as empty, 80-column folding). These tests
run that very function on a copy of params.yaml."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from dvc.utils.hydra import apply_overrides
from dvc.utils.serialize import modify_yaml

from tests.conftest import ROOT

PARAMS = ROOT / "params.yaml"

# The overrides the README shows, each with candidate values (the first that differs is set).
OVERRIDES = {
    "segment.threshold": (0.6, 0.5),
    "data.raw_dir": ("../shared/data/oneclick", "data/other"),
    "train.knn.n_neighbors": (25, 15),
}


def get(tree: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree[part]
    return tree


def set_value(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        tree = tree[part]
    tree[last] = value


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.fixture()
def params_copy(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    shutil.copyfile(PARAMS, path)
    return path


def test_dvc_round_trip_without_change_is_byte_identical(params_copy: Path) -> None:
    with modify_yaml(params_copy):
        pass
    assert params_copy.read_bytes() == PARAMS.read_bytes()


@pytest.mark.parametrize("key", sorted(OVERRIDES))
def test_exp_run_set_param_changes_exactly_one_line(params_copy: Path, key: str) -> None:
    before = PARAMS.read_text(encoding="utf-8")
    expected = yaml.safe_load(before)
    value = next(v for v in OVERRIDES[key] if v != get(expected, key))
    set_value(expected, key, value)

    apply_overrides(params_copy, [f"{key}={value}"])
    after = params_copy.read_text(encoding="utf-8")

    assert yaml.safe_load(after) == expected
    changed = changed_lines(before, after)
    leaf = key.rsplit(".", 1)[-1]
    assert len(changed) == 2, "\n".join(changed)
    assert changed[0].startswith("-") and changed[1].startswith("+")
    assert changed[1].lstrip("+ ").startswith(f"{leaf}: {value}"), changed


def test_hydra_composition_is_off() -> None:
    """With hydra enabled, -S would regenerate params.yaml from a config dir instead."""
    assert "hydra" not in (ROOT / ".dvc" / "config").read_text(encoding="utf-8")
