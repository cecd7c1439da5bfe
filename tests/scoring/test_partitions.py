"""predict's partitioned input: a file may be a directory of parts (oneclick/scoring/partitions.py),
read as the one file they were cut from; and predict end to end on parts and a Dask cluster."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from oneclick.core.errors import DataError
from oneclick.data.contract import INPUT_FILES, MARKET_FILE, MARKET_MONEY, TARGET
from oneclick.data.reading import read_raw
from oneclick.model.cluster import SCHEDULER_VARIABLE
from oneclick.scoring import batch as predict
from oneclick.scoring.partitions import read_input
from tests import bad_inputs
from tests.model.test_cluster import small_cluster
from tests.scoring.test_predict import run_predict

PART_NAMES = ("part-10.csv", "part-2.csv", "part-1.csv")  # natural order: 1, 2, 10


def partition(source: Path, target: Path) -> Path:
    """source's four files, each cut into three parts of uneven size, in target (with a
    Spark-style _SUCCESS marker beside the parts)."""
    target.mkdir()
    for spec in INPUT_FILES:
        header, *rows = (source / spec.filename).read_bytes().splitlines(keepends=True)
        cuts = [0, len(rows) // 5, len(rows) // 2, len(rows)]
        parts = target / spec.filename
        parts.mkdir()
        (parts / "_SUCCESS").write_bytes(b"")
        for i, name in enumerate(sorted(PART_NAMES, key=lambda n: int(n[5:-4]))):
            (parts / name).write_bytes(header + b"".join(rows[cuts[i] : cuts[i + 1]]))
    return target


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bad_inputs.write_sample(tmp_path_factory.mktemp("sample"))


def test_parts_read_as_the_file_they_were_cut_from(sample_dir: Path, tmp_path: Path) -> None:
    whole = read_raw(sample_dir)
    parted = read_input(partition(sample_dir, tmp_path / "parts"))
    for key, frame in whole.items():
        pd.testing.assert_frame_equal(parted[key], frame)


def test_files_and_directories_of_parts_mix(sample_dir: Path, tmp_path: Path) -> None:
    mixed = partition(sample_dir, tmp_path / "parts")
    shutil.rmtree(mixed / MARKET_FILE.filename)
    shutil.copy(sample_dir / MARKET_FILE.filename, mixed / MARKET_FILE.filename)
    pd.testing.assert_frame_equal(
        read_input(mixed)["market_file"], read_raw(sample_dir)["market_file"]
    )


def test_a_part_without_a_column_the_others_have_is_one_error_line(
    sample_dir: Path, tmp_path: Path
) -> None:
    parts = partition(sample_dir, tmp_path / "parts")
    part = parts / MARKET_FILE.filename / "part-2.csv"
    frame = pd.read_csv(part, dtype=str)
    frame.drop(columns=MARKET_FILE.column(TARGET).source).to_csv(part, index=False)
    with pytest.raises(DataError) as raised:
        read_input(parts)
    message = str(raised.value)
    assert message.startswith(f"{MARKET_FILE.filename}/part-2.csv: missing column(s) ")
    assert f"unlike {MARKET_FILE.filename}/part-1.csv" in message and "\n" not in message


def test_a_broken_line_is_named_in_its_part(sample_dir: Path, tmp_path: Path) -> None:
    parts = partition(sample_dir, tmp_path / "parts")
    part = parts / MARKET_MONEY.filename / "part-10.csv"
    lines = part.read_bytes().count(b"\n")
    part.write_bytes(part.read_bytes() + b"1,2,3,4,5,6,7\n")
    pattern = rf"^{MARKET_MONEY.filename}/part-10\.csv: line {lines + 1} has 7 fields"
    with pytest.raises(DataError, match=pattern):
        read_input(parts)


def test_a_directory_without_parts_is_one_error_line(sample_dir: Path, tmp_path: Path) -> None:
    parts = partition(sample_dir, tmp_path / "parts")
    for part in (parts / MARKET_FILE.filename).glob("part-*"):
        part.unlink()
    with pytest.raises(DataError, match=rf"^{MARKET_FILE.filename}/: a directory without part"):
        read_input(parts)


def test_predict_on_parts_and_a_dask_cluster_writes_the_local_bytes(
    reproduced_project: Path, tmp_path: Path, monkeypatch
) -> None:
    """A generated sample of 400 customers cut into parts and scored with its model chunks and
    SHAP batches on a Dask cluster: the same output files, byte for byte, as the whole files
    scored here (400, not 1,300: SHAP of a segment costs ~0.15 CPU s a customer, twice)."""
    whole = bad_inputs.write_sample(tmp_path / "whole", 400)
    parts = partition(whole, tmp_path / "parts")
    args = ["--drivers", "shap", "--chunk-size", "90"]
    outputs = {}
    with small_cluster() as local:
        for where, source in (("local", whole), ("dask", parts)):
            if where == "dask":
                monkeypatch.setenv(SCHEDULER_VARIABLE, local.scheduler_address)
            out = tmp_path / where / "scores.csv"
            out.parent.mkdir()
            command = ["--input", str(source), "--output", str(out), *args]
            result = run_predict(reproduced_project, *command)
            assert result.returncode == 0, result.stderr
            outputs[where] = [out.read_bytes(), predict.segment_file(out).read_bytes()]
        assert f"dask: {local.scheduler_address}" in result.stderr
    assert outputs["local"][1].count(b"\n") > 20  # a segment whose drivers SHAP explained
    assert outputs["dask"] == outputs["local"]
