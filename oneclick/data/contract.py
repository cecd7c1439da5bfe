"""The data contract: the one place that knows the store's files, columns and values.

Russian names are data (they are what the store's exports contain); everywhere else in the code
the English identifiers defined here are used. The `clean` stage renames columns from Russian to
English right after validation, so every later stage works with the English names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENCODING = "utf-8"
LINE_TERMINATOR = "\r\n"  # the store exports CRLF line ends

ID = "id"
TARGET = "activity"
TARGET_POSITIVE = "Снизилась"  # "declined": the class the model predicts (label 1)
TARGET_NEGATIVE = "Прежний уровень"  # "unchanged" (label 0)
TARGET_VALUES = (TARGET_POSITIVE, TARGET_NEGATIVE)
LABEL = "declined"  # 0/1 integer column derived from TARGET in merged data
PROFIT = "profit"  # not a feature: kept for segmentation only
GROUP = "duplicate_group"  # not a feature: customers with identical features share a group

PERIOD = "period"
REVENUE = "revenue"
MINUTES = "minutes"


@dataclass(frozen=True)
class Column:
    """One column of an input file: its Russian header, its English name and what it may hold."""

    source: str
    name: str
    kind: str  # "id", "target", "category", "int", "float", "period"
    categories: tuple[str, ...] = ()
    misspellings: dict[str, str] = field(default_factory=dict)
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class InputFile:
    """One of the store's four files: name, separators and columns."""

    key: str
    filename: str
    columns: tuple[Column, ...]
    sep: str = ","
    decimal: str = "."
    periods: tuple[str, ...] = ()  # long tables: periods every customer must have

    @property
    def source_columns(self) -> list[str]:
        return [c.source for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# Periods: Russian label -> English suffix used in merged column names.
PERIOD_CURRENT = "current"
PERIOD_PREVIOUS = "previous"
PERIOD_BEFORE_PREVIOUS = "before_previous"
PERIOD_NAMES = {
    "текущий_месяц": PERIOD_CURRENT,
    "предыдущий_месяц": PERIOD_PREVIOUS,
    "препредыдущий_месяц": PERIOD_BEFORE_PREVIOUS,
}
PERIOD_MISSPELLINGS = {"предыдцщий_месяц": "предыдущий_месяц"}

CATEGORIES = (
    "Товары для детей",
    "Домашний текстиль",
    "Косметика и аксессуары",
    "Техника для красоты и здоровья",
    "Мелкая бытовая техника и электроника",
    "Кухонная посуда",
)

ID_COLUMN = Column("id", ID, "id", min_value=1)

MARKET_FILE = InputFile(
    key="market_file",
    filename="market_file.csv",
    columns=(
        ID_COLUMN,
        Column("Покупательская активность", TARGET, "target", categories=TARGET_VALUES),
        Column(
            "Тип сервиса",
            "service_type",
            "category",
            categories=("стандарт", "премиум"),
            misspellings={"стандартт": "стандарт"},
        ),
        Column("Разрешить сообщать", "allow_messages", "category", categories=("да", "нет")),
        Column("Маркет_актив_6_мес", "marketing_6m", "float", min_value=0),
        Column("Маркет_актив_тек_мес", "marketing_current", "int", min_value=0),
        Column("Длительность", "tenure_days", "int", min_value=0),
        Column("Акционные_покупки", "promo_share", "float", min_value=0, max_value=1),
        Column(
            "Популярная_категория",
            "favourite_category",
            "category",
            categories=CATEGORIES,
            misspellings={"Косметика и аксесуары": "Косметика и аксессуары"},
        ),
        Column("Средний_просмотр_категорий_за_визит", "categories_per_visit", "int", min_value=0),
        Column("Неоплаченные_продукты_штук_квартал", "unpaid_items_quarter", "int", min_value=0),
        Column("Ошибка_сервиса", "service_errors", "int", min_value=0),
        Column("Страниц_за_визит", "pages_per_visit", "int", min_value=0),
    ),
)

MARKET_MONEY = InputFile(
    key="market_money",
    filename="market_money.csv",
    columns=(
        ID_COLUMN,
        Column(
            "Период",
            PERIOD,
            "period",
            categories=tuple(PERIOD_NAMES),
            misspellings=PERIOD_MISSPELLINGS,
        ),
        Column("Выручка", REVENUE, "float", min_value=0),
    ),
    periods=("текущий_месяц", "предыдущий_месяц", "препредыдущий_месяц"),
)

MARKET_TIME = InputFile(
    key="market_time",
    filename="market_time.csv",
    columns=(
        ID_COLUMN,
        Column(
            "Период",
            PERIOD,
            "period",
            categories=("текущий_месяц", "предыдущий_месяц"),
            misspellings=PERIOD_MISSPELLINGS,
        ),
        Column("минут", MINUTES, "int", min_value=0),
    ),
    periods=("текущий_месяц", "предыдущий_месяц"),
)

MONEY = InputFile(
    key="money",
    filename="money.csv",
    sep=";",
    decimal=",",
    columns=(ID_COLUMN, Column("Прибыль", PROFIT, "float", min_value=0)),
)

INPUT_FILES = (MARKET_FILE, MARKET_MONEY, MARKET_TIME, MONEY)


def wide_column(measure: str, period_label: str) -> str:
    """Merged-table column for one measure in one period, e.g. revenue_previous."""
    return f"{measure}_{PERIOD_NAMES[period_label]}"


REVENUE_COLUMNS = [wide_column(REVENUE, p) for p in MARKET_MONEY.periods]
MINUTES_COLUMNS = [wide_column(MINUTES, p) for p in MARKET_TIME.periods]

# Model features as they appear in the merged table (English names).
NOMINAL_FEATURES = ["favourite_category"]
# Ordered categories: value order is the encoding order.
ORDINAL_FEATURES = {"service_type": ["стандарт", "премиум"], "allow_messages": ["нет", "да"]}
NUMERIC_FEATURES = [
    "marketing_6m",
    "marketing_current",
    "tenure_days",
    "promo_share",
    "categories_per_visit",
    "unpaid_items_quarter",
    "service_errors",
    "pages_per_visit",
    *REVENUE_COLUMNS,
    *MINUTES_COLUMNS,
]
FEATURES = [*NUMERIC_FEATURES, *NOMINAL_FEATURES, *ORDINAL_FEATURES]
NOT_FEATURES = [TARGET, LABEL, PROFIT, GROUP]

# Human-readable labels for reports and plots (Russian, as the store knows them).
LABELS = {
    **{c.name: c.source for f in INPUT_FILES for c in f.columns if c.kind != "period"},
    **{wide_column(REVENUE, p): f"Выручка, {p}" for p in MARKET_MONEY.periods},
    **{wide_column(MINUTES, p): f"минут, {p}" for p in MARKET_TIME.periods},
    LABEL: "Снизилась (1/0)",
}
