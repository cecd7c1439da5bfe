"""Fast sampled SHAP for models without an exact explainer (SVC, KNN, calibrated, ensembles).

Interventional SHAP of P(declined) by antithetic permutation sampling: each path starts from a
background customer and swaps in the explained customer's values one feature at a time. Speed
comes from the model's structure, not from fewer samples:

* the model is decomposed (Pipeline, soft VotingClassifier, CalibratedClassifierCV) into leaves:
  a fitted column-wise transform plus a final estimator; leaves recombine by the wrappers' own
  arithmetic (weighted mean, calibrators);
* a leaf sees a row through per-feature statistics that combine simply: an RBF SVC through kernel
  factors exp(-gamma d_j) that multiply, KNN through squared distances that add, a linear model
  through w_j x_j. They are computed once per customer; every hybrid on a path is then a running
  product or sum, and the head (kernel sum, vote, calibrator) runs on all paths at once. Other
  estimators get the hybrid rows themselves (slower, still batched); a model that cannot be
  decomposed is explained through its own predict_proba on hybrid raw rows.

Along a path the contributions telescope from f(background) to f(customer) (both from the model
itself), so base + sum(SHAP) equals the model output exactly, whatever the number of paths. The
decomposition is checked against the model's predict_proba before use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

Transform = Callable[[pd.DataFrame], np.ndarray]
Combine = Callable[[list[np.ndarray]], np.ndarray]


class Unsupported(Exception):
    """The structure cannot be decomposed; the caller falls back to a coarser leaf."""


def feature_blocks(transform: Transform, frame: pd.DataFrame) -> list[np.ndarray]:
    """Transformed-column indices of each feature (the columns that move when it moves).

    Columns no feature moves are constant; they join the first non-empty block so statistics
    stay whole. A feature the model drops (e.g. by SelectKBest) gets an empty block.
    Raises Unsupported if the transform mixes features (hybrid rows would then be wrong).
    """
    base = transform(frame)
    owner = np.full(base.shape[1], -1)
    for j, name in enumerate(frame.columns):
        moved = frame.copy()
        moved[name] = np.roll(frame[name].to_numpy(), 1)
        changed = (transform(moved) != base).any(axis=0)
        if (owner[changed] >= 0).any():
            raise Unsupported(f"feature {name!r} shares transformed columns with another")
        owner[changed] = j
    alive = owner[owner >= 0]
    owner[owner < 0] = alive.min() if alive.size else 0
    rng = np.random.default_rng(0)
    keep = rng.random(frame.shape) < 0.5
    donor = frame.iloc[rng.permutation(len(frame))]
    hybrid = frame.copy()
    for j, name in enumerate(frame.columns):
        hybrid[name] = np.where(keep[:, j], frame[name].to_numpy(), donor[name].to_numpy())
    if not np.allclose(transform(hybrid), np.where(keep[:, owner], base, transform(donor))):
        raise Unsupported("the transform is not column-wise")
    return [np.flatnonzero(owner == j) for j in range(frame.shape[1])]


def sample_paths(n_features: int, n_rows: int, n_paths: int, seed: int):
    """Antithetic permutation pairs, each with a background row (systematic, then shuffled)."""
    rng = np.random.default_rng(seed)
    half = max(n_paths // 2, 1)
    firsts = [rng.permutation(n_features) for _ in range(half)]
    perms = np.array([p for first in firsts for p in (first, first[::-1])])
    rows = ((np.arange(half) + rng.random()) * n_rows / half).astype(int)
    return perms, np.repeat(rng.permutation(rows), 2)


def libsvm_binary_proba(decision: np.ndarray, prob_a: float, prob_b: float) -> np.ndarray:
    """P(classes_[1]) exactly as sklearn's bundled libsvm computes it for SVC(probability=True):
    Platt's sigmoid, then a pairwise-coupling iteration that stops at a tolerance (so the plain
    sigmoid is off by up to ~0.004)."""
    f_ab = -decision * prob_a + prob_b  # libsvm's decision value is the negated sklearn one
    with np.errstate(over="ignore"):
        r01 = np.where(f_ab >= 0, np.exp(-f_ab) / (1.0 + np.exp(-f_ab)), 1.0 / (1 + np.exp(f_ab)))
    r01 = np.clip(r01, 1e-7, 1 - 1e-7)
    r10 = 1 - r01
    q = ((r10 * r10, -r10 * r01), (-r10 * r01, r01 * r01))
    p = [np.full_like(r01, 0.5), np.full_like(r01, 0.5)]
    active = np.ones(r01.shape, dtype=bool)
    for _ in range(100):
        qp = [q[t][0] * p[0] + q[t][1] * p[1] for t in (0, 1)]
        pqp = p[0] * qp[0] + p[1] * qp[1]
        active &= np.maximum(abs(qp[0] - pqp), abs(qp[1] - pqp)) >= 0.005 / 2
        if not active.any():
            break
        for t in (0, 1):
            diff = np.where(active, (pqp - qp[t]) / q[t][t], 0.0)
            p[t] = p[t] + diff
            pqp = (pqp + diff * (diff * q[t][t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
            qp = [(qp[j] + diff * q[t][j]) / (1 + diff) for j in (0, 1)]
            p = [p[j] / (1 + diff) for j in (0, 1)]
    return p[1]


@dataclass
class Leaf:
    """A transform plus an estimator's response, seen through per-feature statistics.

    encode(rows, blocks) -> (rows, features, D); statistics combine over features by product or
    sum; respond(combined) -> response; post maps it on (e.g. Platt). If response = combined @
    readout + intercept and statistics multiply, path interiors skip building the hybrids.
    """

    transform: Transform
    encode: Callable[[np.ndarray, list[np.ndarray]], np.ndarray]
    respond: Callable[[np.ndarray], np.ndarray]
    kind: str
    product: bool = False
    post: Callable[[np.ndarray], np.ndarray] | None = None
    readout: np.ndarray | None = None
    intercept: float = 0.0
    dtype: type = np.float32  # of path interiors; endpoints are always float64
    blocks: list[np.ndarray] | None = None


def _per_block(reference: np.ndarray, stat: Callable) -> Callable:
    def encode(rows: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
        out = np.empty((len(rows), len(blocks), len(reference)))
        for j, block in enumerate(blocks):
            out[:, j] = stat(rows[:, None, block], reference[None, :, block]).sum(axis=-1)
        return out

    return encode


def _placed(rows: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """The row itself, split by feature: block j's columns in slice j, zeros elsewhere."""
    out = np.zeros((len(rows), len(blocks), rows.shape[1]))
    for j, block in enumerate(blocks):
        out[:, j, block] = rows[:, block]
    return out


