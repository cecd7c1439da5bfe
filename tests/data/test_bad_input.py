"""`python -m stages.clean` on broken copies of a small hand-made dataset: one line, no traceback.

The stage runs with the project's paths in a scratch copy of the project (its code and
params.yaml), so a case that wrongly succeeded could not overwrite the real outputs; pre-existing
outputs there must survive every failure untouched (validation happens before anything is
written). The cases run in-process through the entry runner (tests.conftest.run_in_process); the
good input and the stages' missing-input errors run as subprocesses, as DVC runs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from oneclick.core import entry, paths
from oneclick.data.contract import (
    ID,
    INPUT_FILES,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MONEY,
    PERIOD,
)
from stages import clean as clean_stage
from tests.conftest import code_sandbox, run_in_process
from tests.tiny_data import tiny_tables, write_store_files

SOURCE = {(f.key, c.name): c.source for f in INPUT_FILES for c in f.columns}
SENTINEL = "outputs of an earlier good run\n"
OUTPUTS = ("data/clean/market_file.csv", "metrics/data_quality.json", "reports/data_quality.md")


def frames(change: Callable[[dict[str, pd.DataFrame]], None]) -> Callable[[Path], None]:
    """A corruption applied to the tables before they are written as the store's files."""

    def build(directory: Path) -> None:
        tables = tiny_tables()
        change(tables)
        write_store_files(tables, directory)

    return build


