"""data.raw_dir never passes through a shell: dvc.yaml's commands interpolate no param (DVC runs
`cmd` with a shell), the clean stage reads the directory from params.yaml itself."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from oneclick.core.paths import ROOT
from tests import bad_inputs
from tests.conftest import VENV_BIN, code_sandbox

# every character a shell acts on inside "…", and Cyrillic and spaces besides
HOSTILE = "сырые данные $(touch INJECTED) `touch INJECTED2` $HOME \"dq\" 'sq' ${PATH}"


def test_no_stage_command_interpolates_a_param() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    assert {name: stage["cmd"] for name, stage in stages.items() if "${" in stage["cmd"]} == {}


def test_clean_reads_a_raw_dir_full_of_shell_characters_as_written(tmp_path: Path) -> None:
    box = code_sandbox(tmp_path / "box")
    bad_inputs.write_sample(box / HOSTILE, n=60)
    params = yaml.safe_load((box / "params.yaml").read_text(encoding="utf-8"))
    params["data"]["raw_dir"] = HOSTILE
    (box / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), "utf-8")
    stage = yaml.safe_load((box / "dvc.yaml").read_text(encoding="utf-8"))["stages"]["clean"]
    # what DVC runs: the command with ${…} interpolated, through a shell
    command = stage["cmd"].replace("${data.raw_dir}", HOSTILE)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(command, shell=True, cwd=box, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not (box / "INJECTED").exists() and not (box / "INJECTED2").exists()
    quality = json.loads((box / "metrics" / "data_quality.json").read_text(encoding="utf-8"))
    assert (box / "data" / "clean" / "market_file.csv").is_file() and quality
