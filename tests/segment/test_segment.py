"""Stage `segment`: selection, offers, value curve, profile, and a report made of metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from oneclick.core.errors import DataError
from oneclick.data.contract import FEATURES, ID, PROFIT
from oneclick.segment import design, markdown
from oneclick.segment import offers as of
from oneclick.segment import report as report
from oneclick.segment import selection as sg
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import LANGUAGES, money

OFFERS = [
    {"code": "promo_category_discount", "channel": "site", "drivers": ["promo_share"],
     "text": "Discount in {favourite_category}"},
    {"code": "relevant_mailings", "channel": "message", "drivers": ["marketing_6m"],
     "text": "Mailings"},
    {"code": "personal_recommendations", "channel": "site",
     "drivers": ["pages_per_visit", "minutes_current"],
     "text": "Recommendations"},
]  # fmt: skip
FALLBACK = {"code": "category_coupon", "channel": "site", "text": "Coupon in {favourite_category}"}
PARAMS = {
    "threshold": 0.7, "profit_quantile": 0.5, "min_promo_share": None, "drivers_listed": 2,
    "economics": {"horizon_months": 3, "budget": None, "cost_per_contact": 0.02,
                  "cost_per_redemption": 0.6, "redemption_rate": 0.3, "effect": 0.1},
    "exploration_share": 0.0,
    "max_offers": 2, "offers": OFFERS, "fallback_offer": FALLBACK,
    "non_actionable": ["tenure_days", "service_errors"], "value_curve_points": 11,
    "report_contact_shares": [0.1, 0.5], "profile_highlights": 3, "profile_plots": 2,
    "report_top_customers": 3,
}  # fmt: skip


def merged_rows(n: int = 6) -> pd.DataFrame:
    """n customers with every contract feature; profit 1..n, promo share rising with id."""
    frame = pd.DataFrame({ID: np.arange(101, 101 + n)})
    for feature in FEATURES:
        frame[feature] = np.arange(n, dtype=float)
    frame["promo_share"] = np.linspace(0, 1, n)
    frame["favourite_category"] = ["Кухонная посуда", "Домашний текстиль"] * (n // 2)
    frame["allow_messages"] = ["да", "нет"] * (n // 2)
    frame["service_type"] = "стандарт"
    frame[PROFIT] = np.arange(1.0, n + 1)
    return frame


def scores(probability: list[float]) -> pd.DataFrame:
    return pd.DataFrame({ID: np.arange(101, 101 + len(probability)), "probability": probability})


@pytest.fixture
def table() -> pd.DataFrame:
    return sg.customer_table(scores([0.9, 0.2, 0.8, 0.95, 0.7, 0.75]), merged_rows())


def shap_frame(rows: dict[int, dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(0.0, index=list(rows), columns=FEATURES)
    for customer, values in rows.items():
        for feature, value in values.items():
            frame.loc[customer, feature] = value
    return frame


def test_customer_table_computes_expected_profit_at_risk(table) -> None:
    assert table[ID].tolist() == list(range(101, 107))
    np.testing.assert_allclose(table[sg.AT_RISK], [0.9, 0.4, 2.4, 3.8, 3.5, 4.5])


def test_customer_table_rejects_unknown_and_repeated_ids() -> None:
    with pytest.raises(DataError, match=r"customers.csv: column id: scored ids missing \[999\]"):
        sg.customer_table(scores([0.5]).assign(id=[999]), merged_rows())
    with pytest.raises(DataError, match=r"scores.csv: column id: repeated ids"):
        sg.customer_table(pd.concat([scores([0.5]), scores([0.6])]), merged_rows())
    with pytest.raises(DataError, match=r"customers.csv: missing column\(s\) \['profit'\]"):
        sg.customer_table(scores([0.5]), merged_rows().drop(columns=PROFIT))


def test_select_combines_threshold_profit_quantile_and_promo(table) -> None:
    mask, rules = sg.select(table, PARAMS)
    assert rules["profit_cut"] == 3.5  # median of profits 1..6
    assert table[ID][mask].tolist() == [104, 105, 106]  # 103 is below the profit cut
    mask, _ = sg.select(table, {**PARAMS, "threshold": 0.8})
    assert table[ID][mask].tolist() == [104]
    mask, _ = sg.select(table, {**PARAMS, "min_promo_share": 0.7})
    assert table[ID][mask].tolist() == [105, 106]


def test_parse_offers_rejects_bad_rules() -> None:
    columns = set(merged_rows().columns)
    offers, fallback = of.parse_offers(OFFERS, FALLBACK, columns, ["tenure_days"])
    assert [o.code for o in offers] == [
        "promo_category_discount",
        "relevant_mailings",
        "personal_recommendations",
    ] and fallback.code == "category_coupon"
    assert offers[1].channel == "message" and fallback.channel == "site"
    bad = [{**OFFERS[0], "drivers": ["tenure_days"]}]
    with pytest.raises(
        DataError,
        match=r'offers\[promo_category_discount\]\.drivers: \["tenure_days"\] .*non-actionable',
    ):
        of.parse_offers(bad, FALLBACK, columns, ["tenure_days"])
    with pytest.raises(
        DataError, match=r'text: "colour" is not allowed; expected a known customer column'
    ):
        of.parse_offers([{**OFFERS[0], "text": "{colour}"}], FALLBACK, columns, [])
    with pytest.raises(DataError, match="expected each offer code once"):
        of.parse_offers([OFFERS[0], OFFERS[0]], FALLBACK, columns, [])
    with pytest.raises(DataError, match=r"drivers: missing"):
        rule = {"code": "cart_reminder", "text": "y", "channel": "message"}
        of.parse_offers([rule], FALLBACK, columns, [])
    with pytest.raises(DataError, match=r"offers\[0\]\.channel: missing; expected one of"):
        of.parse_offers([{"code": "cart_reminder", "text": "y"}], FALLBACK, columns, [])
    with pytest.raises(DataError, match=r'channel: "email" is not allowed; expected one of mes'):
        of.parse_offers([{**OFFERS[0], "channel": "email"}], FALLBACK, columns, [])
    with pytest.raises(DataError, match=r"fallback_offer\.channel: .* expected site or app"):
        of.parse_offers(OFFERS, {**FALLBACK, "channel": "message"}, columns, [])


@pytest.mark.parametrize(("size", "seed"), [(50, 1), (3000, 7)])
def test_a_message_offer_never_goes_to_a_customer_without_consent(size: int, seed: int) -> None:
    """Generated customers and SHAP values: whatever their drivers, a customer with
    allow_messages = нет gets no message offer, yet still an offer (another channel's)."""
    rng = np.random.default_rng(seed)
    features = ["promo_share", "marketing_6m", "pages_per_visit", "minutes_current"]
    customers = pd.DataFrame(
        {
            "allow_messages": rng.choice(["да", "нет"], size),
            "favourite_category": "Косметика и аксессуары",
        }
    )
    offers, fallback = of.parse_offers(OFFERS, FALLBACK, set(customers.columns), [])
    order, count = of.decline_order(rng.normal(size=(size, len(features))))
    chosen, _ = of.assign_offers(order, count, features, customers, offers, 2, 2)
    every = [*offers, fallback]
    channels = np.array([[every[k].channel if k >= 0 else "" for k in row] for row in chosen])
    messaged = (channels == "message").any(axis=1)
    consent = customers["allow_messages"].to_numpy() == "да"
    assert not (messaged & ~consent).any()
    assert messaged[consent].any()  # the rule is not vacuous: consenting customers get them
    assert (chosen[:, 0] >= 0).all()  # everyone still gets an offer


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"drivers": ["promo_shares"]},
            r"^params\.yaml: segment\.offers\[promo_category_discount\]\.drivers: "
            r'"promo_shares" is not allowed; expected a known feature '
            r"\(did you mean promo_share\?\)$",
        ),
        (
            {"drivers": ["minutes_trend", "pages"]},
            r'\.drivers: "pages" is not allowed; expected a known feature',
        ),
        ({"require": {"allow_mesages": "да"}}, r"\.require: .* expected a known customer column"),
        (
            {"require": {"allow_messages": True}},  # YAML `yes`: never equal to да/нет
            r'\.require\.allow_messages: "True" is not allowed; expected a known value: да, нет',
        ),
        (
            {"text": "{favorite_category}"},
            r"offers\[promo_category_discount\]\.text: .* expected a known customer column",
        ),
    ],
    ids=["driver-typo", "driver-unknown", "require-column", "require-value", "text-column"],
)
def test_parse_offers_refuses_a_typo_that_would_switch_a_rule_off(change, message) -> None:
    with pytest.raises(DataError, match=message):
        of.parse_offers([{**OFFERS[0], **change}], FALLBACK, set(merged_rows().columns), [])


