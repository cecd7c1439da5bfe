"""Where `predict` may write: never over the project, the pipeline or its own input.

A scores file written over dvc.lock, params.yaml, a source file, a pipeline output or one of the
input files would destroy it without a word (exit 0). Each of these is refused with one line,
before anything is read or written: a directory or anything but a regular file; params.yaml,
dvc.yaml or dvc.lock; one of the four input files or the model being read; a path dvc.yaml
names as a stage's dependency or output (deps, outs, metrics, plots), or anything inside such a
directory; a file tracked by git, when the path is inside a git work tree.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from oneclick.core import paths
from oneclick.core.errors import DataError
from oneclick.data.contract import INPUT_FILES

ELSEWHERE = "write scores elsewhere (outside the clone)"
OUTPUT_KEYS = ("outs", "metrics", "plots")
_PARAM_REF = re.compile(r"\$\{([^}]+)\}")


def check_output(
    path: Path, input_dir: Path, model_path: Path, flag: str = "--output", root: Path = paths.ROOT
) -> None:
    """DataError (one line) unless `path` is a file predict may create or replace."""
    said = f"{flag} {path}"
    if path.is_dir():
        raise DataError(f"{said}: is a directory; give the name of a file to write")
    if path.exists() and not path.is_file():  # a FIFO, a device: replacing it would break it
        raise DataError(f"{said}: is not a regular file; give the name of a file to write")
    target = _real(path)
    for name in (paths.PARAMS_FILE.name, paths.DVC_FILE.name, paths.LOCK_FILE.name):
        if target == _real(root / name):
            raise DataError(f"{said}: is the pipeline's {name}; {ELSEWHERE}")
    if target in {_real(input_dir / spec.filename) for spec in INPUT_FILES}:
        raise DataError(f"{said}: is one of the input files (--input); {ELSEWHERE}")
    if target == _real(model_path):
        raise DataError(f"{said}: is the model being read (--model); {ELSEWHERE}")
    for declared, stage, kind in pipeline_paths(root):
        full = _real(root / declared)
        if target == full or full in target.parents:
            where = "is" if target == full else "is inside"
            raise DataError(
                f"{said}: {where} {declared}, {kind} of stage {stage!r} in dvc.yaml; {ELSEWHERE}"
            )
    if tracked_by_git(path):
        raise DataError(f"{said}: is tracked by git; {ELSEWHERE}")


def pipeline_paths(root: Path = paths.ROOT) -> Iterator[tuple[str, str, str]]:
    """(path, stage, 'a dependency' | 'an output') for every path dvc.yaml declares, with
    ${params} references resolved from params.yaml; the top-level plot files too."""
    dvc_file = root / paths.DVC_FILE.name
    if not dvc_file.is_file():
        return
    pipeline = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
    params_file = root / paths.PARAMS_FILE.name
    params = {}
    if params_file.is_file():
        params = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    for stage, record in (pipeline.get("stages") or {}).items():
        for item in record.get("deps", []) or []:
            yield from _entries(item, stage, "a dependency", params)
        for key in OUTPUT_KEYS:
            for item in record.get(key, []) or []:
                yield from _entries(item, stage, "an output", params)
    for plot in pipeline.get("plots", []) or []:  # top level: {id: {x: .., y: {file: column}}}
        for spec in plot.values() if isinstance(plot, dict) else []:
            for axis in ("x", "y"):
                files = spec.get(axis) if isinstance(spec, dict) else None
                for name in files if isinstance(files, dict) else []:
                    yield _resolve_refs(str(name), params), "plots", "an output"


def _entries(item: Any, stage: str, kind: str, params: dict[str, Any]) -> Iterator[tuple]:
    # an entry is a path, or {path: options}
    for name in item if isinstance(item, dict) else [item]:
        yield _resolve_refs(str(name), params), stage, kind


def _resolve_refs(text: str, params: dict[str, Any]) -> str:
    def value(match: re.Match) -> str:
        found: Any = params
        for part in match.group(1).strip().split("."):
            if not isinstance(found, dict) or part not in found:
                return match.group(0)
            found = found[part]
        return str(found)

    return _PARAM_REF.sub(value, text)


def tracked_by_git(path: Path) -> bool:
    """Whether git tracks `path` (or what it points to) in the work tree around it; False
    outside any git work tree or without git."""
    for candidate in {Path(os.path.abspath(path)), _real(path)}:
        folder = candidate.parent
        while not folder.is_dir():  # git -C needs a folder that exists
            folder = folder.parent
        try:
            result = subprocess.run(
                ["git", "-C", str(folder), "ls-files", "--error-unmatch", "--", str(candidate)],
                capture_output=True,
            )
        except OSError:  # no git on this machine: nothing can be tracked
            return False
        if result.returncode == 0:
            return True
    return False


def _real(path: Path) -> Path:
    """The absolute path with symlinks and `..` resolved (the file a write would reach)."""
    return Path(os.path.realpath(path))
