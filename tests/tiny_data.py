"""A hand-made, seven-customer stand-in for the store's files, with one of each known defect.

Built from the contract (column names, categories, misspellings), never from the real data:
- 101, 102: ordinary customers; 102 has both misspelled market_file values;
- 103: no purchases in the two earlier months (zero revenue);
- 104: a current-month revenue far above any plausible limit (an entry error);
- 105, 106: identical in every feature, different profit (a "duplicate" pair);
- 107: an ordinary customer of the other class;
and every market_time row of the previous month carries the misspelled period label.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oneclick.data.contract import (
    CATEGORIES,
    ID,
    INPUT_FILES,
    LINE_TERMINATOR,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MINUTES,
    MONEY,
    PERIOD,
    PERIOD_MISSPELLINGS,
    PROFIT,
    REVENUE,
    TARGET,
    TARGET_NEGATIVE,
    TARGET_POSITIVE,
)

SERVICE = MARKET_FILE.column("service_type")
FAVOURITE = MARKET_FILE.column("favourite_category")
ALLOW = MARKET_FILE.column("allow_messages")
STANDARD, PREMIUM = SERVICE.categories
SERVICE_TYPO = next(iter(SERVICE.misspellings))
FAVOURITE_TYPO = next(iter(FAVOURITE.misspellings))
CURRENT, PREVIOUS, BEFORE = MARKET_MONEY.periods
PERIOD_TYPO = next(k for k, v in PERIOD_MISSPELLINGS.items() if v == PREVIOUS)

OUTLIER_ID, OUTLIER_VALUE, OUTLIER_OTHERS = 104, 106862.2, (5000.0, 4000.0)
ZERO_ID = 103
TWINS = (105, 106)
IDS = (101, 102, 103, 104, 105, 106, 107)
PARAMS = {
    "drop_zero_revenue": True,
    "revenue_outlier_max": 20000,
    "revenue_outlier_action": "median",
}


def customer(i: int, target: str, service: str, category: str, tenure: int) -> dict:
    return {
        ID: i,
        TARGET: target,
        "service_type": service,
        "allow_messages": ALLOW.categories[0],
        "marketing_6m": 4.4,
        "marketing_current": 4,
        "tenure_days": tenure,
        "promo_share": 0.25,
        "favourite_category": category,
        "categories_per_visit": 3,
        "unpaid_items_quarter": 2,
        "service_errors": 1,
        "pages_per_visit": 7,
    }


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Raw tables as the store exports them: Russian headers, defects included, text as str."""
    market = pd.DataFrame(
        [
            customer(101, TARGET_POSITIVE, PREMIUM, CATEGORIES[0], 819),
            customer(102, TARGET_NEGATIVE, SERVICE_TYPO, FAVOURITE_TYPO, 539),
            customer(103, TARGET_POSITIVE, STANDARD, CATEGORIES[1], 121),
            customer(104, TARGET_NEGATIVE, STANDARD, CATEGORIES[2], 600),
            customer(105, TARGET_POSITIVE, PREMIUM, CATEGORIES[3], 450),
            customer(106, TARGET_POSITIVE, PREMIUM, CATEGORIES[3], 450),
            customer(107, TARGET_NEGATIVE, STANDARD, CATEGORIES[4], 700),
        ]
    )
    revenue = {
        101: (4971.6, 5216.0, 4472.0),
        102: (5058.4, 5457.5, 4826.0),
        103: (3293.1, 0.0, 0.0),
        104: (OUTLIER_VALUE, *OUTLIER_OTHERS),
        105: (4500.5, 4700.0, 4600.0),
        106: (4500.5, 4700.0, 4600.0),
        107: (6000.0, 5900.0, 5800.0),
    }
    minutes = {i: (10 + k, 12 - k) for k, i in enumerate(IDS)}
    minutes[TWINS[1]] = minutes[TWINS[0]]
    money_rows = [
        {ID: i, PERIOD: p, REVENUE: v}
        for i in IDS
        for p, v in zip(MARKET_MONEY.periods, revenue[i], strict=True)
    ]
    time_rows = [
        {ID: i, PERIOD: PERIOD_TYPO if p == PREVIOUS else p, MINUTES: v}
        for i in IDS
        for p, v in zip(MARKET_TIME.periods, minutes[i], strict=True)
    ]
    profit = pd.DataFrame({ID: IDS, PROFIT: [4.16, 3.13, 0.98, 4.87, 2.5, 6.1, 3.3]})
    english = {
        MARKET_FILE.key: market,
        MARKET_MONEY.key: pd.DataFrame(money_rows),
        MARKET_TIME.key: pd.DataFrame(time_rows),
        MONEY.key: profit,
    }
    return {
        spec.key: english[spec.key].rename(columns={c.name: c.source for c in spec.columns})
        for spec in INPUT_FILES
    }


def write_store_files(tables: dict[str, pd.DataFrame], directory: Path) -> Path:
    """The tables as the store's CSV files: its separators, decimal marks and CRLF line ends."""
    directory.mkdir(parents=True, exist_ok=True)
    for spec in INPUT_FILES:
        tables[spec.key].to_csv(
            directory / spec.filename,
            sep=spec.sep,
            decimal=spec.decimal,
            index=False,
            lineterminator=LINE_TERMINATOR,
            encoding="utf-8",
        )
    return directory
