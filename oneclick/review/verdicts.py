"""Verdicts only beyond noise: base vs head on the same protocol folds and the same test customers.

Protocol scores: the paired per-fold differences (same folds on both revisions), their mean with
the Nadeau–Bengio corrected SE and a two-sided t-test. Test part: a paired bootstrap over the
same test customers (both revisions' predictions resampled together). Either way a verdict is
"better" or "worse" only at p < 0.05 (or a 95% interval excluding 0), else "within noise".
When the two revisions did not see the same data or the same folds, no comparison is made.
"""

from __future__ import annotations

import io
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from oneclick.core.paths import PLOTS_DIR, ROOT
from oneclick.core.stats import corrected_se, two_class_resamples
from oneclick.review.tables import direction
from oneclick.review.vcs import git

PROTOCOL_FOLDS = (PLOTS_DIR / "evaluate" / "protocol_folds.csv").relative_to(ROOT).as_posix()
TEST_PREDICTIONS = "data/predictions/test.csv"
FOLD_KEYS = ("protocol_repeats", "protocol_folds", "protocol_seed")
ALPHA = 0.05


def verdict(key: str, mean: float, p: float) -> str:
    """better / worse / within noise for a difference head − base of metric `key`."""
    if not p < ALPHA or mean == 0 or direction(key) == 0:
        return "within noise"
    return "better" if mean * direction(key) > 0 else "worse"