def _svc_leaf(svc: SVC, transform: Transform) -> Leaf:
    alpha, intercept = svc.dual_coef_[0], float(svc.intercept_[0])
    gamma, coef0, degree = float(svc._gamma), float(svc.coef0), svc.degree
    if svc.kernel == "rbf":
        distance = _per_block(svc.support_vectors_, lambda a, b: (a - b) ** 2)
        return Leaf(
            transform, lambda rows, blocks: np.exp(-gamma * distance(rows, blocks)),
            lambda k: k @ alpha.astype(k.dtype) + intercept, "SVC (rbf)",
            product=True, readout=alpha, intercept=intercept,
        )  # fmt: skip
    kernel = {
        "linear": lambda s: s,
        "poly": lambda s: (gamma * s + coef0) ** degree,
        "sigmoid": lambda s: np.tanh(gamma * s + coef0),
    }[svc.kernel]
    return Leaf(
        transform, _per_block(svc.support_vectors_, lambda a, b: a * b),
        lambda s: kernel(s) @ alpha.astype(s.dtype) + intercept, f"SVC ({svc.kernel})",
    )  # fmt: skip


def _knn_leaf(knn: KNeighborsClassifier, transform: Transform) -> Leaf:
    k, labels, by_distance = (
        knn.n_neighbors,
        (knn._y == 1).astype(np.int32),
        knn.weights == "distance",
    )

    def nearest(squared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, squared distances) of the k nearest training rows of each row."""
        if squared.dtype == np.float32:  # path interiors: ~2x faster, same up to exact ties
            # a non-negative float32 orders like its int32 bits; the lowest mantissa bit (1 ulp,
            # 6e-8 relative) carries the label, so one partition of values does the job
            keys = (np.maximum(squared, 0).view(np.int32) & ~1) | labels
            kept = np.partition(keys, k - 1, axis=1)[:, :k]
            return kept & 1, (kept & ~1).view(np.float32)
        index = np.argpartition(squared, k - 1, axis=1)[:, :k]
        return labels[index], np.take_along_axis(squared, index, axis=1)

    def respond(squared: np.ndarray) -> np.ndarray:
        votes, distance = nearest(squared)
        if not by_distance:
            return votes.mean(axis=1)
        with np.errstate(divide="ignore"):
            weight = 1.0 / np.sqrt(np.maximum(distance.astype(float), 0))
        exact = np.isinf(weight).any(axis=1)  # sklearn: a zero distance takes all the weight
        weight[exact] = np.isinf(weight[exact])
        return (weight * votes).sum(axis=1) / weight.sum(axis=1)

    return Leaf(transform, _per_block(knn._fit_X, lambda a, b: (a - b) ** 2), respond, "KNN")


def _leaf(estimator, transform: Transform, decision: bool) -> Leaf:
    """A leaf for the estimator's decision_function (decision=True) or P(class 1)."""
    leaf = None
    if isinstance(estimator, SVC) and estimator.kernel in ("rbf", "linear", "poly", "sigmoid"):
        if decision or estimator._probA.size:
            leaf = _svc_leaf(estimator, transform)
            if not decision:
                a, b = float(estimator._probA[0]), float(estimator._probB[0])
                leaf.post = lambda d: libsvm_binary_proba(d, a, b)
    elif isinstance(estimator, KNeighborsClassifier) and not decision:
        metric, p = estimator.metric, estimator.p
        if (metric == "euclidean" or (metric == "minkowski" and p == 2)) and (
            estimator.weights in ("uniform", "distance")
        ):
            leaf = _knn_leaf(estimator, transform)
    elif (
        type(estimator).__module__.startswith("sklearn.linear_model")
        and estimator.coef_.shape[0] == 1
    ):
        coef, intercept = estimator.coef_, float(estimator.intercept_[0])
        leaf = Leaf(
            transform, _per_block(coef, lambda a, b: a * b), lambda s: s[:, 0] + intercept,
            type(estimator).__name__, post=None if decision else expit, dtype=np.float64,
        )  # fmt: skip
    if leaf is None:  # any other estimator: the hybrid rows themselves
        method = estimator.decision_function if decision else estimator.predict_proba
        respond = (lambda r: method(r)) if decision else (lambda r: method(r)[:, 1])
        leaf = Leaf(transform, _placed, respond, f"{type(estimator).__name__} (rows)")
        leaf.dtype = np.float64
    return leaf


