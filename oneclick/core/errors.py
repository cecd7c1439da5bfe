"""Bad input as one kind of error: DataError, reported as one line (file, column, problem)."""

from __future__ import annotations

from pathlib import Path

from oneclick.core.paths import shown


class DataError(Exception):
    """Bad input: reported as one line naming file, column and problem; exit code 2."""


def missing_input(path: Path | str) -> DataError:
    """The one wording for an upstream output that is not there (a stage run out of order)."""
    return DataError(f"{shown(path)}: missing; run the upstream stages first (dvc repro)")


def require(*paths: Path) -> None:
    """Upstream outputs a stage needs before it starts work: the first missing one is named."""
    for path in paths:
        if not path.is_file():
            raise missing_input(path)
