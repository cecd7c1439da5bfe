"""The section of reports/segment.md on the control group and what the campaign can detect
(Russian), rendered from the `campaign` block of reports/segment.json."""

from __future__ import annotations

from typing import Any

from oneclick.campaign.report import count, money, percent


def segment_section(m: dict[str, Any]) -> list[str]:
    """Lines of reports/segment.md on the control group and what the campaign can detect;
    none when the metrics have no `campaign` block."""
    c, seg = m.get("campaign"), m["segment"]
    if c is None:
        return []
    test = f"при α = {c['alpha']:g} (двусторонний тест) и мощности {c['power']:g}"
    mde = c["min_detectable_drop"]
    detectable = (
        f"кампания такого размера заметит снижение доли снизивших активность не меньше чем на "
        f"**{money(mde)}** (от {money(seg['probability_mean'])}, средней вероятности снижения "
        "в сегменте)"
        if mde is not None
        else "кампания такого размера не заметит никакого снижения: группа слишком мала"
    )
    target, needed = c["target_effect"], c["size_needed"]
    lines = [
        "## Контрольная группа и что кампания сможет измерить",
        "",
        f"- Контрольная группа: {count(c['control_size'])} из {count(seg['size'])} клиентов "
        f"сегмента ({percent(c['control_share'])}, `campaign.control_share`); им предложения "
        "не отправляются (`group = control` и пустые предложения в `data/segment/customers.csv`). "
        "Группы выбраны случайно внутри блоков клиентов с близкой вероятностью снижения, поэтому "
        "риск в них одинаков: средняя вероятность снижения "
        f"{money(c['treatment_probability_mean'])} у получающих предложение и "
        f"{money(c['control_probability_mean'])} в контрольной.",
        f"- Минимальный обнаружимый эффект: {test} {detectable}.",
    ]
    if needed is None:
        lines.append(
            f"- Снижение на {target:g} (`campaign.target_effect`) не измеримо ни при каком "
            "размере сегмента: оно больше самой доли снижения."
        )
    else:
        lines.append(
            f"- Чтобы заметить снижение на {target:g} (`campaign.target_effect`) при той же "
            f"вероятности снижения, сегмент должен быть не меньше **{count(needed)}** клиентов "
            f"(сейчас {count(seg['size'])}): это {percent(c['size_needed_share_of_customers'])} "
            "всех клиентов; столько клиентов с наибольшей ожидаемой прибылью под риском несут "
            f"{percent(c['size_needed_share_of_expected_profit_at_risk'])} её (кривая ценности; "
            f"текущий сегмент — {percent(seg['share_of_expected_profit_at_risk'])})."
        )
    grown = c["grown_size_needed"]
    if grown is not None:
        lines.append(
            "- Сегмент, взятый прямо по кривой ценности (клиенты по убыванию ожидаемой прибыли "
            f"под риском), позволяет измерить эффект {target:g} начиная с первых "
            f"**{count(grown)}** клиентов: их средняя вероятность снижения "
            f"{money(c['grown_probability_mean'])}, это {percent(c['grown_share_of_customers'])} "
            f"клиентов и {percent(c['grown_share_of_expected_profit_at_risk'])} ожидаемой прибыли "
            "под риском."
        )
    if needed is not None and needed <= seg["size"]:
        verdict = f"сегмент достаточно велик, чтобы измерить эффект {target:g}."
    else:
        verdict = (
            f"сегмент мал, чтобы надёжно измерить эффект {target:g}: расширить его по кривой "
            "ценности, принять, что кампания измерит только больший эффект, или сложить "
            "результаты нескольких периодов (`oneclick outcomes` каждый период)."
        )
    return [*lines, f"- Вывод: {verdict}", ""]
