"""Where everything lives: the project root and every file the stages read or write."""

from __future__ import annotations

from pathlib import Path


def _project_root() -> Path:
    """The checkout to work on: the one around the current directory, like git and dvc find
    theirs, else the one this package lives in. A stage runs from its checkout's root, so both
    agree there; the `oneclick` command (an editable install points at one checkout) then works
    on the copy it is run in, e.g. a temporary clone or DVC's experiment workspace."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file() and (folder / "oneclick" / "core").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]


ROOT = _project_root()
PARAMS_FILE = ROOT / "params.yaml"
DVC_FILE = ROOT / "dvc.yaml"
LOCK_FILE = ROOT / "dvc.lock"

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
SEGMENT_SUMMARY = REPORTS_DIR / "segment.json"  # everything the segment reports are made of
EDA_PLOTS_DIR = PLOTS_DIR / "eda"
MERGED_FILE = MERGED_DIR / "customers.csv"
TRAIN_FILE = FEATURES_DIR / "train.csv"
TEST_FILE = FEATURES_DIR / "test.csv"
MODEL_FILE = MODELS_DIR / "model.skops"
FOLD_MODELS_FILE = MODELS_DIR / "folds.skops"  # the protocol's fitted models, in fold order
SCORES_FILE = PREDICTIONS_DIR / "scores.csv"
FOLDS_FILE = PREDICTIONS_DIR / "folds.csv"  # id, repeat, fold: who each fold model held out
SHAP_VALUES_FILE = SHAP_DIR / "values.csv"  # per customer: SHAP per feature, base, output
SHAP_FEATURES_FILE = SHAP_DIR / "feature_values.csv"  # the feature values explained
SHAP_DRIVERS_FILE = SHAP_DIR / "drivers.csv"
SHAP_IMPORTANCE_FILE = PLOTS_DIR / "shap_data" / "importance.csv"  # mean |SHAP| per feature


def shown(path: Path | str) -> str:
    """A path as messages name it: relative to the project when inside it."""
    full = Path(path).absolute()
    return full.relative_to(ROOT).as_posix() if full.is_relative_to(ROOT) else str(path)
