"""Output folders of `oneclick plots` and `oneclick report`: made fresh, never someone else's.

A folder is cleared only when it holds the marker file the command itself wrote there; a folder
of the project's own (.git, .dvc, models, data, the package), the project root, a symlink or a
non-empty folder without the marker is refused with one line, and nothing is deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from oneclick.core import guard
from oneclick.core.errors import DataError
from oneclick.core.paths import ROOT, shown
from oneclick.core.writers import write_text

MARKER = ".oneclick-output"  # its text: the command that owns the folder
FOLDER_FLAG = {"plots": "--out", "report": "--images"}  # the option that names the folder
# the folders guard.check_output protects, and the pipeline outputs' folders as a whole
PROTECTED = (*guard.PROTECTED_DIRS, "models", "data")


def _refusal(path: Path) -> str | None:
    """Why the command must never write or clear `path`, or None."""
    if path.is_symlink():
        return "is a symlink"
    resolved = path.resolve()
    root = ROOT.resolve()
    if resolved == root or resolved in root.parents:
        return "is the project itself or holds it"
    for name in PROTECTED:
        if resolved == root / name or (root / name) in resolved.parents:
            return f"is the project's {name}/ or inside it"
    return None


def fresh_dir(path: Path, command: str) -> Path:
    """An empty folder at `path` carrying `command`'s marker: created, or emptied only when an
    earlier run of `command` marked it; anything else raises one DataError line."""
    reason = _refusal(path)
    if reason is None and path.is_dir() and any(path.iterdir()):
        marker = path / MARKER
        if not marker.is_file() or marker.read_text(encoding="utf-8").strip() != command:
            reason = f"holds files `oneclick {command}` did not write (no {MARKER} marker)"
    if reason is None and path.exists() and not path.is_dir():
        reason = "is a file"
    if reason:
        raise DataError(f"{shown(path)}: refusing to use as the output folder: it {reason}")
    # then the guard every writing command shares (declared deps/outs, tracked files, DVC cache)
    guard.check_output(path, FOLDER_FLAG.get(command, "--out"), folder=True, root=ROOT)
    if path.is_dir():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    write_text(command + "\n", path / MARKER)
    return path


def refuse_foreign_file(path: Path, first_line: str) -> None:
    """One DataError line unless `path` may be replaced: absent, or a file that starts with
    `first_line` (the command wrote it), outside the project's own folders, not a symlink."""
    reason = _refusal(path)
    if reason is None and path.exists():
        if not path.is_file():
            reason = "is not a file"
        else:
            with path.open("rb") as handle:
                start = handle.read(len(first_line.encode("utf-8")))
            if start != first_line.encode("utf-8"):
                reason = f"does not start with {first_line!r}: not written by this command"
    if reason:
        raise DataError(f"{shown(path)}: refusing to replace: it {reason}")
    guard.check_output(path, "--out", root=ROOT)
