"""How one fitted estimator answers on hybrid rows, through per-feature statistics (a Leaf).

The path explainer (oneclick/explain/path_explainer.py) builds every hybrid on a path from these
statistics: kernel factors that multiply (RBF SVC), squared distances that add (KNN), w_j x_j
(linear models). An estimator without such statistics gets the hybrid rows themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

if TYPE_CHECKING:  # decomposition imports this module
    from oneclick.explain.decomposition import Chain

Transform = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class Leaf:
    """A transform plus an estimator's response, seen through per-feature statistics.

    encode(rows, blocks) -> (rows, features, D); statistics combine over features by product or
    sum; respond(combined) -> response; post maps it on (e.g. expit). If response = combined @
    readout + intercept and statistics multiply, path interiors skip building the hybrids.
    """

    transform: Chain
    encode: Callable[[np.ndarray, list[np.ndarray]], np.ndarray]
    respond: Callable[[np.ndarray], np.ndarray]
    kind: str
    product: bool = False
    post: Callable[[np.ndarray], np.ndarray] | None = None
    readout: np.ndarray | None = None
    intercept: float = 0.0
    dtype: type = np.float32  # of path interiors; endpoints are always float64
    blocks: list[np.ndarray] = field(default_factory=list)  # set by the explainer
    # fused path interiors: paths(stats (rows, features, D), perms, rest) -> (paths, rows,
    # features - 1) responses, the same as building every hybrid and calling respond
    paths: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None


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


def _svc_leaf(svc: SVC, transform: Chain) -> Leaf:
    """An RBF SVC's decision value (the stack reads it) from kernel factors that multiply."""
    alpha, intercept, gamma = svc.dual_coef_[0], float(svc.intercept_[0]), float(svc._gamma)
    distance = _per_block(svc.support_vectors_, lambda a, b: (a - b) ** 2)
    return Leaf(
        transform,
        lambda rows, blocks: np.exp(-gamma * distance(rows, blocks)),
        lambda k: k @ alpha.astype(k.dtype) + intercept,
        "SVC (rbf)",
        product=True,
        readout=alpha,
        intercept=intercept,
    )


