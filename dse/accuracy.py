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

Beyond the largest published x (a fit's ``x_max``, see ``fits()``) the line is extrapolated and increasingly
unreliable: :func:`accuracy_metrics` reports it as ``accuracy_extrapolated`` = 1, and :func:`with_accuracy` adds
both metrics and a note to an evaluation.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dse import plugins
from dse.errors import InputError, choice_error

if TYPE_CHECKING:
    from dse.accelerators.base import Evaluation

WINDOWED_BLOCKS = 6  # poster: windowed attention in blocks 0-5 of DeiT-Tiny [src:windowed-poster]
TOTAL_BLOCKS = 12  # DeiT-Tiny depth [src:windowed-poster] [src:mmpretrain]
ATTN_SHARE = 0.25  # VideoMAE-B attention share of MACs before sparsity, 25% [D] [src:mmaction2]
DATA_FILE = "accuracy_points.csv"
#: the published knobs carry 4 decimals (accuracy_points.csv), so an effective knob within this of a fit's x_max
#: is the published point, not beyond it [D] (DeiT-Tiny's 3×3 windows prune 94.8646% of each 197² map, the
#: poster's 94.86%: x = 0.474323 against x_max = 0.4743)
X_TOL = 1e-4
EXTRAPOLATED_NOTE = (
    "accuracy_drop is extrapolated where accuracy_extrapolated = 1: the {method} method's effective knob ({knob}) "
    "reaches {x_hi:.4g} here, beyond {x_max:.4g}, its largest published point (dse/data/accuracy_points.csv), and "
    "the line through the origin has no evidence there; the sweep constraint accuracy_extrapolated = {{ max = 0 }} "
    "keeps such designs out"
)


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


@dataclass(frozen=True)
class AccuracyMethod:
    """One row of the accuracy-method registry.

    ``knobs``: the knob names :func:`estimate_accuracy_drop` accepts; ``effective(knobs)`` → the effective
    knob x ∈ [0, 1] (arrays broadcast; missing knobs take their defaults; ``InputError`` naming a knob out
    of range); ``points``: published operating points of a method that is not in the shipped
    ``accuracy_points.csv`` (same columns: method, knobs, drop_pp, bound, dataset, …), else None.
    """

    name: str
    knobs: tuple[str, ...]
    effective: Callable[[Mapping[str, object]], np.ndarray]
    description: str = ""
    points: pd.DataFrame | None = field(default=None, compare=False, hash=False, repr=False)


_METHODS: dict[str, AccuracyMethod] = {}


def register(method: AccuracyMethod) -> AccuracyMethod:
    """Add an accuracy method (a plugin's); ``InputError`` (field ``plugin``) if the name is taken."""
    if not isinstance(method, AccuracyMethod):
        raise InputError("plugin", f"accuracy.register() takes an AccuracyMethod, got {method!r}")
    if method.name in _METHODS and _METHODS[method.name] != method:
        raise InputError("plugin", f"accuracy method {method.name!r} already exists")
    _METHODS[method.name] = method
    _FITS.pop(method.name, None)
    plugins.note("accuracy method", method.name)
    return method


def unregister(name: str) -> None:
    """Remove a method (tests; a no-op if absent)."""
    _METHODS.pop(name, None)
    _FITS.pop(name, None)


def methods() -> list[str]:
    """Registered method names."""
    return list(_METHODS)


def get_method(name: str) -> AccuracyMethod:
    if name not in _METHODS:
        raise choice_error("method", name, methods())
    return _METHODS[name]


def effective_knob(method: str, **knobs: object) -> np.ndarray:
    """The method's effective knob x ∈ [0, 1] (see module docstring), broadcast over array knobs."""
    entry = get_method(method)
    unknown = sorted(set(knobs) - set(entry.knobs))
    if unknown:
        raise InputError(unknown[0], f"not a knob of {method}; allowed: {', '.join(entry.knobs)}")
    return entry.effective(knobs)


def _windowed_knob(knobs: Mapping[str, object]) -> np.ndarray:
    """Pruned share of all attention maps: attn_sparsity × windowed_blocks / total_blocks."""
    s = _fraction("attn_sparsity", knobs.get("attn_sparsity", 0.0))
    total = np.asarray(knobs.get("total_blocks", TOTAL_BLOCKS), dtype=float)
    blocks = np.asarray(knobs.get("windowed_blocks", WINDOWED_BLOCKS), dtype=float)
    if np.any(~(total > 0)):
        raise InputError("total_blocks", "must be positive")
    if np.any(~(blocks >= 0)) or np.any(blocks > total):
        raise InputError("windowed_blocks", "must lie in [0, total_blocks]")
    return s * blocks / total


def _rtsa_knob(knobs: Mapping[str, object]) -> np.ndarray:
    """Ideal MACs saved: computation_reduction, or (1 − attn_share)·linear_sparsity + attn_share·attn_sparsity."""
    if "computation_reduction" in knobs:
        if set(knobs) & {"linear_sparsity", "attn_sparsity", "attn_share"}:
            raise InputError("computation_reduction", "give it or linear_sparsity/attn_sparsity/attn_share, not both")
        return _fraction("computation_reduction", knobs["computation_reduction"])
    lin = _fraction("linear_sparsity", knobs.get("linear_sparsity", 0.0))
    att = _fraction("attn_sparsity", knobs.get("attn_sparsity", 0.0))
    share = _fraction("attn_share", knobs.get("attn_share", ATTN_SHARE))
    return (1.0 - share) * lin + share * att


def _one_knob(name: str) -> Callable[[Mapping[str, object]], np.ndarray]:
    """A method whose effective knob is its one knob ``name`` (a fraction, default 0)."""

    def effective(knobs: Mapping[str, object]) -> np.ndarray:
        return _fraction(name, knobs.get(name, 0.0))

    return effective


for _m in (
    AccuracyMethod("rtsa", ("computation_reduction", "linear_sparsity", "attn_sparsity", "attn_share"), _rtsa_knob,
                   "RTSA: delta-sparse linear layers and sub-vector sparse attention"),
    AccuracyMethod("windowed", ("attn_sparsity", "windowed_blocks", "total_blocks"), _windowed_knob,
                   "windowed attention in the first blocks"),
    AccuracyMethod("vitcod", ("attn_sparsity",), _one_knob("attn_sparsity"), "ViTCoD: pruned attention maps"),
    AccuracyMethod("heatvit", ("token_pruned",), _one_knob("token_pruned"), "HeatViT: pruned tokens"),
):  # fmt: skip
    _METHODS[_m.name] = _m  # built-in: not counted as a plugin's registration
del _m


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


#: method → its fits (key None: all of its points; else one dataset's), built on first use
_FITS: dict[str, dict[str | None, Fit]] = {}


def _method_fits(method: str) -> dict[str | None, Fit]:
    if method not in _FITS:
        entry = get_method(method)
        pts = accuracy_points() if entry.points is None else entry.points
        pts = pts[pts["bound"].isin(["point", "upper"])]
        rows = pts[pts["method"] == method]
        if not len(rows):
            raise InputError("method", f"{method} has no published accuracy points to fit")
        out: dict[str | None, Fit] = {None: _fit(rows, method, None)}
        for ds, sub in rows.groupby("dataset"):
            out[str(ds)] = _fit(sub, method, str(ds))
        _FITS[method] = out
    return _FITS[method]


def fits() -> pd.DataFrame:
    """All fitted lines (method, dataset or None = all of the method's points, slope, x_max, counts)."""
    return pd.DataFrame([f.__dict__ for m in methods() for f in _method_fits(m).values()])


def estimate_accuracy_drop(method: str, dataset: str | None = None, **knobs: object) -> np.ndarray:
    """Estimated accuracy drop in percentage points (an estimate, not a measurement).

    ``drop = slope · effective_knob(method, **knobs)``, the slope fitted at import to the points of
    ``method`` in ``accuracy_points.csv`` (``dataset`` restricts the fit to one dataset's points).
    Knobs may be numpy arrays (broadcast); non-decreasing in every sparsity knob; zero knobs → 0.
    """
    return get_fit(method, dataset).slope * effective_knob(method, **knobs)


def get_fit(method: str, dataset: str | None = None) -> Fit:
    """The fitted line of ``method`` (``dataset``: the fit to that dataset's points only)."""
    by_dataset = _method_fits(method)
    fit = by_dataset.get(dataset)
    if fit is None:
        raise choice_error("dataset", dataset, sorted(d for d in by_dataset if d is not None))
    return fit


def accuracy_metrics(method: str, dataset: str | None = None, **knobs: object) -> dict[str, np.ndarray]:
    """``accuracy_drop`` (pp, as :func:`estimate_accuracy_drop`) and ``accuracy_extrapolated`` (1.0 where the
    effective knob exceeds the fit's largest published point ``x_max`` by more than ``X_TOL``, else 0.0)."""
    fit = get_fit(method, dataset)
    x = effective_knob(method, **knobs)
    return {"accuracy_drop": fit.slope * x, "accuracy_extrapolated": (x > fit.x_max + X_TOL).astype(np.float64)}


def with_accuracy(ev: Evaluation, method: str, **knobs: object) -> Evaluation:
    """``ev`` with :func:`accuracy_metrics` of ``method`` (all of its points) at ``knobs`` and, where any point
    is extrapolated, a note saying so (one text per method, so that merged evaluations keep one copy)."""
    m = accuracy_metrics(method, **knobs)
    ev = ev.with_metrics(**m)
    if np.any(m["accuracy_extrapolated"] > 0):
        x_hi = float(np.max(effective_knob(method, **knobs)))
        knob = " / ".join(knobs)  # the knobs given: the effective knob is a function of them
        ev = ev.with_notes(EXTRAPOLATED_NOTE.format(method=method, knob=knob, x_hi=x_hi, x_max=get_fit(method).x_max))
    return ev
