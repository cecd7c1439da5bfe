"""Deterministic writers: the same data gives the same bytes (rounded floats, sorted keys, LF)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FLOAT_DECIMALS = 6  # rounding of every float written to a tracked file


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
