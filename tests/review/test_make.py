"""The Makefile's own targets, run on a copy in a temporary folder: the venv is rebuilt exactly
when its Python is not the one asked for, `make help` lists every target, `make clean` removes
only git-ignored files that make and the tools write."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

REBUILD = "make: rebuilding .venv"


def fake_python(path: Path, ident: str, works: bool = True) -> Path:
    """An executable that answers the Makefile's identity question like a Python would."""
    body = f'echo "{ident} {path}"' if works else "exit 1"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "requirements.txt", "constraints.txt", "pyproject.toml", ".gitignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-n", *args], cwd=project, capture_output=True, text=True, timeout=60
    )


def test_venv_is_rebuilt_when_python_changes_or_does_not_match(project) -> None:
    base = fake_python(project / "base311", "cpython-3.11.7")
    venv_python = fake_python(project / ".venv" / "bin" / "python", "cpython-3.11.7")
    stamp = project / ".venv" / ".installed"
    stamp.write_text(f"cpython-3.11.7 {base}\n", encoding="utf-8")
    other = fake_python(project / "py312", "cpython-3.12.1")
    same = fake_python(project / "py311", "cpython-3.11.7")

    assert REBUILD not in make(project, "repro").stdout  # nothing asked: the recorded one
    assert "pip install" not in make(project, "repro").stdout  # and the stamp is up to date
    assert REBUILD not in make(project, "repro", f"PYTHON={same}").stdout
    changed = make(project, "repro", f"PYTHON={other}").stdout
    assert REBUILD in changed and "rm -rf .venv" in changed and f"{other} -m venv" in changed
    assert f"echo 'cpython-3.12.1 {other}' > .venv/.installed" in changed  # recorded

    fake_python(venv_python, "", works=False)  # the venv's Python broke (e.g. removed pyenv)
    broken = make(project, "repro").stdout
    assert REBUILD in broken and f"{base} -m venv" in broken  # from the recorded one

    missing = subprocess.run(
        ["make", "repro", f"PYTHON={project / 'nope'}"], cwd=project, capture_output=True, text=True
    )
    assert missing.returncode != 0 and "does not run (need Python 3.11-3.13)" in missing.stderr
    assert venv_python.is_file()  # nothing removed


def test_help_lists_every_target(project) -> None:
    result = subprocess.run(["make", "help"], cwd=project, capture_output=True, text=True)
    listed = {line.split()[1] for line in result.stdout.splitlines()}
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    phony = {
        target
        for line in makefile.splitlines()
        if line.startswith(".PHONY:") and "$(" not in line
        for target in line.split()[1:]
    }
    assert phony and phony <= listed, phony - listed


def test_clean_removes_only_ignored_files_of_tools(project) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)

    git("init", "-q")
    files = {
        "report.md": False,
        "report/roc.png": False,
        "plots_offline/index.html": False,
        "oneclick/__pycache__/x.cpython-311.pyc": False,
        "oneclick/x.py": True,  # tracked source
        "plots/train/a.png": True,  # tracked output
        "data/clean/market.csv": True,  # the pipeline's (DVC's) output: dvc checkout's business
        "models/model.skops": True,
        "notes.txt": True,  # untracked, not ignored: someone's work
    }
    for name in files:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(name, encoding="utf-8")
    git("add", "oneclick/x.py", "plots/train/a.png")
    result = subprocess.run(
        ["make", "clean", "STAMP="], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert {name: (project / name).exists() for name in files} == files