def test_parse_offers_knows_every_model_feature_and_refuses_unknown_non_actionable() -> None:
    columns = set(merged_rows().columns)
    every = [*FEATURES, "minutes_trend", "revenue_per_minute"]  # engineered ones too
    offers, _ = of.parse_offers([{**OFFERS[0], "drivers": every}], FALLBACK, columns, [])
    assert offers[0].drivers == tuple(every)
    single, _ = of.parse_offers([{**OFFERS[0], "drivers": "promo_share"}], FALLBACK, columns, [])
    assert single[0].drivers == ("promo_share",)
    with pytest.raises(
        DataError,
        match=r'segment\.non_actionable: "tenure" is not allowed; expected a known feature',
    ):
        of.parse_offers(OFFERS, FALLBACK, columns, ["tenure"])


def test_decline_order_puts_positive_shap_first_strongest_first() -> None:
    order, count = of.decline_order(np.array([[0.1, -0.5, 0.3, 0.1, 0.0]]))
    assert order[0, : count[0]].tolist() == [2, 0, 3] and count.tolist() == [3]


PROMO, MAIL, RECS, COUPON = (o["code"] for o in [*OFFERS[:3], FALLBACK])  # test_assign_offers


@pytest.mark.parametrize(
    ("drivers", "customer", "top", "max_offers", "codes", "source"),
    [
        (["promo_share", "pages_per_visit"], {"allow_messages": "нет"}, 2, 2, [PROMO, RECS],
         of.TOP),
        (["marketing_6m", "promo_share"], {"allow_messages": "да"}, 2, 2, [MAIL, PROMO],
         of.TOP),
        (["marketing_6m", "promo_share"], {"allow_messages": "да"}, 2, 1, [MAIL], of.TOP),
        (["marketing_6m", "tenure_days"], {"allow_messages": "нет"}, 2, 2, [COUPON],
         of.FALLBACK),
        (["tenure_days", "service_errors", "minutes_current", "promo_share"], {}, 2, 2, [RECS],
         of.FURTHER),  # the first rule answering a weaker driver, and only that one
        (["pages_per_visit", "minutes_current"], {}, 2, 2, [RECS], of.TOP),  # one rule, once
        (["promo_share"], {}, 0, 2, [PROMO], of.FURTHER),  # no driver listed
        ([], {}, 2, 2, [COUPON], of.FALLBACK),
    ],
)  # fmt: skip
def test_assign_offers(drivers, customer, top, max_offers, codes, source) -> None:
    offers, fallback = of.parse_offers(
        OFFERS, FALLBACK, {"allow_messages", "favourite_category"}, []
    )
    features = list(FEATURES)
    shap = np.zeros((1, len(features)))
    for rank, driver in enumerate(drivers):  # strongest first
        shap[0, features.index(driver)] = len(drivers) - rank
    customers = pd.DataFrame([{"allow_messages": None, **customer}])
    order, count = of.decline_order(shap)
    slots, how = of.assign_offers(order, count, features, customers, offers, top, max_offers)
    every = [*offers, fallback]
    assert [every[k].code for k in slots[0] if k >= 0] == codes and how[0] == source