@numba.njit(cache=True, nogil=True)
def _kth_smallest(values: np.ndarray, n: int, k: int) -> int:
    """The k-th smallest of values[:n], which it reorders (quickselect, middle pivot)."""
    lo, hi, target = 0, n - 1, k - 1
    while lo < hi:
        pivot = values[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            return values[target]
    return values[target]


@numba.njit(cache=True, nogil=True)
def _knn_paths(
    stats: np.ndarray,
    perms: np.ndarray,
    rest: np.ndarray,
    labels: np.ndarray,
    k: int,
    by_distance: bool,
) -> np.ndarray:
    """KNN response at every interior hybrid of every path, one (path, row) at a time: the
    running sum of swapped-in squared distances stays in cache (paths outer, so a path's
    background side is read once per batch), and no hybrid is ever written to memory.

    A training row is keyed by its squared distance (a non-negative float32 orders like its
    int32 bits; the lowest mantissa bit, 6e-8 relative, carries the label); the response needs
    the multiset of the k smallest keys. Consecutive hybrids differ in one feature, so the
    previous hybrid's k nearest (for a path's first hybrid: the background side's), at their
    new distances, bound the new k-th key: only the rows under that bound (about a tenth) are
    candidates, and a quickselect finds the k-th key among them."""
    n_rows, n_features, n_train = stats.shape
    n_paths = perms.shape[0]
    out = np.empty((n_paths, n_rows, n_features - 1))
    swapped = np.empty(n_train, np.float32)
    hybrid = np.empty(n_train, np.float32)
    bits = hybrid.view(np.int32)
    candidates = np.empty(n_train, np.int64)
    pool = np.empty(n_train, np.int32)  # the candidates' keys, reordered by the quickselect
    held = np.empty(k, np.int64)  # k rows at the k-th key or under: the next hybrid's bound
    kept = np.empty(1, np.int32)
    kept_distance = kept.view(np.float32)
    start = np.empty(k, np.int64)  # k rows nearest the path's background side at its start
    for p in range(n_paths):
        for i in range(n_train):
            hybrid[i] = rest[p, 0, i]
            pool[i] = bits[i]
        kth = _kth_smallest(pool, n_train, k)
        size = 0
        for i in range(n_train):
            if bits[i] <= kth and size < k:
                start[size] = i
                size += 1
        for r in range(n_rows):
            held[:] = start  # a path's first hybrid: the background row with one feature swapped
            for t in range(n_features - 1):
                step, background = stats[r, perms[p, t]], rest[p, t]
                for i in range(n_train):
                    swapped[i] = step[i] if t == 0 else swapped[i] + step[i]
                    hybrid[i] = swapped[i] + background[i]  # sums of squares: >= 0
                bound = 1  # no key over the held rows' largest is among the k smallest
                for j in range(k):
                    bound = max(bound, bits[held[j]] | 1)
                n_candidates = 0
                for i in range(n_train):
                    if bits[i] <= bound:  # rare: a predicted branch beats a branchless store
                        candidates[n_candidates] = i
                        n_candidates += 1
                for c in range(n_candidates):
                    pool[c] = (bits[candidates[c]] & ~1) | labels[candidates[c]]
                kth = _kth_smallest(pool, n_candidates, k)
                # the k smallest keys: every key under the k-th, then the k-th as often as needed
                votes, weights, exact, exact_votes, below, size = 0.0, 0.0, 0, 0, 0, 0
                for c in range(n_candidates + 1):
                    if c < n_candidates:
                        i = candidates[c]
                        key = (bits[i] & ~1) | labels[i]
                        if key <= kth and size < k:
                            held[size] = i
                            size += 1
                        if key >= kth:
                            continue
                        below += 1
                        times = 1
                    else:
                        key, times = kth, k - below
                    vote = key & 1
                    kept[0] = key & ~1
                    distance = np.float64(kept_distance[0])
                    if not by_distance:
                        votes += times * vote
                    elif distance <= 0:
                        exact += times
                        exact_votes += times * vote
                    else:
                        weight = times / np.sqrt(distance)
                        weights += weight
                        votes += weight * vote
                if not by_distance:
                    out[p, r, t] = votes / k
                elif exact:  # sklearn: a zero distance takes all the weight
                    out[p, r, t] = exact_votes / exact
                else:
                    out[p, r, t] = votes / weights
    return out


def _knn_leaf(knn: KNeighborsClassifier, transform: Chain) -> Leaf:
    k, labels, by_distance = (
        knn.n_neighbors,
        (knn._y == 1).astype(np.int32),
        knn.weights == "distance",
    )

    def nearest(squared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, squared distances) of the k nearest training rows of each row."""
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

    def paths(stats: np.ndarray, perms: np.ndarray, rest: np.ndarray) -> np.ndarray:
        return _knn_paths(stats.astype(np.float32), perms, rest, labels, k, by_distance)

    distance = _per_block(knn._fit_X, lambda a, b: (a - b) ** 2)
    return Leaf(transform, distance, respond, "KNN", paths=paths)


def estimator_leaf(estimator: Any, transform: Chain, decision: bool) -> Leaf:
    """A leaf for the estimator's decision_function (decision=True) or P(class 1)."""
    leaf = None
    if isinstance(estimator, SVC) and estimator.kernel == "rbf" and decision:
        leaf = _svc_leaf(estimator, transform)
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
            transform,
            _per_block(coef, lambda a, b: a * b),
            lambda s: s[:, 0] + intercept,
            type(estimator).__name__,
            post=None if decision else expit,
            dtype=np.float64,
        )
    if leaf is None:  # any other estimator: the hybrid rows themselves
        method = estimator.decision_function if decision else estimator.predict_proba
        respond = (lambda r: method(r)) if decision else (lambda r: method(r)[:, 1])
        leaf = Leaf(transform, _placed, respond, f"{type(estimator).__name__} (rows)")
        leaf.dtype = np.float64
    return leaf
