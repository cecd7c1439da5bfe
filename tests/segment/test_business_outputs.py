"""Business outputs speak the team's language: no code name in Russian outputs, units, the campaign
export that reads back to the same table in xlsx and Russian CSV, a page with no URL."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import matplotlib
import numpy as np
import openpyxl
import pandas as pd
import pytest

from oneclick.core import writers
from oneclick.data.contract import FEATURES, ID, PROFIT
from oneclick.segment import design, economics, export, markdown, page, plots, shap_plots
from oneclick.segment import report as report
from oneclick.segment import selection as sg
from oneclick.segment.words import campaign_table, driver_words
from oneclick.text import vocabulary as vocab
from tests.segment.test_segment import merged_rows, scores, shap_frame

matplotlib.use("Agg")

ALLOWED_LATIN = {"SHAP", "id", "Excel", "CSV"}
OFFERS = [
    {"code": "promo_category_discount", "channel": "site", "drivers": ["promo_share"],
     "text": "Скидка в категории ({favourite_category})"},
    {"code": "relevant_mailings", "channel": "message", "drivers": ["marketing_6m"],
     "text": "Рассылки"},
    {"code": "personal_recommendations", "channel": "site", "drivers": ["pages_per_visit"],
     "text": "Рекомендации"},
]  # fmt: skip
PARAMS = {
    "threshold": 0.5, "profit_quantile": 0.3, "min_promo_share": None, "drivers_listed": 2,
    "economics": {"horizon_months": 3, "budget": None, "cost_per_contact": 0.02,
                  "cost_per_redemption": 0.6, "redemption_rate": 0.3, "effect": 0.1},
    "exploration_share": 0.0,
    "max_offers": 2, "offers": OFFERS,
    "fallback_offer": {"code": "category_coupon", "channel": "site",
                       "text": "Купон ({favourite_category})"},
    "non_actionable": ["tenure_days"], "value_curve_points": 11,
    "report_contact_shares": [0.1, 0.5], "profile_highlights": 4, "profile_plots": 2,
    "report_top_customers": 3,
}  # fmt: skip
EVERY_OFFER = [*OFFERS, PARAMS["fallback_offer"]]


# every identifier the code uses that a person must never see in a Russian output
CODE_NAMES = {*vocab.TERMS, *vocab.OFFERS, *vocab.STATUSES, *vocab.EXCLUSIONS, *vocab.SOURCES,
              vocab.EXCLUDED[1]}  # fmt: skip


def untranslated(text: str) -> list[str]:
    """Code names, snake_case identifiers and English words in a Russian text (file paths in
    `code` spans, inline images and HTML markup aside)."""
    text = re.sub(r"<style>.*?</style>|<code>.*?</code>|`[^`]*`", " ", text, flags=re.S)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    found = [n for n in CODE_NAMES if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text)]
    found += re.findall(r"\b[A-Za-z]+_[A-Za-z0-9_]+\b", text)
    return found + [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED_LATIN]


def figure_texts(figure) -> list[str]:
    """Every string a matplotlib figure shows: titles, axis labels, tick labels, legends."""
    from matplotlib.text import Text

    texts = [t.get_text() for t in figure.findobj(Text)]
    return [t for t in texts if t.strip()]


@pytest.fixture
def built() -> dict:
    n = 12
    merged = merged_rows(n)
    merged["favourite_category"] = ["Кухонная посуда", "Товары для детей", "Домашний текстиль"] * 4
    table = sg.customer_table(scores(np.linspace(0.2, 0.95, n).tolist()), merged)
    eligible, rules = sg.select(table, PARAMS)
    rows = {i: {"promo_share": 0.3, "marketing_6m": 0.1 * (i % 3), "favourite_category": 0.05}
            for i in table[ID]}  # fmt: skip
    shap = shap_frame(rows)
    values = table.set_index(ID)[FEATURES]
    offered = sg.segment_customers(table, eligible | True, shap, values, PARAMS)
    price = design.pricing(table, PARAMS, lambda rows: offered)
    plan = design.design(table, eligible, price, PARAMS, {"control_share": 0.0, "seed": 1})
    mask, customers = plan.mask, plan.customers
    curve = sg.value_curve(table, PARAMS["value_curve_points"])
    net_curve = economics.net_curve(price(eligible | True), PARAMS["value_curve_points"])
    metrics = report.build_metrics(
        rules, sg.summary(table[mask], n), sg.summary(table, n), customers, curve,
        sg.profile(table, mask, FEATURES), FEATURES, PARAMS,
        sg.not_selected(table, rules) | plan.left_out, {"zero_revenue": 2},
    ) | design.metrics(plan, PARAMS)  # fmt: skip
    metrics = writers.rounded(metrics)
    return {"table": table, "mask": mask, "customers": customers, "values": values,
            "metrics": metrics, "curve": curve, "net_curve": net_curve}  # fmt: skip


def test_drivers_in_words_place_the_customer_among_everyone() -> None:
    population = pd.DataFrame({"promo_share": np.arange(100) / 100, "favourite_category": "x"})
    features = pd.Series(["promo_share", "promo_share", None, "favourite_category"])
    values = pd.Series([0.62, 0.05, None, "x"])
    words = driver_words(features, values, population, "ru")
    assert words[0] == "доля акционных покупок 62% — выше, чем у 62% клиентов"
    assert words[1] == "доля акционных покупок 5% — ниже, чем у 94% клиентов"
    assert words[2] == "" and words[3] == "популярная категория «x» — как у 100% клиентов"
    assert driver_words(features[:1], values[:1], population, "en") == [
        "share of promo purchases 62% — higher than for 62% of customers"
    ]


def test_markdown_and_page_in_russian_have_no_code_names(built, tmp_path: Path) -> None:
    text = markdown.render(built["metrics"], "ru")
    assert untranslated(text) == [], untranslated(text)
    assert "у.е. в месяц" in text and "месяц без выручки: 2" in text
    campaign = campaign_table(built["customers"], built["table"], built["values"], 2, "ru")
    image = tmp_path / "value_curve.png"
    writers.save_figure(plots.plot_value_curve(built["curve"], built["metrics"]["segment"], "ru"),
                        image)  # fmt: skip
    html = page.render(built["metrics"], campaign, {"value_curve": image}, EVERY_OFFER, "ru")
    assert untranslated(html) == [], untranslated(html)
    assert "доля акционных покупок" in html and "выше, чем у" in html


def test_english_report_names_features_in_english(built) -> None:
    text = markdown.render(built["metrics"], "en")
    assert "share of promo purchases" in text and "c.u. per month" in text
    assert not re.search(r"[А-Яа-я]", text.split("## Top customers")[0].split("| level |")[0])


def test_page_is_self_contained(built, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(plots, "PLOTS", tmp_path)  # never the working tree's plots/
    curves = (built["curve"], built["net_curve"])
    images = plots.save_plots(built["table"], built["mask"], curves, built["metrics"],
                              ["promo_share", "favourite_category"], "ru")  # fmt: skip
    campaign = campaign_table(built["customers"], built["table"], built["values"], 2, "ru")
    html = page.render(built["metrics"], campaign, images, EVERY_OFFER, "ru")
    assert "http" not in html and "//" not in re.sub(r"data:image/png;base64,[^\"]+", "", html)
    sources = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert len(sources) == len(images) and all(
        s.startswith("data:image/png;base64,") for s in sources
    )
    for source in sources:
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_labels_are_russian_names(built) -> None:
    figures = [
        plots.plot_value_curve(built["curve"], built["metrics"]["segment"], "ru"),
        plots.plot_net_curve(built["net_curve"], built["metrics"], "ru"),
        plots.plot_drivers({"promo_share": 3, "minutes_trend": 1}, "ru"),
        plots.plot_profile(built["table"], built["mask"], "promo_share", "ru"),
        plots.plot_profile(built["table"], built["mask"], "favourite_category", "ru"),
        shap_plots.plot_importance([{"feature": f, "mean_abs_shap": 0.1} for f in FEATURES], "ru"),
    ]
    data = built["table"].set_index(ID)[FEATURES].reset_index(drop=True)
    values = np.random.default_rng(0).normal(size=data.shape)
    spec = {"ordinal": {"service_type": ["стандарт", "премиум"], "allow_messages": ["нет", "да"]},
            "nominal": ["favourite_category"]}  # fmt: skip
    figures.append(shap_plots.plot_beeswarm(values, np.zeros(1), data, spec, 0, "ru"))
    assert figures[3].axes[0].get_xlabel() == "Доля акционных покупок, %"
    for figure in figures:
        texts = " | ".join(figure_texts(figure))
        assert untranslated(texts) == [], (untranslated(texts), texts)
        matplotlib.pyplot.close(figure)


def read_xlsx(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet as its table; a percentage column (stored 0.953, shown 95,3 %) as 95.3."""
    cells = openpyxl.load_workbook(path)[sheet]
    rows = list(cells.values)
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    for k, column in enumerate(frame.columns, start=1):
        if str(column).endswith(export.PERCENT) and len(frame):
            assert cells.cell(2, k).number_format == "0.0%"
            frame[column] = (frame[column].astype(float) * 100).round(6)
    return frame


