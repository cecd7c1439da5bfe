"""params.yaml: loading it, and the checks shared by several stages' params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from oneclick.core.errors import DataError
from oneclick.core.paths import PARAMS_FILE


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
