"""How good is the train stage's model selection, judged without the test part.

In a throw-away copy of the project (as bench_repro), `dvc repro features` on the real files;
then, for each outer seed, nested CV on the training part: the whole train-stage procedure
(search, ranking, calibration) runs inside the outer training folds and is scored on the outer
fold it never saw. The winner's own repeated-CV score is the best of many candidates, so it is
optimistic; the nested score is not. `--set key=value` (repeatable, dotted params keys) changes
the procedure, so a proposed change is judged by this yardstick before anyone looks at the test
part. Last, the sampling spread of a test ROC-AUC on a test part of the configured size
(Hanley & McNeil 1982) and the chance that the nested estimate reaches --target there.

    python -m bench.bench_model [--raw-dir ../shared/data/oneclick] [--seeds 142 7 2026]
        [--folds 5] [--set train.vote_top=2] [--target 0.915] [--markdown bench/MODEL.md]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

from bench.bench_repro import copy_project, timed
from oneclick.core import entry, errors, paths, writers
from oneclick.data.contract import LABEL
from oneclick.features.spec import load_spec
from oneclick.model.training import nested_cv, select_model


def set_dotted(params: dict[str, Any], assignment: str) -> None:
    """params["a"]["b"] = value for "a.b=value" (value parsed as YAML, as `dvc exp run -S`)."""
    key, sep, text = assignment.partition("=")
    *path, last = key.split(".")
    node = params
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if not sep or not isinstance(node, dict) or last not in node:
        raise errors.DataError(f"--set {assignment!r}: expected an existing params key=value")
    node[last] = yaml.safe_load(text)


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Standard error of a ROC-AUC measured on this many positives and negatives
    (Hanley & McNeil 1982, exponential approximation)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(variance)


def chance_at_least(target: float, mean: float, se: float) -> float:
    """P(a normal(mean, se) draw >= target)."""
    return 0.5 * math.erfc((target - mean) / (se * math.sqrt(2)))


def study(
    train: pd.DataFrame,
    spec: dict[str, Any],
    params: dict[str, Any],
    seeds: list[int],
    folds: int,
    target: float,
) -> list[str]:
    """Markdown lines: the winner's repeated CV, nested CV per outer seed, test-size spread."""
    train_params = params["train"]
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        _, metrics = select_model(train, spec, train_params)
        lines = [
            f"winner on the whole training part ({len(train)} rows): "
            f"{metrics['winner']['family']} {metrics['winner']['params']}, repeated CV ROC-AUC "
            f"{metrics['cv_roc_auc_mean']:.4f} ± {metrics['cv_roc_auc_std']:.4f} "
            f"({time.perf_counter() - start:.0f} s)",
            "",
            "| outer seed | nested ROC-AUC mean | std over folds | winners |",
            "|---|---|---|---|",
        ]
        fold_scores = []
        for seed in seeds:
            nested = nested_cv(train, spec, train_params, folds, outer_seed=seed)
            fold_scores.append(nested["roc_auc_mean"])
            winners = ", ".join(sorted(set(nested["winners"])))
            lines.append(
                f"| {seed} | {nested['roc_auc_mean']:.4f} | {nested['roc_auc_std']:.4f} "
                f"| {winners} |"
            )
    estimate = float(np.mean(fold_scores))
    share = float(train[LABEL].mean())
    test_size = params["features"]["test_size"]
    n_test = round(len(train) * test_size / (1 - test_size))
    positives = round(n_test * share)
    se = auc_standard_error(estimate, positives, n_test - positives)
    lines += [
        "",
        f"nested estimate (mean over seeds) {estimate:.4f}; seed-to-seed range "
        f"{min(fold_scores):.4f}–{max(fold_scores):.4f}; optimism of the winner's CV score "
        f"{metrics['cv_roc_auc_mean'] - estimate:+.4f}",
        f"a test part of ~{n_test} customers ({positives} declined): ROC-AUC standard error "
        f"{se:.4f}, 95% ± {1.96 * se:.4f}; chance that a procedure worth {estimate:.4f} "
        f"measures ≥ {target} there: {chance_at_least(target, estimate, se):.0%}",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=paths.ROOT.parent / "shared/data/oneclick")
    parser.add_argument("--seeds", type=int, nargs="+", default=[142, 7, 2026])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--set", action="append", default=[], dest="assignments")
    parser.add_argument("--target", type=float, default=0.915)
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    if not args.raw_dir.is_dir():
        raise errors.DataError(f"{args.raw_dir}: no such directory (the real files)")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_project(repo)
        params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
        params["data"]["raw_dir"] = str(args.raw_dir.resolve())
        for assignment in args.assignments:
            set_dotted(params, assignment)
        (repo / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), "utf-8")
        wall, _ = timed(["dvc", "repro", "features"], repo)
        entry.log.info("bench_model: features of the real files in %.1f s", wall)
        train = pd.read_csv(repo / "data/features/train.csv")  # the test part is never read
        spec = load_spec(repo / "data/features/feature_spec.json")
    header = [
        "# Model selection judged by nested CV (bench/bench_model.py)",
        "",
        f"nproc {os.cpu_count()}, raw {args.raw_dir.name}, outer folds {args.folds}, "
        f"changes: {', '.join(args.assignments) or 'none (params.yaml as committed)'}",
        "",
    ]
    report = "\n".join(header + study(train, spec, params, args.seeds, args.folds, args.target))
    print(report)
    if args.markdown:
        writers.write_text(report + "\n", args.markdown)


if __name__ == "__main__":
    entry.run(main)