def test_segment_customers_ranked_with_drivers_and_offers(table) -> None:
    mask, _ = sg.select(table, PARAMS)
    shap = shap_frame({
        104: {"promo_share": 0.2, "tenure_days": 0.3, "marketing_6m": 0.1},
        105: {"tenure_days": 0.4, "service_errors": 0.1},
        106: {"marketing_6m": 0.3, "pages_per_visit": -0.2},
    })  # fmt: skip
    values = table.set_index(ID)[FEATURES]
    out = sg.segment_customers(table, mask, shap, values, PARAMS)
    assert out[ID].tolist() == [106, 104, 105]  # expected profit at risk 4.5, 3.8, 3.5
    assert out["driver_1"].tolist() == ["marketing_6m", "tenure_days", "tenure_days"]
    assert out.loc[1, "driver_2"] == "promo_share" and out.loc[1, "driver_2_shap"] == 0.2
    assert out.loc[2, "driver_2"] == "service_errors" and "driver_3" not in out
    assert pd.isna(out.loc[0, "driver_2"])  # 106 has a single decline driver
    # 106 has allow_messages "нет": no mailing; its only decline driver answers no rule
    assert out["offer_codes"].tolist() == [
        "category_coupon",
        "promo_category_discount",
        "category_coupon",
    ]
    assert out["offer_source"].tolist() == [of.FALLBACK, of.TOP, of.FALLBACK]
    assert out.loc[1, "offers"] == "Discount in Домашний текстиль"  # 104's category
    assert (out["offer_codes"] != "").all()


