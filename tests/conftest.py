"""Shared fixtures: the real data (skipped when absent) and reproduced copies of the project.

Integration tests never touch the working tree: they run DVC in a copy under a temp dir. The
session-wide `reproduced_project` is built once (a full `dvc repro` on sample data, with fewer
protocol repeats and SHAP paths than the committed params: TEST_PARAMS); a test that changes
anything takes its own `clone_project(reproduced_project, tmp_path)`, which shares the DVC cache
contents so reruns only recompute what the change invalidates. No test reads the checkout's own
DVC outputs (data/, models/): the suite passes on a fresh clone before `make repro`. Whether the
committed outputs are what the code reproduces is CI's `git diff --exit-code` after `make repro`.

Markers (pyproject.toml): a test that needs `reproduced_project` is marked `pipeline`
automatically; `make test-fast` runs the rest (`-m "not pipeline and not slow"`). `make test`
runs on two processes (pytest-xdist): tests share nothing writable but `reproduced_project`,
which is built once per run and only read (DVC commands, even read-only ones, take the repo's
lock: they run in a clone).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
import yaml
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA_DIR = ROOT.parent / "shared" / "data" / "oneclick"
VENV_BIN = Path(sys.executable).parent
# The test copy of the pipeline: the committed sample (the campaign acceptance needs its size),
# one protocol repeat (5 fold models, so 5 for SHAP to average), fewer bootstrap resamples and
# SHAP paths: 8 for the customers nobody reads, 64 for the ones who can enter the segment (enough
# for predict's drivers to agree with the stage's: tests/scoring/test_predict.py). No test
# depends on their committed values.
TEST_PARAMS = {
    "evaluate": {"protocol_repeats": 1, "bootstrap_samples": 100},
    "shap": {"n_paths": 8, "n_paths_read": 64},
}
# `dvc status --json` of the committed dvc.lock against the copied code and params, saved by
# `reproduced_project` before it changes anything (tests/pipeline/test_pipeline.py reads it)
COMMITTED_STATUS = ".git/committed-status.json"


def run_cmd(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command with the venv first on PATH (DVC stages call `python`)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DVC_NO_ANALYTICS", None)
    env["DVC_NO_ANALYTICS"] = "1"
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def dvc(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return run_cmd([str(VENV_BIN / "dvc"), *args], cwd, check)


def git(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return run_cmd(["git", *args], cwd, check)


def tracked_files(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [p for p in out.split("\0") if p and (repo / p).is_file()]


def init_git(repo: Path) -> None:
    git(["init", "-q", "-b", "main"], repo)
    git(["config", "user.email", "ci@example.invalid"], repo)
    git(["config", "user.name", "CI"], repo)
    git(["add", "-A"], repo)
    git(["commit", "-q", "-m", "copy of the project"], repo)


def fresh_copy(dst: Path) -> Path:
    """Copy the project's files (tracked or not ignored) into dst as a new git repo."""
    for rel in tracked_files(ROOT):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    init_git(dst)
    return dst


def code_sandbox(directory: Path) -> Path:
    """The project's code, params and dvc.yaml in a temp dir: a stage run there (`python -m
    stages.X`, from its root, so it imports the copy's own package) writes its outputs there."""
    for code in ("stages", "oneclick"):
        shutil.copytree(ROOT / code, directory / code, ignore=shutil.ignore_patterns("__py*"))
    # dvc.yaml too: a stage checks at its end that the params it declares there did not change
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy2(ROOT / name, directory / name)
    return directory


@contextlib.contextmanager
def project_paths(root: Path) -> Iterator[Path]:
    """oneclick.core.paths pointed at root for the duration: whatever an in-process stage run
    writes through paths.X lands there, never in the checkout. Constants other modules derived
    from paths at import (and default arguments) still name the checkout: fine for a stage that
    only reads params.yaml and writes through paths.X (clean), not for one that reads outputs."""
    from oneclick.core import paths

    home = paths.ROOT
    saved = {k: v for k, v in vars(paths).items() if isinstance(v, Path) and v.is_relative_to(home)}
    try:
        for name, path in saved.items():
            setattr(paths, name, root / path.relative_to(home))
        yield root
    finally:
        for name, path in saved.items():
            setattr(paths, name, path)


def run_in_process(main: Callable[[], None], args: list[str], root: Path) -> tuple[int, str]:
    """(exit code, stderr) of `entry.run(main)` with sys.argv[1:] = args and the project's paths
    at root: a stage run as `python -m stages.X` runs it, without a new interpreter. A warning
    counts as a stderr line (a subprocess would print it), an escaping exception as a traceback."""
    from oneclick.core import entry

    err = io.StringIO()
    with (
        project_paths(root),
        mock.patch.object(sys, "argv", ["stage", *args]),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            entry.run(main)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except Exception:
            traceback.print_exc(file=err)
            code = 1
    lines = [warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught]
    return code, err.getvalue() + "".join(lines)


def clone_project(src: Path, dst: Path) -> Path:
    """Copy a reproduced project (git history, DVC cache and outputs) so a test can change it."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    return dst


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real data not present at {REAL_DATA_DIR}")
    return REAL_DATA_DIR


def set_params(repo: Path, changes: dict[str, dict]) -> None:
    """Set {block: {key: value}} in repo's params.yaml line by line (comments and layout kept,
    as `dvc exp run -S` would): each key a scalar one level down in its block."""
    path = repo / "params.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for block, values in changes.items():
        start = lines.index(f"{block}:\n")
        for key, value in values.items():
            at = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(f"  {key}:"))
            comment = lines[at].partition(" #")[2]
            lines[at] = f"  {key}: {value}" + (f"  #{comment}" if comment else "\n")
    path.write_text("".join(lines), encoding="utf-8")
    changed = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert all(changed[b][k] == v for b, kv in changes.items() for k, v in kv.items()), changes


@pytest.fixture(scope="session")
def reproduced_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project after a full `dvc repro` on the sample data with TEST_PARAMS,
    committed on main (copy, test params, outputs: three commits). Built once per run: under
    pytest-xdist the first worker that needs it builds it in the run's shared temp dir while the
    others wait on a file lock, then every worker uses that one copy (read-only: a test that
    changes anything, or runs DVC in it, takes a `clone_project`)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, above each worker's own
    repo, built = shared / "project" / "repo", shared / "project" / "built"
    with FileLock(shared / "project.lock"):
        if not built.exists():
            shutil.rmtree(repo.parent, ignore_errors=True)  # a build that failed half-way
            repo.parent.mkdir()
            build_project(repo)
            built.touch()
    return repo


def build_project(repo: Path) -> None:
    fresh_copy(repo)
    status = dvc(["status", "--json"], repo, check=False)
    (repo / COMMITTED_STATUS).write_text(json.dumps([status.returncode, status.stdout]), "utf-8")
    set_params(repo, TEST_PARAMS)
    git(["commit", "-q", "-am", "test params"], repo)
    dvc(["repro", "--quiet"], repo)
    git(["add", "-A"], repo)
    git(["commit", "-q", "--allow-empty", "-m", "reproduced"], repo)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the reproduced project (directly or through a fixture) is a
    `pipeline` test: `make test-fast` leaves it out. Pipeline tests run first: under `-n 2 --dist
    worksteal` the first half of the list (the pipeline tests) goes to one worker, which builds
    the project while the other runs unit tests, then steals what is left."""
    for item in items:
        if "reproduced_project" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pipeline)
    items.sort(key=lambda item: item.get_closest_marker("pipeline") is None)  # stable
