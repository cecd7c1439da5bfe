"""Output folders of `oneclick plots` / `oneclick report`: cleared only when the command marked
them; the project's own folders refused with one line and left whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneclick.cli import main
from oneclick.core import paths
from oneclick.core.errors import DataError
from oneclick.review import outdir, plots, report

PROTECTED = (".git", ".dvc", "models", "data", "oneclick")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project-shaped folder, the commands' root, with a file in each of its own folders."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    for name in PROTECTED:
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.txt").write_text(name, encoding="utf-8")
    for module in (paths, outdir, plots, report):
        monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", PROTECTED)
@pytest.mark.parametrize("command", [["plots", "--out"], ["report", "--images"]])
def test_own_folders_are_refused_in_one_line_and_kept(project, command, name, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, name])
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {name}: refusing"), lines
    for own in PROTECTED:
        assert (project / own / "keep.txt").read_text(encoding="utf-8") == own


def test_a_new_folder_is_made_and_marked(project) -> None:
    out = outdir.fresh_dir(project / "out" / "nested", "plots")
    assert [p.name for p in out.iterdir()] == [outdir.MARKER]


def test_a_marked_folder_is_emptied_on_the_next_run(project) -> None:
    out = outdir.fresh_dir(project / "out", "plots")
    (out / "stale.png").write_bytes(b"old")
    outdir.fresh_dir(out, "plots")
    assert sorted(p.name for p in out.iterdir()) == [outdir.MARKER]


def test_an_empty_folder_is_taken(project) -> None:
    (project / "empty").mkdir()
    assert (outdir.fresh_dir(project / "empty", "report") / outdir.MARKER).is_file()


@pytest.mark.parametrize("marker", [None, "report\n"])
def test_a_folder_without_this_commands_marker_is_refused(project, marker) -> None:
    (project / "mine").mkdir()
    (project / "mine" / "thesis.tex").write_text("years of work", encoding="utf-8")
    if marker:
        (project / "mine" / outdir.MARKER).write_text(marker, encoding="utf-8")
    with pytest.raises(DataError, match="did not write"):
        outdir.fresh_dir(project / "mine", "plots")
    assert (project / "mine" / "thesis.tex").read_text(encoding="utf-8") == "years of work"


@pytest.mark.parametrize("target", [".", "..", "data/plots", ".git/objects", "oneclick/x"])
def test_the_project_and_its_own_folders_are_refused_at_any_depth(project, target) -> None:
    with pytest.raises(DataError, match="refusing"):
        outdir.fresh_dir(project / target, "plots")
    assert (project / "data" / "keep.txt").is_file() and (project / "dvc.yaml").is_file()


def test_a_symlink_or_a_file_is_refused(project) -> None:
    outdir.fresh_dir(project / "real", "plots")
    (project / "link").symlink_to(project / "real")
    (project / "file").write_text("x", encoding="utf-8")
    for name in ("link", "file"):
        with pytest.raises(DataError, match="refusing"):
            outdir.fresh_dir(project / name, "plots")
    assert (project / "real" / outdir.MARKER).is_file()
    assert (project / "file").read_text(encoding="utf-8") == "x"


def test_only_a_report_the_command_wrote_is_replaced(project) -> None:
    report = project / "report.md"
    outdir.refuse_foreign_file(report, "## Pipeline report:")  # absent: fine
    report.write_text("## Pipeline report: `a` vs `b`\n", encoding="utf-8")
    outdir.refuse_foreign_file(report, "## Pipeline report:")
    for path in (project / "notes.md", project / "data" / "keep.txt"):
        path.write_text("mine\n", encoding="utf-8")
        with pytest.raises(DataError, match="refusing to replace"):
            outdir.refuse_foreign_file(path, "## Pipeline report:")
