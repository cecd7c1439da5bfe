"""The outcomes report (Russian), rendered from the outcomes metrics alone (every figure in it
is one of them), and the number formats of every campaign text."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from oneclick.campaign.control import CONTROL, TREATMENT
from oneclick.campaign.drift import DRIFT, WATCH, flag
from oneclick.core.escaping import markdown_text
from oneclick.data.contract import LABELS
from oneclick.text import formats
from oneclick.text import outcomes as phrases
from oneclick.text.formats import count
from oneclick.text.vocabulary import offer_name

NONE = "—"
GROUP_NAMES = {TREATMENT: "получили предложение", CONTROL: "контрольная (без предложения)"}
POPULATIONS = {
    "untreated": "все клиенты прошлого периода, кроме получивших предложение",
    CONTROL: "контрольная группа кампании (файла оценок всех клиентов не было)",
}
_PLAIN_NAME = re.compile(r"[\w.]+")  # a feature name as the spec writes it: safe in `code`
FLAGS = {"ok": "стабилен", "watch": "заметный сдвиг", "drift": "**дрейф**"}


# the campaign's texts are Russian: decimal comma, "—" for a figure that could not be computed
money = partial(formats.money, language="ru", missing=NONE)
percent = partial(formats.percent, language="ru", missing=NONE)
fraction = partial(formats.fraction, language="ru")


def _feature(name: str) -> str:
    label = LABELS.get(name)
    shown = f"`{name}`" if _PLAIN_NAME.fullmatch(name) else markdown_text(name)  # nothing runs
    return f"{shown} ({label})" if label else shown


def _effect_lines(e: dict[str, Any]) -> list[str]:
    rows = [
        [
            GROUP_NAMES[g],
            count(e[g]["customers"]),
            count(e[g]["found"]),
            count(e[g]["declined"]),
            money(e[g]["decline_rate"]),
            money(e[g]["probability_mean"]),
        ]
        for g in (TREATMENT, CONTROL)
    ]
    header = ["группа", "в кампании", "найдено в новом периоде", "снизили активность",
              "доля снизивших", "предсказано моделью"]  # fmt: skip
    lines = [*formats.table(header, rows), ""]
    if not e["measurable"]:
        small = [GROUP_NAMES[g] for g in (TREATMENT, CONTROL) if e[g]["found"] < e["min_group"]]
        return [
            *lines,
            f"**Эффект не измерим**: в группе «{'», «'.join(small)}» найдено меньше "
            f"{count(e['min_group'])} клиентов.",
            "",
        ]
    ci = f"{money(e['drop_ci_low'])} … {money(e['drop_ci_high'])}"
    verdict = (
        "Эффект статистически значим: интервал не включает 0."
        if e["significant"]
        else "Эффект не значим: интервал включает 0, и по этим данным нельзя утверждать ни что "
        "предложения работают, ни что не работают."
    )
    return [
        *lines,
        f"**Снижение доли снизивших активность (контрольная минус получившие предложение): "
        f"{money(e['drop'])}**, {100 * e['confidence']:g}% доверительный интервал {ci} "
        "(интервал Ньюкомба). " + verdict,
        "",
        "Сохранённая прибыль ≈ снижение × прибыль получивших предложение "
        f"({money(e[TREATMENT]['profit_total'])}): **{money(e['implied_profit'])}** "
        f"(интервал {money(e['implied_profit_ci_low'])} … {money(e['implied_profit_ci_high'])}).",
        "",
        _adjusted_line(e["adjusted"], e["confidence"]),
        "",
    ]


def _adjusted_line(a: dict[str, Any], confidence: float) -> str:
    if a["adjusted_drop"] is None:
        return phrases.ADJUSTED_MISSING
    names = [phrases.COVARIATE_NAMES[c] for c in a["covariates"] if c in phrases.COVARIATE_NAMES]
    if len(names) < len(a["covariates"]):
        names.append(phrases.FEATURES_NAME)
    return phrases.ADJUSTED.format(
        covariates=", ".join(names),
        drop=money(a["adjusted_drop"]),
        level=f"{100 * confidence:g}",
        low=money(a["adjusted_ci_low"]),
        high=money(a["adjusted_ci_high"]),
    ) + (phrases.REDUCED if (a["variance_reduction"] or 0) > 0 else phrases.NOT_REDUCED).format(
        reduction=percent(a["variance_reduction"])
    )


def _profit_lines(p: dict[str, Any]) -> list[str]:
    if p["realised_gain"] is None:
        return [phrases.PROFIT_NOT_MEASURABLE, ""]
    adjusted = phrases.WITH_ADJUSTMENT if p["adjusted"] else ""
    text = phrases.PROFIT_REALISED.format(
        horizon=f"{p['horizon_months']:g}", realised=money(p["realised_gain"]), adjusted=adjusted
    )
    if p["expected_gain"] is None:
        return [text + phrases.PROFIT_NO_EXPECTATION, ""]
    text += phrases.PROFIT_EXPECTED.format(expected=money(p["expected_gain"]))
    if p["cost"] is not None:
        text += phrases.PROFIT_NET.format(
            cost=money(p["cost"]),
            net=money(p["realised_net"]),
            expected_net=money(p["expected_net"]),
        )
    return [text, ""]


def _verdict(g: dict[str, Any]) -> str:
    if not g["measurable"]:
        return phrases.NOT_MEASURABLE
    if g["harmful"]:
        return phrases.HARMFUL
    low = g["adjusted_ci_low"] if g["adjusted_drop"] is not None else g["drop_ci_low"]
    return phrases.WORKS if low > 0 else phrases.UNCLEAR


def _breakdown_rows(groups: dict[str, dict[str, Any]], name: Any) -> list[list[str]]:
    return [
        [
            name(key),
            count(g["treatment"]),
            count(g["control"]),
            money(g["drop"]),
            f"{money(g['drop_ci_low'])} … {money(g['drop_ci_high'])}" if g["drop"] is not None
            else NONE,
            money(g["adjusted_drop"]),
            f"{money(g['adjusted_ci_low'])} … {money(g['adjusted_ci_high'])}"
            if g["adjusted_drop"] is not None else NONE,
            _verdict(g),
        ]
        for key, g in groups.items()
    ]  # fmt: skip


def _breakdown_lines(b: dict[str, Any]) -> list[str]:
    header = phrases.BREAKDOWN_HEADER
    offers = _breakdown_rows(b["by_offer"], lambda code: markdown_text(offer_name(code, "ru")))
    bands = _breakdown_rows(
        b["by_risk_band"], lambda band: band.replace(".", ",").replace("-", " … ")
    )
    intro = phrases.BREAKDOWN_INTRO.format(
        periods=", ".join(map(markdown_text, b["periods"])) or NONE, min_group=b["min_group"]
    )
    return [intro, "", *formats.table([phrases.OFFER_COLUMN, *header], offers), "",
            *formats.table([phrases.BAND_COLUMN, *header], bands), ""]  # fmt: skip


def _uplift_line(u: dict[str, Any]) -> str:
    return phrases.UPLIFT[u["reason"]].format(
        logged=count(u["logged"]),
        min_arm=count(u["min_arm"]),
        difference=money(u["difference"]),
        low=money(u["ci_low"]),
        high=money(u["ci_high"]),
        needed=count(u["customers_needed"]),
    )


def _model_lines(q: dict[str, Any]) -> list[str]:
    auc = money(q["roc_auc"]) if q["roc_auc"] is not None else "не определён (один класс)"
    rows = [
        [count(r["decile"]), count(r["customers"]), money(r["predicted"]), money(r["observed"])]
        for r in q["calibration"]
    ]
    return [
        f"Вероятности прошлого периода против того, что произошло: {POPULATIONS[q['population']]}"
        f" (клиентов: {count(q['customers'])}, из них снизили активность: "
        f"{count(q['declined'])}).",
        "",
        f"- ROC-AUC: **{auc}**; Brier: {money(q['brier'])}.",
        f"- Средняя предсказанная вероятность снижения {money(q['probability_mean'])}, "
        f"наблюдаемая доля {money(q['decline_rate'])}.",
        "",
        *formats.table(["дециль риска", "клиентов", "предсказано", "наблюдалось"], rows),
        "",
    ]


def _drift_lines(d: dict[str, Any]) -> list[str]:
    ranked = sorted(d["psi"].items(), key=lambda item: (-item[1], item[0]))
    rows = [[_feature(f), formats.number(v, 3, "ru"), FLAGS[flag(v)]] for f, v in ranked]
    drifted = [f for f, v in ranked if v > DRIFT]
    advice = (
        f"Модель применяется к клиентам, не похожим на обучающих "
        f"({', '.join(map(markdown_text, drifted))}): "
        "переобучить её на новых данных, прежде чем доверять вероятностям."
        if drifted
        else "Новый период похож на обучающий: дрейфа нет."
    )
    return [
        f"Обучающая выборка (клиентов: {count(d['reference_customers'])}) против нового "
        f"периода ({count(d['new_customers'])}). PSI выше {fraction(WATCH)} — заметный сдвиг, "
        f"выше {fraction(DRIFT)} — дрейф. Признаков выше {fraction(WATCH)}: "
        f"{count(d['features_above_watch'])}, выше {fraction(DRIFT)}: "
        f"{count(d['features_above_drift'])}. {advice}",
        "",
        *formats.table(["признак", "PSI", "оценка"], rows),
        "",
    ]


def render_outcomes(m: dict[str, Any]) -> str:
    """The outcomes report (Markdown, Russian) from the outcomes metrics."""
    new = m["new_period"]
    return "\n".join(
        [
            "# Итоги кампании: эффект предложений, качество модели, дрейф",
            "",
            "Сформировано командой `oneclick outcomes` из `outcomes.json`; не редактировать "
            f"вручную. Клиентов в новом периоде после очистки: {count(new['customers'])} "
            f"(исключены правилами очистки: {count(new['removed_by_cleaning'])}).",
            "",
            "## Эффект предложений",
            "",
            *_effect_lines(m["effect"]),
            "## Дополнительная прибыль",
            "",
            *_profit_lines(m["profit"]),
            "## Эффект по предложениям и группам риска",
            "",
            *_breakdown_lines(m["breakdown"]),
            "## Кого выбирать: по риску или по отклику",
            "",
            _uplift_line(m["uplift"]),
            "",
            "## Качество модели на новом периоде",
            "",
            *_model_lines(m["model"]),
            "## Дрейф признаков (PSI)",
            "",
            *_drift_lines(m["drift"]),
        ]
    )
