"""Pareto fronts and hypervolume of many points, through moocore (fastest maintained library measured).

Objectives are turned to minimisation form (maximised ones negated) before any call. Duplicates of a
non-dominated point are all kept (``keep_weakly``), matching ``optuna``'s ``best_trials``.
"""

from __future__ import annotations

from collections.abc import Sequence

import moocore
import numpy as np

HV_REFERENCE = 1.1  # reference point of the normalised hypervolume, per objective


def minimization_form(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """(n, m) objective values → minimisation form (maximised columns negated)."""
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return np.asarray(values, dtype=float).reshape(-1, len(sign)) * sign


def nondominated(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (NaN rows excluded)."""
    f = minimization_form(values, directions)
    mask = np.zeros(len(f), dtype=bool)
    finite = ~np.any(np.isnan(f), axis=1)
    if finite.any():
        mask[finite] = moocore.is_nondominated(f[finite], keep_weakly=True)
    return mask


def hypervolume(front: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume dominated by ``front`` (minimisation form) up to ``reference``; points beyond it count 0."""
    front = np.asarray(front, dtype=float)
    if front.size == 0:
        return 0.0
    inside = np.all(front < reference, axis=1)
    if not inside.any():
        return 0.0
    return float(moocore.hypervolume(front[inside], ref=reference))


def normalized_hypervolume(
    values: np.ndarray,
    directions: Sequence[str],
    ideal: np.ndarray | None = None,
    nadir: np.ndarray | None = None,
) -> float:
    """Hypervolume in objectives scaled to [0, 1] between ``ideal`` and ``nadir`` (default: of ``values``),
    reference point 1.1 per objective; comparable between runs when they share ideal and nadir."""
    f = minimization_form(values, directions)
    f = f[np.all(np.isfinite(f), axis=1)]
    if len(f) == 0:
        return 0.0
    lo = f.min(axis=0) if ideal is None else np.asarray(ideal, dtype=float)
    hi = f.max(axis=0) if nadir is None else np.asarray(nadir, dtype=float)
    span = np.where(hi > lo, hi - lo, 1.0)
    scaled = (f - lo) / span
    return hypervolume(scaled[moocore.is_nondominated(scaled)], np.full(f.shape[1], HV_REFERENCE))


def bounds(values: np.ndarray, directions: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Ideal and nadir (minimisation form) of finite rows, to share one normalisation across runs."""
    f = minimization_form(values, directions)
    f = f[np.all(np.isfinite(f), axis=1)]
    return f.min(axis=0), f.max(axis=0)
