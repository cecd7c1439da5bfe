"""Shared plumbing for stage scripts: paths, params, deterministic writers, clean failures."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = ROOT / "params.yaml"

DATA = ROOT / "data"
SAMPLE_DIR = DATA / "sample"
CLEAN_DIR = DATA / "clean"
MERGED_DIR = DATA / "merged"
FEATURES_DIR = DATA / "features"
PREDICTIONS_DIR = DATA / "predictions"
SHAP_DIR = DATA / "shap"
SEGMENT_DIR = DATA / "segment"
MODELS_DIR = ROOT / "models"
METRICS_DIR = ROOT / "metrics"
PLOTS_DIR = ROOT / "plots"
REPORTS_DIR = ROOT / "reports"

DATA_QUALITY_METRICS = METRICS_DIR / "data_quality.json"
DATA_QUALITY_REPORT = REPORTS_DIR / "data_quality.md"
SEGMENT_METRICS = METRICS_DIR / "segment.json"
EDA_PLOTS_DIR = PLOTS_DIR / "eda"
MERGED_FILE = MERGED_DIR / "customers.csv"
TRAIN_FILE = FEATURES_DIR / "train.csv"
TEST_FILE = FEATURES_DIR / "test.csv"
MODEL_FILE = MODELS_DIR / "model.joblib"
SCORES_FILE = PREDICTIONS_DIR / "scores.csv"
SHAP_VALUES_FILE = SHAP_DIR / "values.csv"  # per customer: SHAP per feature, base, output
SHAP_FEATURES_FILE = SHAP_DIR / "feature_values.csv"  # the feature values explained
SHAP_DRIVERS_FILE = SHAP_DIR / "drivers.csv"

FLOAT_DECIMALS = 6  # rounding of every float written to a tracked file

log = logging.getLogger("oneclick")


class DataError(Exception):
    """Bad input: reported as one line naming file, column and problem; exit code 2."""


def shown(path: Path | str) -> str:
    """A path as messages name it: relative to the project when inside it."""
    full = Path(path).absolute()
    return full.relative_to(ROOT).as_posix() if full.is_relative_to(ROOT) else str(path)


def missing_input(path: Path | str) -> DataError:
    """The one wording for an upstream output that is not there (a stage run out of order)."""
    return DataError(f"{shown(path)}: missing; run the upstream stages first (dvc repro)")


def require(*paths: Path) -> None:
    """Upstream outputs a stage needs before it starts work: the first missing one is named."""
    for path in paths:
        if not path.is_file():
            raise missing_input(path)


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


def rounded(value: Any, decimals: int = FLOAT_DECIMALS) -> Any:
    """Recursively round floats (and numpy scalars) so JSON output is stable across runs."""
    if isinstance(value, dict):
        return {str(k): rounded(v, decimals) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, decimals) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return round(value, decimals)
    return value


def write_json(data: Any, path: Path) -> None:
    """Write JSON with sorted keys, rounded floats and a trailing newline (diffs well in git)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(rounded(data), ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def write_csv(frame: Any, path: Path, index: bool = False) -> None:
    """Write a DataFrame as UTF-8 CSV with LF line ends and rounded floats."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # round to decimals (not significant digits): large revenues keep every digit
    frame.round(FLOAT_DECIMALS).to_csv(path, index=index, lineterminator="\n")


def write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def save_figure(figure: Any, path: Path) -> None:
    """Save a matplotlib figure as PNG without timestamps or software metadata, then close it."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def setup_matplotlib() -> None:
    """Headless, deterministic matplotlib (fixed hash salt for SVG ids, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "oneclick"
    matplotlib.rcParams["figure.max_open_warning"] = 0


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(): bad input or a missing upstream file becomes one line on stderr and
    exit code 2, no traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main()
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as error:  # run by hand before the stages whose outputs it reads
        print(f"error: {missing_input(error.filename or str(error))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
