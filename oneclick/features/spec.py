"""The feature spec: which columns the model reads, in which order, and how to build them.

Written by the features stage (data/features/feature_spec.json); every later consumer (train,
evaluate, shap, scoring) turns merged customer rows into model input with `prepare_features`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from oneclick.core import paths
from oneclick.features.engineered import add_engineered

SPEC_FILE = paths.FEATURES_DIR / "feature_spec.json"


def feature_columns(spec: dict[str, Any]) -> list[str]:
    """Model input columns in the order the pipeline expects: numeric, nominal, ordinal."""
    return [*spec["numeric"], *spec["nominal"], *spec["ordinal"]]


def load_spec(path: Path | None = None) -> dict[str, Any]:
    """The feature spec written by the features stage (default: SPEC_FILE)."""
    return json.loads((path or SPEC_FILE).read_text(encoding="utf-8"))


def prepare_features(merged: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Merged customer rows (contract FEATURES) -> the model's input columns per the spec."""
    return add_engineered(merged, list(spec.get("engineered", {})))[feature_columns(spec)]
