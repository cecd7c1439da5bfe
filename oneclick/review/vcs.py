"""The dvc and git command lines, called for their JSON/text output (DVC's documented interface)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from oneclick.core.errors import DataError
from oneclick.core.paths import ROOT

# The dvc of the interpreter's own venv, so `python -m tools.x` works without an activated venv.
_VENV_DVC = Path(sys.executable).with_name("dvc")
DVC = str(_VENV_DVC) if _VENV_DVC.exists() else "dvc"


def first_error(stderr: str) -> str:
    """The line of a failed command's output worth showing: DVC's `ERROR:` line, else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "fatal"))]
    line = (errors or lines or ["no output"])[0 if errors else -1]
    return line.removeprefix("ERROR:").strip()


def run_tool(args: list[str], cwd: Path = ROOT) -> str:
    """Stdout of a command; a failure becomes one DataError line naming the command."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        name = " ".join(Path(args[0]).name if i == 0 else a for i, a in enumerate(args[:4]))
        raise DataError(f"`{name}` failed: {first_error(result.stderr or result.stdout)}")
    return result.stdout


def dvc_json(args: list[str], cwd: Path = ROOT) -> Any:  # an object or a list, per command
    """`dvc <args> --json` parsed (DVC prints nothing at all when there is nothing to diff)."""
    out = run_tool([DVC, *args, "--json"], cwd)
    return json.loads(out) if out.strip() else {}


def git(args: list[str], cwd: Path = ROOT) -> str:
    return run_tool(["git", *args], cwd).strip()