def test_value_curve_orders_by_expected_profit_at_risk(table) -> None:
    curve = sg.value_curve(table, 7)  # 6 customers: one more each step
    total = table[sg.AT_RISK].sum()
    expected = np.cumsum([0, 4.5, 3.8, 3.5, 2.4, 0.9, 0.4]) / total
    np.testing.assert_allclose(curve["share_profit_at_risk"], expected)
    np.testing.assert_allclose(curve["share_contacted"], np.linspace(0, 1, 7))


def test_profile_means_and_category_shares(table) -> None:
    mask = table[ID].isin([101, 103])
    out = sg.profile(table, mask, ["promo_share", "allow_messages"]).set_index(["feature", "level"])
    assert out.loc[("promo_share", ""), "segment"] == pytest.approx((0 + 0.4) / 2)
    assert out.loc[("promo_share", ""), "rest"] == pytest.approx((0.2 + 0.6 + 0.8 + 1) / 4)
    assert out.loc[("allow_messages", "да"), "segment"] == 1.0
    assert out.loc[("allow_messages", "нет"), "rest"] == 0.75


# --- the report is made of metrics ------------------------------------------------------------


def renderings(metrics: Any) -> set[str]:
    """Every way the report may print a metric: count, 2 decimals, percent, as given."""
    out: set[str] = set()
    if isinstance(metrics, dict):
        for value in metrics.values():
            out |= renderings(value)
    elif isinstance(metrics, list):
        for value in metrics:
            out |= renderings(value)
    elif isinstance(metrics, int | float) and not isinstance(metrics, bool):
        out |= {f"{metrics:.2f}", f"{100 * metrics:.1f}", f"{metrics:g}"}
        if float(metrics).is_integer():
            out.add(str(int(metrics)))
    return out


def numbers_in(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])", text)


def assert_report_made_of_metrics(text: str, metrics: dict[str, Any], language: str) -> None:
    """Every number is a metric: names with digits ("за 6 мес.") aside, decimal commas read."""
    seg = metrics["segment"]
    word = {"ru": "клиентов", "en": "customers"}[language]
    assert f"**{seg['size']} {word}" in text
    assert money(seg["expected_profit_at_risk_total"], language) in text
    for term in vocab.TERMS.values():
        text = text.replace(term.name(language), "")
    text = re.sub(r"(?<=\d),(?=\d)", ".", text)
    allowed = renderings(metrics)
    stray = [n for n in numbers_in(text) if n not in allowed]
    assert not stray, f"numbers in the report that are not metrics: {stray}"


