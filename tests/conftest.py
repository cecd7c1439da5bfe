"""Shared fixtures: the real data (skipped when absent) and reproduced copies of the project.

Integration tests never touch the working tree: they run DVC in a copy under a temp dir. The
session-wide `reproduced_project` is built once (a full `dvc repro` on sample data); a test that
changes anything takes its own `clone_project(reproduced_project, tmp_path)`, which shares the
DVC cache contents so reruns only recompute what the change invalidates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA_DIR = ROOT.parent / "shared" / "data" / "oneclick"
VENV_BIN = Path(sys.executable).parent


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


def clone_project(src: Path, dst: Path) -> Path:
    """Copy a reproduced project (git history, DVC cache and outputs) so a test can change it."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    return dst


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real data not present at {REAL_DATA_DIR}")
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def reproduced_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project after a full `dvc repro` on the sample data, committed on main."""
    repo = fresh_copy(tmp_path_factory.mktemp("project") / "repo")
    dvc(["repro", "--quiet"], repo)
    git(["add", "-A"], repo)
    git(["commit", "-q", "--allow-empty", "-m", "reproduced"], repo)
    return repo
