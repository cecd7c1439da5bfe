"""reports/segment.html: the campaign page for the marketing team, one self-contained file.

Plots are inline base64 PNG and the style is inline, so the page opens from a file, an e-mail
attachment or a CI artifact with no network (it holds no URL at all). Figures come from the
metrics (as in segment.md), the top customers' drivers in words from the campaign table.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Set
from pathlib import Path
from typing import Any

import pandas as pd

from oneclick.core import writers
from oneclick.segment import workbook
from oneclick.segment.markdown import PHRASES, facts
from oneclick.segment.words import header
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import count, money, number, say

STYLE = """body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.45}h1{font-size:1.7em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
vertical-align:top}th{background:#f3f3f3;text-align:left}td.n{text-align:right;white-space:nowrap}
.lead{font-size:1.2em;background:#fff4e5;padding:.8em 1em;border-left:4px solid #e67e22}
figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
figure.half img{width:520px}img{max-width:100%}"""
WORDS = {  # (ru, en): what the page adds to the Markdown report's phrases
    "title": ("Кампания удержания: ценные клиенты под риском", "Retention campaign: valuable "
              "customers at risk"),
    "lead": ("Это {money} у.е. в месяц.", "That is {money} c.u. per month."),
    "who": ("Кто в сегменте", "Who is in the segment"),
    "why": ("Почему они уходят", "Why they slip"),
    "why_note": ("Главная причина клиента — признак, который сильнее всего поднимает его "
                 "вероятность снижения активности. Ниже: чем клиенты сегмента "
                 "отличаются от остальных.", "A customer's strongest driver is the feature that "
                 "raises their probability of decline most (SHAP). Below: how segment customers "
                 "differ from the rest."),
    "curve": ("Кривая ценности", "Value curve"),
    "curve_note": ("Красная отметка — выбранный порог: сегмент. Кривая показывает, какую долю "
                   "ожидаемой прибыли под риском охватит кампания, если связаться с клиентами "
                   "по убыванию риска.", "The red mark is the chosen cut: the segment. The curve "
                   "shows how much expected profit at risk a campaign reaches when customers are "
                   "contacted from the highest risk down."),
    "offers": ("Предложения", "Offers"),
    "text": ("текст для клиента", "text for the customer"),
    "channel": ("канал", "channel"),
    "by_channel": ("Предложений по каналам: ", "Offers by channel: "),
    "consent": ("Сообщение получает только клиент с согласием на сообщения; остальным — лучшее "
                "предложение на сайте или в приложении.", "A message goes only to a customer who "
                "consented to messages; the others get the best offer on the site or in the app."),
    "whose": (" клиента", " of the customer"),
    "top": ("Главные клиенты и их причины", "Top customers and their reasons"),
    "reasons": ("причины снижения", "decline drivers"),
    "offers_of": ("предложения", "offers"),
    "files": ("Файлы для работы", "Files to work with"),
    "files_text": ("Полный список клиентов сегмента с предложениями и причинами: "
                   "<code>data/segment/campaign.xlsx</code> (Excel) и "
                   "<code>data/segment/campaign.csv</code> (CSV для русской локали: «;», "
                   "десятичная запятая).", "The whole segment with offers and reasons: "
                   "<code>data/segment/campaign.xlsx</code> (Excel) and "
                   "<code>data/segment/campaign.csv</code> (Russian-locale CSV: `;`, decimal "
                   "comma)."),
    "capt_value_curve": ("Кривая ценности с отмеченным сегментом", "Value curve, segment marked"),
    "capt_net_profit_curve": ("Чистая прибыль кампании по числу клиентов",
                              "Campaign net profit by customers contacted"),
    "net_note": ("Сколько клиентов взять: клиенты по убыванию ожидаемой чистой прибыли "
                 "(выигрыш минус стоимость их предложений); кривая достигает максимума там, где "
                 "следующий клиент уже не окупает своё предложение. Сегмент — клиенты с "
                 "вероятностью снижения не ниже порога и положительной чистой прибылью; его "
                 "точка ниже кривой на столько, сколько по допущению принесли бы клиенты с "
                 "меньшим риском (проверить это допущение — дело исследовательской группы).",
                 "How many customers to contact: customers by expected net profit (gain minus "
                 "the cost of their offers); the curve peaks where the next customer no longer "
                 "pays for their offer. The segment: customers at or above the probability "
                 "threshold with a positive net profit; its point sits below the curve by what "
                 "lower-risk customers would bring under the assumption (which the exploration "
                 "arm tests)."),
    "capt_top_drivers": ("Главная причина снижения у клиентов сегмента",
                         "Strongest decline driver in the segment"),
    "capt_profile": ("{name}: сегмент и остальные", "{name}: segment vs the rest"),
}  # fmt: skip


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(head: list[str], rows: list[list[str]], numeric: Set[int] = frozenset()) -> str:
    cells = ["<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        tds = (f"<td{' class=n' if k in numeric else ''}>{v}</td>" for k, v in enumerate(row))
        cells.append("<tr>" + "".join(tds) + "</tr>")
    return "<table>" + "".join(cells) + "</table>"


def _figure(path: Path, caption: str, half: bool) -> str:
    """A plot inline as base64 PNG (its title is in the image; the caption is its alt text)."""
    data = base64.b64encode(writers.written(path).read_bytes()).decode("ascii")
    size = ' class="half"' if half else ""
    return f'<figure{size}><img alt="{_e(caption)}" src="data:image/png;base64,{data}"></figure>'


def _caption(key: str, language: str) -> str:
    if key.startswith("profile_"):
        name = vocab.title_name(key.removeprefix("profile_"), language)
        return say(WORDS["capt_profile"], language, name=name)
    return say(WORDS[f"capt_{key}"], language)


def _template(text: str, language: str) -> str:
    """An offer's text with each quoted column named: "…({favourite_category})" -> "…(«…»)"."""
    names = {c: f"«{vocab.name(c, language)}{say(WORDS['whose'], language)}»" for c in vocab.TERMS}
    return text.format_map(names)


def _code(text: str) -> str:
    """`x` spans (versions, commands) as <code>x</code>."""
    return re.sub(r"`([^`<]*)`", r"<code>\1</code>", text)


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(x.removeprefix('- '))}</li>" for x in lines) + "</ul>"


def _top_rows(top: pd.DataFrame, language: str) -> list[list[str]]:
    """The campaign table's first rows: figures, then each customer's drivers and offers."""
    present = list(top.columns)
    found = {
        key: [h for k in range(1, len(present)) if (h := header(key, k, language)) in present]
        for key in ("driver", "offer")
    }
    rows = []
    for _, row in top.iterrows():
        figures = [number(row.iloc[1], 1, language) + "%"]
        figures += [number(row.iloc[k], 2, language) for k in (2, 3)]
        lines = {key: "<br>".join(_e(row[c]) for c in found[key] if row[c]) for key in found}
        rows.append([_e(row.iloc[0]), *map(_e, figures), lines["driver"], lines["offer"]])
    return rows


def render(
    m: dict[str, Any],
    campaign: pd.DataFrame,
    images: dict[str, Path],
    offers: list[dict[str, Any]],
    language: str,
) -> str:
    """The page: metrics m, the campaign table (top rows shown), plots by key, the offer rules."""
    t, f, lang = PHRASES[language], facts(m, language), language
    first = workbook.lines(m, lang)
    seg = m["segment"]
    money_at_risk = money(seg["expected_profit_at_risk_total"], lang)
    lead = f"{f['carry'].replace('**', '')} {say(WORDS['lead'], lang, money=money_at_risk)}"
    texts = {o["code"]: o["text"] for o in offers}
    channels = {o["code"]: o["channel"] for o in offers}
    channel_names = {code: say(vocab.CHANNELS[c], lang) for code, c in channels.items()}
    offer_rows = [
        [_e(name), _e(_template(texts.get(code, ""), lang)), _e(channel_names.get(code, "")), n]
        for code, name, n in f["offers"]
    ]
    by_channel = {c: 0 for c in vocab.CHANNELS}
    for code, n in m["offers"]["by_code"].items():
        by_channel[channels[code]] += n
    channel_line = say(WORDS["by_channel"], lang) + "; ".join(
        f"{say(vocab.CHANNELS[c], lang)}: {count(n)}" for c, n in by_channel.items()
    )
    pictures = {
        k: _figure(p, _caption(k, lang), k.startswith("profile_")) for k, p in images.items()
    }
    curves = ("net_profit_curve", "value_curve")
    why = "".join(v for k, v in pictures.items() if k not in curves)
    escaped = {key: [[_e(v) for v in row] for row in f[key]] for key in ("figures", "highlights")}
    exploration = [
        f"<h2>{_e(say(workbook.WORDS['exploration'], lang))}</h2>",
        f"<p>{_code(_e(workbook.exploration_line(m['exploration'], lang)))}</p>",
    ] if "exploration" in m else []  # fmt: skip
    top_head = [*t["top_columns"][:4], say(WORDS["reasons"], lang), say(WORDS["offers_of"], lang)]
    body = [
        f"<h1>{_e(say(WORDS['title'], lang))}</h1>",
        f'<p class="lead">{_e(lead)}</p>',
        *(f'<p class="lead">{_code(_e(x))}</p>' for x in first),  # whom not to contact, versions
        f"<h2>{_e(say(WORDS['who'], lang))}</h2>",
        _list(f["rules"]),
        _table(t["columns"], escaped["figures"], {1, 2}),
        f"<h2>{_e(say(WORDS['why'], lang))}</h2>",
        f"<p>{_e(say(WORDS['why_note'], lang))}</p>",
        why,
        _table(
            [t["feature"], t["level"], t["columns"][1], t["rest"]], escaped["highlights"], {2, 3}
        ),
        f"<p>{_e(t['means'].split(';')[0])}.</p>",
        f"<h2>{_e(say(WORDS['curve'], lang))}</h2>",
        pictures.get("net_profit_curve", ""),
        f"<p>{_e(say(WORDS['net_note'], lang))}</p>",
        *exploration,
        pictures.get("value_curve", ""),
        f"<p>{_e(say(WORDS['curve_note'], lang))}</p>",
        _list(f["curve"]),
        f"<h2>{_e(say(WORDS['offers'], lang))}</h2>",
        _table(
            [t["offer"], say(WORDS["text"], lang), say(WORDS["channel"], lang), t["customers"]],
            offer_rows,
            {3},
        ),
        f"<p>{_e(channel_line)}. {_e(say(WORDS['consent'], lang))}</p>",
        f"<p>{_e(f['found'])}</p>",
        f"<h2>{_e(say(WORDS['top'], lang))}</h2>",
        _table(top_head, _top_rows(campaign.head(len(m["top_customers"])), lang), {1, 2, 3}),
        f"<h2>{_e(t['outside'].removeprefix('## '))}</h2>",
        _list(f["outside"]),
        f"<h2>{_e(say(WORDS['files'], lang))}</h2>",
        f"<p>{say(WORDS['files_text'], lang)}</p>",
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(say(WORDS['title'], lang))}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