def fold_differences(base: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    """Per protocol fold (repeat, fold): each score's base and head values side by side."""
    merged = base.merge(head, on=["repeat", "fold"], suffixes=("_base", "_head"))
    if len(merged) != len(base) or len(merged) != len(head):
        raise ValueError("the two revisions' protocol folds differ")
    return merged.sort_values(["repeat", "fold"]).reset_index(drop=True)


def paired_folds(base: pd.DataFrame, head: pd.DataFrame, k: int) -> list[dict[str, Any]]:
    """Per protocol score: base and head fold means, head − base on the same folds, verdict."""
    merged = fold_differences(base, head)
    rows = []
    ratio = 1 / (k - 1)
    for score in ("roc_auc", "brier", "log_loss"):
        diff = (merged[f"{score}_head"] - merged[f"{score}_base"]).to_numpy()
        mean = float(diff.mean())
        se = corrected_se(diff, ratio) if len(diff) > 1 else 0.0
        p = 1.0 if se == 0 else float(2 * stats.t.sf(abs(mean / se), len(diff) - 1))
        rows.append(
            {
                "metric": f"protocol {score}",
                "base": float(merged[f"{score}_base"].mean()),
                "head": float(merged[f"{score}_head"].mean()),
                "change": f"{mean:+.4f} ± {se:.4f} (p = {p:.2g})",
                "verdict": verdict(score, mean, p),
            }
        )
    return rows


def not_compared(metric: str, reason: str) -> dict[str, Any]:
    """A headline row for a comparison that could not be made, saying why in one line."""
    return {
        "metric": metric,
        "base": None,
        "head": None,
        "change": "not compared",
        "verdict": " ".join(reason.split()),
    }


def paired_bootstrap(
    base: pd.DataFrame, head: pd.DataFrame, samples: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Test ROC-AUC, head − base, by resampling the same test customers for both revisions."""
    from sklearn.metrics import roc_auc_score

    both = base.merge(head, on="id", suffixes=("_base", "_head"))
    if len(both) != len(base) or len(both) != len(head):
        raise ValueError("the two revisions scored different test customers")
    y = both["declined_base"].to_numpy()
    p_base, p_head = both["probability_base"].to_numpy(), both["probability_head"].to_numpy()
    diffs = [
        roc_auc_score(y[rows], p_head[rows]) - roc_auc_score(y[rows], p_base[rows])
        for rows in two_class_resamples(y, samples, seed)
    ]
    low, high = np.percentile(diffs, [2.5, 97.5])
    mean = roc_auc_score(y, p_head) - roc_auc_score(y, p_base)
    inside = low <= 0 <= high
    return {
        "metric": "test roc_auc",
        "base": float(roc_auc_score(y, p_base)),
        "head": float(roc_auc_score(y, p_head)),
        "change": f"{mean:+.4f} (95% {low:+.4f} to {high:+.4f})",
        "verdict": "within noise" if inside else ("better" if mean > 0 else "worse"),
    }


def _lock_facts(lock: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """(md5 of the data every fold is drawn from, the fold params) from a dvc.lock."""
    stages = lock.get("stages", {})
    features = stages.get("features", {})
    data = {d["path"]: d.get("md5") for d in features.get("deps", []) if d["path"] == "data/merged"}
    params = stages.get("evaluate", {}).get("params", {}).get("params.yaml", {})
    evaluate = params.get("evaluate", {}) if "evaluate" in params else params
    folds = {k: evaluate.get(k, params.get(f"evaluate.{k}")) for k in FOLD_KEYS}
    return data, folds


def incomparable(base_lock: dict[str, Any], head_lock: dict[str, Any]) -> str | None:
    """Why the two revisions cannot be compared fold by fold, or None when they can."""
    base_data, base_folds = _lock_facts(base_lock)
    head_data, head_folds = _lock_facts(head_lock)
    if base_data != head_data:
        return "the two revisions were run on different data (data/merged differs in dvc.lock)"
    if base_folds != head_folds:
        return f"the protocol's folds differ ({base_folds} vs {head_folds})"
    return None


def read_at(rev: str, path: str) -> str | None:
    """A git-tracked file's text at a revision (None when it was not there)."""
    try:
        return git(["show", f"{rev}:{path}"])
    except Exception:  # absent at that revision: nothing to compare
        return None


class Comparison(NamedTuple):
    """The headline's rows (verdicts or "not compared") and the per-fold scores of both sides."""

    rows: list[dict[str, Any]]
    folds: pd.DataFrame | None


# What a comparison can meet in files of another revision: missing columns or rows, bad CSV.
INCOMPARABLE = (ValueError, KeyError, TypeError, OSError)


def compare(base: str) -> Comparison:
    """Base vs head on the protocol's folds and on the test part; never raises for a pair of
    revisions that cannot be compared: each such comparison becomes a "not compared" row."""
    head_lock = yaml.safe_load((ROOT / "dvc.lock").read_text(encoding="utf-8")) or {}
    base_lock = yaml.safe_load(read_at(base, "dvc.lock") or "{}") or {}
    rows, folds = _protocol_part(base, base_lock, head_lock)
    rows.append(_test_part(base))
    return Comparison(rows, folds)


def _protocol_part(
    base: str, base_lock: dict[str, Any], head_lock: dict[str, Any]
) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    metric = "protocol scores"
    reason = incomparable(base_lock, head_lock)
    if reason:
        return [not_compared(metric, reason)], None
    base_folds = read_at(base, PROTOCOL_FOLDS)
    if base_folds is None:
        return [not_compared(metric, f"`{base}` has no {PROTOCOL_FOLDS} (no protocol then)")], None
    try:
        base_frame = pd.read_csv(io.StringIO(base_folds))
        head_frame = pd.read_csv(ROOT / PROTOCOL_FOLDS)
        k = _lock_facts(head_lock)[1]["protocol_folds"]
        return paired_folds(base_frame, head_frame, k), fold_differences(base_frame, head_frame)
    except INCOMPARABLE as error:
        return [not_compared(metric, str(error))], None


def _test_part(base: str) -> dict[str, Any]:
    metric = "test roc_auc"
    base_test = _dvc_read(TEST_PREDICTIONS, base)
    if base_test is None:
        return not_compared(metric, f"`{base}`'s {TEST_PREDICTIONS} is not in the DVC cache")
    try:
        head_test = pd.read_csv(ROOT / TEST_PREDICTIONS)
        return paired_bootstrap(pd.read_csv(io.StringIO(base_test)), head_test)
    except INCOMPARABLE as error:
        return not_compared(metric, str(error))


def _dvc_read(path: str, rev: str) -> str | None:
    """A DVC-tracked file at a revision, from the local cache only (None when absent)."""
    import dvc.api

    try:
        return dvc.api.read(path, repo=str(ROOT), rev=rev, remote=None)
    except Exception:  # not cached here: the comparison is skipped, and said so
        return None
