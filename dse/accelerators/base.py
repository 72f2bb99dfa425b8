"""The narrow door between accelerator cost models and everything else (CLI, search, plots).

An accelerator declares its parameters (:class:`Param`: default, unit, range, source) and evaluates a
:class:`~dse.workloads.Workload` for arrays of parameter values, returning an :class:`Evaluation` of
metric arrays. Adding an accelerator means one module and one line in ``dse/accelerators/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                self.name, f"expected a number in {self.range_text()} ({self.unit}), got {value!r}"
            ) from None
        if np.any(~np.isfinite(arr)):
            raise InputError(self.name, f"must be finite, allowed {self.range_text()}")
        if self.kind == "int" and np.any(np.mod(arr, 1) != 0):
            raise InputError(self.name, f"must be an integer in {self.range_text()}")
        if (self.low is not None and np.any(arr < self.low)) or (self.high is not None and np.any(arr > self.high)):
            raise InputError(self.name, f"out of range: allowed {self.range_text()} ({self.unit}), got {value!r}")
        return arr

    def range_text(self) -> str:
        if self.kind == "choice":
            return "{" + ", ".join(str(c) for c in self.choices) + "}"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"[{lo}, {hi}]"


STAGES = ("linear", "attention", "other")
COMPONENTS = ("mac", "buffer", "dram", "sfu", "leakage")


@dataclass
class Evaluation:
    """Metric arrays over design points.

    ``metrics``: scalar-per-point metrics (at least ``cycles``, ``latency_s``, ``energy_j``,
    ``area_mm2``, ``macs``, ``dram_bytes``, ``utilization``, ``edp``); ``bound``: per point the stage
    or resource that limits latency; ``stages``: per stage a dict of metric arrays (``cycles``,
    ``latency_s``, ``energy_j``, ``macs``, ``dram_bytes``); ``energy``: per component energy (J);
    ``area``: per component area (mm²); ``ops``: per-op rows (values are arrays over design points).
    """

    metrics: dict[str, np.ndarray]
    stages: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    energy: dict[str, np.ndarray] = field(default_factory=dict)
    area: dict[str, np.ndarray] = field(default_factory=dict)
    bound: np.ndarray | None = None
    ops: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.metrics[key]


class Accelerator:
    """Base class: subclasses set ``name``, ``description``, ``params`` and implement ``_evaluate``."""

    name: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    #: extra metric names this accelerator reports beyond the common ones
    extra_metrics: tuple[str, ...] = ()

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
        return {p.name: p.coerce(values.get(p.name, p.default)) for p in self.params}

    # ---- resource budgets, for iso-resource comparisons ------------------------------------------
    #: resource → parameter that sets it directly (``macs`` is also reachable through rows/cols/lanes)
    BUDGET_PARAMS = {"buffer": "glb_kib", "bandwidth": "dram_gbps", "clock": "clock_mhz", "macs": "macs"}

    def budget(self, p: Mapping[str, np.ndarray]) -> dict[str, float]:
        """This design's resources: peak MACs/cycle, buffer KiB, DRAM GB/s, clock MHz (those it has)."""
        out: dict[str, float] = {}
        if "macs" in p:
            out["macs"] = float(np.asarray(p["macs"]))
        elif "rows" in p and "cols" in p:
            out["macs"] = float(np.asarray(p["rows"] * p["cols"] * p.get("lanes", 1)))
        for res, name in self.BUDGET_PARAMS.items():
            if res != "macs" and name in p:
                out[res] = float(np.asarray(p[name]))
        return out

    def matched(self, target: Mapping[str, float]) -> dict[str, Any]:
        """Parameter overrides giving this design the ``target`` resources where it can express them.

        MACs are matched through a ``macs`` parameter, else by setting ``cols`` (keeping rows and lanes).
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
                    out["cols"] = max(1, int(round(value / per_col)))
            elif self.BUDGET_PARAMS[res] in names:
                out[self.BUDGET_PARAMS[res]] = value
        return out

    def evaluate(self, workload: Workload, values: Mapping[str, Any] | None = None) -> Evaluation:
        """Evaluate ``workload`` at parameter values (scalars or arrays broadcastable to one shape)."""
        return self._evaluate(workload, self.resolve(values))

    def _evaluate(self, workload: Workload, p: dict[str, np.ndarray]) -> Evaluation:  # pragma: no cover
        raise NotImplementedError
