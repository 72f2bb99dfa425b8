"""Workload zoo: ``build(model, resolution, frames)`` returns the ops of a transformer inference.

Resolution (square ``R`` or ``(H, W)``) and frames may be numpy arrays, one value per design point;
shapes, MACs and sizes then come back as arrays broadcast to the same shape.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from dse.errors import InputError, choice_error
from dse.workloads.ops import KINDS, ROLES, STAGES, Op
from dse.workloads.zoo import ALIASES, ATTENTION_TYPES, BUILDERS, SPECS, ModelSpec, attention_type, with_overrides

__all__ = [
    "KINDS",
    "ROLES",
    "STAGES",
    "Op",
    "ModelSpec",
    "SPECS",
    "Workload",
    "build",
    "build_spec",
    "gemm_workload",
    "get_spec",
    "model_names",
]

OVERRIDABLE = ("depth", "dim", "heads", "mlp_ratio", "patch", "tubelet", "window", "attention")
#: file suffixes of models defined outside the zoo: a model file (a zoo family member) or an ONNX graph
MODEL_SUFFIXES = (".toml", ".onnx")


def model_names() -> list[str]:
    return list(SPECS)


def is_model_file(model: object) -> bool:
    """True when ``model`` names a model file (``*.toml``) or an ONNX graph (``*.onnx``) rather than a zoo model."""
    return isinstance(model, str | os.PathLike) and str(model).lower().endswith(MODEL_SUFFIXES)


def get_spec(model: str) -> ModelSpec:
    """A zoo model's spec, or the spec of a model file / ONNX graph (see :mod:`dse.workloads.models`)."""
    if is_model_file(model):
        from dse.workloads.models import load_model

        return load_model(model).spec
    key = ALIASES.get(model, model)
    if key not in SPECS:
        err = choice_error("model", model, model_names())  # the closest names, cut to one terminal line
        raise InputError("model", str(err).split(": ", 1)[1] + " (`rtsa-dse workloads`), or a model .toml / .onnx")
    return SPECS[key]


