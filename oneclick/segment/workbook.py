"""The campaign as the marketing team works with it: the customers to contact, the control group
nobody may contact, and a sheet saying what the workbook is.

A contacted control customer silently destroys next period's measurement (`oneclick outcomes`
compares the two groups), so control customers never share a sheet, a CSV or a top table with
the customers to contact. Same for `oneclick predict` and the segment stage.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from oneclick.campaign.control import CONTROL, GROUP
from oneclick.core import paths, provenance
from oneclick.data.contract import ID, PROFIT
from oneclick.segment.selection import AT_RISK, PROBABILITY
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import count, say

SHEETS = {
    "act": ("Кампания", "Campaign"),
    # Excel refuses a sheet title over 31 characters
    "control": ("Контроль — не связываться", "Control — do not contact"),
    "about": ("Описание", "About"),
}
WORDS = {  # (ru, en)
    "control": (
        "Контрольная группа: {n} из {total} клиентов сегмента. С ними нельзя связываться: "
        "никаких предложений, рассылок и звонков в этом месяце. Только сравнив их с теми, кому "
        "отправили предложения, магазин узнает, сработали ли предложения.",
        "Control group: {n} of the {total} segment customers. They must not be contacted: no "
        "offers, mailings or calls this month. Only by comparing them with the customers who "
        "got offers will the store know whether the offers worked.",
    ),
    "period": (
        "Период: месяц, следующий за текущим месяцем данных. Версия данных: `{data}`. Версия "
        "модели: `{model}`.",
        "Period: the month after the data's current month. Data version: `{data}`. Model "
        "version: `{model}`.",
    ),
    "versions": ("Период и версии", "Period and versions"),
    "unknown": ("неизвестна", "unknown"),
    "what": ("Что", "What"),
    "meaning": ("Значение", "Meaning"),
    "to_contact": ("Связаться", "To contact"),
    "to_contact_text": (
        "Лист «{sheet}»: {n} клиентов, каждому — его предложения.",
        "Sheet «{sheet}»: {n} customers, each with their offers.",
    ),
    "consent": ("Согласие на сообщения", "Consent to messages"),
    "consent_text": (
        "Предложение-сообщение (рассылка, напоминание) получает только клиент с согласием на "
        "сообщения; остальным — лучшее предложение на сайте или в приложении.",
        "A message offer (mailing, reminder) goes only to a customer who consented to "
        "messages; the others get the best offer on the site or in the app.",
    ),
    "success": ("Как измерить успех", "How success is measured"),
    "success_text": (
        "Через месяц после кампании: доля клиентов, чья активность снизилась, в контрольной "
        "группе минус та же доля среди получивших предложения (`oneclick outcomes`), с "
        "доверительным интервалом; успех — интервал выше нуля.",
        "One month after the campaign: the share of customers whose activity declined in the "
        "control group minus that share among those who got offers (`oneclick outcomes`), "
        "with its confidence interval; success is an interval above zero.",
    ),
}
MEANINGS = {  # a column header (its pattern) -> what it means
    ID: ("номер клиента в базе магазина", "the customer's number in the store's database"),
    PROBABILITY: (
        "вероятность, что активность клиента снизится в следующие три месяца",
        "probability that the customer's activity declines in the next three months",
    ),
    "profit": (
        "средняя прибыль от клиента в месяц за последние три месяца",
        "average monthly profit from the customer over the last three months",
    ),
    AT_RISK: (
        "прибыль × вероятность снижения: сколько магазин может потерять",
        "profit × probability of decline: what the store may lose",
    ),
    "allow_messages": (
        "можно ли отправлять клиенту сообщения",
        "whether the customer may be sent messages",
    ),
    "favourite_category": ("категория, где клиент покупает больше всего", "favourite category"),
    "offer": ("короткое имя предложения", "the offer's short name"),
    "offer_text": ("текст предложения для клиента", "the offer's text for the customer"),
    "driver": (
        "причина возможного снижения, которую предложение должно снять",
        "a reason for the likely decline the offer addresses",
    ),
}


def versions() -> dict[str, str]:
    """The campaign's versions: the md5s dvc.lock records for the model and the merged data,
    computed from those files (the segment stage's deps)."""
    data = provenance.out_md5(paths.MERGED_DIR).removesuffix(".dir")
    return {"model": provenance.out_md5(paths.MODEL_FILE), "data": data}


def split(
    campaign: pd.DataFrame, groups: pd.Series, language: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the customers to contact, the control group): neither carries the group column; the
    control rows keep the id and the figures only, nothing to send."""
    control = groups.to_numpy() == CONTROL
    table = campaign.drop(columns=[vocab.label(GROUP, language)], errors="ignore")
    figures = [ID, *(vocab.label(k, language) for k in (PROBABILITY, PROFIT, AT_RISK))]
    return (
        table[~control].reset_index(drop=True),
        table.loc[control, figures].reset_index(drop=True),
    )


def header_key(column: str, language: str) -> str | None:
    """The MEANINGS key of a campaign header ("Предложение 2" -> "offer"), None if unknown."""
    for key in (PROBABILITY, "profit", AT_RISK, "allow_messages", "favourite_category"):
        if column == vocab.label(key, language):
            return key
    if column == ID:
        return ID
    patterns = {  # offer_text before offer: "Offer 1 text" also starts like "Offer 1"
        "offer_text": (r"Текст предложения \d+", r"Offer \d+ text"),
        "offer": (r"Предложение \d+", r"Offer \d+"),
        "driver": (r"Причина снижения \d+", r"Decline driver \d+"),
    }
    for key, pair in patterns.items():
        if re.fullmatch(say(pair, language), column):
            return key
    return None


def lines(m: dict[str, Any], language: str) -> list[str]:
    """The page's and the report's first lines: the control group (when there is one), then
    the period and the versions."""
    v, unknown = m.get("versions", {}), say(WORDS["unknown"], language)
    data, model = v.get("data") or unknown, v.get("model") or unknown
    out = [say(WORDS["period"], language, data=data, model=model)]
    if "campaign" in m:
        n, total = count(m["campaign"]["control_size"]), count(m["segment"]["size"])
        out.insert(0, say(WORDS["control"], language, n=n, total=total))
    return out


def about(act: pd.DataFrame, m: dict[str, Any], language: str) -> pd.DataFrame:
    """The description sheet: period, versions, whom to contact and whom not, the consent rule,
    how success is measured, then what each column of the campaign sheet means."""
    *control, period = lines(m, language)
    rows = [
        (say(WORDS["versions"], language), period),
        *((say(SHEETS["control"], language), text) for text in control),
        (
            say(WORDS["to_contact"], language),
            say(WORDS["to_contact_text"], language, sheet=say(SHEETS["act"], language), n=len(act)),
        ),
        (say(WORDS["consent"], language), say(WORDS["consent_text"], language)),
        (
            say(WORDS["success"], language),
            say(WORDS["success_text"], language),
        ),
    ]
    for column in act.columns:
        key = header_key(str(column), language)
        if key:
            rows.append((str(column), say(MEANINGS[key], language)))
    names = [say(WORDS["what"], language), say(WORDS["meaning"], language)]
    return pd.DataFrame(rows, columns=names).replace("`", "", regex=True)  # no Markdown here


def sheets(
    act: pd.DataFrame, control: pd.DataFrame, description: pd.DataFrame, language: str
) -> dict[str, pd.DataFrame]:
    return {
        say(SHEETS["act"], language): act,
        say(SHEETS["control"], language): control,
        say(SHEETS["about"], language): description,
    }
