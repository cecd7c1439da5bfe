"""The writers: same bytes as before for the same data, and a failed write (full disk, file-size
limit, permission) leaves the previous file intact and says so in one line."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oneclick.core import writers
from oneclick.core.errors import DataError
from tests.conftest import ROOT

OLD = b"id,probability\n1,0.5\n"


def frame(rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"id": range(rows), "p": np.linspace(0, 1, rows) / 3})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_csv_writes_what_pandas_writes_with_lf_and_rounding(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "table.csv"
    writers.write_csv(frame(), path)
    expected = frame().round(writers.FLOAT_DECIMALS).to_csv(index=False, lineterminator="\n")
    assert path.read_bytes() == expected.encode("utf-8")
    assert leftovers(path.parent) == []


def test_replaced_file_gets_the_usual_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    writers.write_json({"a": 1.23456789}, path)
    assert path.read_text(encoding="utf-8") == '{\n  "a": 1.234568\n}\n'
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == writers._FILE_MODE and mode & stat.S_IRGRP


def failing(code: int):
    def fail(descriptor: int) -> None:  # delayed allocation: a full disk often shows at fsync
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (errno.ENOSPC, "disk full"),
        (errno.EFBIG, "file too large"),
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "read-only file system"),
    ],
)
def test_failed_write_keeps_the_previous_file_and_names_file_and_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, cause: str
) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(OLD)
    monkeypatch.setattr(writers.os, "fsync", failing(code))
    with pytest.raises(DataError, match=rf"scores\.csv: cannot write: {cause}") as error:
        writers.write_csv(frame(), path)
    assert "previous file is unchanged" in str(error.value)
    assert "\n" not in str(error.value)
    assert path.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_unwritable_folder_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> None:  # root ignores mode bits: refuse as a strict OS would
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(writers.tempfile, "mkstemp", refuse)
    with pytest.raises(DataError, match=r"new\.txt: cannot write: permission denied$"):
        writers.write_text("x", tmp_path / "new.txt")
    assert not (tmp_path / "new.txt").exists()


def test_a_folder_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(DataError, match=r"out\.csv: cannot write: it is a folder"):
        writers.write_csv(frame(), tmp_path / "out.csv")


def test_together_writes_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(OLD)
    second.write_bytes(OLD)
    with writers.together():
        writers.write_csv(frame(), first)
        assert first.read_bytes() == OLD  # renamed only when the block ends
        writers.write_csv(frame(), second)
    assert first.read_bytes() == second.read_bytes() != OLD

    first.write_bytes(OLD)
    second.write_bytes(OLD)
    with pytest.raises(DataError, match=r"b\.csv: cannot write"), writers.together():
        writers.write_csv(frame(), first)
        monkeypatch.setattr(writers.os, "fsync", failing(errno.ENOSPC))
        writers.write_csv(frame(), second)
    assert first.read_bytes() == OLD and second.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_round_floats_hides_last_bit_differences() -> None:
    raw = np.array([0.123456789, 1 / 3, 0.9999999])
    off = np.nextafter(raw, 1)  # one ulp up, as another BLAS kernel may give
    assert not np.array_equal(raw, off)
    assert np.array_equal(writers.round_floats(raw), writers.round_floats(off))
    assert writers.round_floats(raw).tolist() == [0.123457, 0.333333, 1.0]


# A simulated full disk: a child process with a small file-size limit (RLIMIT_FSIZE, SIGXFSZ
# ignored so the write fails with EFBIG instead of killing the process) writes over a file.
FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    import numpy as np, pandas as pd
    from oneclick.core import entry, writers

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    table = pd.DataFrame({"id": np.arange(50_000), "p": np.linspace(0, 1, 50_000)})
    entry.run(lambda: writers.write_csv(table, Path(sys.argv[1])))
    """
)


def test_write_over_a_file_past_the_file_size_limit_keeps_the_old_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    old = OLD * 100  # an earlier, valid output below the limit
    path.write_bytes(old)
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path), "20000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"error: {path}: cannot write: file too large (file size limit reached); "
        "the previous file is unchanged"
    ]
    assert path.read_bytes() == old
    assert leftovers(tmp_path) == []


# No-follow: a planted link never sends the bytes over another file.


def test_a_link_at_the_target_is_refused_and_what_it_points_to_kept(tmp_path: Path) -> None:
    precious = tmp_path / "dvc.lock"
    precious.write_bytes(OLD)
    link = tmp_path / "out" / "campaign.csv"
    link.parent.mkdir()
    link.symlink_to(precious)
    with pytest.raises(DataError, match=r"campaign\.csv: cannot write: .* is a symbolic link"):
        writers.write_csv(frame(), link)
    assert precious.read_bytes() == OLD and link.is_symlink()
    assert leftovers(link.parent) == []


def test_a_link_on_the_folder_chain_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "reports").symlink_to(elsewhere, target_is_directory=True)
    for write in (
        lambda p: writers.write_csv(frame(), p),
        lambda p: writers.write_json({}, p),
        lambda p: writers.write_text("x", p),
        lambda p: writers.write_bytes(b"x", p),
    ):
        with pytest.raises(DataError, match=r"reports is a symbolic link; not following it"):
            write(tmp_path / "reports" / "deeper" / "file")
    assert list(elsewhere.iterdir()) == []


def test_temp_files_of_a_killed_run_go_at_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "segment.md"
    stale = [tmp_path / ".segment.md.k1ll3d_1.tmp", tmp_path / ".segment.md.abcdefgh.tmp"]
    other = tmp_path / ".segment.md.gz.abcdefgh.tmp"  # another file's: not this one's to remove
    for file in (*stale, other):
        file.write_bytes(b"half a report")
    writers.write_text("# report\n", path)
    assert leftovers(tmp_path) == [other.name]
    assert path.read_text(encoding="utf-8") == "# report\n"


def test_temp_file_names_are_ignored_by_git() -> None:
    names = ["reports/.segment.md.k1ll3d_1.tmp", "data/segment/.campaign.csv.abcdefgh.tmp"]
    names += [".dvc.lock.abcdefgh.tmp", "plots/eda/.x.png.abcdefgh.tmp"]
    run = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    assert run.stdout.splitlines() == names
