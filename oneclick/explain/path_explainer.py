"""Fast sampled SHAP for models without an exact explainer (the stack of SVC, KNN, logistic).

Interventional SHAP of P(declined) by antithetic permutation sampling: each path starts from a
background customer and swaps in the explained customer's values one feature at a time. Speed
comes from the model's structure, not from fewer samples:

* the model is decomposed (Pipeline, StackingClassifier) into leaves: a fitted column-wise
  transform plus a final estimator; leaves recombine by the stack's own arithmetic (its logistic
  meta model);
* a leaf sees a row through per-feature statistics that combine simply: an RBF SVC through kernel
  factors exp(-gamma d_j) that multiply, KNN through squared distances that add, a linear model
  through w_j x_j. They are computed once per customer; every hybrid on a path is then a running
  product or sum, and the head (kernel sum, meta model) runs on all paths at once. Other
  estimators get the hybrid rows themselves (slower, still batched); a model that cannot be
  decomposed is refused (Unsupported names what).

Along a path the contributions telescope from f(background) to f(customer) (both from the model
itself), so base + sum(SHAP) equals the model output exactly, whatever the number of paths. The
decomposition is checked against the model's predict_proba before use.
"""

from __future__ import annotations

import threading
from typing import Any

import numba
import numpy as np
import pandas as pd

from oneclick.explain.decomposition import (
    Chain,
    Unsupported,
    decompose,
    feature_blocks,
    probe_rows,
)
from oneclick.explain.leaves import Leaf


