"""Every file dvc.yaml declares as metrics holds numbers only (no strings, lists, params echoes
or keys made of data values), and all of them together stay a readable `dvc exp show`."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from oneclick.core.paths import ROOT

MAX_LEAVES = 40  # columns `dvc exp show` gets from metrics, all files together


def metrics_files() -> list[str]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return [
        next(iter(entry)) if isinstance(entry, dict) else entry
        for stage in stages.values()
        for entry in stage.get("metrics", [])
    ]


def leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        return {
            k: v for key, sub in tree.items() for k, v in leaves(sub, f"{prefix}{key}.").items()
        }
    return {prefix.rstrip("."): tree}


@pytest.mark.parametrize("path", metrics_files())
def test_a_metrics_file_holds_numbers_only(path: str) -> None:
    values = leaves(json.loads((ROOT / path).read_text(encoding="utf-8")))
    bad = {k: v for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int | float)}
    assert not bad, f"{path}: not numbers: {bad}"
    for key in values:  # contract names (snake_case ASCII), never a data value like a category
        assert key.isascii() and " " not in key, f"{path}: key {key!r} looks data-derived"


def test_all_metrics_together_fit_a_readable_exp_show() -> None:
    total = sum(
        len(leaves(json.loads((ROOT / p).read_text(encoding="utf-8")))) for p in metrics_files()
    )
    assert total <= MAX_LEAVES, total