def _chain(first: Transform | None, second) -> Transform:
    return second.transform if first is None else (lambda frame: second.transform(first(frame)))


def decompose(estimator, transform: Transform | None = None, decision: bool = False):
    """(leaves, combine): P(class 1) (or the decision_function a calibrator sees) as a
    function of the leaves' outputs. Raises Unsupported for structures it does not know."""
    if isinstance(estimator, Pipeline):
        inner = _chain(transform, estimator[:-1]) if len(estimator) > 1 else transform
        return decompose(estimator[-1], inner, decision)
    if decision and not isinstance(estimator, VotingClassifier | CalibratedClassifierCV):
        if transform is None:
            raise Unsupported(f"{type(estimator).__name__} without a preprocessing step")
        return [_leaf(estimator, transform, decision=True)], lambda outputs: outputs[0]
    if isinstance(estimator, VotingClassifier) and estimator.voting == "soft" and not decision:
        weights = estimator._weights_not_none  # aligned with estimators_ (drops excluded)
        parts = [decompose(e, transform) for e in estimator.estimators_]
        return _mix(parts, lambda values: np.average(values, axis=0, weights=weights))
    if isinstance(estimator, CalibratedClassifierCV) and not decision:
        if estimator.method not in ("sigmoid", "isotonic"):
            raise Unsupported(f"calibration method {estimator.method!r}")
        parts, calibrators = [], []
        for calibrated in estimator.calibrated_classifiers_:
            inner = calibrated.estimator
            parts.append(decompose(inner, transform, decision=hasattr(inner, "decision_function")))
            calibrators.append(calibrated.calibrators[0])

        def calibrate(values: list[np.ndarray]) -> np.ndarray:
            out = [
                c.predict(v.ravel()).reshape(v.shape)
                for c, v in zip(calibrators, values, strict=True)
            ]
            return np.mean(out, axis=0)

        return _mix(parts, calibrate)
    if transform is None or isinstance(estimator, VotingClassifier | CalibratedClassifierCV):
        raise Unsupported(f"{type(estimator).__name__} here")
    return [_leaf(estimator, transform, decision=False)], lambda outputs: outputs[0]


