"""Stage `clean`: reading, validation, fixes and their counts; hand-made tables and real files."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from oneclick.core.errors import DataError
from oneclick.data.cleaning import (
    clean_tables,
    duplicate_groups,
    fix_outliers,
    zero_revenue,
)
from oneclick.data.contract import (
    CATEGORIES,
    GROUP,
    ID,
    INPUT_FILES,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MONEY,
    PERIOD,
    REVENUE,
    TARGET,
    TARGET_NEGATIVE,
)
from oneclick.data.quality import ROWS_SHOWN, quality_markdown
from oneclick.data.reading import read_raw
from oneclick.data.validation import validate_tables
from oneclick.data.wide import widen
from tests.tiny_data import (
    CURRENT,
    FAVOURITE_TYPO,
    IDS,
    OUTLIER_ID,
    OUTLIER_OTHERS,
    OUTLIER_VALUE,
    PARAMS,
    PERIOD_TYPO,
    PREVIOUS,
    SERVICE_TYPO,
    STANDARD,
    TWINS,
    ZERO_ID,
    tiny_tables,
    write_store_files,
)

SOURCE = {(f.key, c.name): c.source for f in INPUT_FILES for c in f.columns}
FILENAME = {f.key: f.filename for f in INPUT_FILES}


def src(key: str, name: str) -> str:
    return SOURCE[(key, name)]


# ---- reading -------------------------------------------------------------------------------


def test_read_raw_parses_store_formats_crlf_bom_and_decimal_comma(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    money = directory / MONEY.filename
    money.write_bytes(b"\xef\xbb\xbf" + money.read_bytes())  # a BOM must not rename the id column
    assert b"\r\n" in money.read_bytes() and b"4,16" in money.read_bytes()
    raw = read_raw(directory)
    assert list(raw[MONEY.key].columns) == MONEY.source_columns
    assert raw[MONEY.key][src(MONEY.key, "profit")].tolist()[:2] == [4.16, 3.13]
    assert len(raw[MARKET_MONEY.key]) == 3 * len(IDS)


def on_line(number: int, change):
    """A damage to one line of a file (1 = the header), as pandas' messages must then name it."""

    def damage(path: Path) -> None:
        lines = path.read_bytes().split(b"\r\n")
        lines[number - 1] = change(lines[number - 1])
        path.write_bytes(b"\r\n".join(lines))

    return damage


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda p: p.unlink(), "missing"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(p.read_bytes().split(b"\r\n")[0] + b"\r\n"), "no data rows"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b",", b";")), "wrong separator"),
        (lambda p: p.write_bytes(p.read_text("utf-8").encode("cp1251")), "not UTF-8"),
        (lambda p: p.write_bytes(p.read_bytes().split(b"\r\n", 1)[1]), "header row missing"),
        (
            on_line(4, lambda line: line.replace(b".", b",", 1)),
            r"line 4 has 14 fields, the header has 13 \(a value containing ',', e\.g\. a decimal",
        ),
        (on_line(3, lambda line: line.replace(b",", b',"', 1)), r"quote \(\"\) opened on line 3 "),
    ],
    ids=["missing", "empty", "header-only", "separator", "cp1251", "no-header", "comma", "quote"],
)
def test_read_raw_rejects_broken_files(tmp_path: Path, damage, fragment: str) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    damage(directory / MARKET_FILE.filename)
    with pytest.raises(DataError, match=fragment) as error:
        read_raw(directory)
    assert str(error.value).startswith(MARKET_FILE.filename)


def repeat_header_column(path: Path, name: str) -> None:
    """Append a second `name` column (same values) to a comma-separated store file."""
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    k = lines[0].split(",").index(name)
    rows = [f"{line},{line.split(',')[k]}" if line else line for line in lines]
    path.write_bytes("\r\n".join(rows).encode("utf-8"))


