"""Where `predict` may write: the shared output guard (oneclick/core/guard.py) plus its own input.

Besides what the guard refuses everywhere, predict's outputs may not be one of the four input
files or the model it reads; every file it writes is checked (FILE, NAME.segment.csv,
NAME.summary.json, --timings) before anything is read or written.
"""

from __future__ import annotations

from pathlib import Path

from oneclick.core import guard, paths
from oneclick.data.contract import INPUT_FILES


def check_output(
    path: Path, input_dir: Path, model_path: Path, flag: str = "--output", root: Path = paths.ROOT
) -> None:
    """DataError (one line) unless `path` is a file predict may create or replace."""
    inputs = "one of the input files (--input)"
    reading = [(input_dir / spec.filename, inputs) for spec in INPUT_FILES]
    reading.append((model_path, "the model being read (--model)"))
    guard.check_output(path, flag, reading=reading, root=root)
