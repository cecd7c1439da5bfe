"""A fitted model as leaves (a column-wise transform plus an estimator) and their recombination.

Pipeline and StackingClassifier (logistic meta model), the structures the procedure builds, are
taken apart into leaves that recombine by the meta model's logistic link; feature_blocks tells
which transformed columns each raw feature moves, so a leaf can be fed hybrid rows per feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from oneclick.explain.leaves import Leaf, Transform, estimator_leaf

Combine = Callable[[list[np.ndarray]], np.ndarray]


class Unsupported(Exception):
    """The structure cannot be decomposed (the message names what)."""


def probe_rows(frame: pd.DataFrame, n: int = 100) -> pd.DataFrame:
    """A few rows that show the transform's structure as the whole frame would: the first n,
    plus the first row of every value of each text column (a one-hot column no probe row
    sets would look constant). Structure detection then costs a fraction of the full frame."""
    picks = set(range(min(n, len(frame))))
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            values = frame[name].reset_index(drop=True)
            picks.update(values.drop_duplicates().index.tolist())
    return frame.iloc[sorted(picks)]


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


@dataclass(frozen=True)
class Chain:
    """Fitted transforms applied in turn (the steps of the Pipelines above an estimator): a
    Transform whose steps the path explainer reads, so a shared encoding is found and applied
    once rather than probed and rerun for every leaf."""

    steps: tuple

    def __call__(self, frame: Any) -> Any:
        for step in self.steps:
            frame = step.transform(frame)
        return frame


def _chain(first: Chain | None, second: Pipeline) -> Chain:
    return Chain((*(first.steps if first else ()), *(step for _, step in second.steps)))


def decompose(
    estimator: Any, transform: Chain | None = None, decision: bool = False
) -> tuple[list[Leaf], Combine]:
    """(leaves, combine): P(class 1) (or the decision_function the stack reads) as a function
    of the leaves' outputs: a Pipeline ending in an estimator, or a binary StackingClassifier of
    such pipelines. Raises Unsupported for anything else."""
    if isinstance(estimator, Pipeline):
        inner = _chain(transform, estimator[:-1]) if len(estimator) > 1 else transform
        return decompose(estimator[-1], inner, decision)
    if isinstance(estimator, StackingClassifier) and not decision:
        return _stacking(estimator, transform)
    if transform is None or isinstance(estimator, StackingClassifier):
        raise Unsupported(
            f"cannot explain {type(estimator).__name__} here: the path explainer takes a Pipeline"
            " (preprocessing, estimator) or a StackingClassifier of such pipelines"
        )
    return [estimator_leaf(estimator, transform, decision)], lambda outputs: outputs[0]


def _mix(
    parts: list[tuple[list[Leaf], Combine]], merge: Callable[[list[np.ndarray]], np.ndarray]
) -> tuple[list[Leaf], Combine]:
    """Concatenate sub-decompositions; merge receives each part's output."""
    leaves = [leaf for part, _ in parts for leaf in part]
    edges = np.cumsum([0, *(len(part) for part, _ in parts)])

    def combine(outputs: list[np.ndarray]) -> np.ndarray:
        return merge(
            [f(outputs[a:b]) for (_, f), a, b in zip(parts, edges[:-1], edges[1:], strict=True)]
        )

    return leaves, combine


def _stacking(estimator: StackingClassifier, transform: Chain | None) -> tuple[list, Combine]:
    """A binary stack whose meta model is a logistic regression on the members' outputs: P =
    expit(w . outputs + b), each output a member's P(class 1) or decision value."""
    meta = estimator.final_estimator_
    if not isinstance(meta, LogisticRegression) or estimator.passthrough:
        raise Unsupported("a stack without a plain logistic meta model")
    if meta.coef_.shape[0] != 1:
        raise Unsupported("a stack of more than two classes")
    methods = estimator.stack_method_
    if any(m not in ("predict_proba", "decision_function") for m in methods):
        raise Unsupported(f"stack methods {methods}")
    parts = [
        decompose(member, transform, decision=method == "decision_function")
        for member, method in zip(estimator.estimators_, methods, strict=True)
    ]
    weights, intercept = meta.coef_.ravel(), float(meta.intercept_[0])

    def link(values: list[np.ndarray]) -> np.ndarray:
        return expit(sum(w * v for w, v in zip(weights, values, strict=True)) + intercept)

    return _mix(parts, link)
