"""reports/segment.md: the segment for reviewers, rendered from reports/segment.json alone (every
figure is a metric) in report.language, names and units from the vocabulary."""

from __future__ import annotations

from functools import partial
from typing import Any

from oneclick.campaign.segment_text import segment_section
from oneclick.core.escaping import markdown_text
from oneclick.data.contract import ID
from oneclick.segment import workbook
from oneclick.segment.offers import SOURCES
from oneclick.text import formats
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import count, fraction, money, percent

# language -> key -> a phrase (str) or a table's headers (list[str]): Any lets both be used
PHRASES: dict[str, dict[str, Any]] = {
    "ru": {
        "title": "# Ценные клиенты под риском: кто, почему, что предложить",
        "generated": "Отчёт собран из `reports/segment.json`; не править вручную. Страница для "
        "маркетинга: `reports/segment.html`; список для кампании: `data/segment/campaign.xlsx`.",
        "segment": "## Сегмент",
        "threshold": "- вероятность снижения активности не ниже {x} (вероятность каждого клиента "
        "дала модель, которая не видела его при обучении);",
        "profit": "- прибыль не ниже {x} у.е. в месяц (не меньше, чем у {q} всех оценённых "
        "клиентов);",
        "promo": "- доля акционных покупок не ниже {x};",
        "carry": "**{n} клиентов ({share} из {total}) несут {risk} всей ожидаемой прибыли под "
        "риском** (вероятность снижения × прибыль).",
        "columns": ["", "сегмент", "все клиенты"],
        "rows": ["клиентов", "средняя вероятность снижения", "прибыль всего, у.е. в месяц",
                 "прибыль в среднем, у.е. в месяц", "ожидаемая прибыль под риском всего, у.е. "
                 "в месяц", "ожидаемая прибыль под риском в среднем, у.е. в месяц"],
        "why": "## Почему уходят: главная причина снижения",
        "feature": "признак", "customers": "клиентов", "level": "значение",
        "differs": "## Чем сегмент отличается от остальных (наибольшие стандартизованные разницы)",
        "rest": "остальные",
        "means": "Средние для числовых признаков, доли для значений категорий; все признаки в "
        "`reports/segment_profile.csv`, графики в `plots/segment/`.",
        "offers": "## Предложения", "offer": "предложение",
        "found": "Как подобраны: {sources}. Клиентов без предложения: {n}.",
        "top": "## Главные клиенты по ожидаемой чистой прибыли предложений",
        "top_columns": ["id", "вероятность", "прибыль, у.е. в месяц",
                        "ожидаемая прибыль под риском, у.е. в месяц",
                        "ожидаемая чистая прибыль, у.е.", "предложения"],
        "outside": "## Кто не вошёл и почему",
        "below_threshold": "- вероятность снижения ниже порога: {n} клиентов;",
        "below_profit": "- прибыль ниже порога: {n} клиентов;",
        "below_promo": "- доля акционных покупок ниже порога: {n} клиентов;",
        "not_paying": "- предложения не окупаются (ожидаемая чистая прибыль не больше нуля): {n} "
        "клиентов с вероятностью не ниже порога;",
        "over_budget": "- не хватило бюджета (`segment.economics.budget`): {n} клиентов;",
        "net_rule": "- ожидаемая чистая прибыль предложений положительна (выигрыш за "
        "{h} мес. больше их стоимости){budget}.",
        "budget": ", пока стоимость не превысит бюджет {x} у.е.",
        "removed": "- не оценены, исключены при очистке данных: {what}.",
        "none": "никто",
        "advice": "## Рекомендации",
        "first": "- Сначала связаться с сегментом: {n} клиентов, {risk} у.е. в месяц ожидаемой "
        "прибыли под риском; у каждого персональное предложение под его собственные причины "
        "снижения (`data/segment/campaign.xlsx`).",
        "curve": "- Связавшись с первыми {x} всех клиентов по ожидаемой прибыли под риском, "
        "охватываем {y} её (кривая ценности).",
        "rescore": "- Пересчитывать ежемесячно и следить за активностью сегмента; предложения, "
        "после которых клиенты продолжают уходить, заменить в `params.yaml` (`segment.offers`).",
    },
    "en": {
        "title": "# Valuable customers at risk: who, why, what to offer",
        "generated": "Generated from `reports/segment.json`; do not edit by hand. Page for "
        "marketing: `reports/segment.html`; campaign list: `data/segment/campaign.xlsx`.",
        "segment": "## The segment",
        "threshold": "- probability of decline at least {x} (each customer's probability comes "
        "from a model that did not see them in training);",
        "profit": "- profit at least {x} c.u. per month (no less than for {q} of all scored "
        "customers);",
        "promo": "- share of promo purchases at least {x};",
        "carry": "**{n} customers ({share} of {total}) carry {risk} of all expected profit at "
        "risk** (probability of decline times profit).",
        "columns": ["", "segment", "all customers"],
        "rows": ["customers", "mean probability of decline", "profit, total, c.u. per month",
                 "profit, mean, c.u. per month", "expected profit at risk, total, c.u. per month",
                 "expected profit at risk, mean, c.u. per month"],
        "why": "## Why they slip: strongest decline driver (SHAP)",
        "feature": "feature", "customers": "customers", "level": "level",
        "differs": "## How the segment differs from the rest (largest standardised differences)",
        "rest": "rest",
        "means": "Means for numeric features, shares for category levels; all features in "
        "`reports/segment_profile.csv`, plots in `plots/segment/`.",
        "offers": "## Offers", "offer": "offer",
        "found": "How they were found: {sources}. Customers without an offer: {n}.",
        "top": "## Top customers by the offers' expected net profit",
        "top_columns": ["id", "probability", "profit, c.u. per month",
                        "expected profit at risk, c.u. per month", "expected net profit, c.u.",
                        "offers"],
        "outside": "## Who is not in it, and why",
        "below_threshold": "- probability of decline below the threshold: {n} customers;",
        "below_profit": "- profit below the cut: {n} customers;",
        "below_promo": "- share of promo purchases below the minimum: {n} customers;",
        "not_paying": "- the offers do not pay (expected net profit not above zero): {n} "
        "customers at or above the probability threshold;",
        "over_budget": "- over the budget (`segment.economics.budget`): {n} customers;",
        "net_rule": "- the offers' expected net profit is positive (the gain over {h} months "
        "exceeds their cost){budget}.",
        "budget": ", until the cost reaches the budget of {x} c.u.",
        "removed": "- not scored, removed by the cleaning rules: {what}.",
        "none": "none",
        "advice": "## Recommendations",
        "first": "- Contact the segment first: {n} customers with {risk} c.u. per month of "
        "expected profit at risk; each has a personal offer answering their own decline "
        "drivers (`data/segment/campaign.xlsx`).",
        "curve": "- Contacting the top {x} of all customers by expected profit at risk reaches "
        "{y} of it (value curve).",
        "rescore": "- Re-score monthly and track the segment's activity; offers whose customers "
        "keep declining should be replaced in `params.yaml` (`segment.offers`).",
    },
}  # fmt: skip