def file_bytes(spec, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """A corruption of one written file's bytes."""

    def build(directory: Path) -> None:
        write_store_files(tiny_tables(), directory)
        path = directory / spec.filename
        if change is None:
            path.unlink()
        else:
            path.write_bytes(change(path.read_bytes()))

    return build


def set_cell(key: str, name: str, row: int, value) -> Callable[[dict], None]:
    def change(tables: dict[str, pd.DataFrame]) -> None:
        column = SOURCE[(key, name)]
        tables[key][column] = tables[key][column].astype("object")
        tables[key].loc[row, column] = value

    return change


def drop_rows(key: str, select: Callable[[pd.DataFrame], pd.Series]) -> Callable[[dict], None]:
    return lambda tables: tables.__setitem__(key, tables[key][~select(tables[key])])


def mf_column(name: str) -> str:
    return SOURCE[(MARKET_FILE.key, name)]


CASES = {
    "removed-column": (
        frames(
            lambda t: t.__setitem__(
                MARKET_FILE.key, t[MARKET_FILE.key].drop(columns=mf_column("tenure_days"))
            )
        ),
        MARKET_FILE,
        mf_column("tenure_days"),
    ),
    "extra-column": (
        frames(lambda t: t[MONEY.key].insert(1, "Комментарий", "x")),
        MONEY,
        "Комментарий",
    ),
    "text-in-number": (
        frames(set_cell(MARKET_FILE.key, "pages_per_visit", 2, "семь")),
        MARKET_FILE,
        mf_column("pages_per_visit"),
    ),
    "wrong-separator": (file_bytes(MONEY, lambda b: b.replace(b";", b",")), MONEY, "separator"),
    "empty-file": (file_bytes(MARKET_TIME, lambda b: b""), MARKET_TIME, "empty"),
    "header-only": (
        file_bytes(MARKET_MONEY, lambda b: b.split(b"\r\n")[0]),
        MARKET_MONEY,
        "no data",
    ),
    "missing-file": (file_bytes(MARKET_FILE, None), MARKET_FILE, "missing"),
    "no-header": (
        file_bytes(MARKET_TIME, lambda b: b.split(b"\r\n", 1)[1]),
        MARKET_TIME,
        "header row missing (first line looks like data",
    ),
    "duplicated-column": (
        file_bytes(MONEY, lambda b: b.replace(b"\r\n", b";" + b.split(b"\r\n")[0] + b"\r\n", 1)),
        MONEY,
        f"duplicated columns '{ID}', '{SOURCE[(MONEY.key, 'profit')]}'",
    ),
    "not-utf8": (
        file_bytes(MARKET_FILE, lambda b: b.decode("utf-8").encode("cp1251")),
        MARKET_FILE,
        "UTF-8",
    ),
    "duplicate-id": (
        frames(
            lambda t: t.__setitem__(
                MONEY.key,
                pd.concat(
                    [
                        t[MONEY.key],
                        t[MONEY.key].iloc[[0]].assign(**{SOURCE[(MONEY.key, "profit")]: 9.5}),
                    ]
                ),
            )
        ),
        MONEY,
        f"'{ID}'",
    ),
    "negative-value": (
        frames(set_cell(MARKET_TIME.key, "minutes", 1, -4)),
        MARKET_TIME,
        SOURCE[(MARKET_TIME.key, "minutes")],
    ),
    "unknown-category": (
        frames(set_cell(MARKET_FILE.key, "favourite_category", 0, "Игрушки")),
        MARKET_FILE,
        mf_column("favourite_category"),
    ),
    "id-missing-from-a-table": (
        frames(drop_rows(MARKET_TIME.key, lambda f: f[ID] == 102)),
        MARKET_TIME,
        f"'{ID}'",
    ),
    "missing-period": (
        frames(drop_rows(MARKET_MONEY.key, lambda f: (f[ID] == 102) & (f.index % 3 == 1))),
        MARKET_MONEY,
        SOURCE[(MARKET_MONEY.key, PERIOD)],
    ),
    "nan": (
        frames(set_cell(MARKET_FILE.key, "marketing_6m", 4, None)),
        MARKET_FILE,
        mf_column("marketing_6m"),
    ),
}


def run_clean(project: Path, data: Path) -> subprocess.CompletedProcess:
    return run_stage(project, "clean", "--input", str(data))


def run_stage(project: Path, stage: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"stages.{stage}", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch project holding earlier outputs that a failing run must leave alone."""
    root = tmp_path_factory.mktemp("bad_input") / "project"
    code_sandbox(root)
    for output in OUTPUTS:
        (root / output).parent.mkdir(parents=True, exist_ok=True)
        (root / output).write_text(SENTINEL, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def results(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every case run once, in-process: {case: (exit code, stderr)}."""
    inputs = tmp_path_factory.mktemp("bad_input_data")
    for name, (build, _, _) in CASES.items():
        build(inputs / name)
    args = {name: ["--input", str(inputs / name)] for name in CASES}
    return {name: run_in_process(clean_stage.main, args[name], project) for name in CASES}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_with_one_line_naming_the_file(case: str, results: dict) -> None:
    _, spec, fragment = CASES[case]
    code, stderr = results[case]
    lines = stderr.strip().splitlines()
    assert code != 0
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {spec.filename}: ")
    assert fragment in lines[0]


def test_failures_leave_earlier_outputs_alone(project: Path, results: dict) -> None:
    assert all(code != 0 for code, _ in results.values())
    for output in OUTPUTS:
        assert (project / output).read_text(encoding="utf-8") == SENTINEL


def test_good_input_succeeds_quietly_and_writes_everything(project: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "project"
    shutil.copytree(project, scratch)
    result = run_clean(scratch, write_store_files(tiny_tables(), tmp_path / "good"))
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()
    for output in OUTPUTS:
        assert (scratch / output).read_text(encoding="utf-8") != SENTINEL
    for spec in INPUT_FILES:
        assert (scratch / "data" / "clean" / spec.filename).stat().st_size > 0


def test_missing_upstream_file_is_one_line_with_the_remedy(capsys: pytest.CaptureFixture) -> None:
    def main() -> None:
        paths.MERGED_FILE.with_name("absent.csv").read_text(encoding="utf-8")

    with pytest.raises(SystemExit) as stop:
        entry.run(main)
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "error: data/merged/absent.csv: missing; run the upstream stages first (dvc repro)\n"
    )


# The scratch project holds only clean's (sentinel) outputs: every later stage lacks an input.
@pytest.mark.parametrize(
    ("stage", "missing"),
    [
        ("merge", "data/clean/market_money.csv"),
        ("features", "data/merged/customers.csv"),
        ("evaluate", "data/features/feature_spec.json"),
        ("segment", "data/predictions/scores.csv"),
    ],
)
def test_stage_run_before_its_inputs_exist_names_the_missing_file(
    project: Path, stage: str, missing: str
) -> None:
    result = run_stage(project, stage)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {missing}: missing; run the upstream stages first (dvc repro)"
    ]
