"""Bad input never ends in a traceback: the corpus of tests/bad_inputs.py through the commands.

Every broken case must exit non-zero with exactly one `error: <file>: ...` line on stderr (log
lines aside); every tolerated oddity must give the same clean tables as the untouched sample.
The corpus runs in-process through the entry runner (tests.conftest.run_in_process: entry.run,
its exit code and stderr), each case with the project's paths in its own sandbox directory (outputs
land there, never in the project); a few cases also run as subprocesses, exactly as DVC and users
run the commands, and so does the scoring command (it needs a project's model).
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from oneclick.core import paths
from oneclick.data import contract as c
from stages import clean as clean_stage
from tests import bad_inputs
from tests.conftest import clone_project, code_sandbox, dvc, git, run_in_process

CASES = bad_inputs.cases()
BROKEN = [case for case in CASES if not case.ok]
TOLERATED = [case for case in CASES if case.ok]
GOOD = "good"


@dataclass(frozen=True)
class Run:
    code: int
    stderr: str
    sandbox: Path

    @property
    def problems(self) -> list[str]:
        """stderr lines that are not log records: the error line(s), tracebacks, warnings."""
        return [line for line in self.stderr.splitlines() if not line.startswith("INFO ")]


def run_module(module: str, args: list[str], cwd: Path) -> Run:
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True
    )
    return Run(result.returncode, result.stderr, cwd)


def run_clean(data: Path, sandbox: Path) -> Run:
    """`python -m stages.clean --input data` in-process, its outputs under sandbox (which gets the
    checkout's params.yaml and dvc.yaml: the stage validates the params it declares)."""
    sandbox.mkdir(parents=True, exist_ok=True)
    for name in ("params.yaml", "dvc.yaml"):
        if not (sandbox / name).exists():
            shutil.copy2(paths.ROOT / name, sandbox / name)
    return Run(*run_in_process(clean_stage.main, ["--input", str(data)], sandbox), sandbox)


def run_predict(repo: Path, *args: str) -> Run:
    """`python -m stages.predict ARGS` in repo, a subprocess: scoring's modules bind paths of the
    project (its model, dvc.lock, feature spec) at import, which an in-process run cannot move."""
    return run_module("stages.predict", list(args), repo)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    good = bad_inputs.write_sample(root / GOOD)
    for case in CASES:
        bad_inputs.build(case, good, root / case.name)
    return root


@pytest.fixture(scope="session")
def clean_runs(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """`python -m stages.clean --input <case>` for the good sample and every case, in-process."""
    boxes = tmp_path_factory.mktemp("clean_sandboxes")
    names = [GOOD, *(case.name for case in CASES)]
    return {name: run_clean(corpus / name, boxes / name) for name in names}


def assert_one_line_error(run: Run, file: str, expect: str = "") -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code != 0
    assert len(run.problems) == 1, run.stderr
    line = run.problems[0]
    assert line.startswith(f"error: {file}: ") or line.startswith(f"error: {file} "), line
    assert expect.casefold() in line.casefold(), f"{expect!r} not in {line!r}"


def clean_outputs(run: Run) -> dict[str, bytes]:
    return {
        f.filename: (run.sandbox / "data" / "clean" / f.filename).read_bytes()
        for f in c.INPUT_FILES
    }


def directory_digest(directory: Path) -> str:
    digest = hashlib.md5()
    for path in sorted(directory.glob("*.csv")):
        # a directory or FIFO in a file's place counts by its kind (reading a FIFO would block)
        kind = stat.filemode(path.stat().st_mode).encode()
        content = path.read_bytes() if path.is_file() else kind
        digest.update(path.name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def test_corpus_covers_every_file_and_every_case_changes_something(corpus: Path) -> None:
    assert {case.file for case in BROKEN} == {f.filename for f in c.INPUT_FILES}
    assert len({case.name for case in CASES}) == len(CASES)
    directories = [corpus / GOOD, *(corpus / case.name for case in CASES)]
    assert len({directory_digest(d) for d in directories}) == len(directories)


def test_good_sample_cleans(clean_runs: dict[str, Run]) -> None:
    run = clean_runs[GOOD]
    assert run.code == 0, run.stderr
    assert run.problems == []


# Smoke tests of the command itself, as DVC runs it: a new interpreter in a copy of the code.
SUBPROCESS_CASES = ["market_money-decimal-comma", "market_file-bom"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_clean_as_a_subprocess_matches_the_in_process_run(
    name: str, corpus: Path, clean_runs: dict[str, Run], tmp_path: Path
) -> None:
    run = run_module("stages.clean", ["--input", str(corpus / name)], code_sandbox(tmp_path))
    assert run.code == clean_runs[name].code
    assert run.problems == clean_runs[name].problems
    if run.code == 0:
        assert clean_outputs(run) == clean_outputs(clean_runs[name])
    else:
        assert not (tmp_path / "data" / "clean").exists()


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_broken_input_fails_with_one_line(case: bad_inputs.Case, clean_runs) -> None:
    run = clean_runs[case.name]
    assert_one_line_error(run, case.file, case.expect)
    assert not (run.sandbox / "data" / "clean").exists(), "outputs written despite the error"


@pytest.mark.parametrize("case", TOLERATED, ids=lambda case: case.name)
def test_tolerated_input_gives_the_same_clean_tables(case: bad_inputs.Case, clean_runs) -> None:
    run, good = clean_runs[case.name], clean_runs[GOOD]
    assert run.code == 0, run.stderr
    assert run.problems == []
    assert clean_outputs(run) == clean_outputs(good)


# The scoring command shares clean's reading and validation: a few cases through it too, in the
# reproduced project (it needs the model); it writes only its --output file.
SCORING_CASES = [
    "market_file-cp1251",
    "market_money-decimal-comma",
    "market_time-lost-id",
    "money-missing",
    "market_file-unknown-category",
    "market_money-all-zero-revenue",
    "money-huge-float",
    "market_file-fifo",
    "market_time-truncated",
    "market_file-padded-id-twin",
]


@pytest.mark.parametrize("name", SCORING_CASES)
def test_scoring_rejects_broken_input(
    name: str, corpus: Path, reproduced_project: Path, tmp_path: Path
) -> None:
    case = next(case for case in CASES if case.name == name)
    out = tmp_path / "scores.csv"
    run = run_predict(reproduced_project, "--input", str(corpus / name), "--output", str(out))
    assert_one_line_error(run, case.file, case.expect)
    assert not out.exists()


def test_scoring_accepts_files_without_target(
    corpus: Path, reproduced_project: Path, tmp_path: Path
) -> None:
    """New data has no target yet: the case clean rejects is what scoring is for (a subprocess:
    the scoring command's smoke test as users run it)."""
    out = tmp_path / "scores.csv"
    run = run_module(
        "stages.predict",
        ["--input", str(corpus / "market_file-no-target"), "--output", str(out)],
        reproduced_project,
    )
    assert run.code == 0, run.stderr
    assert out.is_file()


def test_scoring_reads_cr_line_ends(corpus: Path, reproduced_project: Path, tmp_path: Path) -> None:
    """An old export's bare-CR line ends score like the same file with CRLF."""
    outputs = {}
    for name in (GOOD, "market_money-cr"):
        out = tmp_path / f"{name}.csv"
        args = ["--input", str(corpus / name), "--output", str(out), "--drivers", "neighbours"]
        run = run_predict(reproduced_project, *args)
        assert run.code == 0, run.stderr
        outputs[name] = out.read_bytes()
    assert outputs["market_money-cr"] == outputs[GOOD]


def output_digests(repo: Path) -> dict[str, str]:
    """md5 of every pipeline output (cached or git-tracked) listed in dvc.lock."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    paths = [out["path"] for stage in lock["stages"].values() for out in stage.get("outs", [])]
    digests = {}
    for rel in paths:
        path = repo / rel
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digests[file.relative_to(repo).as_posix()] = hashlib.md5(file.read_bytes()).hexdigest()
    return digests


def set_raw_dir(repo: Path, raw_dir: str) -> None:
    params_file = repo / "params.yaml"
    params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    params["data"]["raw_dir"] = raw_dir
    params_file.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), "utf-8")


def test_failed_repro_leaves_last_good_outputs_recoverable(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    before = output_digests(repo)
    params_before = (repo / "params.yaml").read_bytes()
    bad = repo / "incoming"
    shutil.copytree(repo / "data" / "sample", bad)
    bad_inputs.edit_rows("market_money", bad_inputs.set_value(c.REVENUE, "пять"))(bad)
    set_raw_dir(repo, "incoming")

    failed = dvc(["repro"], repo, check=False)
    assert failed.returncode != 0
    assert "Traceback" not in failed.stdout + failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: market_money.csv: "), failed.stderr

    # DVC deletes a stage's outputs before running it: the cached ones come back from the
    # cache, the git-tracked ones (metrics, reports) from git
    dvc(["checkout", "--force"], repo)
    git(["checkout", "--", "metrics", "reports"], repo)
    restored = output_digests(repo)
    assert restored == before

    (repo / "params.yaml").write_bytes(params_before)
    shutil.rmtree(bad)
    status = json.loads(dvc(["status", "--json"], repo).stdout)
    assert status == {}, status
    rerun = dvc(["repro"], repo)
    assert "Running stage" not in rerun.stdout, rerun.stdout
    assert output_digests(repo) == before
    assert filecmp.cmp(repo / "params.yaml", reproduced_project / "params.yaml", shallow=False)