@dataclass(frozen=True)
class Workload:
    """A model at given input sizes: its ordered ops (unique block shapes with repeat counts)."""

    spec: ModelSpec
    height: np.ndarray
    width: np.ndarray
    frames: np.ndarray
    tokens: np.ndarray
    ops: tuple[Op, ...]

    @property
    def model(self) -> str:
        return self.spec.name

    @property
    def shape(self) -> tuple[int, ...]:
        return np.broadcast(self.height, self.width, self.frames).shape

    def total(self, attr: str = "macs", stage: str | None = None) -> np.ndarray:
        """Sum of ``attr`` × repeat over ops (of one stage if given)."""
        out = np.zeros(self.shape, dtype=np.int64)
        for op in self.ops:
            if stage is None or op.stage == stage:
                out = out + getattr(op, attr) * op.repeat
        return out

    @property
    def macs(self) -> np.ndarray:
        return self.total("macs")

    @property
    def linear_macs(self) -> np.ndarray:
        return self.total("macs", "linear")

    @property
    def attention_macs(self) -> np.ndarray:
        return self.total("macs", "attention")

    @property
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Patch grid (rows, cols) of one frame."""
        return self.height // self.spec.patch, self.width // self.spec.patch


def gemm_workload(m: int, k: int, n: int, batch: int = 1) -> Workload:
    """A one-op workload: a single (batched) linear GEMM M×K · K×N, for checks against simulators."""
    for name, v in (("M", m), ("K", k), ("N", n), ("batch", batch)):
        _positive_int_array(f"gemm {name}", v)
    macs = float(batch) * float(m) * float(k) * float(n)  # in floats: the int64 product could wrap
    if macs > MAX_MACS:
        raise InputError("gemm", f"{macs:.3g} MACs, beyond the model's range (at most 2^62 ≈ {MAX_MACS:.3g})")
    spec = ModelSpec("gemm", "gemm", dim=int(k), depth=1, heads=1, resolution=1, source="single GEMM")
    op = Op("gemm", "linear", "gemm", 1, batch, m, k, n, role="gemm")
    one = np.asarray(1, dtype=np.int64)
    return Workload(spec, one, one, one, np.asarray(m, dtype=np.int64), (op,))


def _positive_int_array(field: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or arr.size == 0 or np.any(arr <= 0):
        raise InputError(field, f"must be a positive integer (got {value!r})")
    return arr.astype(np.int64)


def build(model: str, resolution=None, frames=None, sparsity=None, **overrides) -> Workload:
    """Build a workload. ``resolution``: int, (H, W) or arrays; defaults are the model's published input.

    ``model``: a zoo name, a model file (``*.toml``) or an ONNX graph (``*.onnx``), paths relative to the
    working directory; ``overrides``: architecture options (:data:`OVERRIDABLE`); ``sparsity``: a per-layer
    sparsity table (a CSV path, :class:`~dse.sparsity.table.SparsityRef` or table) whose per-op values the
    ops carry (:mod:`dse.sparsity.table`). Raises :class:`~dse.errors.InputError` on malformed input.

    A zoo model at scalar inputs (ints, an (H, W) pair of ints, no sparsity table) is built once and
    shared (:func:`_build_cached`): a search evaluating one design at a time rebuilds nothing. Treat the
    returned workload as read-only.
    """
    key = _cache_key(model, resolution, frames, sparsity, overrides)
    if key is not None:
        return _build_cached(*key)
    return _build(model, resolution, frames, sparsity, **overrides)


#: largest MLP ratio taken: published transformers use 2–8 ([src:mmpretrain] 4; [src:mmaction2] 4); a bound so that
#: an infinite or absurd value is an input error, not an overflow
MAX_MLP_RATIO = 1000.0


def _check_mlp_ratio(ratio: float) -> None:
    if not 0 < ratio <= MAX_MLP_RATIO:  # NaN fails too
        raise InputError("mlp_ratio", f"must be > 0 and at most {MAX_MLP_RATIO:g} (got {ratio!r})")


#: distinct scalar workloads kept by :func:`build` (a sweep uses one, a resolution mix a few)
BUILD_CACHE_SIZE = 128


def _scalar(v):
    """``v`` as a hashable plain value if it is a scalar input (int, float, str, None), else a sentinel."""
    if v is None or isinstance(v, str | bool):
        return v
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    return _NOT_SCALAR


_NOT_SCALAR = object()


def _cache_key(model, resolution, frames, sparsity, overrides) -> tuple | None:
    """(model, resolution, frames, overrides) as a hashable key, or None when any input is an array, a
    table or a file (those are built every time)."""
    if sparsity is not None or not isinstance(model, str) or is_model_file(model):
        return None
    res = tuple(_scalar(r) for r in resolution) if isinstance(resolution, tuple | list) else _scalar(resolution)
    opts = []
    for k, v in sorted(overrides.items()):
        opts.append((k, tuple(_scalar(x) for x in v) if isinstance(v, tuple | list) else _scalar(v)))
    flat = [res, _scalar(frames), *(v for _, v in opts)]
    flat = [x for v in flat for x in (v if isinstance(v, tuple) else (v,))]
    if any(x is _NOT_SCALAR for x in flat):
        return None
    return model, res, _scalar(frames), tuple(opts)


@functools.lru_cache(maxsize=BUILD_CACHE_SIZE)
def _build_cached(model: str, resolution, frames, overrides: tuple) -> Workload:
    return _build(model, resolution, frames, None, **dict(overrides))


def _build(model: str, resolution=None, frames=None, sparsity=None, **overrides) -> Workload:
    if is_model_file(model):
        from dse.workloads.models import load_model

        wl = load_model(model, **overrides).build(resolution, frames)
    else:
        wl = build_spec(apply_overrides(get_spec(model), **overrides), resolution, frames)
    if sparsity is not None:
        from dse.sparsity.table import apply_sparsity

        wl = apply_sparsity(wl, sparsity)
    return wl


def apply_overrides(spec: ModelSpec, **overrides) -> ModelSpec:
    """``spec`` with validated architecture overrides (:data:`OVERRIDABLE`; ``None`` values are ignored)."""
    bad = set(overrides) - set(OVERRIDABLE)
    if bad:
        raise choice_error("override", sorted(bad)[0], OVERRIDABLE)
    for key, val in overrides.items():
        if val is None:
            continue
        if key == "attention":
            current = attention_type(spec)
            if current in ("image", "window") and val != current:
                raise InputError("attention", f"{spec.name} has {current} attention; only video transformers of "
                                 f"the isotropic families take another attention type")  # fmt: skip
            if val != current and val not in ATTENTION_TYPES:
                raise choice_error("attention", val, tuple(ATTENTION_TYPES))
            continue
        if key == "window":
            if spec.family != "swin":  # only Video Swin has window attention; the option would do nothing
                raise InputError("window", f"{spec.name} has no window attention (Video Swin models only)")
            w = (val,) if np.ndim(val) == 0 else tuple(val)
            if len(w) not in (1, 3) or not all(isinstance(x, int | np.integer) and x > 0 for x in w):
                raise InputError(
                    "window", f"must be a positive integer or (t, h, w) of positive integers (got {val!r})"
                )
            continue
        if key == "mlp_ratio":
            _check_mlp_ratio(float(val))
        else:
            _positive_int_array(key, val)
    out = with_overrides(spec, **overrides)
    if out.dim % out.heads:
        raise InputError("heads", f"must divide dim={out.dim} (got {out.heads})")
    if out.family == "swin" and "depth" in overrides and overrides["depth"] is not None:
        raise InputError("depth", "Video Swin depth is set per stage by the model (depths); not overridable")
    if out.family == "vivit" and out.variant == "m4" and out.heads < 2:
        raise InputError("heads", "factorised-dot-product attention splits the heads in two: needs heads ≥ 2")
    return out


def build_spec(spec: ModelSpec, resolution=None, frames=None) -> Workload:
    """Build the workload of a (validated) :class:`ModelSpec` at ``resolution`` and ``frames``."""
    if resolution is None:
        resolution = spec.resolution
    if isinstance(resolution, tuple | list) and len(resolution) == 2:
        h, w = (_positive_int_array("resolution", r) for r in resolution)
    else:
        h = w = _positive_int_array("resolution", resolution)
    t = _positive_int_array("frames", spec.frames if frames is None else frames)
    _check_mlp_ratio(spec.mlp_ratio)  # a model file's own value
    if spec.mlp_hidden() < 1:
        raise InputError("mlp_ratio", f"the MLP hidden width dim × mlp_ratio = {spec.dim} × {spec.mlp_ratio:g} rounds "
                         f"to 0; must give at least 1 (mlp_ratio above {0.5 / spec.dim:.3g})")  # fmt: skip
    if np.any(h % spec.patch) or np.any(w % spec.patch):
        raise InputError("resolution", f"must be a multiple of the patch size {spec.patch} for {spec.name}")
    if np.any(t % spec.tubelet):
        raise InputError("frames", f"must be a multiple of the tubelet depth {spec.tubelet} for {spec.name}")
    if spec.family == "vit" and np.any(t != 1):
        raise InputError("frames", f"{spec.name} is an image model: frames must be 1")
    h, w, t = np.broadcast_arrays(h, w, t)
    if np.any(np.maximum(h, w) > MAX_RESOLUTION):
        raise InputError("resolution", f"at most {MAX_RESOLUTION} pixels a side (got {int(np.max(np.maximum(h, w)))})")
    if np.any(t > MAX_FRAMES):
        raise InputError("frames", f"at most {MAX_FRAMES} (got {int(np.max(t))})")
    ops, tokens = BUILDERS[spec.family](spec, h, w, t)
    _check_mac_range(ops)
    return Workload(spec, h, w, t, np.broadcast_to(tokens, h.shape), tuple(ops))


#: documented input maxima (pixels a side, frames); together with :data:`MAX_MACS` they keep every
#: count in int64 (a larger input would overflow the MAC counts silently)
MAX_RESOLUTION = 8192
MAX_FRAMES = 4096
MAX_MACS = 2.0**62


def _check_mac_range(ops) -> None:
    """InputError when the workload's MAC count (computed in float64) leaves int64's exact range."""
    total = sum(
        np.asarray(op.batch, dtype=np.float64) * op.m * op.k * op.n * np.asarray(op.repeat, dtype=np.float64)
        for op in ops
    )
    peak = float(np.max(total)) if np.size(total) else 0.0
    if peak > MAX_MACS:
        raise InputError(
            "resolution", f"the workload would have {peak:.3g} MACs, beyond the model's range ({MAX_MACS:.3g}); "
            "use a smaller resolution or fewer frames",
        )  # fmt: skip
