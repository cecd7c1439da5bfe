"""The phrases of the outcomes report that marketing reads: the adjusted effect, the breakdowns
by offer and risk band, realised vs expected profit and the uplift verdict (Russian: the
outcomes report is written for the store's team). Placeholders are filled by the report."""

from __future__ import annotations

ADJUSTED = (
    "С поправкой на то, что было известно до кампании ({covariates}; регрессионная поправка "
    "Лина с взаимодействиями, робастные ошибки HC2): снижение **{drop}**, {level}% интервал "
    "{low} … {high}. "
)
REDUCED = "Дисперсия оценки меньше, чем без поправки, на **{reduction}**."
NOT_REDUCED = (
    "Дисперсия оценки не меньше, чем без поправки ({reduction}): признаки этих клиентов почти не "
    "предсказывают исход."
)
ADJUSTED_MISSING = (
    "Оценка с поправкой не измерима: в группах слишком мало клиентов на число признаков."
)
COVARIATE_NAMES = {"probability": "вероятность снижения", "declined_before": "активность в "
                   "период кампании"}  # fmt: skip
FEATURES_NAME = "признаки клиента"

PROFIT_REALISED = (
    "Дополнительная прибыль за {horizon} мес.: получено ≈ **{realised}** у.е. (снижение"
    "{adjusted} × месячная прибыль получивших предложение × {horizon})"
)
PROFIT_EXPECTED = " против ожидавшихся до кампании **{expected}** у.е."
PROFIT_NO_EXPECTATION = "; ожидание до кампании в таблице кампании не записано."
PROFIT_NET = (
    " За вычетом затрат на предложения ({cost} у.е.): **{net}** у.е. против ожидавшихся "
    "{expected_net} у.е."
)
PROFIT_NOT_MEASURABLE = "Дополнительная прибыль не измерима: эффект не измерим."
WITH_ADJUSTMENT = " с поправкой"

BREAKDOWN_INTRO = (
    "По всем периодам журнала кампаний ({periods}). Для предложения: получившие его против всей "
    "контрольной группы (предложения получают разные клиенты, поэтому главная оценка — с "
    "поправкой). «Не измеримо» — в группе меньше {min_group} клиентов."
)
BREAKDOWN_HEADER = ["получили", "контроль", "снижение", "интервал", "с поправкой",
                    "интервал с поправкой", "вывод"]  # fmt: skip
OFFER_COLUMN, BAND_COLUMN = "предложение", "вероятность снижения"
NOT_MEASURABLE = "не измеримо"
HARMFUL = "**вредит**: клиенты с ним снижают активность чаще"
WORKS = "работает"
UNCLEAR = "не значим"

UPLIFT = {
    "too_little_data": (
        "Таргетинг по риску остаётся: в журнале мало данных для модели отклика ({logged} "
        "клиентов; нужно хотя бы {min_arm} получивших предложение и {min_arm} контрольных и в "
        "обучающей, и в проверочной части)."
    ),
    "uplift_not_better": (
        "Таргетинг по риску остаётся: модель отклика (uplift) на отложенной кампании не лучше "
        "(разница площадей Qini {difference} у.е. на клиента, интервал {low} … {high}); "
        "сколько данных ей нужно, по этим данным не оценить."
    ),
    "uplift_not_sure": (
        "Таргетинг по риску остаётся: модель отклика (uplift) впереди, но интервал разницы "
        "площадей Qini включает 0 ({difference} у.е. на клиента, {low} … {high}); нужно "
        "примерно {needed} клиентов в журнале (сейчас {logged})."
    ),
    "uplift_better": (
        "Выбирать клиентов по модели отклика (uplift): на отложенной кампании она лучше "
        "таргетинга по риску на {difference} у.е. на клиента (площадь Qini), интервал {low} "
        "… {high} не включает 0."
    ),
}
