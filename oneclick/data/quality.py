"""The `clean` stage's data quality metrics (JSON) and their readable report (Markdown)."""

from __future__ import annotations

from typing import Any

from oneclick.data.contract import GROUP, INPUT_FILES, MARKET_FILE

ROWS_SHOWN = 20  # long lists are cut here; metrics/data_quality.json has them all
FILENAMES = {spec.key: spec.filename for spec in INPUT_FILES}
SOURCES = {(spec.key, c.name): c.source for spec in INPUT_FILES for c in spec.columns}


def quality_metrics(
    report: dict[str, dict],
    tables: dict[str, Any],
    outlier_rule: tuple[float, str, list[dict]],
    removed: list[dict],
    groups: list[list[int]],
    conflicts: list[list[int]],
) -> dict[str, Any]:
    """What validate_tables fixed (report) and what clean_tables did: the source of
    reports/data_quality.md and of the figures in metrics/data_quality.json."""
    limit, action, outliers = outlier_rule
    fixes = report["fixes"]
    return {
        "customers": {
            "in": report["rows_in"][MARKET_FILE.key],
            "out": len(tables[MARKET_FILE.key]),
        },
        "rows": {
            key: {
                "in": report["rows_in"][key],
                "exact_duplicates_dropped": report["exact_duplicate_rows"][key],
                "out": len(tables[key]),
            }
            for key in FILENAMES
        },
        "fixes": fixes,
        "fixes_total": sum(
            f["count"] for t in fixes.values() for c in t.values() for f in c.values()
        ),
        "revenue_outliers": {
            "max": limit,
            "action": action,
            "count": len(outliers),
            "items": outliers,
        },
        "removed_customers": {"count": len(removed), "items": removed},
        "feature_duplicates": {
            "action": f"kept; they share a {GROUP} (smallest id) to stay on one side of the split",
            "groups": len(groups),
            "customers": sum(len(g) for g in groups),
            "items": groups,
            "conflicting_target_groups": len(conflicts),
            "conflicting_items": conflicts,
        },
    }


REMOVAL_REASONS = ("zero_revenue", "revenue_outlier")  # clean_tables' reasons to drop a customer


def quality_figures(quality: dict[str, Any]) -> dict[str, int]:
    """metrics/data_quality.json: the numbers worth diffing between two runs. The ids, values
    and fixes themselves are in reports/data_quality.md (and per-customer, never in metrics)."""
    removed = quality["removed_customers"]["items"]
    return {
        "customers_in": quality["customers"]["in"],
        "customers_out": quality["customers"]["out"],
        "value_fixes": quality["fixes_total"],
        "duplicate_groups": quality["feature_duplicates"]["groups"],
        # removed customers by reason (clean's fixed set): the segment report says who, why
        **{
            f"removed_{reason}": sum(i["reason"] == reason for i in removed)
            for reason in REMOVAL_REASONS
        },
    }


def number(value: Any) -> str:
    """Floats without float noise, scientific notation or a needless '.0'."""
    if isinstance(value, float):
        text = repr(round(value, 6))
        return text.removesuffix(".0") if "e" not in text else f"{value:f}"
    return str(value)


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A markdown table, cut at ROWS_SHOWN rows with a note of how many were left out."""
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(number(v) for v in row)} |" for row in rows[:ROWS_SHOWN]]
    if len(rows) > ROWS_SHOWN:
        lines.append(f"\n…and {len(rows) - ROWS_SHOWN} more (see metrics/data_quality.json).")
    return [*lines, ""]


def quality_markdown(quality: dict[str, Any]) -> str:
    """Readable report: every number comes from the metrics dict, nothing is typed in."""
    customers, outliers = quality["customers"], quality["revenue_outliers"]
    removed, duplicates = quality["removed_customers"], quality["feature_duplicates"]
    lines = [
        "# Data quality",
        "",
        f"Customers: {number(customers['in'])} in, {number(removed['count'])} removed, "
        f"{number(customers['out'])} out. Value fixes: {number(quality['fixes_total'])}.",
        "",
        "## Rows per file",
        "",
        *table(
            ["file", "rows in", "exact duplicate rows dropped", "rows out"],
            [
                [FILENAMES[key], r["in"], r["exact_duplicates_dropped"], r["out"]]
                for key, r in quality["rows"].items()
            ],
        ),
        "## Corrected values",
        "",
        *table(
            ["file", "column", "value found", "corrected to", "reason", "rows"],
            [
                [
                    FILENAMES[key],
                    SOURCES[(key, column)],
                    f"`{raw}`",
                    f"`{fix['to']}`",
                    fix["reason"],
                    fix["count"],
                ]
                for key, columns in quality["fixes"].items()
                for column, values in columns.items()
                for raw, fix in values.items()
            ],
        ),
        "## Revenue outliers",
        "",
        f"Rule: monthly revenue above {number(outliers['max'])}; action: "
        f"`{outliers['action']}`; found: {number(outliers['count'])}.",
        "",
        *table(
            ["id", "period", "revenue", "replaced with"],
            [
                [
                    o["id"],
                    o["period"],
                    o["value"],
                    "—" if o["new_value"] is None else o["new_value"],
                ]
                for o in outliers["items"]
            ],
        ),
        "## Removed customers",
        "",
        *table(
            ["id", "reason", "periods"],
            [[r["id"], r["reason"], ", ".join(r["periods"])] for r in removed["items"]],
        ),
        "## Customers with identical features",
        "",
        f"Different ids, identical in every feature of every file: {number(duplicates['groups'])} "
        f"group(s), {number(duplicates['customers'])} customers. Action: {duplicates['action']}. "
        f"Groups with conflicting targets: {number(duplicates['conflicting_target_groups'])}.",
        "",
        *table(
            ["duplicate_group", "ids"],
            [[ids[0], ", ".join(str(i) for i in ids)] for ids in duplicates["items"]],
        ),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