def read_csv_ru(path: Path) -> pd.DataFrame:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return pd.read_csv(
        path, sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=False, na_values=[""]
    )


def _blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing cells as "": an empty cell reads back as None (xlsx) or NaN (csv)."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), "").reset_index(drop=True)


def cells(frame: pd.DataFrame) -> str:
    """A table's headers and values as one text (empty cells empty)."""
    return " | ".join(map(str, [*frame.columns, *_blank(frame).to_numpy().ravel()]))


def assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(_blank(got), _blank(expected), check_dtype=False)


def test_campaign_export_reads_back_and_is_byte_stable(built, tmp_path, monkeypatch) -> None:
    campaign = campaign_table(built["customers"], built["table"], built["values"], 2, "ru")
    assert len(campaign) == built["metrics"]["segment"]["size"] > 2
    risk_column = "Ожидаемая прибыль под риском, у.е. в месяц"
    first = [ID, "Вероятность снижения активности, %", "Прибыль, у.е. в месяц", risk_column]
    assert campaign.columns[:4].tolist() == first
    net = campaign["Ожидаемая чистая прибыль от предложений, у.е."]  # the fifth: the rank
    assert net.is_monotonic_decreasing and (net > 0).all()
    assert untranslated(cells(campaign)) == [], untranslated(cells(campaign))
    export.write_csv_ru(campaign, tmp_path / "campaign.csv")
    export.write_xlsx({"Кампания": campaign}, tmp_path / "a.xlsx")
    assert_same_table(read_csv_ru(tmp_path / "campaign.csv"), campaign)
    assert_same_table(read_xlsx(tmp_path / "a.xlsx", "Кампания"), campaign)
    later = time.time() + 3 * 86400  # zip entries would carry the clock's date
    monkeypatch.setattr(time, "time", lambda: later)
    export.write_xlsx({"Кампания": campaign}, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_customers_sheet_lists_everyone_in_words(built) -> None:
    table, mask = built["table"], built["mask"]
    removed = [{"id": 1, "reason": "zero_revenue", "periods": []}]
    sheet = export.customers_sheet(table, mask.to_numpy(), removed, "ru")
    assert sheet[ID].tolist() == [1, *table[ID]]
    assert sheet["Статус"].tolist()[:2] == ["исключён: месяц без выручки", "оценён"]
    assert set(sheet["В сегменте"]) == {"да", "нет"}
    assert untranslated(cells(sheet)) == []


# --- integration: the reproduced sample project ------------------------------------------------


def test_segment_stage_writes_russian_outputs(reproduced_project: Path) -> None:
    repo = reproduced_project
    for name in ("reports/segment.md", "reports/segment.html"):
        text = (repo / name).read_text(encoding="utf-8")
        assert untranslated(text) == [], (name, untranslated(text))
    html = (repo / "reports/segment.html").read_text(encoding="utf-8")
    assert "http" not in html and html.count("data:image/png;base64,") >= 3
    customers = pd.read_csv(repo / "data/segment/customers.csv")
    csv = read_csv_ru(repo / "data/segment/campaign.csv")
    assert_same_table(read_xlsx(repo / "data/segment/campaign.xlsx", "Кампания"), csv)
    treated = customers[customers["group"] == "treatment"]  # the control group is not listed
    assert csv[ID].tolist() == treated[ID].tolist()
    np.testing.assert_allclose(csv["Прибыль, у.е. в месяц"], treated[PROFIT].round(2))
    assert untranslated(cells(csv)) == [], untranslated(cells(csv))