def _mix(parts: list[tuple[list[Leaf], Combine]], merge: Callable[[list[np.ndarray]], np.ndarray]):
    """Concatenate sub-decompositions; merge receives each part's output."""
    leaves = [leaf for part, _ in parts for leaf in part]
    edges = np.cumsum([0, *(len(part) for part, _ in parts)])

    def combine(outputs: list[np.ndarray]) -> np.ndarray:
        return merge(
            [f(outputs[a:b]) for (_, f), a, b in zip(parts, edges[:-1], edges[1:], strict=True)]
        )

    return leaves, combine


def raw_leaf(model, everyone: pd.DataFrame) -> Leaf:
    """The whole model on hybrid raw rows (categories as codes): works for anything, slowest."""
    categories = {c: np.array(sorted(everyone[c].astype(str).unique())) for c in everyone.columns
                  if not pd.api.types.is_numeric_dtype(everyone[c])}  # fmt: skip

    def encode(frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([
            np.searchsorted(categories[c], frame[c].astype(str)) if c in categories else frame[c]
            for c in frame.columns
        ]).astype(float)  # fmt: skip

    def decode(rows: np.ndarray) -> pd.DataFrame:
        columns = {}
        for j, c in enumerate(everyone.columns):
            codes = rows[:, j]
            columns[c] = categories[c][codes.astype(int)] if c in categories else codes
        return pd.DataFrame(columns).astype(everyone.dtypes.to_dict())

    leaf = Leaf(encode, _placed, lambda r: model.predict_proba(decode(r))[:, 1], "model (raw rows)")
    leaf.dtype = np.float64
    return leaf


def _combine(stats: np.ndarray, product: bool, axis: int) -> np.ndarray:
    return np.cumprod(stats, axis=axis) if product else np.cumsum(stats, axis=axis)


class PathExplainer:
    """Sampled interventional SHAP of a model's P(class 1) on raw feature frames."""

    def __init__(
        self, model, background: pd.DataFrame, everyone: pd.DataFrame, n_paths: int, seed: int
    ) -> None:
        try:
            self.leaves, self.combine = decompose(model)
            for leaf in self.leaves:
                leaf.blocks = feature_blocks(leaf.transform, background)
            check = background.iloc[: min(len(background), 200)]
            if not np.allclose(self.output(check), model.predict_proba(check)[:, 1], atol=1e-9):
                raise Unsupported("decomposition does not reproduce predict_proba")
        except Unsupported:
            self.leaves, self.combine = [raw_leaf(model, everyone)], lambda outputs: outputs[0]
            self.leaves[0].blocks = feature_blocks(self.leaves[0].transform, background)
        self.kind = " + ".join(leaf.kind for leaf in self.leaves)
        # a feature no leaf sees is a null player: SHAP 0, and leaving it out of the paths
        # changes no other feature's value
        self.alive = [j for j in range(background.shape[1])
                      if any(leaf.blocks[j].size for leaf in self.leaves)]  # fmt: skip
        for leaf in self.leaves:
            leaf.blocks = [leaf.blocks[j] for j in self.alive]
        self.n_all, self.n_features = background.shape[1], len(self.alive)
        self.perms, rows = sample_paths(self.n_features, len(background), n_paths, seed)
        self.inverse = np.argsort(self.perms, axis=1)
        used, rows = np.unique(rows, return_inverse=True)  # encode only the rows paths use
        self.model = model
        self.f_background = model.predict_proba(background.iloc[used])[:, 1][rows]
        self.base = float(self.f_background.mean())
        self.rest = []  # per leaf: the background side of every interior hybrid
        for leaf in self.leaves:
            stats = leaf.encode(leaf.transform(background.iloc[used]), leaf.blocks)
            ordered = stats[rows[:, None], self.perms][:, ::-1]
            rest = _combine(ordered, leaf.product, axis=1)[:, ::-1][:, 1:]
            if leaf.product and leaf.readout is not None:
                rest = rest * leaf.readout
            self.rest.append(rest.astype(leaf.dtype))
        self.width = sum(r.shape[-1] for r in self.rest)  # statistics per hybrid row

    def _respond(self, leaf: Leaf, combined: np.ndarray) -> np.ndarray:
        response = np.asarray(leaf.respond(combined), dtype=float)
        return leaf.post(response) if leaf.post else response

    def output(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's P(class 1) recomputed through the leaves (float64), to check them."""
        stats = [leaf.encode(leaf.transform(frame), leaf.blocks) for leaf in self.leaves]
        return self.combine([
            self._respond(leaf, s.prod(axis=1) if leaf.product else s.sum(axis=1))
            for leaf, s in zip(self.leaves, stats, strict=True)
        ])  # fmt: skip

    def _interior(self, leaf: Leaf, stats: np.ndarray, rest: np.ndarray) -> np.ndarray:
        """The leaf's output at every interior hybrid: (paths, rows, features - 1)."""
        by_feature = stats.astype(leaf.dtype).transpose(1, 0, 2)  # (features, rows, D)
        out = np.empty((len(self.perms), len(stats), self.n_features - 1))
        swapped = by_feature[self.perms[:, 0]]  # running combination of swapped-in features
        for t in range(self.n_features - 1):
            if t:
                step = by_feature[self.perms[:, t]]
                swapped = swapped * step if leaf.product else swapped + step
            if leaf.product and leaf.readout is not None:
                value = np.matmul(swapped, rest[:, t, :, None])[..., 0] + leaf.intercept
            else:
                hybrid = swapped * rest[:, t, None] if leaf.product else swapped + rest[:, t, None]
                value = leaf.respond(hybrid.reshape(-1, hybrid.shape[-1]))
            out[:, :, t] = np.asarray(value, dtype=float).reshape(out.shape[:2])
        return leaf.post(out.ravel()).reshape(out.shape) if leaf.post else out

    def explain(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(SHAP values per feature, model output) for a batch of customers."""
        stats = [leaf.encode(leaf.transform(frame), leaf.blocks) for leaf in self.leaves]
        parts = zip(self.leaves, stats, self.rest, strict=True)
        n, n_paths = len(frame), len(self.perms)
        interior = np.empty((n, n_paths, 0))
        if self.n_features > 1:
            interior = self.combine([self._interior(*part) for part in parts]).transpose(1, 0, 2)
        # endpoints from the model itself: exact sums even where a KNN tie breaks differently
        output = self.model.predict_proba(frame)[:, 1]
        ends = (
            np.broadcast_to(self.f_background, (n, n_paths))[..., None],
            interior,
            np.broadcast_to(output[:, None, None], (n, n_paths, 1)),
        )
        marginal = np.diff(np.concatenate(ends, axis=2), axis=2)
        inverse = np.broadcast_to(self.inverse, marginal.shape)
        values = np.zeros((n, self.n_all))
        values[:, self.alive] = np.take_along_axis(marginal, inverse, axis=2).mean(axis=1)
        return values, output


TREE_MODELS = (
    "DecisionTreeClassifier", "ExtraTreeClassifier", "RandomForestClassifier",
    "ExtraTreesClassifier", "GradientBoostingClassifier", "HistGradientBoostingClassifier",
)  # fmt: skip


def describe(estimator) -> str:
    """E.g. 'Pipeline(ColumnTransformer, SelectKBest, CalibratedClassifierCV[sigmoid](SVC))'."""
    if isinstance(estimator, Pipeline):
        return f"Pipeline({', '.join(describe(step) for _, step in estimator.steps)})"
    if isinstance(estimator, CalibratedClassifierCV):
        return f"CalibratedClassifierCV[{estimator.method}]({describe(estimator.estimator)})"
    if isinstance(estimator, VotingClassifier):
        return f"VotingClassifier({', '.join(describe(e) for _, e in estimator.estimators)})"
    return type(estimator).__name__


def choose_explainer(model) -> str:
    """'linear' / 'tree' (shap's exact explainers on Pipeline(transforms..., estimator)) or
    'sampled' (PathExplainer) for everything else."""
    if not isinstance(model, Pipeline) or len(model) < 2:
        return "sampled"
    last = model[-1]
    if type(last).__module__.startswith("sklearn.linear_model"):
        return "linear"
    return "tree" if type(last).__name__ in TREE_MODELS else "sampled"


def fold(values: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """SHAP values of transformed columns -> per original feature (a one-hot block adds up)."""
    return np.stack([values[:, block].sum(axis=1) for block in blocks], axis=1)


def output_space(total: np.ndarray, probability: np.ndarray) -> tuple[str, np.ndarray]:
    """Which model output base + sum(SHAP) reproduces: P(declined) or its log-odds."""
    with np.errstate(divide="ignore"):
        log_odds = np.log(probability) - np.log1p(-probability)
    spaces = {"probability": probability, "log_odds": log_odds}
    name = min(spaces, key=lambda s: np.nan_to_num(np.abs(total - spaces[s]), nan=np.inf).max())
    return name, spaces[name]
