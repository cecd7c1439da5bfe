"""How one fitted estimator answers on hybrid rows, through per-feature statistics (a Leaf).

The path explainer (oneclick/explain/path_explainer.py) builds every hybrid on a path from these
statistics: kernel factors that multiply (RBF SVC), squared distances that add (KNN), w_j x_j
(linear models). An estimator without such statistics gets the hybrid rows themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
