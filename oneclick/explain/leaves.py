"""How one fitted estimator answers on hybrid rows, through per-feature statistics (a Leaf).

The path explainer (oneclick/explain/path_explainer.py) builds every hybrid on a path from these
statistics: kernel factors that multiply (RBF SVC), squared distances that add (KNN), w_j x_j
(linear models). An estimator without such statistics gets the hybrid rows themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

Transform = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class Leaf:
    """A transform plus an estimator's response, seen through per-feature statistics.

    encode(rows, blocks) -> (rows, features, D); statistics combine over features by product or
    sum; respond(combined) -> response; post maps it on (e.g. expit). If response = combined @
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


def _svc_leaf(svc: SVC, transform: Transform) -> Leaf:
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
def _knn_paths(
    stats: np.ndarray,
    perms: np.ndarray,
    rest: np.ndarray,
    labels: np.ndarray,
    k: int,
    by_distance: bool,
) -> np.ndarray:
    """KNN response at every interior hybrid of every path, one (row, path) at a time: the
    running sum of swapped-in squared distances stays in cache, and the k nearest are kept in a
    max-heap of keys (a non-negative float32 orders like its int32 bits; the lowest mantissa bit,
    6e-8 relative, carries the label), so no hybrid is ever written to memory."""
    n_rows, n_features, n_train = stats.shape
    n_paths = perms.shape[0]
    out = np.empty((n_paths, n_rows, n_features - 1))
    swapped = np.empty(n_train, np.float32)
    hybrid = np.empty(n_train, np.float32)
    bits = hybrid.view(np.int32)
    kept = np.empty(1, np.int32)
    kept_distance = kept.view(np.float32)
    heap = np.empty(k, np.int32)
    for r in range(n_rows):
        for p in range(n_paths):
            for t in range(n_features - 1):
                step = stats[r, perms[p, t]]
                for i in range(n_train):
                    swapped[i] = step[i] if t == 0 else swapped[i] + step[i]
                    hybrid[i] = max(swapped[i] + rest[p, t, i], np.float32(0))
                size = 0
                for i in range(n_train):
                    key = (bits[i] & ~1) | labels[i]
                    if size < k:  # sift up
                        j = size
                        size += 1
                        while j > 0 and heap[(j - 1) // 2] < key:
                            heap[j] = heap[(j - 1) // 2]
                            j = (j - 1) // 2
                        heap[j] = key
                    elif key < heap[0]:  # replace the farthest kept, sift down
                        j = 0
                        while True:
                            child = 2 * j + 1
                            if child >= k:
                                break
                            if child + 1 < k and heap[child + 1] > heap[child]:
                                child += 1
                            if heap[child] <= key:
                                break
                            heap[j] = heap[child]
                            j = child
                        heap[j] = key
                votes, weights, exact, exact_votes = 0.0, 0.0, 0, 0
                for j in range(k):
                    vote = heap[j] & 1
                    if not by_distance:
                        votes += vote
                        continue
                    kept[0] = heap[j] & ~1
                    distance = np.float64(kept_distance[0])
                    if distance <= 0:
                        exact += 1
                        exact_votes += vote
                    else:
                        weight = 1.0 / np.sqrt(distance)
                        weights += weight
                        votes += weight * vote
                if not by_distance:
                    out[p, r, t] = votes / k
                elif exact:  # sklearn: a zero distance takes all the weight
                    out[p, r, t] = exact_votes / exact
                else:
                    out[p, r, t] = votes / weights
    return out


def _knn_leaf(knn: KNeighborsClassifier, transform: Transform) -> Leaf:
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


def estimator_leaf(estimator: Any, transform: Transform, decision: bool) -> Leaf:
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