def build(table: pd.DataFrame, params: dict[str, Any]) -> tuple[dict, pd.DataFrame]:
    """The segment stage's steps on a small table: eligibility, every customer's offers, the
    design by net profit (no control group), the metrics."""
    eligible, rules = sg.select(table, params)
    shap = shap_frame({i: {"promo_share": 0.1 * (i - 100)} for i in table[ID]})
    offered = sg.segment_customers(
        table, eligible | True, shap, table.set_index(ID)[FEATURES], params
    )
    price = design.pricing(table, params, lambda rows: offered)
    plan = design.design(table, eligible, price, params, {"control_share": 0.0, "seed": 1})
    mask, customers = plan.mask, plan.customers
    metrics = report.build_metrics(
        rules, sg.summary(table[mask], len(table)), sg.summary(table, len(table)), customers,
        sg.value_curve(table, params["value_curve_points"]),
        sg.profile(table, mask, FEATURES), FEATURES, params,
    ) | design.metrics(plan, params)  # fmt: skip
    return json.loads(json.dumps(metrics, default=float)), customers


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_numbers_all_come_from_metrics(table, language: str) -> None:
    metrics, _ = build(table, PARAMS)
    assert (
        metrics["segment"]["size"] == 3
        and metrics["offers"]["by_code"]["promo_category_discount"] == 3
    )
    assert metrics["segment"]["expected_profit_at_risk_total"] == pytest.approx(11.8)
    assert metrics["value_curve"][0]["share_contacted"] == 0.1
    text = markdown.render(metrics, language)
    assert_report_made_of_metrics(text, metrics, language)
    word = {"ru": "клиентов", "en": "customers"}[language]
    tampered = text.replace(f"**3 {word}", f"**4 {word}")
    with pytest.raises(AssertionError):
        assert_report_made_of_metrics(tampered, metrics, language)
    tampered = text.replace("| 3 |", "| 7 |", 1)
    with pytest.raises(AssertionError):
        assert_report_made_of_metrics(tampered, metrics, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_empty_segment_still_reports(table, language: str) -> None:
    metrics, customers = build(table, {**PARAMS, "threshold": 0.99})
    assert customers.empty and metrics["segment"]["size"] == 0
    assert metrics["segment"]["profit_mean"] is None
    assert_report_made_of_metrics(markdown.render(metrics, language), metrics, language)


# --- integration: outputs of the reproduced sample project ------------------------------------


def test_segment_outputs(reproduced_project: Path) -> None:
    repo = reproduced_project
    metrics = json.loads((repo / "reports/segment.json").read_text(encoding="utf-8"))
    text = (repo / "reports/segment.md").read_text(encoding="utf-8")
    language = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["report"]
    language = language["language"]
    assert text == markdown.render(metrics, language), "the rendering of reports/segment.json"
    assert_report_made_of_metrics(text, metrics, language)
    customers = pd.read_csv(repo / "data/segment/customers.csv", keep_default_na=False)
    assert len(customers) == metrics["segment"]["size"] > 0
    offered = customers["group"] == "treatment"
    assert set(customers["group"]) == {"treatment", "control"}
    assert offered.sum() == metrics["campaign"]["treatment_size"]
    assert (customers.loc[offered, "offer_codes"] != "").all(), "every treated customer: an offer"
    assert (customers.loc[~offered, "offer_codes"] == "").all(), "the control group gets none"
    net = "expected_net_profit"  # the segment: by its offers' expected net profit, all > 0
    ranked = customers.sort_values([net, ID], ascending=[False, True], kind="mergesort")
    assert customers[ID].tolist() == ranked[ID].tolist() and (customers[net] > 0).all()
    economics = metrics["economics"]  # totals over the contacted customers only
    assert economics["contacted"] == offered.sum()
    assert economics["expected_cost"] == pytest.approx(
        customers.loc[offered, "expected_cost"].sum(), abs=0.01
    )
    assert economics["expected_gain"] == pytest.approx(
        customers.loc[offered, "expected_gain"].sum(), abs=0.01
    )
    scores = pd.read_csv(repo / "data/predictions/scores.csv")
    at_risk = scores.set_index(ID).loc[customers[ID], "probability"]
    assert (at_risk >= metrics["rules"]["threshold"]).all()
    if metrics["rules"]["profit_cut"] is not None:
        assert (customers[PROFIT] >= metrics["rules"]["profit_cut"]).all()
    assert (repo / "plots/segment/net_profit_curve.png").exists()
    curve = pd.read_csv(repo / "plots/segment_data/value_curve.csv")
    assert curve["share_profit_at_risk"].is_monotonic_increasing
    assert curve["share_profit_at_risk"].iloc[[0, -1]].tolist() == [0.0, 1.0]
    assert (repo / "reports/segment_profile.csv").stat().st_size > 0
    assert (repo / "plots/segment/value_curve.png").exists()