def sample_paths(
    n_features: int, n_rows: int, n_paths: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Antithetic permutation pairs, each with a background row (systematic, then shuffled)."""
    rng = np.random.default_rng(seed)
    half = max(n_paths // 2, 1)
    firsts = [rng.permutation(n_features) for _ in range(half)]
    perms = np.array([p for first in firsts for p in (first, first[::-1])])
    rows = ((np.arange(half) + rng.random()) * n_rows / half).astype(int)
    return perms, np.repeat(rng.permutation(rows), 2)


# scikit-learn is called from one thread at a time: its Parallel (inside every ColumnTransformer
# call) resets the process's warning filters, so concurrent calls race on them (a spurious
# "delayed should be used with Parallel" warning, repeated); the kernels run unlocked
_SKLEARN = threading.Lock()
_BLOCKS: dict[tuple, list[np.ndarray]] = {}  # feature blocks by encoding layout, per process


def _blocks(transform: Chain, background: pd.DataFrame) -> list[np.ndarray]:
    """feature_blocks, found once per encoding layout: the protocol's fold models (and a stack's
    members) share one, and finding it runs the transform twenty times. A fitted step's layout
    is its repr (its params) plus the names of its output columns; a selector after the
    encoding (it differs per fold) restricts the encoding's blocks to the columns it keeps; any
    other chain is probed every time."""
    steps = transform.steps
    if len(steps) > 1 and hasattr(steps[-1], "get_support"):
        kept = steps[-1].get_support()
        position = np.cumsum(kept) - 1
        return [position[b[kept[b]]] for b in _blocks(Chain(steps[:-1]), background)]
    try:
        (step,) = steps
        names = tuple(step.get_feature_names_out(list(background.columns)))
    except (AttributeError, ValueError, TypeError):
        return feature_blocks(transform, probe_rows(background))
    key = (tuple(background.columns), repr(step), names)
    if key not in _BLOCKS:
        _BLOCKS[key] = feature_blocks(transform, probe_rows(background))
    return _BLOCKS[key]


def _combine(stats: np.ndarray, product: bool, axis: int) -> np.ndarray:
    return np.cumprod(stats, axis=axis) if product else np.cumsum(stats, axis=axis)


@numba.njit(cache=True, nogil=True)
def _readout_paths(stats: np.ndarray, perms: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """sum_d prod(swapped factors)_d * rest_d at every interior hybrid (an RBF SVC's decision
    value less its intercept), one (row, path) at a time: the running product stays in cache."""
    n_rows, n_features, width = stats.shape
    n_paths = perms.shape[0]
    out = np.empty((n_paths, n_rows, n_features - 1))
    swapped = np.empty(width, stats.dtype)
    for r in range(n_rows):
        for p in range(n_paths):
            for t in range(n_features - 1):
                step = stats[r, perms[p, t]]
                total = 0.0
                for d in range(width):
                    swapped[d] = step[d] if t == 0 else swapped[d] * step[d]
                    total += swapped[d] * rest[p, t, d]
                out[p, r, t] = total
    return out


class PathExplainer:
    """Sampled interventional SHAP of a model's P(class 1) on raw feature frames."""

    def __init__(self, model: Any, background: pd.DataFrame, n_paths: int, seed: int) -> None:
        self.leaves, self.combine = decompose(model)
        for leaf in self.leaves:
            leaf.blocks = _blocks(leaf.transform, background)
        check = probe_rows(background)
        if not np.allclose(self.output(check), model.predict_proba(check)[:, 1], atol=1e-9):
            raise Unsupported("decomposition does not reproduce predict_proba")
        self.kind = " + ".join(leaf.kind for leaf in self.leaves)
        # a feature no leaf sees is a null player: SHAP 0, and leaving it out of the paths
        # changes no other feature's value
        self.alive = [
            j
            for j in range(background.shape[1])
            if any(leaf.blocks[j].size for leaf in self.leaves)
        ]
        for leaf in self.leaves:
            leaf.blocks = [leaf.blocks[j] for j in self.alive]
        self.n_all, self.n_features = background.shape[1], len(self.alive)
        self.perms, rows = sample_paths(self.n_features, len(background), n_paths, seed)
        self.inverse = np.argsort(self.perms, axis=1)
        used, rows = np.unique(rows, return_inverse=True)  # encode only the rows paths use
        self.model = model
        self.f_background = model.predict_proba(background.iloc[used])[:, 1][rows]
        self.base = float(self.f_background.mean())
        self.rows = rows  # each path's background row, among the used ones
        self.background_stats = self._stats(background.iloc[used])
        self.width = sum(s.shape[-1] for s in self.background_stats)  # statistics per hybrid
        self._rests: dict[tuple, list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """What a Dask worker is sent: no lock, no cached path interiors (it rebuilds its own)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_rests")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _rests={}, _lock=threading.Lock())

    def rest(self, start: int = 0, stop: int | None = None) -> list[np.ndarray]:
        """Per leaf, the background side of every interior hybrid of paths start..stop, made
        when first asked for (close calls alone reach the last paths) and kept."""
        with self._lock:
            if (start, stop) not in self._rests:
                rows, perms = self.rows[start:stop], self.perms[start:stop]
                rests: list[np.ndarray] = []
                for leaf, stats in zip(self.leaves, self.background_stats, strict=True):
                    ordered = stats[rows[:, None], perms][:, ::-1]
                    rest = _combine(ordered, leaf.product, axis=1)[:, ::-1][:, 1:]
                    if leaf.product and leaf.readout is not None:
                        rest = rest * leaf.readout
                    rests.append(rest.astype(leaf.dtype))
                self._rests[start, stop] = rests
            return self._rests[start, stop]

    def _stats(self, frame: pd.DataFrame) -> list[np.ndarray]:
        """Each leaf's statistics of the frame's rows; a step prefix leaves share (the stack's
        encoding) runs once."""
        done: dict[tuple, Any] = {}
        stats = []
        for leaf in self.leaves:
            rows, steps = frame, leaf.transform.steps
            for i, step in enumerate(steps):
                if steps[: i + 1] not in done:
                    done[steps[: i + 1]] = step.transform(rows)
                rows = done[steps[: i + 1]]
            stats.append(leaf.encode(rows, leaf.blocks))
        return stats

    def _respond(self, leaf: Leaf, combined: np.ndarray) -> np.ndarray:
        response = np.asarray(leaf.respond(combined), dtype=float)
        return leaf.post(response) if leaf.post else response

    def output(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's P(class 1) recomputed through the leaves (float64), to check them."""
        stats = self._stats(frame)
        return self.combine(
            [
                self._respond(leaf, s.prod(axis=1) if leaf.product else s.sum(axis=1))
                for leaf, s in zip(self.leaves, stats, strict=True)
            ]
        )

    def _interior(
        self, leaf: Leaf, stats: np.ndarray, rest: np.ndarray, perms: np.ndarray
    ) -> np.ndarray:
        """The leaf's output at every interior hybrid: (paths, rows, features - 1)."""
        if leaf.paths is not None:
            out = leaf.paths(stats, perms, rest)
        elif leaf.product and leaf.readout is not None:
            out = _readout_paths(stats.astype(leaf.dtype), perms, rest) + leaf.intercept
        else:
            # (features, rows, D)
            by_feature: np.ndarray = stats.astype(leaf.dtype).transpose(1, 0, 2)
            out = np.empty((len(perms), len(stats), self.n_features - 1))
            swapped = by_feature[perms[:, 0]]  # running combination of swapped-in features
            for t in range(self.n_features - 1):
                if t:
                    step = by_feature[perms[:, t]]
                    swapped = swapped * step if leaf.product else swapped + step
                hybrid = swapped * rest[:, t, None] if leaf.product else swapped + rest[:, t, None]
                with _SKLEARN:  # a leaf answering through the estimator itself
                    value = leaf.respond(hybrid.reshape(-1, hybrid.shape[-1]))
                out[:, :, t] = np.asarray(value, dtype=float).reshape(out.shape[:2])
        return leaf.post(out.ravel()).reshape(out.shape) if leaf.post else out

    def base_value(self, n_paths: int | None = None) -> float:
        """Mean model output at the background rows of the first n_paths paths (all: None)."""
        return float(self.f_background[:n_paths].mean())

    def pair_means(
        self, frame: pd.DataFrame, start: int = 0, stop: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(SHAP values per feature of each antithetic pair of paths start..stop, the pair's
        mean: (rows, pairs, features); model output) for a batch of customers. Their mean over
        the first n_paths paths plus base_value(n_paths) is the output."""
        perms, rest = self.perms[start:stop], self.rest(start, stop)
        with _SKLEARN:
            stats = self._stats(frame)
            # endpoints from the model itself: exact sums even where a KNN tie breaks differently
            output = self.model.predict_proba(frame)[:, 1]
        n, n_paths = len(frame), len(perms)
        interior = np.empty((n, n_paths, 0))
        if self.n_features > 1:
            parts = zip(self.leaves, stats, rest, strict=True)
            outputs = [self._interior(leaf, s, r, perms) for leaf, s, r in parts]
            interior = self.combine(outputs).transpose(1, 0, 2)
        ends = (
            np.broadcast_to(self.f_background[start:stop], (n, n_paths))[..., None],
            interior,
            np.broadcast_to(output[:, None, None], (n, n_paths, 1)),
        )
        marginal = np.diff(np.concatenate(ends, axis=2), axis=2)
        inverse = np.broadcast_to(self.inverse[start:stop], marginal.shape)
        ordered = np.take_along_axis(marginal, inverse, axis=2)
        pairs = np.zeros((n, n_paths // 2, self.n_all))
        pairs[..., self.alive] = ordered.reshape(n, n_paths // 2, 2, -1).mean(axis=2)
        return pairs, output

    def explain(
        self, frame: pd.DataFrame, n_paths: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(SHAP values per feature, model output) for a batch of customers, on the first
        n_paths paths (all: None); base_value(n_paths) + their sum is the output."""
        pairs, output = self.pair_means(frame, 0, n_paths)
        return pairs.mean(axis=1), output
