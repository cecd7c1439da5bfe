"""Our training procedure against the published configurations and the candidates for a store
fifty times bigger (issue 22), on the protocol's folds of the store's real files.

In a throw-away copy of the project with `data.raw_dir` pointed at the real files, the stages up
to `features` run; then every approach below is refitted inside each of the protocol's folds
(evaluate.protocol_* params: the very folds the pipeline's evaluate stage uses) and scored on the
held-out fold. Published configurations use the usual one-hot encoding and standard scaling.
Candidates are today's procedure with one change each (bench/SCALE.md says why each). A second
copy runs the stages up to `features` on --scale-customers generated customers, where each
approach except the published ones is fitted once on the training part: CPU s per fit there.
Writes a Markdown table: fold-mean ROC-AUC, Brier and log-loss with the Nadeau–Bengio corrected
SE, the mean held-out probability's log-loss and Brier, each row minus our procedure on the same
folds (corrected SE, two-sided p) and CPU seconds per fit.

    python -m bench.bench_peers [--raw-dir ../shared/data/oneclick] [--markdown bench/PEERS.md]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, LinearSVC
from threadpoolctl import threadpool_limits

from bench.bench_repro import copy_project
from oneclick.core import config, entry, errors, paths
from oneclick.core.stats import corrected_se
from oneclick.data.contract import GROUP, LABEL
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import protocol_inputs
from oneclick.model.pipelines import build_preprocessor
from oneclick.model.procedure import build_stack, fit_procedure
from oneclick.model.protocol import SCORES, protocol_folds, run_protocol

OURS = "our procedure (stack: SVC + kNN + L1 LR, logistic meta)"
Fit = Callable[[pd.DataFrame, pd.Series, pd.Series], Any]


class NystroemLinearSVC(ClassifierMixin, BaseEstimator):
    """A linear SVC on n_components Nystroem features of the RBF kernel (gamma as SVC's
    'scale'): the exact SVC's fit, O(rows²), becomes O(rows · components)."""

    def __init__(self, C: float = 1.0, n_components: int = 300, random_state: int = 0) -> None:
        self.C, self.n_components, self.random_state = C, n_components, random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> NystroemLinearSVC:
        gamma = 1.0 / (X.shape[1] * X.var())
        components = min(self.n_components, len(X))
        self.map_ = Nystroem(gamma=gamma, n_components=components, random_state=self.random_state)
        features = self.map_.fit_transform(X)
        self.svc_ = LinearSVC(C=self.C, random_state=self.random_state).fit(features, y)
        self.classes_ = self.svc_.classes_
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.svc_.decision_function(self.map_.transform(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.svc_.predict(self.map_.transform(X))


def with_params(procedure: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of the train params with dotted keys changed: with_params(p, **{"svc.C": 2})."""
    changed = copy.deepcopy(procedure)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = changed
        for key in parents:
            node = node[key]
        node[leaf] = value
    return changed


def candidates(spec: dict[str, Any], procedure: dict[str, Any], cap: int) -> dict[str, Fit]:
    """Today's procedure with one change each: the issue-22 candidates for a large store."""

    def ours_with(**changes: Any) -> Fit:
        params = with_params(procedure, **changes)
        return lambda X, y, g: fit_procedure(spec, params, X, y, g)

    def nystroem(X: pd.DataFrame, y: pd.Series, g: pd.Series) -> Any:
        model = build_stack(spec, procedure, y, g, procedure["random_state"])
        approximate = NystroemLinearSVC(procedure["svc"]["C"], 300, procedure["random_state"])
        return model.set_params(stack__svc__clf=approximate).fit(X, y)

    def boosting(X: pd.DataFrame, y: pd.Series, g: pd.Series) -> Any:
        trees = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=200,
            max_leaf_nodes=8,
            min_samples_leaf=30,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=procedure["random_state"],
        )
        return Pipeline([("prep", build_preprocessor(spec)), ("clf", trees)]).fit(X, y)

    return {
        f"SVC and kNN on ≤ {cap} rows (svc/knn.max_rows)": ours_with(
            **{"svc.max_rows": cap, "knn.max_rows": cap}
        ),
        f"SVC on ≤ {cap} rows": ours_with(**{"svc.max_rows": cap}),
        f"kNN on ≤ {cap} rows": ours_with(**{"knn.max_rows": cap}),
        f"SVC and kNN on ≤ {cap // 2} rows": ours_with(
            **{"svc.max_rows": cap // 2, "knn.max_rows": cap // 2}
        ),
        "meta folds 3 (train.meta.folds)": ours_with(**{"meta.folds": 3}),
        "SVC → Nystroem (300 components) + linear SVC": nystroem,
        "HGB alone (exact TreeSHAP), small fixed": boosting,
    }


def peers(spec: dict[str, Any], seed: int) -> dict[str, Fit]:
    """The published configurations (seed write-ups), each fitted as a fresh pipeline."""

    def pipe(estimator: Any) -> Fit:
        return lambda X, y, g: Pipeline(
            [("prep", build_preprocessor(spec)), ("clf", estimator)]
        ).fit(X, y)

    svc = SVC(C=10, kernel="rbf")  # probabilities by Platt scaling on 5 folds, as SVC's own
    platt = StratifiedKFold(5, shuffle=True, random_state=seed)
    l1 = LogisticRegression(C=1.0, l1_ratio=1.0, solver="liblinear", max_iter=5000)
    return {
        "published kNN, k = 49": pipe(KNeighborsClassifier(49, weights="distance")),
        "published SVC, rbf, C = 10": pipe(
            CalibratedClassifierCV(svc, method="sigmoid", ensemble=False, cv=platt)
        ),
        "published L1 logistic regression": pipe(l1),
    }


def cpu_timed(fit: Fit) -> Fit:
    def run(X: pd.DataFrame, y: pd.Series, groups: pd.Series) -> Any:
        start = time.process_time()
        model = fit(X, y, groups)
        model.fit_cpu_seconds_ = time.process_time() - start
        return model

    return run


def features_copy(repo: Path, raw_dir: Path, generated: int | None = None) -> None:
    """A copy of the project whose stages up to `features` ran on raw_dir (or, with
    `generated`, on that many generated customers)."""
    copy_project(repo, raw_dir)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    steps = [["stages.clean"], ["stages.merge"], ["stages.features"]]
    if generated:
        steps.insert(
            0, ["stages.sample", "--output", str(raw_dir), "--n-customers", str(generated)]
        )
    for step in steps:
        done = subprocess.run([sys.executable, "-m", *step], cwd=repo, env=env, capture_output=True)
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise errors.DataError(f"{step[0]} failed: {tail}")


def load_features(repo: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    spec = load_spec(repo / "data" / "features" / "feature_spec.json")
    read = lambda name: pd.read_csv(repo / "data" / "features" / name)  # noqa: E731
    return spec, read("train.csv"), read("test.csv")


def approaches(spec: dict[str, Any], procedure: dict[str, Any], cap: int) -> dict[str, Fit]:
    ours: Fit = lambda X, y, g: fit_procedure(spec, procedure, X, y, g)  # noqa: E731
    return {OURS: ours, **candidates(spec, procedure, cap)}


def score_all(repo: Path, n_jobs: int, cap: int) -> dict[str, dict[str, Any]]:
    params = config.load_params(repo / "params.yaml")
    spec, train, test = load_features(repo)
    everyone = protocol_inputs(train, test)
    X, y, groups = everyone[feature_columns(spec)], everyone[LABEL], everyone[GROUP]
    setting, procedure = params["evaluate"], params["train"]
    k = setting["protocol_folds"]
    folds = protocol_folds(
        y.to_numpy(), groups.to_numpy(), setting["protocol_repeats"], k, setting["protocol_seed"]
    )
    every = {**approaches(spec, procedure, cap), **peers(spec, procedure["random_state"])}
    results = {}
    for name, fit in every.items():
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


def cpu_at_scale(repo: Path, cap: int, scale_cap: int) -> tuple[int, dict[str, float]]:
    """(training rows, CPU s of one fit per approach) on a generated sample's training part; the
    row cap is scale_cap there (the real files' `cap` would be a tiny share of the rows)."""
    params = config.load_params(repo / "params.yaml")
    spec, train, _ = load_features(repo)
    X, y, groups = train[feature_columns(spec)], train[LABEL], train[GROUP]
    seconds = {}
    fits = approaches(spec, params["train"], scale_cap)
    for (name, fit), label in zip(
        fits.items(), approaches(spec, params["train"], cap), strict=True
    ):
        with threadpool_limits(limits=1):  # as in the protocol: one thread per fit
            start = time.process_time()
            fit(X, y, groups)
            seconds[label] = time.process_time() - start
        entry.log.info("peers: %s on %d rows, %.1f CPU s", name, len(X), seconds[label])
    return len(X), seconds


def paired(ours: pd.Series, other: pd.Series, ratio: float) -> str:
    """other − ours on the same folds: mean ± corrected SE (two-sided t-test p)."""
    diff = (other - ours).to_numpy()
    mean, se = float(diff.mean()), corrected_se(diff, ratio)
    p = 1.0 if se == 0 else float(2 * stats.t.sf(abs(mean / se), len(diff) - 1))
    return f"{mean:+.4f} ± {se:.4f} ({p:.2g})"


def markdown(
    results: dict[str, dict[str, Any]],
    scale: tuple[int, dict[str, float]],
    raw_dir: Path,
    scale_cap: int,
) -> str:
    ours = results[OURS]
    folds = len(ours["scores"])
    rows, at_scale = scale
    lines = [
        "# Our procedure vs the published configurations and the large-store candidates",
        "",
        f"Written by `make bench-peers` (bench/bench_peers.py) on the files in `{raw_dir.name}`:",
        f"{folds} grouped stratified folds of all customers, every approach refitted inside each",
        "outer training part. ± is the Nadeau–Bengio corrected SE; Δ is the row minus our",
        "procedure on the same folds (corrected SE, two-sided p); OOF = the mean held-out",
        "probability over repeats. CPU s per fit: the mean over the protocol's fits (real files),",
        f"and one fit on the training part of {rows:,} generated customers' rows (single thread;",
        f"there the row caps are {scale_cap:,}).",
        "",
        "| approach | ROC-AUC | Brier | log-loss | OOF log-loss | OOF Brier "
        "| Δ ROC-AUC (p) | Δ Brier (p) | Δ log-loss (p) | CPU s per fit | CPU s at "
        f"{rows // 1000}k rows |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        s, ratio = result["scores"], result["ratio"]
        cells = [
            f"{s[m].mean():.4f} ± {corrected_se(s[m].to_numpy(), ratio):.4f}"
            for m in ("roc_auc", "brier", "log_loss")
        ]
        deltas = ["—"] * 3
        if name != OURS:
            deltas = [
                paired(ours["scores"][m], s[m], ratio) for m in ("roc_auc", "brier", "log_loss")
            ]
        oof = result["oof"]
        big = f"{at_scale[name]:.2f}" if name in at_scale else "—"
        lines.append(
            f"| {name} | {' | '.join(cells)} | {oof['log_loss']:.4f} | {oof['brier']:.4f} "
            f"| {' | '.join(deltas)} | {result['cpu']:.2f} | {big} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=paths.ROOT.parent / "shared/data/oneclick")
    parser.add_argument("--markdown", type=Path, help="write the table to this file")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cap", type=int, default=500, help="row cap on the real files")
    parser.add_argument("--scale-customers", type=int, default=20_000)
    parser.add_argument("--scale-cap", type=int, default=5_000, help="row cap at that size")
    args = parser.parse_args()
    if not args.raw_dir.is_dir():
        raise errors.DataError(f"{args.raw_dir}: no such directory (the real files)")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        features_copy(repo, args.raw_dir.resolve())
        results = score_all(repo, args.n_jobs, args.cap)
        big = Path(tmp) / "big"
        features_copy(big, Path("data/sample"), args.scale_customers)
        scale = cpu_at_scale(big, args.cap, args.scale_cap)
    text = markdown(results, scale, args.raw_dir, args.scale_cap)
    print(text)
    if args.markdown:
        part = args.markdown.read_text(encoding="utf-8") if args.markdown.is_file() else ""
        history = part[part.find("\n## ") :] if "\n## " in part else ""  # kept: earlier rounds
        args.markdown.write_text(text + history, encoding="utf-8")


if __name__ == "__main__":
    entry.run(main)