# cells are text from params and data (offer codes and names): escaped
table = partial(formats.table, cell=markdown_text)


def highlight_value(feature: str, level: str, x: float | None, language: str) -> str:
    """A profile mean (in the feature's unit) or a category level's share."""
    if level or vocab.TERMS[feature].unit == "percent":
        return percent(x, language)
    shown = vocab.unit(feature, language)
    return f"{money(x, language)} {shown}".rstrip()


def removed_text(removed: dict[str, int], language: str) -> str:
    parts = [f"{vocab.reason_name(r, language)}: {count(n)}" for r, n in sorted(removed.items())]
    return "; ".join(parts) or PHRASES[language]["none"]


def offer_names(codes: str, language: str) -> str:
    """A customer's offer codes ("a;b") as their names, comma-separated."""
    return ", ".join(vocab.offer_name(c, language) for c in codes.split(";") if c)


OUTSIDE = (  # phrase key, metrics key of not_selected
    ("below_threshold", "probability_below_threshold"),
    ("below_profit", "profit_below_cut"),
    ("below_promo", "promo_share_below_minimum"),
    ("not_paying", "net_profit_not_positive"),
    ("over_budget", "over_budget"),
)


def facts(m: dict[str, Any], language: str) -> dict[str, Any]:
    """Every figure and phrase of the report in report.language, as plain strings: the Markdown
    report and the campaign page lay out the same facts."""
    t, lang = PHRASES[language], language
    rules, seg, every = m["rules"], m["segment"], m["everyone"]
    promo = rules["min_promo_share"]
    keys = ["probability_mean", "profit_total", "profit_mean"]
    keys += [f"expected_profit_at_risk_{what}" for what in ("total", "mean")]
    figures = [[t["rows"][0], count(seg["size"]), count(every["size"])]]
    for row, key in zip(t["rows"][1:], keys, strict=True):
        shown = percent if key == "probability_mean" else money
        figures.append([row, shown(seg[key], lang), shown(every[key], lang)])
    highlights = []
    for h in m["profile_highlights"]:
        feature, level = h["feature"], h["level"]
        highlights.append(
            [
                vocab.name(feature, lang),
                vocab.category(level, lang) if level else "",
                highlight_value(feature, level, h["segment"], lang),
                highlight_value(feature, level, h["rest"], lang),
            ]
        )
    top = [
        [
            count(c[ID]),
            percent(c["probability"], lang),
            money(c["profit"], lang),
            money(c["expected_profit_at_risk"], lang),
            money(c.get("expected_net_profit"), lang),
            offer_names(c["offer_codes"], lang),
        ]
        for c in m["top_customers"]
    ]
    by_driver = sorted(m["top_decline_driver"].items(), key=lambda item: (-item[1], item[0]))
    by_code = sorted(m["offers"]["by_code"].items(), key=lambda item: (-item[1], item[0]))
    outside = m.get("not_selected", {})
    rules_lines = [t["threshold"].format(x=fraction(rules["threshold"], lang))]
    if rules["profit_cut"] is not None:
        q = percent(rules["profit_quantile"], lang)
        rules_lines.append(t["profit"].format(x=money(rules["profit_cut"], lang), q=q))
    if promo is not None:
        rules_lines.append(t["promo"].format(x=fraction(promo, lang)))
    if "economics" in m:
        e = m["economics"]
        budget = "" if e["budget"] is None else t["budget"].format(x=money(e["budget"], lang))
        rules_lines.append(t["net_rule"].format(h=f"{e['horizon_months']:g}", budget=budget))
    return {
        "rules": rules_lines,
        "carry": t["carry"].format(
            n=count(seg["size"]),
            share=percent(seg["share_of_customers"], lang),
            total=count(every["size"]),
            risk=percent(seg["share_of_expected_profit_at_risk"], lang),
        ),
        "figures": figures,
        "drivers": [[vocab.name(k, lang), count(v)] for k, v in by_driver],
        "highlights": highlights,
        "offers": [[code, vocab.offer_name(code, lang), count(n)] for code, n in by_code],
        "found": t["found"].format(
            sources="; ".join(
                f"{vocab.source_name(k, lang)}: {count(m['offers']['by_source'][k])}"
                for k in SOURCES
            ),
            n=count(m["offers"]["customers_without_offer"]),
        ),
        "top": top,
        "outside": [
            t[key].format(n=count(outside[name])) for key, name in OUTSIDE if name in outside
        ]
        + [t["removed"].format(what=removed_text(m.get("removed_by_cleaning", {}), lang))],
        "first": t["first"].format(
            n=count(seg["size"]), risk=money(seg["expected_profit_at_risk_total"], lang)
        ),
        "curve": [
            t["curve"].format(
                x=percent(v["share_contacted"], lang), y=percent(v["share_reached"], lang)
            )
            for v in m["value_curve"]
        ],
    }


