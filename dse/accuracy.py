"""Estimated top-1 accuracy drop (percentage points) of each sparsity method, fitted to published points.

Every number this module returns is an **estimate**. The only inputs are the published operating
points in ``dse/data/accuracy_points.csv`` (method, model, knobs, drop, bound, dataset, source); no
constant here is hand-tuned.

Model, per method: each design point's knobs are reduced to one *effective knob* x ∈ [0, 1] (the
share of the method's target work removed), and the estimated drop is linear through the origin,
``drop = a · x``. Each method has published drops at a single x (or a narrow range), which cannot
pin down any curvature, so a line through (0, 0) is the only monotone fit the data support. The slope:

* ``point`` rows (a measured drop): least squares through the origin, ``a = Σ x·y / Σ x²``;
* ``upper`` rows (a "< y" claim): ``a = min y / x``, the steepest line under every bound;
* both: the smaller of the two, so the fit never exceeds a published bound.
``unquantified`` rows (e.g. "similar accuracy") are kept in the file for provenance and not fitted.

Effective knobs (all knobs are pruned/skipped fractions in [0, 1]; zero knobs → zero drop):

* ``windowed``: ``attn_sparsity`` (pruned share of each windowed attention map) ×
  ``windowed_blocks`` / ``total_blocks`` — the pruned share of all attention maps.
* ``rtsa``: ``computation_reduction`` (ideal MACs saved, 1 − 1/saving), given directly or as
  ``(1 − attn_share) · linear_sparsity + attn_share · attn_sparsity``.
* ``vitcod``: ``attn_sparsity``.
* ``heatvit``: ``token_pruned`` (pruned share of tokens, averaged over blocks).

Beyond the largest published x the line is extrapolated and increasingly unreliable (see ``fits()``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from dse.errors import InputError, choice_error

METHODS = ("rtsa", "windowed", "vitcod", "heatvit")
KNOBS: dict[str, tuple[str, ...]] = {
    "windowed": ("attn_sparsity", "windowed_blocks", "total_blocks"),
    "rtsa": ("computation_reduction", "linear_sparsity", "attn_sparsity", "attn_share"),
    "vitcod": ("attn_sparsity",),
    "heatvit": ("token_pruned",),
}
WINDOWED_BLOCKS = 6  # poster: windowed attention in blocks 0-5 of DeiT-Tiny (facts.md §2)
TOTAL_BLOCKS = 12  # DeiT-Tiny depth (facts.md §2, §5)
ATTN_SHARE = 0.25  # VideoMAE-B attention share of MACs before sparsity, 25% [D] (facts.md §5)
DATA_FILE = "accuracy_points.csv"


def accuracy_points() -> pd.DataFrame:
    """The published points (read via importlib.resources, so it works from an installed wheel)."""
    text = resources.files("dse").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text))


def parse_knobs(text: str) -> dict[str, float]:
    """``"a=0.5;b=6"`` → ``{"a": 0.5, "b": 6.0}``."""
    return {k.strip(): float(v) for k, v in (item.split("=") for item in text.split(";") if item.strip())}


def _fraction(name: str, value: object) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise InputError(name, "must lie in [0, 1]")
    return arr


def effective_knob(method: str, **knobs: object) -> np.ndarray:
    """The method's effective knob x ∈ [0, 1] (see module docstring), broadcast over array knobs."""
    if method not in METHODS:
        raise choice_error("method", method, METHODS)
    unknown = sorted(set(knobs) - set(KNOBS[method]))
    if unknown:
        raise InputError(unknown[0], f"not a knob of {method}; allowed: {', '.join(KNOBS[method])}")
    if method == "windowed":
        s = _fraction("attn_sparsity", knobs.get("attn_sparsity", 0.0))
        total = np.asarray(knobs.get("total_blocks", TOTAL_BLOCKS), dtype=float)
        blocks = np.asarray(knobs.get("windowed_blocks", WINDOWED_BLOCKS), dtype=float)
        if np.any(~(total > 0)):
            raise InputError("total_blocks", "must be positive")
        if np.any(~(blocks >= 0)) or np.any(blocks > total):
            raise InputError("windowed_blocks", "must lie in [0, total_blocks]")
        return s * blocks / total
    if method == "rtsa":
        if "computation_reduction" in knobs:
            if set(knobs) & {"linear_sparsity", "attn_sparsity", "attn_share"}:
                raise InputError(
                    "computation_reduction", "give it or linear_sparsity/attn_sparsity/attn_share, not both"
                )
            return _fraction("computation_reduction", knobs["computation_reduction"])
        lin = _fraction("linear_sparsity", knobs.get("linear_sparsity", 0.0))
        att = _fraction("attn_sparsity", knobs.get("attn_sparsity", 0.0))
        share = _fraction("attn_share", knobs.get("attn_share", ATTN_SHARE))
        return (1.0 - share) * lin + share * att
    name = KNOBS[method][0]
    return _fraction(name, knobs.get(name, 0.0))


@dataclass(frozen=True)
class Fit:
    """Linear-through-origin estimate ``drop = slope · x`` for one method (optionally one dataset)."""

    method: str
    dataset: str | None
    slope: float  # percentage points per unit of the effective knob
    x_max: float  # largest published effective knob; beyond it the line is extrapolated
    n_points: int
    n_upper: int


def _fit(rows: pd.DataFrame, method: str, dataset: str | None) -> Fit:
    x = np.array([float(effective_knob(method, **parse_knobs(k))) for k in rows["knobs"]])
    y = rows["drop_pp"].to_numpy(dtype=float)
    point, upper = (rows["bound"] == "point").to_numpy(), (rows["bound"] == "upper").to_numpy()
    slopes = []
    if point.any():
        slopes.append(float(np.sum(x[point] * y[point]) / np.sum(x[point] ** 2)))
    if upper.any():
        slopes.append(float(np.min(y[upper] / x[upper])))
    return Fit(method, dataset, min(slopes), float(x.max()), int(point.sum()), int(upper.sum()))


def _build_fits() -> dict[tuple[str, str | None], Fit]:
    pts = accuracy_points()
    pts = pts[pts["bound"].isin(["point", "upper"])]
    out: dict[tuple[str, str | None], Fit] = {}
    for method in METHODS:
        rows = pts[pts["method"] == method]
        out[(method, None)] = _fit(rows, method, None)
        for ds, sub in rows.groupby("dataset"):
            out[(method, str(ds))] = _fit(sub, method, str(ds))
    return out


_FITS = _build_fits()


def fits() -> pd.DataFrame:
    """All fitted lines (method, dataset or None = all of the method's points, slope, x_max, counts)."""
    return pd.DataFrame([f.__dict__ for f in _FITS.values()])


def estimate_accuracy_drop(method: str, dataset: str | None = None, **knobs: object) -> np.ndarray:
    """Estimated accuracy drop in percentage points (an estimate, not a measurement).

    ``drop = slope · effective_knob(method, **knobs)``, the slope fitted at import to the points of
    ``method`` in ``accuracy_points.csv`` (``dataset`` restricts the fit to one dataset's points).
    Knobs may be numpy arrays (broadcast); non-decreasing in every sparsity knob; zero knobs → 0.
    """
    if method not in METHODS:
        raise choice_error("method", method, METHODS)
    fit = _FITS.get((method, dataset))
    if fit is None:
        allowed = sorted(d for m, d in _FITS if m == method and d is not None)
        raise choice_error("dataset", dataset, allowed)
    return fit.slope * effective_knob(method, **knobs)
