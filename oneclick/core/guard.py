"""Where a command may write a file or folder the user named: never over the project itself.

One guard for every command that writes where the user says (`oneclick predict`, `oneclick
outcomes`, the sample generator, `oneclick plots`/`report`). Each of these is refused with one
line naming the option, before anything is read or written:
- a symbolic link anywhere on the path (it would send the write somewhere else);
- a folder where a file is wanted, a file where a folder is wanted, a FIFO or a device;
- git's and DVC's own folders (.git/, .dvc/, the DVC cache), the package, the stage code and the
  tests (oneclick/, stages/, tests/), params.yaml, dvc.yaml, dvc.lock;
- a path dvc.yaml declares as a stage's dependency or output (deps, outs, metrics, plots), or
  anything inside such a folder;
- a file tracked by git; for a folder: one holding any of the above or a tracked file;
- what the command itself reads (`reading`: (path, what it is), e.g. the model being read).
A command's own declared output (the sample stage's data/sample) is allowed through `own`.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from oneclick.core import paths, writers
from oneclick.core.errors import DataError

ELSEWHERE = "write elsewhere (outside the clone)"
PROTECTED_DIRS = (".git", ".dvc", "oneclick", "stages", "tests")
OUTPUT_KEYS = ("outs", "metrics", "plots")
_PARAM_REF = re.compile(r"\$\{([^}]+)\}")


def check_output(
    path: Path,
    flag: str,
    *,
    reading: Sequence[tuple[Path, str]] = (),
    own: Sequence[Path] = (),
    folder: bool = False,
    root: Path = paths.ROOT,
) -> None:
    """DataError (one line, `flag path: ...`) unless `path` is a file (`folder`: a folder) the
    command may create or replace; see the module docstring for what is refused."""
    said = f"{flag} {path}"
    link = writers.symlink_on(path)
    if link is not None:
        where = "is" if link == Path(os.path.abspath(path)) else f"passes through {link}, which is"
        raise DataError(f"{said}: {where} a symbolic link; give the real path")
    if folder and path.exists() and not path.is_dir():
        raise DataError(f"{said}: is not a directory; give the name of a directory to write")
    if not folder and path.is_dir():
        raise DataError(f"{said}: is a directory; give the name of a file to write")
    if not folder and path.exists() and not path.is_file():  # a FIFO, a device: would break
        raise DataError(f"{said}: is not a regular file; give the name of a file to write")
    target, owned = _real(path), [_real(p) for p in own]
    protected = [(root / name, f"the pipeline's {name}") for name in _PIPELINE_FILES]
    protected += [(root / name, f"the project's {name}/") for name in PROTECTED_DIRS]
    protected += [(cache, "the DVC cache") for cache in dvc_cache_dirs(root)]
    protected += list(reading)
    for declared, stage, kind in pipeline_paths(root):
        full = _real(root / declared)
        if not any(full == o or o in full.parents for o in owned):
            protected.append((full, f"{declared}, {kind} of stage {stage!r} in dvc.yaml"))
    for place, what in protected:
        place = _real(place)
        if target == place or place in target.parents:
            relation = "is" if target == place else "is inside"
            raise DataError(f"{said}: {relation} {what}; {ELSEWHERE}")
        if folder and target in place.parents:
            raise DataError(f"{said}: holds {what}; {ELSEWHERE}")
    if tracked_by_git(path, inside=folder):
        raise DataError(f"{said}: {'holds files' if folder else 'is'} tracked by git; {ELSEWHERE}")


_PIPELINE_FILES = (paths.PARAMS_FILE.name, paths.DVC_FILE.name, paths.LOCK_FILE.name)


def dvc_cache_dirs(root: Path = paths.ROOT) -> list[Path]:
    """The DVC cache folders of the project: .dvc/cache and any `cache.dir` its configs set."""
    found = [root / ".dvc" / "cache"]
    for name in ("config", "config.local"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / ".dvc" / name, encoding="utf-8")
        except configparser.Error:  # DVC itself reports a broken config
            continue
        if parser.has_option("cache", "dir"):
            found.append(root / ".dvc" / parser.get("cache", "dir"))  # relative to .dvc/
    return found


def pipeline_paths(root: Path = paths.ROOT) -> Iterator[tuple[str, str, str]]:
    """(path, stage, 'a dependency' | 'an output') for every path dvc.yaml declares, with
    ${params} references resolved from params.yaml; the top-level plot files too."""
    dvc_file = root / paths.DVC_FILE.name
    if not dvc_file.is_file():
        return
    pipeline = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
    params_file = root / paths.PARAMS_FILE.name
    params: dict[str, Any] = {}
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


def tracked_by_git(path: Path, inside: bool = False) -> bool:
    """Whether git tracks `path` (`inside`: any file in the folder `path`) in the work tree
    around it; False outside any git work tree or without git."""
    candidate = _real(path)
    folder = candidate if inside and candidate.is_dir() else candidate.parent
    while not folder.is_dir():  # git -C needs a folder that exists
        folder = folder.parent
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "--error-unmatch", "--", str(candidate)],
            capture_output=True,
        )
    except OSError:  # no git on this machine: nothing can be tracked
        return False
    return result.returncode == 0


def _real(path: Path) -> Path:
    """The absolute path with symlinks and `..` resolved (the file a write would reach)."""
    return Path(os.path.realpath(path))
