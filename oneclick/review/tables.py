"""DVC's params/metrics diffs (`dvc params|metrics diff --json`) as Markdown tables.

A metric's name says which side is better (`roc_auc` up, `brier` down; `segment_size` has none:
it is a business trade-off); oneclick/review/verdicts.py uses that only beyond noise.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Metric names (as `_`/`.`-separated words of the key) where a move has a clear better side.
HIGHER_IS_BETTER = (
    "roc_auc",
    "auc",
    "average_precision",
    "pr_auc",
    "f1",
    "accuracy",
    "precision",
    "recall",
)
LOWER_IS_BETTER = ("brier", "log_loss", "logloss", "ece", "calibration_error")
NO_DIRECTION = ("std",)  # spread across folds: neither side is better


def _mentions(key: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(^|[^a-z]){w}($|[^a-z])", key.lower()) for w in words)


def direction(key: str) -> int:
    """+1 if higher is better, -1 if lower is better, 0 if the metric has no better side."""
    if _mentions(key, NO_DIRECTION):
        return 0
    if _mentions(key, LOWER_IS_BETTER):
        return -1
    return 1 if _mentions(key, HIGHER_IS_BETTER) else 0


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fmt(value: Any) -> str:
    """A table cell: floats to 6 significant digits, pipes escaped so the row stays one row."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "—" if value is None else " ".join(str(value).split()).replace("|", "\\|")


def change(old: Any, new: Any) -> str:
    """Arrow with the signed difference. No verdict: a move of one number says nothing about
    noise (verdicts come from oneclick/review/verdicts.py, paired on the same folds)."""
    if old == new:
        return "="
    if not (is_number(old) and is_number(new)):
        return "new" if old is None else "removed" if new is None else "changed"
    diff = new - old
    return f"{'↑' if diff > 0 else '↓'} {diff:+.4g}"


SE_SUFFIX, MEAN_SUFFIX = "_se", "_mean"  # protocol.roc_auc_se is the SE of protocol.roc_auc_mean


def with_se(value: Any, se: Any) -> str:
    """A mean with its standard error beside it, as one cell."""
    return fmt(value) if se is None else f"{fmt(value)} ± {fmt(se)}"


def metric_rows(diff: dict[str, dict]) -> tuple[list[list[str]], list[list[str]]]:
    """Rows (metric, base, head, change) of moved metrics and of unchanged ones; a standard error
    is shown beside its mean (and moves with it), never as a metric of its own."""
    moved: list[list[str]] = []
    same: list[list[str]] = []
    for path in sorted(diff):
        entries = diff[path]
        for key in sorted(entries):
            mean_key = key.removesuffix(SE_SUFFIX) + MEAN_SUFFIX
            if key.endswith(SE_SUFFIX) and mean_key in entries:
                continue
            old, new = entries[key].get("old"), entries[key].get("new")
            se = entries.get(key.removesuffix(MEAN_SUFFIX) + SE_SUFFIX, {})
            se_old, se_new = (
                (se.get("old"), se.get("new")) if key.endswith(MEAN_SUFFIX) else (None, None)
            )
            arrow = change(old, new)
            row = [f"`{Path(path).stem}` {key}", with_se(old, se_old), with_se(new, se_new), arrow]
            (same if arrow == "=" else moved).append(row)
    return moved, same


def param_rows(diff: dict[str, dict]) -> list[list[str]]:
    return [
        [f"`{key}`", fmt(entry.get("old")), fmt(entry.get("new"))]
        for path in sorted(diff)
        for key, entry in sorted(diff[path].items())
    ]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