def render(m: dict[str, Any], language: str = "en") -> str:
    """reports/segment.md from the metrics dict. Depends on the dict's content only, not its key
    order, so reports/segment.json re-renders it exactly."""
    t, f = PHRASES[language], facts(m, language)
    first = [x for line in workbook.lines(m, language) for x in (line, "")]  # control, versions
    lines = [t["title"], "", *first, t["generated"], "", t["segment"], "", *f["rules"], ""]
    lines += [f["carry"]]
    lines += ["", *table(t["columns"], f["figures"]), "", t["why"], ""]
    lines += [*table([t["feature"], t["customers"]], f["drivers"]), "", t["differs"], ""]
    lines += table([t["feature"], t["level"], t["columns"][1], t["rest"]], f["highlights"])
    lines += ["", t["means"], "", t["offers"], ""]
    lines += table([t["offer"], t["customers"]], [row[1:] for row in f["offers"]])
    lines += ["", f["found"], "", t["top"], "", *table(t["top_columns"], f["top"])]
    lines += ["", t["outside"], "", *f["outside"], ""]
    lines += (
        [*segment_section(m), ""] if "campaign" in m else []
    )  # oneclick/campaign/segment_text.py
    if "exploration" in m:
        title = formats.say(workbook.WORDS["exploration"], language)
        lines += [f"## {title}", "", workbook.exploration_line(m["exploration"], language), ""]
    lines += [t["advice"], "", f["first"], *f["curve"]]
    return "\n".join([*lines, t["rescore"], ""])
