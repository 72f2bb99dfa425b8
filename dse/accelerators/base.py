"""The narrow door between accelerator cost models and everything else (CLI, search, plots).

An accelerator declares its parameters (:class:`Param`: default, unit, range, source) and evaluates a
:class:`~dse.workloads.Workload` for arrays of parameter values, returning an :class:`Evaluation` of
metric arrays. Adding an accelerator means one module defining ``ACCELERATORS`` (found by
:mod:`dse.accelerators`), or a plugin (README, "Extending rtsa-dse").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from dse.errors import InputError, choice_error
from dse.workloads import Workload


@dataclass(frozen=True)
class Param:
    """One accelerator parameter. ``kind``: ``int``, ``float`` or ``choice``."""

    name: str
    default: Any
    unit: str
    source: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""
    #: the parameter changes the op list (e.g. a block count): a model call takes one value of it, and the
    #: search evaluates each value's points in their own call
    structural: bool = False
    #: declared uncertainty of the value (a :class:`dse.uncertainty.Uncertain`, e.g. from a plugin); the
    #: built-in declarations live in :mod:`dse.uncertainty.declared`
    uncertainty: Any = None

    def coerce(self, value: Any) -> np.ndarray:
        """Validate a user value (scalar, string or array) → numpy array; error names the parameter."""
        if self.kind == "choice":
            arr = np.asarray(value)
            allowed = [str(c) for c in self.choices]
            vals = [str(arr.item())] if arr.ndim == 0 else np.unique(arr.astype(str))
            bad = [v for v in vals if v not in allowed]
            if bad:
                raise choice_error(self.name, bad[0], allowed)
            if all(isinstance(c, int | float) and not isinstance(c, bool) for c in self.choices):
                return arr.astype(float)
            return arr.astype(str)
        if _has_bool(value):  # True is not 1 here: a boolean where a number belongs is a mistake
            raise InputError(self.name, f"expected a number in {self.range_text()}{self._unit()}, got {value!r}")
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                self.name, f"expected a number in {self.range_text()}{self._unit()}, got {value!r}"
            ) from None
        if np.any(~np.isfinite(arr)):
            raise InputError(self.name, f"must be finite, allowed {self.range_text()}")
        if self.kind == "int" and np.any(np.mod(arr, 1) != 0):
            raise InputError(self.name, f"must be an integer in {self.range_text()}, got {value!r}")
        if (self.low is not None and np.any(arr < self.low)) or (self.high is not None and np.any(arr > self.high)):
            if arr.size > 1 or isinstance(value, np.ndarray):  # the offending values, not numpy's repr
                bad = arr[
                    (arr < (-np.inf if self.low is None else self.low))
                    | (arr > (np.inf if self.high is None else self.high))
                ]
                shown = ", ".join(f"{x:g}" for x in np.unique(bad)[:5]) + (", …" if np.unique(bad).size > 5 else "")
                raise InputError(self.name, f"out of range: allowed {self.range_text()}{self._unit()}, got {shown}")
            shown = int(value) if self.kind == "int" and isinstance(value, float) and value.is_integer() else value
            raise InputError(self.name, f"out of range: allowed {self.range_text()}{self._unit()}, got {shown!r}")
        return arr

    def _unit(self) -> str:
        """`` (unit)`` for messages, nothing for a unitless parameter."""
        return f" ({self.unit})" if self.unit else ""

    def range_text(self) -> str:
        if self.kind == "choice":
            return "{" + ", ".join(str(c) for c in self.choices) + "}"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"[{lo}, {hi}]"


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype == bool or (value.dtype == object and any(isinstance(v, bool) for v in value.flat))
    if isinstance(value, list | tuple):
        return any(_has_bool(v) for v in value)
    return False


@dataclass(frozen=True)
class Limit:
    """A physical limit of a design (e.g. the node's maximum clock): where ``violated`` holds the design is
    invalid in a search, and ``rtsa-dse eval`` refuses it with ``message`` naming ``field``."""

    field: str
    violated: np.ndarray
    message: str


STAGES = ("linear", "attention", "other")
COMPONENTS = ("mac", "buffer", "dram", "sfu", "clock", "leakage")


def broadcast_to(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(value, shape)`` (a read-only view) with a fast path for one design: a single value
    to one point is reshaped, not broadcast (numpy's broadcast_to costs ~3.5 µs a call in Python, and one
    evaluation makes dozens: issue 15's per-design time)."""
    a = np.asarray(value)
    if a.shape == shape:
        return a
    if a.size == 1 and math.prod(shape) == 1:
        view = a.reshape(shape)
        view.flags.writeable = False
        return view
    return np.broadcast_to(a, shape)


def _ro(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class StageCost:
    """One stage's totals (arrays over design points): cycles and seconds, compute and DRAM cycles, MACs
    performed, DRAM bytes and energy (J, static share included)."""

    cycles: np.ndarray
    latency_s: np.ndarray
    energy_j: np.ndarray
    compute_cycles: np.ndarray
    memory_cycles: np.ndarray
    macs: np.ndarray
    dram_bytes: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __getitem__(self, key: str) -> np.ndarray:
        return getattr(self, key)


@dataclass(frozen=True)
class OpCost:
    """One op's cost over all its block instances (``repeat`` of them); arrays over design points.

    ``mode``: how the hardware ran it (``dense``, ``delta``, ``subvector``, ``window``, ``sfu``, ``kernel``).
    """

    block: str
    op: str
    kind: str
    role: str
    stage: str
    repeat: int
    mode: str
    macs: np.ndarray
    cycles: np.ndarray
    latency_s: np.ndarray
    energy_j: np.ndarray
    compute_cycles: np.ndarray
    memory_cycles: np.ndarray
    dram_bytes: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class OpRows(Sequence):
    """Per-op :class:`OpCost` rows, computed on first access: a search reads the totals only, a breakdown the
    rows. Pickles as the plain tuple of rows."""

    def __init__(self, make: Callable[[], Sequence[OpCost]]):
        self._make: Callable[[], Sequence[OpCost]] | None = make
        self._rows: tuple[OpCost, ...] | None = None

    def _get(self) -> tuple[OpCost, ...]:
        if self._rows is None:
            assert self._make is not None
            self._rows, self._make = tuple(self._make()), None
        return self._rows

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, i):
        return self._get()[i]

    def __iter__(self):
        return iter(self._get())

    def __eq__(self, other) -> bool:
        return tuple(self._get()) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"OpRows({self._get()!r})"

    def __reduce__(self):
        return (tuple, (self._get(),))


@dataclass(frozen=True)
class Evaluation:
    """An accelerator's answer for a workload over design points (every array has the points' shape).

    ``metrics``: the declared metrics (:mod:`dse.metrics`) this accelerator reports; ``stages``: per stage
    a :class:`StageCost`; ``energy``: J by component (:data:`COMPONENTS`); ``area``: mm² by component;
    ``bound``: per point the stage or resource that limits latency; ``ops``: per-op :class:`OpCost` rows;
    ``reasons``: per point why the design is invalid ("" when ``metrics["valid"]`` is 1). Per-op latencies
    and energies add up to their stage's, stage energies to ``energy_j``, components to ``energy_j``.
    """

    metrics: Mapping[str, np.ndarray]
    stages: Mapping[str, StageCost] = field(default_factory=dict)
    energy: Mapping[str, np.ndarray] = field(default_factory=dict)
    area: Mapping[str, np.ndarray] = field(default_factory=dict)
    bound: np.ndarray | None = None
    ops: Sequence[OpCost] = ()
    notes: tuple[str, ...] = ()
    reasons: np.ndarray | None = None

    @classmethod
    def build(cls, workload: Workload, metrics, stages, energy, area, bound, ops, notes=()) -> Evaluation:
        """Broadcast everything to the design points' shape and freeze it."""
        shape = np.broadcast_shapes(
            np.shape(workload.height), *(np.shape(v) for v in metrics.values()), *(np.shape(v) for v in area.values())
        )

        def full(v):
            v = np.asarray(v)
            return v if v.shape == shape else np.broadcast_to(v, shape)

        return cls(
            metrics=_ro({k: full(v) for k, v in metrics.items()}),
            stages=_ro({s: StageCost(**{k: full(x) for k, x in st.as_dict().items()}) for s, st in stages.items()}),
            energy=_ro({k: full(v) for k, v in energy.items()}),
            area=_ro({k: full(v) for k, v in area.items()}),
            bound=None if bound is None else full(bound),
            ops=ops if isinstance(ops, OpRows) else tuple(ops),
            notes=tuple(notes),
            reasons=np.broadcast_to(np.asarray("", dtype=object), shape),
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.metrics["latency_s"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.metrics[key]

    def broadcast(self, shape: tuple[int, ...]) -> Evaluation:
        """This evaluation with every per-point array broadcast to ``shape`` (read-only views; per-op rows as
        they are)."""
        if self.shape == tuple(shape):
            return self

        def full(v):
            return broadcast_to(v, tuple(shape))

        return replace(
            self,
            metrics=_ro({k: full(v) for k, v in self.metrics.items()}),
            stages=_ro(
                {s: StageCost(**{k: full(x) for k, x in st.as_dict().items()}) for s, st in self.stages.items()}
            ),
            energy=_ro({k: full(v) for k, v in self.energy.items()}),
            area=_ro({k: full(v) for k, v in self.area.items()}),
            bound=None if self.bound is None else full(self.bound),
            reasons=None if self.reasons is None else full(self.reasons),
        )

    def with_metrics(self, **extra) -> Evaluation:
        """A copy with ``extra`` metrics added (as float; everything broadcast to the points' joint shape)."""
        ev = self.broadcast(np.broadcast_shapes(self.shape, *(np.shape(v) for v in extra.values())))
        add = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), ev.shape) for k, v in extra.items()}
        return replace(ev, metrics=_ro({**ev.metrics, **add}))

    def with_notes(self, *notes: str) -> Evaluation:
        return replace(self, notes=tuple(self.notes) + tuple(n for n in notes if n not in self.notes))

    def invalid_where(self, mask, reason: str) -> Evaluation:
        """Mark points where ``mask`` holds invalid (``valid`` = 0) with ``reason`` (joined with "; ")."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return self
        self = self.broadcast(np.broadcast_shapes(self.shape, mask.shape))
        shape = self.shape
        mask = np.broadcast_to(mask, shape)
        reasons = np.array(self.reasons if self.reasons is not None else np.full(shape, "", dtype=object))
        reasons = reasons.astype(object)
        reasons[mask] = np.where(reasons[mask] == "", reason, reasons[mask] + "; " + reason)
        valid = np.where(mask, 0.0, self.metrics.get("valid", np.ones(shape)))
        return replace(self, metrics=_ro({**self.metrics, "valid": np.broadcast_to(valid, shape)}), reasons=reasons)


class Accelerator:
    """Base class: subclasses set ``name``, ``description``, ``params`` and implement ``_evaluate``."""

    name: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    #: metric names (declared in :mod:`dse.metrics`) this accelerator reports beyond :data:`dse.metrics.COMMON`
    extra_metrics: tuple[str, ...] = ()

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric this accelerator reports, in the schema's order of declaration."""
        from dse.metrics import COMMON

        return COMMON + tuple(m for m in self.extra_metrics if m not in COMMON)

    @property
    def structural(self) -> tuple[str, ...]:
        """Parameters that change the op list: one value per model call."""
        return tuple(p.name for p in self.params if p.structural)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise choice_error(f"{self.name} parameter", name, [p.name for p in self.params])

    def resolve(self, values: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Defaults overlaid with ``values``; every value validated and turned into an array."""
        values = dict(values or {})
        known = {p.name for p in self.params}
        for key in values:
            if key not in known:
                raise choice_error(f"{self.name} parameter", key, sorted(known))
        return {p.name: p.coerce(values[p.name]) if p.name in values else self._default(p) for p in self.params}

    def effective_params(self, p: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """``p`` as the model uses it, for showing the evaluated design: a model whose parameters hold
        stand-ins (e.g. a platform preset's 0 = "the preset's own value") replaces them by the values used."""
        return dict(p)

    def _default(self, p: Param) -> np.ndarray:
        """``p``'s default, validated once and kept read-only (the single-design path re-uses it)."""
        cache = self.__dict__.setdefault("_default_arrays", {})
        key = (p.name, repr(p.default))
        if key not in cache:
            arr = np.array(p.coerce(p.default))
            arr.flags.writeable = False
            cache[key] = arr
        return cache[key]

    # ---- resource budgets, for iso-resource comparisons ------------------------------------------
    #: resource → parameter that sets it directly (``macs`` is also reachable through rows/cols/lanes)
    BUDGET_PARAMS = {"buffer": "glb_kib", "bandwidth": "dram_gbps", "clock": "clock_mhz", "macs": "macs"}

    def budget(self, p: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """This design's resources: peak MACs/cycle, buffer KiB, DRAM GB/s, clock MHz (those it has); floats
        for one design, arrays for parameter arrays (e.g. Monte Carlo samples, :func:`budget_value`)."""
        out: dict[str, Any] = {}
        if "macs" in p:
            out["macs"] = budget_value(p["macs"])
        elif "rows" in p and "cols" in p:
            out["macs"] = budget_value(np.asarray(p["rows"]) * p["cols"] * p.get("lanes", 1))
        for res, name in self.BUDGET_PARAMS.items():
            if res != "macs" and name in p:
                out[res] = budget_value(p[name])
        return out

    def matched(self, target: Mapping[str, Any]) -> dict[str, Any]:
        """Parameter overrides giving this design the ``target`` resources where it can express them
        (``macs``: MACs per cycle; values are floats or arrays over points, e.g. samples).

        MACs are matched through a ``macs`` parameter, else by setting ``cols`` (keeping rows and lanes,
        rounded to whole columns, at least one).
        """
        names = {p.name for p in self.params}
        d = {p.name: p.default for p in self.params}
        out: dict[str, Any] = {}
        for res, value in target.items():
            if res == "macs":
                if "macs" in names:
                    out["macs"] = value
                elif {"rows", "cols"} <= names:
                    per_col = d["rows"] * d.get("lanes", 1)
                    out["cols"] = whole(value / per_col, 1)
            elif res in self.BUDGET_PARAMS and self.BUDGET_PARAMS[res] in names:
                out[self.BUDGET_PARAMS[res]] = value
        return out

    def evaluate(self, workload: Workload, values: Mapping[str, Any] | None = None) -> Evaluation:
        """Evaluate ``workload`` at parameter values (scalars or arrays broadcastable to one shape).

        Structural parameters (:attr:`structural`) take one value per call; points with several values of
        one are evaluated value by value and stitched together (one model call per distinct value).
        Raises ``InputError`` for malformed values (unknown name, out of the declared range).
        """
        p = self.resolve(values)
        # parameters keep their own shapes (a value shared by every point is computed on once); the answer is
        # broadcast to the points' full shape, so that every point gets its own answer even where a parameter
        # reaches no cost array (a budget, or a knob the workload does not use: HeatViT's keep ratios on Swin)
        shape = np.broadcast_shapes(workload.shape, *(np.shape(v) for v in p.values()))
        split = [k for k in self.structural if np.unique(p[k]).size > 1]
        try:
            ev = self._evaluate(workload, p) if not split else _stitch(self, workload, p, split[0])
        except InputError:
            raise
        except Exception as err:  # a plugin's own bug: one line naming it, not a traceback (built-ins: ours)
            from dse import accelerators

            if accelerators.origin(self.name) == accelerators.BUILTIN:
                raise
            raise InputError(
                f"plugin accelerator {self.name}", f"its model failed: {type(err).__name__}: {err}"
            ) from err
        if not isinstance(ev, Evaluation):  # a plugin's model that returns something else
            raise InputError(f"plugin accelerator {self.name}",
                             f"its model returned {type(ev).__name__}, not an Evaluation (dse.hardware.cost.summarize "
                             "builds one)")  # fmt: skip
        ev = ev.broadcast(np.broadcast_shapes(ev.shape, shape))  # (Monte Carlo factors may add sample axes)
        for lim in self.limits(p):
            ev = ev.invalid_where(lim.violated, lim.message)
        # a missing value is never feasible: a point whose headline numbers are not finite is no design
        finite = np.ones((), dtype=bool)
        for k in ("latency_s", "energy_j", "area_mm2"):
            if k in ev.metrics:
                finite = finite & np.isfinite(np.asarray(ev.metrics[k], dtype=np.float64))
        if not np.all(finite):
            ev = ev.invalid_where(~finite, "latency, energy or area not a finite number")
        return ev

    def refuse_beyond_limits(self, p: Mapping[str, np.ndarray]) -> None:
        """Raise :class:`InputError` naming the field where the design the user gave (``p``, resolved) breaks a
        physical limit (:meth:`limits`): one evaluation of an impossible design is an input error (eval,
        compare, breakdown); a sweep marks such points infeasible instead."""
        for lim in self.limits(p):
            if np.any(lim.violated):
                got = np.asarray(p[lim.field])
                raise InputError(lim.field, f"{lim.message}; got {got.item() if got.size == 1 else got.tolist()}")

    def limits(self, p: Mapping[str, np.ndarray]) -> list[Limit]:
        """Physical limits of the design at parameter values ``p`` (arrays over points). Default: an ASIC's
        clock must not exceed its node's maximum (:func:`dse.hardware.technology.max_clock_mhz`)."""
        if "clock_mhz" not in p or "node_nm" not in p:
            return []
        from dse.hardware.technology import max_clock_mhz

        f_max = max_clock_mhz(p["node_nm"])
        over = np.asarray(p["clock_mhz"]) > f_max
        top = float(np.min(f_max))
        return [Limit("clock_mhz", over, f"clock above the node's maximum ({top:.0f} MHz at its overdrive supply)")]

    def _evaluate(self, workload: Workload, p: dict[str, np.ndarray]) -> Evaluation:  # pragma: no cover
        raise NotImplementedError


def budget_value(x) -> Any:
    """A budget figure: a float for one design, a float array for arrays of points."""
    a = np.asarray(x, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def whole(x, low: int = 1) -> Any:
    """``x`` rounded to a whole count of at least ``low``: an int for one value, a float array of whole
    numbers for arrays (an ``int`` parameter takes either)."""
    a = np.maximum(low, np.round(np.asarray(x, dtype=np.float64)))
    return int(a) if a.ndim == 0 else a


def _stitch(acc: Accelerator, workload: Workload, p: dict[str, np.ndarray], key: str) -> Evaluation:
    """Evaluate each value of structural parameter ``key`` on its own and scatter the per-point arrays back.

    Per-op rows differ between values (the op list changes), so the stitched evaluation keeps no op rows.
    """
    shape = np.broadcast_shapes(workload.shape, *(np.shape(v) for v in p.values()))
    full = {k: np.broadcast_to(v, shape) for k, v in p.items()}
    vals = full[key]
    parts = []
    for v in np.unique(vals):
        q = {k: (np.asarray(v) if k == key else a) for k, a in full.items()}
        parts.append((vals == v, acc._evaluate(workload, q)))
    # the parts may have more axes than the parameters (Monte Carlo factors): the points' values line up on
    # the trailing axes
    out_shape = np.broadcast_shapes(shape, *(ev.shape for _, ev in parts))

    def merge(get):
        out = None
        for mask, ev in parts:
            a = np.broadcast_to(get(ev), out_shape)
            out = np.array(a, copy=True) if out is None else np.where(mask, a, out)
        return out

    first = parts[0][1]
    metrics = {k: merge(lambda e, k=k: e.metrics[k]) for k in first.metrics}
    stages = {
        s: StageCost(**{f: merge(lambda e, s=s, f=f: e.stages[s][f]) for f in st.as_dict()})
        for s, st in first.stages.items()
    }
    energy = {k: merge(lambda e, k=k: e.energy[k]) for k in first.energy}
    area = {k: merge(lambda e, k=k: e.area[k]) for k in first.area}
    bound = merge(lambda e: e.bound) if first.bound is not None else None
    reasons = merge(lambda e: e.reasons)
    notes = tuple(dict.fromkeys(n for _, e in parts for n in e.notes))
    return Evaluation(_ro(metrics), _ro(stages), _ro(energy), _ro(area), bound, (), notes, reasons)