def test_duplicated_header_column_is_named_not_mangled(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    name = src(MARKET_TIME.key, "minutes")
    repeat_header_column(directory / MARKET_TIME.filename, name)
    with pytest.raises(DataError) as error:
        read_raw(directory)
    assert str(error.value) == f"{MARKET_TIME.filename}: duplicated column {name!r}"


def test_header_row_missing_is_one_line_not_a_list_of_values(tmp_path: Path) -> None:
    directory = write_store_files(tiny_tables(), tmp_path)
    path = directory / MARKET_MONEY.filename
    header, data = path.read_bytes().decode("utf-8").split("\r\n", 1)
    path.write_bytes(data.encode("utf-8"))
    with pytest.raises(DataError) as error:
        read_raw(directory)
    message = str(error.value)
    assert message.startswith(f"{MARKET_MONEY.filename}: header row missing (first line looks")
    assert data.split("\r\n")[0] in message and "unexpected" not in message
    assert "\n" not in message
    renamed = header.replace(ID, "customer_id", 1)  # one renamed column is not a missing header
    path.write_bytes(f"{renamed}\r\n{data}".encode())
    with pytest.raises(DataError, match=r"missing column\(s\) \['id'\]; unexpected.*customer_id"):
        validate_tables(read_raw(directory))


def test_header_problems_in_frames_are_named_too() -> None:
    raw = tiny_tables()
    first = raw[MONEY.key].iloc[0]
    raw[MONEY.key] = raw[MONEY.key].iloc[1:].set_axis([str(v) for v in first], axis=1)
    with pytest.raises(DataError, match=f"^{MONEY.filename}: header row missing"):
        validate_tables(raw)
    raw = tiny_tables()
    profit = src(MONEY.key, "profit")
    money = raw[MONEY.key]
    raw[MONEY.key] = pd.concat(
        [money, money[[profit]].rename(columns={profit: f" {profit}"})], axis=1
    )
    with pytest.raises(DataError, match=f"^{MONEY.filename}: duplicated column '{profit}'$"):
        validate_tables(raw)


# ---- fixes and their counts ------------------------------------------------------------------


def test_misspellings_are_fixed_and_counted_per_column_and_value() -> None:
    tables, report = validate_tables(tiny_tables())
    fixes = report["fixes"]
    assert fixes[MARKET_FILE.key]["service_type"][SERVICE_TYPO] == {
        "to": STANDARD,
        "count": 1,
        "reason": "misspelling",
    }
    assert fixes[MARKET_FILE.key]["favourite_category"][FAVOURITE_TYPO]["count"] == 1
    assert fixes[MARKET_TIME.key][PERIOD][PERIOD_TYPO] == {
        "to": PREVIOUS,
        "count": len(IDS),
        "reason": "misspelling",
    }
    assert MARKET_MONEY.key not in fixes
    assert set(tables[MARKET_TIME.key][PERIOD]) == set(MARKET_TIME.periods)
    market = tables[MARKET_FILE.key]
    assert SERVICE_TYPO not in set(market["service_type"])
    assert list(market.columns) == [c.name for c in MARKET_FILE.columns]


def test_stray_whitespace_and_case_are_fixed_and_counted_separately() -> None:
    raw = tiny_tables()
    raw[MARKET_FILE.key].loc[:2, src(MARKET_FILE.key, "service_type")] = [
        f"  {STANDARD.upper()} ",
        f"{STANDARD} ",
        f" {SERVICE_TYPO.upper()}",
    ]
    tables, report = validate_tables(raw)
    fixes = report["fixes"][MARKET_FILE.key]["service_type"]
    assert fixes[f"  {STANDARD.upper()} "] == {
        "to": STANDARD,
        "count": 1,
        "reason": "whitespace/case",
    }
    assert fixes[f"{STANDARD} "]["reason"] == "whitespace/case"
    assert fixes[f" {SERVICE_TYPO.upper()}"]["reason"] == "misspelling"
    assert tables[MARKET_FILE.key]["service_type"].iloc[:3].tolist() == [STANDARD] * 3


def test_exact_duplicate_rows_are_dropped_and_counted() -> None:
    raw = tiny_tables()
    for key in (MARKET_FILE.key, MARKET_MONEY.key):
        raw[key] = pd.concat([raw[key], raw[key].iloc[[0, 1]]], ignore_index=True)
    tables, report = validate_tables(raw)
    assert report["exact_duplicate_rows"] == {
        MARKET_FILE.key: 2,
        MARKET_MONEY.key: 2,
        MARKET_TIME.key: 0,
        MONEY.key: 0,
    }
    assert len(tables[MARKET_FILE.key]) == len(IDS)
    assert len(tables[MARKET_MONEY.key]) == 3 * len(IDS)


# ---- each kind of bad input -> one DataError naming file and column --------------------------


def drop(key, name):
    return lambda raw: raw.__setitem__(key, raw[key].drop(columns=src(key, name)))


def put(key, name, row, value):
    def change(raw):
        frame = raw[key]
        column = src(key, name)
        if not isinstance(value, str) and frame[column].dtype.kind in "iu":
            frame[column] = frame[column].astype("float64")
        elif isinstance(value, str) and frame[column].dtype.kind in "iuf":
            frame[column] = frame[column].astype("object")
        frame.loc[row, column] = value

    return change


def duplicate_key(key, name, value):
    def change(raw):
        twin = raw[key].iloc[[0]].copy()
        twin[src(key, name)] = value
        raw[key] = pd.concat([raw[key], twin], ignore_index=True)

    return change


def remove_rows(key, mask):
    return lambda raw: raw.__setitem__(key, raw[key][~mask(raw[key])].reset_index(drop=True))


BAD_INPUTS = {
    "removed-column": (drop(MARKET_FILE.key, "tenure_days"), MARKET_FILE, "tenure_days"),
    "extra-column": (
        lambda raw: raw[MONEY.key].insert(2, "Комментарий", "x"),
        MONEY,
        None,
    ),
    "text-in-number": (put(MARKET_MONEY.key, REVENUE, 4, "пять"), MARKET_MONEY, REVENUE),
    "fraction-in-int": (put(MARKET_TIME.key, "minutes", 2, 10.5), MARKET_TIME, "minutes"),
    "negative": (put(MONEY.key, "profit", 1, -1.5), MONEY, "profit"),
    "above-max": (put(MARKET_FILE.key, "promo_share", 0, 1.3), MARKET_FILE, "promo_share"),
    "nan-number": (
        put(MARKET_FILE.key, "tenure_days", 3, float("nan")),
        MARKET_FILE,
        "tenure_days",
    ),
    "nan-text": (put(MARKET_FILE.key, "allow_messages", 3, None), MARKET_FILE, "allow_messages"),
    "unknown-category": (
        put(MARKET_FILE.key, "service_type", 0, "VIP"),
        MARKET_FILE,
        "service_type",
    ),
    "unknown-period": (put(MARKET_TIME.key, PERIOD, 0, "вчера"), MARKET_TIME, PERIOD),
    "duplicate-id": (duplicate_key(MONEY.key, "profit", 9.99), MONEY, ID),
    "duplicate-id-market": (duplicate_key(MARKET_FILE.key, "tenure_days", 1), MARKET_FILE, ID),
    "duplicate-period": (duplicate_key(MARKET_MONEY.key, REVENUE, 1.0), MARKET_MONEY, ID),
    "missing-period": (
        remove_rows(
            MARKET_MONEY.key,
            lambda f: (f[ID] == 101) & (f[src(MARKET_MONEY.key, PERIOD)] == CURRENT),
        ),
        MARKET_MONEY,
        PERIOD,
    ),
    "id-missing-from-money": (remove_rows(MONEY.key, lambda f: f[ID] == 102), MONEY, ID),
    "id-only-in-time": (
        lambda raw: raw.__setitem__(
            MARKET_TIME.key,
            pd.concat([raw[MARKET_TIME.key], raw[MARKET_TIME.key].iloc[:2].assign(**{ID: 999})]),
        ),
        MARKET_TIME,
        ID,
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_raises_one_line_naming_file_and_column(case: str) -> None:
    change, spec, column = BAD_INPUTS[case]
    raw = tiny_tables()
    change(raw)
    with pytest.raises(DataError) as error:
        clean_tables(raw, PARAMS)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(spec.filename)
    if column is not None:
        assert repr(spec.column(column).source) in message or column in message


def test_error_names_offending_line_and_id() -> None:
    raw = tiny_tables()
    put(MARKET_MONEY.key, REVENUE, 4, "пять")(raw)
    with pytest.raises(DataError, match=r"line 6 \(id 102\): пять"):
        validate_tables(raw)


@pytest.mark.parametrize("value", ["inf", "1e400", "-Infinity", float("inf")])
@pytest.mark.parametrize(("key", "name"), [(MARKET_MONEY.key, REVENUE), (MONEY.key, "profit")])
def test_non_finite_numbers_are_named_with_line_and_id(key: str, name: str, value) -> None:
    raw = tiny_tables()
    put(key, name, 1, value)(raw)
    found = rf"non-finite value\(s\) {re.escape(str(value))} at line 3 \(id 10\d\)$"
    with pytest.raises(DataError, match=found):
        validate_tables(raw)


def test_non_finite_numbers_in_a_file_are_rejected_too(tmp_path: Path) -> None:
    """Read from a file, pandas itself turns the text into inf: the numeric path."""
    directory = write_store_files(tiny_tables(), tmp_path)
    on_line(2, lambda line: line.rsplit(b",", 1)[0] + b",1e400")(directory / MARKET_MONEY.filename)
    with pytest.raises(
        DataError, match=r"market_money\.csv: .*non-finite value\(s\) inf at line 2"
    ):
        validate_tables(read_raw(directory))


def test_wrong_separator_in_a_frame_is_named() -> None:
    raw = tiny_tables()
    header = ";".join(MONEY.source_columns).replace(";", ",")
    raw[MONEY.key] = pd.DataFrame({header: ["1,2"]})
    with pytest.raises(DataError, match="wrong separator"):
        validate_tables(raw)


def test_missing_target_is_an_error_only_when_required() -> None:
    raw = tiny_tables()
    raw[MARKET_FILE.key] = raw[MARKET_FILE.key].drop(columns=src(MARKET_FILE.key, TARGET))
    with pytest.raises(DataError, match=src(MARKET_FILE.key, TARGET)):
        clean_tables(raw, PARAMS)
    tables, quality = clean_tables(raw, PARAMS, require_target=False)
    assert TARGET not in tables[MARKET_FILE.key]
    assert quality["feature_duplicates"]["conflicting_target_groups"] == 0
    assert quality["customers"]["out"] == len(IDS) - 1


# ---- outliers, zero revenue, duplicates ------------------------------------------------------


def money_table() -> pd.DataFrame:
    tables, _ = validate_tables(tiny_tables())
    return tables[MARKET_MONEY.key]


def test_zero_revenue_lists_customers_with_their_months() -> None:
    removed = zero_revenue(money_table())
    assert [r["id"] for r in removed] == [ZERO_ID]
    assert set(removed[0]["periods"]) == set(MARKET_MONEY.periods) - {CURRENT}


@pytest.mark.parametrize(
    ("action", "expected"),
    [("median", sum(OUTLIER_OTHERS) / 2), ("cap", 20000.0), ("drop", None)],
)
def test_outlier_actions(action: str, expected) -> None:
    money = money_table()
    fixed, items, removed = fix_outliers(money, 20000, action)
    assert items == [
        {"id": OUTLIER_ID, "period": CURRENT, "value": OUTLIER_VALUE, "new_value": expected}
    ]
    assert (fixed[ID] == OUTLIER_ID).sum() == 3
    kept = fixed.loc[(fixed[ID] == OUTLIER_ID) & (fixed[PERIOD] == CURRENT), REVENUE].iloc[0]
    if action == "drop":
        assert [r["id"] for r in removed] == [OUTLIER_ID]
    else:
        assert removed == [] and kept == expected
    others = fixed[fixed[ID] != OUTLIER_ID]
    assert others[REVENUE].tolist() == money.loc[money[ID] != OUTLIER_ID, REVENUE].tolist()


def test_outlier_in_every_month_removes_the_customer_under_median() -> None:
    money = money_table()
    money.loc[money[ID] == OUTLIER_ID, REVENUE] = 50000.0
    _, items, removed = fix_outliers(money, 20000, "median")
    assert len(items) == 3 and all(i["new_value"] is None for i in items)
    assert removed == [{"id": OUTLIER_ID, "reason": "revenue_outlier", "periods": []}]


def test_duplicate_groups_use_smallest_id_and_flag_conflicting_targets() -> None:
    tables, _ = validate_tables(tiny_tables())
    wide = widen(tables)
    group, groups, conflicts = duplicate_groups(wide)
    assert groups == [list(TWINS)] and conflicts == []
    assert group[TWINS[1]] == TWINS[0] and group[TWINS[0]] == TWINS[0]
    others = group.drop(list(TWINS))
    assert (others.index == others.to_numpy()).all()
    wide.loc[TWINS[1], TARGET] = TARGET_NEGATIVE
    assert duplicate_groups(wide)[2] == [list(TWINS)]
    wide.loc[TWINS[1], "tenure_days"] += 1  # one feature apart: no longer duplicates
    assert duplicate_groups(wide)[1] == []


# ---- the whole pure stage ------------------------------------------------------------------


def test_clean_tables_end_to_end_on_tiny_tables() -> None:
    tables, quality = clean_tables(tiny_tables(), PARAMS)
    expected_ids = [i for i in IDS if i != ZERO_ID]
    for spec in INPUT_FILES:
        table = tables[spec.key]
        assert sorted(set(table[ID])) == expected_ids
        assert table[ID].is_monotonic_increasing
    market = tables[MARKET_FILE.key]
    assert market.loc[market[ID] == TWINS[1], GROUP].item() == TWINS[0]
    money = tables[MARKET_MONEY.key]
    assert money[REVENUE].max() <= PARAMS["revenue_outlier_max"]
    assert money[PERIOD].tolist()[:3] == list(MARKET_MONEY.periods)
    assert quality["customers"] == {"in": len(IDS), "out": len(IDS) - 1}
    assert quality["rows"][MARKET_MONEY.key] == {
        "in": 3 * len(IDS),
        "exact_duplicates_dropped": 0,
        "out": 3 * (len(IDS) - 1),
    }
    assert quality["fixes_total"] == 2 + len(IDS)
    assert quality["removed_customers"]["items"][0]["id"] == ZERO_ID
    assert quality["revenue_outliers"]["count"] == 1
    assert quality["feature_duplicates"]["groups"] == 1


def test_zero_revenue_customers_stay_when_not_dropped() -> None:
    tables, quality = clean_tables(tiny_tables(), {**PARAMS, "drop_zero_revenue": False})
    assert ZERO_ID in set(tables[MARKET_FILE.key][ID])
    assert quality["removed_customers"]["count"] == 0


def test_clean_tables_is_deterministic_and_leaves_input_alone() -> None:
    raw = tiny_tables()
    before = {k: t.copy() for k, t in raw.items()}
    first, quality = clean_tables(raw, PARAMS)
    second, again = clean_tables(raw, PARAMS)
    assert quality == again
    for key, table in first.items():
        pd.testing.assert_frame_equal(table, second[key])
        pd.testing.assert_frame_equal(raw[key], before[key])


def test_quality_markdown_shows_every_number_and_cuts_long_lists() -> None:
    _, quality = clean_tables(tiny_tables(), PARAMS)
    text = quality_markdown(quality)
    assert f"| {MONEY.filename} | {len(IDS)} | 0 | {len(IDS) - 1} |" in text
    assert f"`{SERVICE_TYPO}` | `{STANDARD}` | misspelling | 1 |" in text
    assert f"| {OUTLIER_ID} | {CURRENT} | {OUTLIER_VALUE} | 4500 |" in text
    assert f"| {TWINS[0]} | {TWINS[0]}, {TWINS[1]} |" in text
    many = [[i, i + 1] for i in range(ROWS_SHOWN + 5)]
    quality["feature_duplicates"]["items"] = many
    assert "…and 5 more" in quality_markdown(quality)


# ---- the store's real files -----------------------------------------------------------------


def test_real_files(real_data_dir: Path) -> None:
    """Expectations are counted from the raw files here, independently of the stage's code."""
    tables, quality = clean_tables(read_raw(real_data_dir), PARAMS)
    for spec in INPUT_FILES:
        plain = pd.read_csv(real_data_dir / spec.filename, sep=spec.sep, decimal=spec.decimal)
        for column in spec.columns:
            for wrong, right in column.misspellings.items():
                count = int((plain[column.source] == wrong).sum())
                fix = quality["fixes"].get(spec.key, {}).get(column.name, {}).get(wrong)
                assert (fix or {"count": 0, "to": right})["count"] == count
                assert wrong not in set(tables[spec.key][column.name].astype(str))
                if count:
                    assert fix["to"] == right
    money = pd.read_csv(real_data_dir / MARKET_MONEY.filename)
    revenue = src(MARKET_MONEY.key, REVENUE)
    zero_ids = set(money.loc[money[revenue] == 0, ID])
    outliers = money[money[revenue] > PARAMS["revenue_outlier_max"]]
    assert zero_ids and len(outliers)
    removed = {r["id"] for r in quality["removed_customers"]["items"]}
    assert removed == zero_ids
    for spec in INPUT_FILES:
        assert not zero_ids & set(tables[spec.key][ID])
    assert {o["id"] for o in quality["revenue_outliers"]["items"]} == set(outliers[ID]) - zero_ids
    assert tables[MARKET_MONEY.key][REVENUE].max() <= PARAMS["revenue_outlier_max"]
    assert not set(outliers[revenue]) & set(tables[MARKET_MONEY.key][REVENUE])
    # duplicate groups: brute force on the plain files, features as text after spelling fixes
    plain = {s.key: pd.read_csv(real_data_dir / s.filename, sep=s.sep) for s in INPUT_FILES}
    market = plain[MARKET_FILE.key].set_index(ID).drop(columns=src(MARKET_FILE.key, TARGET))
    for column in MARKET_FILE.columns:
        if column.misspellings:
            market[column.source] = market[column.source].replace(column.misspellings)
    parts = [market]
    for spec in (MARKET_MONEY, MARKET_TIME):
        long = plain[spec.key]
        period = src(spec.key, PERIOD)
        long[period] = long[period].replace(spec.column(PERIOD).misspellings)
        parts.append(long.pivot(index=ID, columns=period, values=spec.source_columns[-1]))
    # raw outlier months are kept here: a revenue that extreme is unique before and after the fix
    wide = pd.concat(parts, axis=1).drop(index=list(zero_ids))
    signature = wide.astype(str).agg("|".join, axis=1)
    expected = sorted(sorted(ids) for ids in wide.index.groupby(signature).values() if len(ids) > 1)
    assert quality["feature_duplicates"]["items"] == [[int(i) for i in g] for g in expected]
    assert quality["feature_duplicates"]["customers"] == sum(len(g) for g in expected)
    assert quality["feature_duplicates"]["conflicting_target_groups"] == 0
    assert set(CATEGORIES) >= set(tables[MARKET_FILE.key]["favourite_category"])
