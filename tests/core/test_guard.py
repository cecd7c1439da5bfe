"""The one output guard every command that writes where the user says goes through: it refuses
git's and DVC's folders, the code, declared deps/outs, tracked files and symbolic links."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oneclick.core import guard
from oneclick.core.errors import DataError
from tests.conftest import ROOT, init_git

DVC_YAML = {
    "stages": {
        "sample": {"cmd": "python -m stages.sample", "outs": ["data/sample"]},
        "clean": {
            "cmd": "python -m stages.clean",
            "deps": ["${data.raw_dir}/money.csv", "stages/clean.py", "oneclick/core"],
            "outs": ["data/clean"],
        },
    }
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for folder in ("oneclick/core", "stages", "tests", ".dvc", "docs"):
        (root / folder).mkdir(parents=True)
    (root / "stages" / "clean.py").write_text("# code\n", encoding="utf-8")
    (root / "docs" / "guide.md").write_text("# tracked\n", encoding="utf-8")
    (root / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML), encoding="utf-8")
    (root / "params.yaml").write_text("data:\n  raw_dir: data/sample\n", encoding="utf-8")
    (root / ".dvc" / "config.local").write_text("[cache]\n    dir = ../../cache\n")
    (root / ".gitignore").write_text("/data/\n/out/\n", encoding="utf-8")
    init_git(root)
    (root / "data" / "clean").mkdir(parents=True)
    (root / "out").mkdir()
    return root


def check(project: Path, output: Path | str, **options: object) -> None:
    guard.check_output(project / output, "--out", root=project, **options)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (".git/HEAD", r"is inside the project's \.git/"),
        (".dvc/config.local", r"is inside the project's \.dvc/"),
        ("oneclick/core/x.py", "is inside the project's oneclick/"),
        ("stages/new.py", "is inside the project's stages/"),
        ("tests/x.csv", "is inside the project's tests/"),
        ("../cache/files/md5/ab/cdef", "is inside the DVC cache"),  # cache.dir of config.local
        ("dvc.lock", "is the pipeline's dvc.lock"),
        ("data/clean/x.csv", "is inside data/clean, an output of stage 'clean'"),
        ("data/sample/money.csv", "is data/sample/money.csv, a dependency of stage 'clean'"),
        ("docs/guide.md", "is tracked by git"),
    ],
)
def test_a_file_of_the_project_is_refused(project: Path, output: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as error:
        check(project, output)
    assert str(error.value).startswith("--out ") and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (".", "holds the pipeline's params.yaml"),
        (".git", r"is the project's \.git/"),
        (".dvc", r"is the project's \.dvc/"),
        ("oneclick", "is the project's oneclick/"),
        ("data", r"holds data/\S+, an? \w+ of stage"),
        ("data/clean", "is data/clean, an output of stage 'clean'"),
        ("docs", "holds files tracked by git"),
        ("stages/clean.py", "is not a directory"),
    ],
)
def test_a_folder_of_the_project_is_refused(project: Path, output: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        check(project, output, folder=True)


def test_new_files_and_folders_outside_the_pipeline_are_allowed(project: Path) -> None:
    check(project, "out/outcomes.json")
    check(project, "out", folder=True)
    check(project, "out/new/deeper", folder=True)
    check(project, "data/sample", folder=True, own=[project / "data/sample"])  # its own output
    with pytest.raises(DataError, match=r"data/sample.*of stage"):
        check(project, "data/sample", folder=True)


def test_what_the_command_reads_is_refused(project: Path) -> None:
    reading = [(project / "out" / "model.skops", "the model being read (--model)")]
    with pytest.raises(DataError, match=r"is the model being read \(--model\)"):
        check(project, "out/../out/model.skops", reading=reading)


@pytest.mark.parametrize("folder", [False, True])
def test_a_symbolic_link_anywhere_on_the_path_is_refused(
    project: Path, tmp_path: Path, folder: bool
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "out" / "link").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DataError, match=r"passes through .*out/link, which is a symbolic link"):
        check(project, "out/link/deeper/file.csv", folder=folder)
    (project / "out" / "file.csv").symlink_to(elsewhere / "file.csv")
    with pytest.raises(DataError, match=r"--out .*out/file\.csv: is a symbolic link"):
        check(project, "out/file.csv", folder=folder)


# End to end: outcomes and the sample generator refuse before writing anything.


def test_outcomes_refuses_a_pipeline_folder_and_writes_nothing() -> None:
    """`--output-dir data/shap` once made predict refuse to run (an unknown file in a DVC out)."""
    shap = ROOT / "data" / "shap"  # absent in a fresh clone before `make repro`: stays absent

    def listing() -> list[str] | None:
        return sorted(p.name for p in shap.iterdir()) if shap.is_dir() else None

    before = listing()
    run = subprocess.run(
        [sys.executable, "-c", "from oneclick.cli import main; main()", "outcomes",
         "--campaign", "x.csv", "--input", "absent", "--output-dir", "data/shap"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "error: --output-dir data/shap: is data/shap, an output of stage 'shap' in dvc.yaml; "
        "write elsewhere (outside the clone)"
    ]
    assert listing() == before


@pytest.mark.parametrize(("output", "what"), [(".git", r"\.git/"), ("tests", "tests/")])
def test_sample_generator_refuses_project_folders(output: str, what: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "stages.sample", "--output", output, "--n-customers", "5"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1
    assert f"--output {output}: is the project's {what.replace(chr(92), '')}" in run.stderr
    assert not (ROOT / output / "money.csv").exists()
