"""SHAP error against cost: what the explanations drive, at each path budget, against a reference.

Run inside a throw-away copy of the project whose pipeline ran up to `evaluate` on the store's real
files (data.raw_dir pointed at them; never commit that copy's outputs). For `--customers` customers
whose explanation is read (P(declined) >= shap.read_probability; a sample drawn with
`--sample-seed`), each budget explains them with the shap stage's own code
(oneclick.explain.values.explain_parts: every protocol model that scored the customer, its own
training rows as background, every customer marked read) and is compared with a reference of
`--reference` paths per customer under other seeds. A budget is `first:close:z` (n_paths_read,
n_paths_close, close_call_z: close calls go on from `first` paths up to `close`) or one number
(that many paths for every customer). Figures: each customer's first decline driver, top-3
decline-driver set and ordered list, assigned offers (segment offer rules), RMSE; strict, and
tolerant (a disagreement inside a near tie of the reference, |difference| <= `--tolerance`,
counts as agreement). CPU seconds are process time (all threads), set-up included. Tune on one
`--sample-seed` and report on another, so the reported figures are not the ones tuned on.

    cd <copy> && python -m bench.bench_shap --markdown <clone>/bench/SHAP.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oneclick.core import config, paths
from oneclick.data.contract import ID
from oneclick.explain.values import explain_parts, explanation_parts
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import protocol_inputs
from oneclick.model.persistence import load_model
from oneclick.segment.offers import assign_offers, decline_order, parse_offers
from oneclick.segment.selection import scored_customers


def budget_params(budget: str) -> dict[str, Any]:
    """shap params of a budget: `first:close:z`, or one number of paths for everyone."""
    first, close, z = budget.split(":") if ":" in budget else (budget, budget, "0")
    return {"n_paths_read": int(first), "n_paths_close": int(close), "close_call_z": float(z)}


def explain_all(
    parts: list, columns: list[str], params: dict, repeats: int, budget: str, seed: int
) -> tuple[pd.DataFrame, float]:
    """SHAP table by id (the stage's explain_parts, every customer read) and its CPU s."""
    ids = pd.concat([rows[ID] for *_, rows in parts]).unique()
    read = pd.Series(True, index=ids)
    start = time.process_time()
    budget_ = {**params, **budget_params(budget), "random_state": seed}
    table, _ = explain_parts(parts, columns, budget_, repeats, read)
    return table.set_index(ID)[columns], time.process_time() - start


def decline_top(values: np.ndarray, k: int) -> list[tuple[int, ...]]:
    """Each row's first k decline drivers (SHAP > 0), strongest first."""
    order, count = decline_order(values)
    return [tuple(o[: min(k, c)]) for o, c in zip(order, count, strict=True)]


def agreement(values: np.ndarray, reference: np.ndarray, offers: Any, tolerance: float) -> dict:
    """Share of customers whose drivers/offers agree with the reference (strict, tolerant)."""
    first, ref_first = decline_top(values, 1), decline_top(reference, 1)
    top, ref_top = decline_top(values, 3), decline_top(reference, 3)
    strict_first = np.array([a == b for a, b in zip(first, ref_first, strict=True)])
    strict_set = np.array([set(a) == set(b) for a, b in zip(top, ref_top, strict=True)])
    strict_order = np.array([a == b for a, b in zip(top, ref_top, strict=True)])

    def near(row: np.ndarray, mine: tuple, theirs: tuple) -> bool:  # inside a reference near tie
        if len(mine) != len(theirs):
            return False
        floor = min((row[j] for j in theirs), default=0.0)
        return all(row[j] >= floor - tolerance for j in mine)

    tolerant_first = strict_first | np.array(
        [near(r, a, b) for r, a, b in zip(reference, first, ref_first, strict=True)]
    )
    tolerant_set = strict_set | np.array(
        [near(r, a, b) for r, a, b in zip(reference, top, ref_top, strict=True)]
    )
    rmse = np.sqrt(((values - reference) ** 2).mean()) / np.sqrt((reference**2).mean())
    return {
        "first": strict_first.mean(),
        "first_tolerant": tolerant_first.mean(),
        "top3_set": strict_set.mean(),
        "top3_set_tolerant": tolerant_set.mean(),
        "top3_order": strict_order.mean(),
        "offers": (offers(values) == offers(reference)).all(axis=1).mean(),
        "rmse_relative": rmse,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--reference", type=int, default=4096)
    parser.add_argument("--budgets", nargs="+", default=["256", "1024", "2048", "512:4096:2"])
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--no-noise-row", action="store_true", help="skip the second reference")
    parser.add_argument("--tolerance", type=float, default=0.002)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    all_params = config.load_params()
    params, repeats = all_params["shap"], all_params["evaluate"]["protocol_repeats"]
    columns = feature_columns(load_spec())
    train, test = pd.read_csv(paths.TRAIN_FILE), pd.read_csv(paths.TEST_FILE)
    everyone, folds = protocol_inputs(train, test), pd.read_csv(paths.FOLDS_FILE)
    parts = explanation_parts(load_model(paths.FOLD_MODELS_FILE), everyone, folds, columns)
    scores = pd.read_csv(paths.SCORES_FILE)
    readable = scores.loc[scores["probability"] >= params["read_probability"], ID]
    ids = pd.Index(readable.sample(args.customers, random_state=args.sample_seed).sort_values())

    segment = all_params["segment"]
    values_by_id = everyone.set_index(ID)[columns]
    table, _ = scored_customers(scores, pd.read_csv(paths.MERGED_FILE), values_by_id)
    customers = table.set_index(ID).loc[ids].reset_index()
    rules, _ = parse_offers(
        segment["offers"], segment["fallback_offer"], set(table.columns), segment["non_actionable"]
    )

    def offers(values: np.ndarray) -> np.ndarray:
        order, count = decline_order(values)
        slots, _ = assign_offers(
            order,
            count,
            columns,
            customers,
            rules,
            segment["drivers_listed"],
            segment["max_offers"],
        )
        return slots

    seed = params["random_state"]
    chosen = [(n, m, bg, rows[rows[ID].isin(ids)]) for n, m, bg, rows in parts]
    chosen = [part for part in chosen if len(part[3])]
    reference, ref_cpu = explain_all(
        chosen, columns, params, repeats, str(args.reference), seed + 1000
    )
    ref = reference.loc[ids].to_numpy()
    rows = []
    noise = [] if args.no_noise_row else [str(args.reference)]  # the reference's own noise
    for budget in [*args.budgets, *noise]:
        found, cpu = explain_all(chosen, columns, params, repeats, budget, seed)
        figures = agreement(found.loc[ids].to_numpy(), ref, offers, args.tolerance)
        rows.append({"paths": budget, "cpu_s": cpu, "ms_per_customer": 1000 * cpu / len(ids)})
        rows[-1] |= figures
        print(rows[-1], file=sys.stderr, flush=True)
    write(rows, args, len(ids), ref_cpu)


def write(rows: list[dict], args: argparse.Namespace, n_customers: int, ref_cpu: float) -> None:
    """The table as Markdown, with the command and conditions that produced it."""
    import os

    command = "python -m bench.bench_shap " + " ".join(sys.argv[1:])
    shown = pd.DataFrame(rows).round(3).astype(object).where(lambda f: f.notna(), "")
    lines = [
        "# SHAP error against cost (real files)",
        "",
        f"Produced by `{command}` in a copy of the project run up to `evaluate` on the real",
        f"files; {n_customers} customers with P(declined) >= shap.read_probability (sample seed",
        f"{args.sample_seed}); reference",
        f"{args.reference} paths per customer under other seeds ({ref_cpu:.1f} CPU s); the last",
        f"budget row is a second {args.reference}-path run: the reference's own noise. Tolerant:",
        f"a disagreement inside a reference near tie (|SHAP difference| <= {args.tolerance}).",
        f"Load average at the end: {os.getloadavg()[0]:.1f} (2 cores shared; CPU s, not wall).",
        "",
        "| " + " | ".join(shown.columns) + " |",
        "|" + "---|" * len(shown.columns),
        *("| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False)),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
