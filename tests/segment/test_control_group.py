"""No control customer in anything meant for contacting: the campaign sheet and CSV, the page's
top table; the page, the report and the workbook state the control group and the versions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from oneclick.campaign import control
from oneclick.data.contract import ID
from oneclick.segment import workbook
from oneclick.text import vocabulary as vocab
from tests.segment.test_business_outputs import read_csv_ru

CONTROL_SHEET, ACT_SHEET = workbook.SHEETS["control"][0], workbook.SHEETS["act"][0]


@pytest.mark.parametrize(("size", "seed"), [(7, 1), (108, 20261123), (2000, 5)])
def test_split_never_lists_a_control_customer_to_contact(size: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**6, size, replace=False) + 1
    segment = pd.DataFrame({ID: ids, "probability": rng.uniform(0.5, 1, size)})
    groups = control.with_groups(segment, {"control_share": 0.3, "seed": seed})["group"]
    campaign = pd.DataFrame(
        {
            ID: ids,
            vocab.label("probability", "ru"): (100 * segment["probability"]).round(1),
            vocab.label("profit", "ru"): rng.uniform(1, 9, size),
            vocab.label("expected_profit_at_risk", "ru"): rng.uniform(1, 9, size),
            vocab.label("group", "ru"): groups.map(lambda g: vocab.GROUPS[g][0]),
            "Предложение 1": np.where(groups == control.CONTROL, "", "Купон"),
        }
    )
    campaign = campaign[campaign.columns[::-1]]  # picked by name, not by position
    act, held_out = workbook.split(campaign, groups, "ru")
    controls = set(ids[groups.to_numpy() == control.CONTROL])
    assert len(controls) == round(0.3 * size)
    assert not controls & set(act[ID]) and set(held_out[ID]) == controls
    assert len(act) + len(held_out) == size and (act["Предложение 1"] != "").all()
    assert vocab.label("group", "ru") not in act and "Предложение 1" not in held_out
    figures = ["probability", "profit", "expected_profit_at_risk"]
    assert list(held_out.columns) == [ID, *(vocab.label(k, "ru") for k in figures)]


def test_sample_outputs_keep_the_control_group_out_of_reach(reproduced_project: Path) -> None:
    repo = reproduced_project
    customers = pd.read_csv(repo / "data/segment/customers.csv")
    controls = set(customers.loc[customers["group"] == control.CONTROL, ID])
    assert controls
    book = openpyxl.load_workbook(repo / "data/segment/campaign.xlsx")
    assert book.sheetnames == [ACT_SHEET, CONTROL_SHEET, workbook.SHEETS["about"][0]]
    listed = {row[0] for row in book[ACT_SHEET].iter_rows(min_row=2, values_only=True)}
    held_out = {row[0] for row in book[CONTROL_SHEET].iter_rows(min_row=2, values_only=True)}
    assert not controls & listed and held_out == controls
    assert not controls & set(read_csv_ru(repo / "data/segment/campaign.csv")[ID])
    for sheet in book.worksheets:  # the widths follow the values, not the long headers
        assert all(d.width <= workbook_widest() for d in sheet.column_dimensions.values())
    html = (repo / "reports/segment.html").read_text(encoding="utf-8")
    top = html.split("Главные клиенты и их причины", 1)[1].split("</table>", 1)[0]
    shown = {int(i) for i in re.findall(r"<tr><td>(\d+)</td>", top)}
    assert shown and not shown & controls
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    model = next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"].endswith("skops"))
    data = lock["stages"]["merge"]["outs"][0]["md5"].removesuffix(".dir")
    about = " ".join(str(v) for r in book.worksheets[2].values for v in r)
    md = (repo / "reports/segment.md").read_text(encoding="utf-8")
    for text in (html, md, about):
        assert f"Контрольная группа: {len(controls)} из" in text and model in text and data in text
        assert "нельзя связываться" in text


def workbook_widest() -> int:
    from oneclick.segment.export import WIDEST

    return WIDEST + 2


def test_sample_campaign_sends_no_message_without_consent(reproduced_project: Path) -> None:
    repo = reproduced_project
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["segment"]
    messages = {
        vocab.offer_name(o["code"], "ru") for o in params["offers"] if o["channel"] == "message"
    }
    campaign = read_csv_ru(repo / "data/segment/campaign.csv").fillna("")
    offered = campaign.filter(regex=r"^Предложение \d+$").apply(set, axis=1)
    refused = campaign[vocab.label("allow_messages", "ru")] == "нет"
    assert refused.any() and messages
    assert not any(names & messages for names in offered[refused])
    assert any(names & messages for names in offered[~refused])
