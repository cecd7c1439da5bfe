"""Our training procedure against the published configurations, on the protocol's folds.

In a throw-away copy of the project with `data.raw_dir` pointed at the store's real files, the
pipeline runs up to `features`; then every approach below is refitted inside each of the
protocol's folds (evaluate.protocol_* params: the very folds the pipeline's evaluate stage uses)
and scored on the held-out fold. Each published configuration uses the usual one-hot encoding
and standard scaling. Writes a Markdown table: fold-mean ROC-AUC, Brier and log-loss with the
Nadeau–Bengio corrected SE, the mean held-out probability's log-loss and Brier, our procedure's
paired difference to each peer (corrected SE, two-sided p) and CPU seconds per fit.

    python -m bench.bench_peers [--raw-dir ../shared/data/oneclick] [--markdown bench/PEERS.md]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from bench.bench_repro import copy_project, set_param, timed
from oneclick.core import config, entry, errors, paths
from oneclick.data.contract import GROUP, LABEL
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import protocol_inputs
from oneclick.model.pipelines import build_preprocessor
from oneclick.model.procedure import fit_procedure
from oneclick.model.protocol import (
    SCORES,
    corrected_se,
    paired_difference,
    protocol_folds,
    run_protocol,
)

OURS = "our procedure (stack: SVC + kNN + L1 LR, logistic meta)"


def peers(spec: dict[str, Any], seed: int) -> dict[str, Callable[[], Any]]:
    """The published configurations (seed write-ups), each a fresh unfitted pipeline."""

    def pipe(estimator: Any) -> Pipeline:
        return Pipeline([("prep", build_preprocessor(spec)), ("clf", estimator)])

    svc = SVC(C=10, kernel="rbf")  # probabilities by Platt scaling on 5 folds, as SVC's own
    platt = StratifiedKFold(5, shuffle=True, random_state=seed)
    l1 = LogisticRegression(C=1.0, l1_ratio=1.0, solver="liblinear", max_iter=5000)
    return {
        "published kNN, k = 49": lambda: pipe(KNeighborsClassifier(49, weights="distance")),
        "published SVC, rbf, C = 10": lambda: pipe(
            CalibratedClassifierCV(svc, method="sigmoid", ensemble=False, cv=platt)
        ),
        "published L1 logistic regression": lambda: pipe(l1),
    }


def cpu_timed(fit: Callable[[pd.DataFrame, pd.Series, pd.Series], Any]) -> Callable:
    def run(X: pd.DataFrame, y: pd.Series, groups: pd.Series) -> Any:
        start = time.process_time()
        model = fit(X, y, groups)
        model.fit_cpu_seconds_ = time.process_time() - start
        return model

    return run


def score_all(repo: Path, n_jobs: int) -> dict[str, dict[str, Any]]:
    params = config.load_params(repo / "params.yaml")
    spec = load_spec(repo / "data" / "features" / "feature_spec.json")
    read = lambda name: pd.read_csv(repo / "data" / "features" / name)  # noqa: E731
    everyone = protocol_inputs(read("train.csv"), read("test.csv"))
    X, y, groups = everyone[feature_columns(spec)], everyone[LABEL], everyone[GROUP]
    setting, procedure = params["evaluate"], params["train"]
    k = setting["protocol_folds"]
    folds = protocol_folds(
        y.to_numpy(), groups.to_numpy(), setting["protocol_repeats"], k, setting["protocol_seed"]
    )
    approaches = {OURS: lambda Xf, yf, gf: fit_procedure(spec, procedure, Xf, yf, gf)}
    for name, make in peers(spec, procedure["random_state"]).items():
        approaches[name] = lambda Xf, yf, gf, make=make: make().fit(Xf, yf)
    results = {}
    for name, fit in approaches.items():
        start = time.perf_counter()
        scores, held_out, models = run_protocol(cpu_timed(fit), X, y, groups, folds, n_jobs)
        mean_proba = held_out.mean(axis=0)
        results[name] = {
            "scores": scores,
            "oof": {s: f(y.to_numpy(), mean_proba) for s, f in SCORES.items() if s != "roc_auc"},
            "cpu": float(np.mean([m.fit_cpu_seconds_ for m in models])),
            "ratio": 1 / (k - 1),
        }
        entry.log.info("peers: %s, %.1f s", name, time.perf_counter() - start)
    return results


def markdown(results: dict[str, dict[str, Any]], folds: int, raw_dir: Path) -> str:
    ours = results[OURS]
    lines = [
        "# Our procedure vs the published configurations (the protocol's folds)",
        "",
        f"Written by `make bench-peers` (bench/bench_peers.py) on the files in `{raw_dir.name}`:",
        f"{folds} grouped stratified folds of all customers, every approach refitted inside each",
        "outer training part. ± is the Nadeau–Bengio corrected SE; Δ is ours minus the row on the",
        "same folds (corrected SE, two-sided p); OOF = the mean held-out probability over repeats.",
        "",
        "| approach | ROC-AUC | Brier | log-loss | OOF log-loss | OOF Brier "
        "| Δ ROC-AUC (p) | Δ log-loss (p) | CPU s per fit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        s, ratio = result["scores"], result["ratio"]
        cells = [
            f"{s[m].mean():.4f} ± {corrected_se(s[m].to_numpy(), ratio):.4f}"
            for m in ("roc_auc", "brier", "log_loss")
        ]
        deltas = ["—", "—"]
        if name != OURS:
            deltas = []
            for metric in ("roc_auc", "log_loss"):
                d = paired_difference(ours["scores"][metric], s[metric], ratio)
                deltas.append(f"{d['mean']:+.4f} ± {d['se']:.4f} ({d['p']:.3g})")
        oof = result["oof"]
        lines.append(
            f"| {name} | {' | '.join(cells)} | {oof['log_loss']:.4f} | {oof['brier']:.4f} "
            f"| {' | '.join(deltas)} | {result['cpu']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=paths.ROOT.parent / "shared/data/oneclick")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not args.raw_dir.is_dir():
        raise errors.DataError(f"{args.raw_dir}: no such directory (the real files)")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_project(repo)
        set_param(repo, "data", "raw_dir", str(args.raw_dir.resolve()))
        timed(["dvc", "repro", "features"], repo)
        results = score_all(repo, args.n_jobs)
    folds = len(next(iter(results.values()))["scores"])
    text = markdown(results, folds, args.raw_dir)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    entry.run(main)
