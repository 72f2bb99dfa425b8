"""The sweep spec: a declared TOML schema, parsed into frozen dataclasses and validated as a whole.

Every check runs before anything is written or evaluated; the first failure raises
:class:`~dse.errors.InputError` naming the field (dotted path) and what is allowed, in one line.
The checks against the accelerator and workload (parameter names, ranges, metric names) live in
:mod:`dse.search.space`, which :func:`load_spec` calls last.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dse.errors import InputError, choice_error
from dse.search import samplers

DEFAULT_SAMPLER = "nsga2"
AGGREGATES = ("mean", "max")
DIRECTIONS = ("minimize", "maximize")
WORKLOAD_DIMS = ("resolution", "frames")
TOP_KEYS = (
    "study", "description", "accelerator", "sampler", "trials", "seed", "results_dir",
    "workload", "objectives", "space", "constraints", "baselines", "uncertainty",
)  # fmt: skip
UNCERTAINTY_KEYS = ("samples", "search_samples", "seed", "file")
#: architecture overrides ``[workload]`` takes (as `rtsa-dse workloads show` and `eval` do)
WORKLOAD_ARCH_KEYS = ("depth", "dim", "heads", "mlp_ratio", "patch", "tubelet", "window", "attention")
WORKLOAD_KEYS = ("model", "resolution", "frames", "resolutions", "weights", "aggregate", "sparsity",
                 *WORKLOAD_ARCH_KEYS)  # fmt: skip
RANGE_KEYS = ("low", "high", "step", "log", "points")
SPECIAL_CONSTRAINTS = {"fpga_fit": ("fpga_fits", "min", 1.0), "max_accuracy_drop": ("accuracy_drop", "max", None)}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: documented maxima of a spec (beyond them a study is not practical, or numbers lose meaning)
MAX_TRIALS = 10_000_000
MAX_POINTS = 100_000  # values of one discretised range (``points``, or a ``step`` range)
MAX_CHOICES = 10_000
MAX_DIMENSIONS = 256
MAX_SPEC_BYTES = 1 << 20
MAX_SEED = 2**32 - 1  # numpy's and optuna's seeds are 32-bit

Resolution = int | tuple[int, int]
_IF_SET = {"identity": "if-set"}  # a study's identity holds the field only when it differs from its default
_NOT_IDENTITY = {"identity": False}


@dataclass(frozen=True)
class Dimension:
    """One parameter of the design space: ``fixed`` value, ``int``/``float`` range, or ``choice``."""

    name: str
    kind: str  # fixed | int | float | choice
    value: Any = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    points: int | None = None
    choices: tuple[Any, ...] = ()
    #: a fixed value that differs per point of a resolution mix (a ``{ video = … }`` knob measured at each
    #: resolution); ``value`` is then their weighted mean, for display
    per_point: tuple[float, ...] = field(default=(), metadata=_IF_SET)

    @property
    def searched(self) -> bool:
        return self.kind != "fixed"


@dataclass(frozen=True)
class Scenario:
    """The workload: one (resolution, frames) point, or a weighted mix of them (battery scenario)."""

    model: str
    resolutions: tuple[Resolution | None, ...] = (None,)
    frames: tuple[int | None, ...] = (None,)
    weights: tuple[float, ...] = (1.0,)
    aggregate: str = "mean"
    #: architecture overrides of the model (``depth = 8``…), as sorted (key, value) pairs
    overrides: tuple[tuple[str, Any], ...] = field(default=(), metadata=_IF_SET)
    #: per-layer sparsity table (a CSV path as written in the spec)
    sparsity: str | None = field(default=None, metadata=_IF_SET)
    #: SHA-256 of the model file and sparsity table the spec names (a study's identity follows their content)
    digests: tuple[str, ...] = field(default=(), metadata=_IF_SET)
    #: folder that relative paths in the spec are relative to (the spec's own folder)
    base_dir: str = field(default="", compare=False, metadata=_NOT_IDENTITY)

    @property
    def is_mix(self) -> bool:
        return len(self.resolutions) > 1

    @property
    def model_ref(self) -> str:
        """What :func:`dse.workloads.build` takes: the zoo name, or the model file's absolute path."""
        from dse.workloads import is_model_file
        from dse.workloads.models import resolve_path

        if not is_model_file(self.model):
            return self.model
        return str(resolve_path(self.model, self.base_dir or None, "workload.model"))

    def build_options(self, explicit: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
        """Keyword options of :func:`dse.workloads.build`: the overrides and the sparsity table, whose delta
        (attention) values give way where ``explicit`` names ``sparsity_linear`` (``sparsity_attention``)."""
        out: dict[str, Any] = dict(self.overrides)
        if self.sparsity is not None:
            from dse.sparsity.table import SparsityRef
            from dse.workloads.models import resolve_path

            path = str(resolve_path(self.sparsity, self.base_dir or None, "workload.sparsity"))
            out["sparsity"] = SparsityRef(path, "sparsity_linear" not in explicit, "sparsity_attention" not in explicit)
        return out

    def files(self) -> list[Path]:
        """The model file and sparsity table the scenario reads (to keep with a study's results)."""
        from dse.workloads import is_model_file
        from dse.workloads.models import resolve_path

        refs = [r for r in (self.model if is_model_file(self.model) else None, self.sparsity) if r]
        return [resolve_path(r, self.base_dir or None) for r in refs]


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str = "minimize"
    #: hypervolume reference value in the metric's unit (else normalised objectives are used)
    reference: float | None = None
    #: over a resolution mix: ``mean`` (weighted) or ``max`` (worst case) of this objective, overriding
    #: ``workload.aggregate`` (mean energy with worst-case latency, for a battery scenario)
    aggregate: str | None = field(default=None, metadata=_IF_SET)
    #: optimise this quantile of the metric over the declared uncertainty (``[uncertainty] search_samples``
    #: joint samples per design; :mod:`dse.search.robust`) instead of its nominal value
    quantile: float | None = field(default=None, metadata=_IF_SET)

    @property
    def column(self) -> str:
        """The objective's column: the metric, or ``metric@qNN`` for a quantile (``latency_s@q90``)."""
        return self.metric if self.quantile is None else f"{self.metric}@q{self.quantile * 100:g}"


@dataclass(frozen=True)
class Constraint:
    """``metric <= bound`` (sense ``max``) or ``metric >= bound`` (``min``); ``name`` labels the column."""

    name: str
    metric: str
    sense: str
    bound: float

    def violation(self, value):
        """Relative violation (≤ 0 feasible), the value optuna's samplers see."""
        scale = abs(self.bound) if self.bound != 0 else 1.0
        return (value - self.bound) / scale if self.sense == "max" else (self.bound - value) / scale


@dataclass(frozen=True)
class Baseline:
    label: str
    accelerator: str
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class UncertaintySettings:
    """``[uncertainty]``: Monte Carlo samples of the robust front (``samples``) and per design of a quantile
    objective (``search_samples``), their ``seed`` (default: the spec's) and a declared-uncertainty override
    ``file`` (TOML, relative to the spec; see :mod:`dse.uncertainty.declared`). ``samples = 0`` skips the
    robust front."""

    samples: int = 500
    search_samples: int = 64
    seed: int | None = None
    file: str | None = None


@dataclass(frozen=True)
class Spec:
    """A validated sweep spec (see ``sweeps/*.toml`` and the README for the format)."""

    study: str
    accelerator: str
    scenario: Scenario
    objectives: tuple[Objective, ...]
    space: tuple[Dimension, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    sampler: str = DEFAULT_SAMPLER
    sampler_options: tuple[tuple[str, Any], ...] = ()
    trials: int = 0
    seed: int = 0
    results_dir: str | None = None
    baselines: tuple[Baseline, ...] = ()
    #: the spec has a ``baselines`` key: ``baselines = []`` means none (absent: commands' default set)
    baselines_given: bool = field(default=False, compare=False)
    #: command-line options that replaced spec fields (``--trials 80`` → ``("trials", 80)``), for the record
    overrides: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    description: str = ""
    source: str = field(default="", compare=False, repr=False)
    path: str = field(default="", compare=False)
    #: the Monte Carlo settings of the robust front and of quantile objectives (``[uncertainty]``)
    uncertainty: UncertaintySettings = field(default_factory=lambda: UncertaintySettings())

    @property
    def searched(self) -> tuple[Dimension, ...]:
        return tuple(d for d in self.space if d.searched)

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.space if d.name == name), None)

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.sampler_options).get(key, default)

    def identity(self) -> dict[str, Any]:
        """What a resumed study must share with the stored one (everything but count, sampler, paths)."""
        return {
            "accelerator": self.accelerator,
            "workload": _plain(self.scenario),
            "objectives": [_plain(o) for o in self.objectives],
            "space": [_plain(d) for d in self.space],
            "constraints": [_plain(c) for c in self.constraints],
        }


def _plain(obj: Any) -> Any:
    """Dataclass → JSON-friendly dict (tuples → lists), for the stored identity."""
    if hasattr(obj, "__dataclass_fields__"):
        out = {}
        for k, f in obj.__dataclass_fields__.items():
            how = f.metadata.get("identity", True)
            v = getattr(obj, k)
            if how is False or (how == "if-set" and v == f.default):
                continue
            out[k] = _plain(v)
        return out
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# typed field readers: each raises InputError(field, "...") in one line


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


def _want(value: Any, field_: str, kind: str) -> Any:
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "table": isinstance(value, dict),
        "array": isinstance(value, list),
    }[kind]
    if not ok:
        article = "an" if kind[0] in "aeiou" else "a"
        raise InputError(field_, f"expected {article} {kind}, got {_type_name(value)} {value!r}")
    if kind == "number" and not math.isfinite(value):
        raise InputError(field_, f"must be finite, got {value!r}")
    return value


def _known_keys(table: dict[str, Any], allowed: tuple[str, ...] | list[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise InputError(
                name, f"unknown key; allowed{' in [' + where + ']' if where else ''}: {', '.join(allowed)}"
            )


def _positive_int(value: Any, field_: str, minimum: int = 1) -> int:
    _want(value, field_, "integer")
    if value < minimum:
        raise InputError(field_, f"must be an integer ≥ {minimum}, got {value}")
    return value


def _seed(value: Any, field_: str) -> int:
    _want(value, field_, "integer")
    if not 0 <= value <= MAX_SEED:
        raise InputError(field_, f"must be an integer in [0, {MAX_SEED}], got {value}")
    return value


def _resolution(value: Any, field_: str) -> Resolution:
    """``224`` or ``[H, W]`` (positive integers)."""
    if isinstance(value, list):
        if len(value) != 2:
            raise InputError(field_, f"expected R or [H, W], got {value!r}")
        return (_positive_int(value[0], field_), _positive_int(value[1], field_))
    return _positive_int(value, field_)


# ---------------------------------------------------------------------------------------------
# sections


def _scenario(table: Any, base_dir: str = "") -> Scenario:
    """``[workload]``: the model (zoo name, model file or ONNX graph, paths relative to the spec's folder),
    its architecture overrides, a per-layer sparsity table, and the (resolution, frames) point or mix."""
    from dataclasses import replace

    from dse.workloads import is_model_file
    from dse.workloads.models import file_digest, resolve_path

    _want(table, "workload", "table")
    _known_keys(table, WORKLOAD_KEYS, "workload")
    rest = {k: v for k, v in table.items() if k not in WORKLOAD_ARCH_KEYS and k != "sparsity"}
    sc = _scenario_points(rest)
    overrides = []
    for key in WORKLOAD_ARCH_KEYS:
        if key not in table:
            continue
        where = f"workload.{key}"
        v = table[key]
        if key == "mlp_ratio":
            v = float(_want(v, where, "number"))
            if v <= 0:
                raise InputError(where, f"must be > 0, got {v!r}")
        elif key == "attention":
            v = _want(v, where, "string")
        elif key == "window" and isinstance(v, list):
            if len(v) != 3:
                raise InputError(where, f"expected a side or [t, h, w], got {v!r}")
            v = tuple(_positive_int(x, where) for x in v)
        else:
            v = _positive_int(v, where)
        overrides.append((key, v))
    digests = []
    if is_model_file(sc.model):
        digests.append(file_digest(resolve_path(sc.model, base_dir or None, "workload.model")))
    sparsity = None
    if "sparsity" in table:
        sparsity = _want(table["sparsity"], "workload.sparsity", "string")
        digests.append(file_digest(resolve_path(sparsity, base_dir or None, "workload.sparsity")))
    return replace(sc, overrides=tuple(overrides), sparsity=sparsity, digests=tuple(digests), base_dir=base_dir)


def _scenario_points(table: dict[str, Any]) -> Scenario:
    if "model" not in table:
        raise InputError("workload.model", "missing; name a model of `rtsa-dse workloads`")
    model = _want(table["model"], "workload.model", "string")
    aggregate = _want(table.get("aggregate", "mean"), "workload.aggregate", "string")
    if aggregate not in AGGREGATES:
        raise choice_error("workload.aggregate", aggregate, AGGREGATES)
    if "resolutions" not in table:
        for key in ("weights", "aggregate"):
            if key in table:
                raise InputError(f"workload.{key}", "only with a resolution mix (workload.resolutions)")
        res = _resolution(table["resolution"], "workload.resolution") if "resolution" in table else None
        frames = _positive_int(table["frames"], "workload.frames") if "frames" in table else None
        return Scenario(model, (res,), (frames,))
    if "resolution" in table:
        raise InputError("workload.resolution", "give either resolution (one) or resolutions (a mix), not both")
    raw = _want(table["resolutions"], "workload.resolutions", "array")
    if not raw:
        raise InputError("workload.resolutions", "empty; give one or more resolutions")
    res_mix = tuple(_resolution(r, "workload.resolutions") for r in raw)
    if len(set(res_mix)) != len(res_mix) and "frames" not in table:
        raise InputError("workload.resolutions", f"duplicate entries in {raw!r}")
    k = len(res_mix)
    if isinstance(table.get("frames"), list) and len(table["frames"]) == k:
        pairs = list(zip(res_mix, table["frames"], strict=True))
        dup = next((pr for i, pr in enumerate(pairs) if pr in pairs[:i]), None)
        if dup is not None:
            raise InputError(
                "workload.resolutions", f"duplicate (resolution, frames) point {dup!r}; merge their weights"
            )
    elif len(set(res_mix)) != len(res_mix):
        raise InputError("workload.resolutions", f"duplicate entries in {raw!r} (the same frames for each)")
    frames_raw = table.get("frames")
    if frames_raw is None:
        frames_mix: tuple[int | None, ...] = (None,) * k
    elif isinstance(frames_raw, list):
        if len(frames_raw) != k:
            raise InputError("workload.frames", f"expected {k} values (one per resolution), got {len(frames_raw)}")
        frames_mix = tuple(_positive_int(f, "workload.frames") for f in frames_raw)
    else:
        frames_mix = (_positive_int(frames_raw, "workload.frames"),) * k
    weights_raw = table.get("weights", [1.0] * k)
    _want(weights_raw, "workload.weights", "array")
    if len(weights_raw) != k:
        raise InputError("workload.weights", f"expected {k} weights (one per resolution), got {len(weights_raw)}")
    weights = [float(_want(w, "workload.weights", "number")) for w in weights_raw]
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InputError("workload.weights", f"must be ≥ 0 with a positive sum, got {weights_raw!r}")
    total = sum(weights)
    return Scenario(model, res_mix, frames_mix, tuple(w / total for w in weights), aggregate)


def _objectives(table: Any) -> tuple[Objective, ...]:
    _want(table, "objectives", "table")
    if not table:
        raise InputError("objectives", 'empty; give at least one `metric = "minimize"|"maximize"`')
    out = []
    for metric, spec in table.items():
        where = f"objectives.{metric}"
        reference = aggregate = quantile = None
        if isinstance(spec, dict):
            _known_keys(spec, ("direction", "reference", "aggregate", "quantile"), where)
            if "quantile" in spec:
                quantile = float(_want(spec["quantile"], f"{where}.quantile", "number"))
                if not 0.0 < quantile < 1.0 or round(quantile * 100, 6) != round(quantile * 100):
                    raise InputError(f"{where}.quantile", f"a percentile in (0, 1) in steps of 0.01, got {quantile!r}")
            direction = _want(spec.get("direction", "minimize"), f"{where}.direction", "string")
            if "reference" in spec:
                reference = float(_want(spec["reference"], f"{where}.reference", "number"))
            if "aggregate" in spec:
                aggregate = _want(spec["aggregate"], f"{where}.aggregate", "string")
                if aggregate not in AGGREGATES:
                    raise choice_error(f"{where}.aggregate", aggregate, AGGREGATES)
        else:
            direction = _want(spec, where, "string")
        if direction not in DIRECTIONS:
            raise choice_error(where, direction, DIRECTIONS)
        out.append(Objective(metric, direction, reference, aggregate, quantile))
    return tuple(out)


def _dimension(name: str, raw: Any) -> Dimension:
    where = f"space.{name}"
    if isinstance(raw, list):
        raw = {"choices": raw}
    if not isinstance(raw, dict):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise InputError(where, f"must be finite, got {raw!r}")
        return Dimension(name, "fixed", value=raw)
    _known_keys(raw, ("value", "choices", *RANGE_KEYS), where)
    if "value" in raw:
        if len(raw) > 1:
            raise InputError(where, "a fixed `value` takes no other keys")
        return _dimension(name, raw["value"])
    if "choices" in raw:
        if len(raw) > 1:
            raise InputError(where, f"`choices` takes no range keys ({', '.join(RANGE_KEYS)})")
        choices = _want(raw["choices"], f"{where}.choices", "array")
        if not choices:
            raise InputError(f"{where}.choices", "empty; give at least one value")
        if len(choices) > MAX_CHOICES:
            raise InputError(f"{where}.choices", f"{len(choices)} values; at most {MAX_CHOICES}")
        nested = next((c for c in choices if isinstance(c, list | dict)), None)
        if nested is not None:
            raise InputError(f"{where}.choices", f"takes plain values (numbers, strings, booleans), got {nested!r}")
        if len({repr(c) for c in choices}) != len(choices):
            raise InputError(f"{where}.choices", f"duplicate values in {choices!r}")
        if len({type(c) if not isinstance(c, int | float) or isinstance(c, bool) else float for c in choices}) > 1:
            raise InputError(f"{where}.choices", f"mixed types in {choices!r}")
        return Dimension(name, "choice", choices=tuple(choices))
    for key in ("low", "high"):
        if key not in raw:
            raise InputError(f"{where}.{key}", "missing; a range needs low and high (or use choices / a fixed value)")
    low = _want(raw["low"], f"{where}.low", "number")
    high = _want(raw["high"], f"{where}.high", "number")
    log = _want(raw.get("log", False), f"{where}.log", "boolean")
    step = _want(raw["step"], f"{where}.step", "number") if "step" in raw else None
    points = _positive_int(raw["points"], f"{where}.points", 2) if "points" in raw else None
    if points is not None and points > MAX_POINTS:
        raise InputError(f"{where}.points", f"at most {MAX_POINTS}, got {points}")
    if low >= high:
        raise InputError(where, f"empty or inverted range: low={low!r} must be < high={high!r}")
    if step is not None:
        if step <= 0:
            raise InputError(f"{where}.step", f"must be > 0, got {step!r}")
        if log:
            raise InputError(where, "step and log exclude each other")
        if points is not None:
            raise InputError(where, "step and points exclude each other")
        n = (high - low) / step
        if abs(n - round(n)) > 1e-9 * max(1.0, abs(n)):
            raise InputError(f"{where}.step", f"high - low = {high - low:g} is not a multiple of step {step:g}")
    if log and low <= 0:
        raise InputError(f"{where}.low", f"a log range needs low > 0, got {low!r}")
    is_int = all(isinstance(v, int) for v in (low, high)) and (step is None or isinstance(step, int))
    return Dimension(name, "int" if is_int else "float", low=low, high=high, step=step, log=log, points=points)


def _space(table: Any) -> tuple[Dimension, ...]:
    _want(table, "space", "table")
    if len(table) > MAX_DIMENSIONS:
        raise InputError("space", f"{len(table)} parameters; at most {MAX_DIMENSIONS}")
    return tuple(_dimension(name, raw) for name, raw in table.items())


def _constraints(table: Any) -> tuple[Constraint, ...]:
    _want(table, "constraints", "table")
    out = []
    for key, raw in table.items():
        where = f"constraints.{key}"
        if key == "fpga_fit":
            if _want(raw, where, "boolean"):
                out.append(Constraint("fpga_fit", "fpga_fits", "min", 1.0))
            continue
        if key == "max_accuracy_drop":
            bound = float(_want(raw, where, "number"))
            out.append(Constraint("max_accuracy_drop", "accuracy_drop", "max", bound))
            continue
        if not isinstance(raw, dict):
            raise InputError(where, f"expected a table {{ max = … }} and/or {{ min = … }}, got {raw!r}")
        _known_keys(raw, ("max", "min"), where)
        if not raw:
            raise InputError(where, "empty; give max and/or min")
        for sense in ("max", "min"):
            if sense in raw:
                bound = float(_want(raw[sense], f"{where}.{sense}", "number"))
                out.append(Constraint(f"{key}_{sense}", key, sense, bound))
        if "max" in raw and "min" in raw and raw["min"] > raw["max"]:
            raise InputError(where, f"min={raw['min']!r} > max={raw['max']!r}: no value is feasible")
        if "max" in raw and raw["max"] < 0 and _never_negative(key):
            raise InputError(
                f"{where}.max", f"{key} is never negative, so max={raw['max']!r} leaves no design feasible"
            )
    return tuple(out)


def _never_negative(metric: str) -> bool:
    """The metrics the schema declares are times, energies, areas, counts, shares and ratios, all ≥ 0 (an
    accuracy drop, an estimate, is left out)."""
    from dse.metrics import is_declared

    base = metric.partition("@")[0]
    return is_declared(base) and base != "accuracy_drop"


def _sampler(raw: Any) -> tuple[str, tuple[tuple[str, Any], ...]]:
    if isinstance(raw, str):
        raw = {"name": raw}
    _want(raw, "sampler", "table")
    name = _want(raw.get("name", DEFAULT_SAMPLER), "sampler.name", "string")
    allowed = samplers.get(name).options  # the sampler registry: one row per sampler
    _known_keys(raw, ("name", *allowed), "sampler")
    opts = []
    for key, value in raw.items():
        if key == "name":
            continue
        opt = allowed[key]
        kind = {int: "integer", float: "number", bool: "boolean", str: "string"}[opt.type]
        _want(value, f"sampler.{key}", kind)
        if opt.choices and value not in opt.choices:
            raise choice_error(f"sampler.{key}", value, opt.choices)
        if opt.low is not None and opt.high is not None and not opt.low <= value <= opt.high:
            raise InputError(f"sampler.{key}", f"must be in [{opt.low:g}, {opt.high:g}], got {value}")
        if opt.low is not None and value < opt.low:
            raise InputError(f"sampler.{key}", f"must be ≥ {opt.low:g}, got {value}")
        opts.append((key, value))
    return name, tuple(opts)


def _uncertainty(raw: Any, base_dir: str = "") -> UncertaintySettings:
    _want(raw, "uncertainty", "table")
    _known_keys(raw, UNCERTAINTY_KEYS, "uncertainty")
    out = UncertaintySettings()
    if "samples" in raw:
        out = replace(out, samples=_positive_int(raw["samples"], "uncertainty.samples", 0))
    if "search_samples" in raw:
        out = replace(out, search_samples=_positive_int(raw["search_samples"], "uncertainty.search_samples", 2))
    if "seed" in raw:
        out = replace(out, seed=_want(raw["seed"], "uncertainty.seed", "integer"))
    if "file" in raw:
        path = Path(_want(raw["file"], "uncertainty.file", "string"))
        if not path.is_absolute() and base_dir:
            path = Path(base_dir) / path
        from dse.uncertainty.declared import load_overrides

        try:
            load_overrides(path)  # checked with the rest of the spec, before anything runs
        except InputError as err:
            raise InputError("uncertainty.file", str(err).split(": ", 1)[1]) from None
        out = replace(out, file=str(path))
    return out


def baseline_label(accelerator: str, params: dict[str, Any] | None = None) -> str:
    """The label of a baseline given without ``name``: ``NAME:PRESET`` where the accelerator at ``params`` is one
    of its presets (``gpu`` → ``gpu:h100``, :func:`dse.accelerators.label`), else the text as written."""
    from dse import accelerators

    try:
        return accelerators.label(accelerators.get(accelerator), params or {})
    except InputError:
        return accelerator  # validated (with the allowed names) when the spec is checked


def _baselines(raw: Any) -> tuple[Baseline, ...]:
    _want(raw, "baselines", "array")
    out = []
    for i, item in enumerate(raw):
        where = f"baselines[{i}]"
        if isinstance(item, str):
            out.append(Baseline(baseline_label(item), item))
            continue
        _want(item, where, "table")
        _known_keys(item, ("name", "accelerator", "params"), where)
        if "accelerator" not in item:
            raise InputError(f"{where}.accelerator", "missing")
        acc = _want(item["accelerator"], f"{where}.accelerator", "string")
        params = _want(item.get("params", {}), f"{where}.params", "table")
        label = _want(item["name"], f"{where}.name", "string") if "name" in item else baseline_label(acc, params)
        out.append(Baseline(label, acc, tuple(params.items())))
    labels = [b.label for b in out]
    if len(set(labels)) != len(labels):
        raise InputError("baselines", f"duplicate names in {labels!r}; give each a distinct `name`")
    return tuple(out)


VIDEO_KEYS = ("video", "threshold", "level", "max_frames", "stride")


def _resolve_video_knobs(space: Any, scenario: Scenario) -> tuple[Any, dict[str, tuple[float, ...]]]:
    """``knob = { video = "bikes", threshold = 4 }`` → the delta sparsity measured on that clip.

    The measurement is ``rtsa-dse profile-video`` (:func:`dse.video.delta_sparsity`) at the scenario's
    resolution (the model's default when unset), at the model's patch size and between frames ``stride``
    apart (default: the gap the model sees, its tubelet × sampling interval). A resolution mix uses each
    resolution's own value (returned per knob as the second item; the knob's value is their weighted mean).
    """
    if not isinstance(space, dict):
        return space, {}
    out = dict(space)
    per_point: dict[str, tuple[float, ...]] = {}
    for name, raw in space.items():
        if not (isinstance(raw, dict) and "video" in raw):
            continue
        where = f"space.{name}"
        _known_keys(raw, VIDEO_KEYS, where)
        from dse.video import delta_sparsity
        from dse.workloads.models import load_model

        try:
            model = load_model(scenario.model, scenario.base_dir or None, "workload.model",
                               **dict(scenario.overrides)).spec  # fmt: skip
        except InputError as err:
            raise InputError(f"workload.{err.field}" if "." not in err.field else err.field,
                             str(err).split(": ", 1)[1]) from None  # fmt: skip
        res = [model.resolution if r is None else (min(r) if isinstance(r, tuple) else r) for r in scenario.resolutions]
        stride = _positive_int(raw.get("stride", model.tubelet * model.frame_interval), f"{where}.stride")
        try:
            vals = [
                float(delta_sparsity(r, threshold=float(raw.get("threshold", 4.0)), clip=str(raw["video"]),
                                     patch=model.patch, level=str(raw.get("level", "element")),
                                     max_frames=int(raw.get("max_frames", 64)),
                                     stride=stride))
                for r in res
            ]  # fmt: skip
        except InputError as err:
            raise InputError(where, str(err)) from None
        except (TypeError, ValueError) as err:
            raise InputError(where, f"bad video knob: {err}") from None
        out[name] = float(np.average(vals, weights=scenario.weights))
        if scenario.is_mix:
            per_point[name] = tuple(vals)
    return out, per_point


def parse_spec(data: dict[str, Any], *, source: str = "", path: str = "", base_dir: str = "") -> Spec:
    """Turn a parsed TOML document into a :class:`Spec` (schema checks only, no accelerator)."""
    _known_keys(data, TOP_KEYS, "")
    for key in ("study", "accelerator", "workload", "objectives"):
        if key not in data:
            raise InputError(key, "missing (required keys: study, accelerator, workload, objectives, trials)")
    study = _want(data["study"], "study", "string")
    if not _NAME_RE.match(study):
        raise InputError("study", f"{study!r}: use letters, digits, '_', '-', '.' (a directory name)")
    sampler, options = _sampler(data.get("sampler", DEFAULT_SAMPLER))
    if "trials" in data:
        trials = _positive_int(data["trials"], "trials")
        if trials > MAX_TRIALS:
            raise InputError("trials", f"at most {MAX_TRIALS:,}, got {trials:,}")
    elif sampler == "grid":
        trials = 0
    else:
        raise InputError("trials", "missing; the number of completed trials to reach")
    base_dir = base_dir or (str(Path(path).resolve().parent) if path else "")
    scenario = _scenario(data["workload"], base_dir)
    resolved, per_point = _resolve_video_knobs(data.get("space", {}), scenario)
    space = tuple(
        Dimension(d.name, d.kind, value=d.value, per_point=per_point[d.name]) if d.name in per_point else d
        for d in _space(resolved)
    )
    objectives = _objectives(data["objectives"])
    if len({o.metric for o in objectives}) != len(objectives):
        raise InputError("objectives", "duplicate metric")
    return Spec(
        study=study,
        accelerator=_want(data["accelerator"], "accelerator", "string"),
        scenario=scenario,
        objectives=objectives,
        space=space,
        constraints=_constraints(data.get("constraints", {})),
        sampler=sampler,
        sampler_options=options,
        trials=trials,
        seed=_seed(data.get("seed", 0), "seed"),
        results_dir=_want(data["results_dir"], "results_dir", "string") if "results_dir" in data else None,
        baselines=_baselines(data.get("baselines", [])),
        baselines_given="baselines" in data,
        description=_want(data.get("description", ""), "description", "string"),
        source=source,
        path=path,
        uncertainty=_uncertainty(data.get("uncertainty", {}), base_dir),
    )


OVERRIDES_HEADER = "# rtsa-dse sweep overrides:"
_TOP_KEY = re.compile(r"^(study|trials|sampler|seed|results_dir)\s*=")


def overrides_text(overrides: tuple[tuple[str, Any], ...]) -> str:
    """``--trials 80 --sampler tpe`` from recorded overrides ("" when there are none)."""
    return " ".join(f"--{k.replace('_', '-')} {v}" for k, v in overrides)


def effective_source(spec: Spec) -> str:
    """The spec's text as it ran: top-level ``study``, ``trials``, ``sampler`` and ``seed`` replaced by their
    command-line overrides (a ``[sampler]`` table replaced by the overriding name), under a header comment
    naming the overrides. Without overrides, the text as written. Re-reading it gives the same spec."""
    if not spec.overrides:
        return spec.source
    changed = dict(spec.overrides)
    lines = spec.source.splitlines()
    out: list[str] = []
    table = ""
    seen: set[str] = set()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):  # a table or an array of tables: keys below it are not top-level
            table = stripped.strip("[] ").split("]")[0].strip()
        if table == "sampler" and "sampler" in changed:
            out.append(f"# (overridden) {line}" if stripped else line)  # the overriding sampler takes no options
            continue
        m = _TOP_KEY.match(line) if not table else None
        if m and m.group(1) in changed:
            seen.add(m.group(1))
            out.append(f"{m.group(1)} = {_toml_value(changed[m.group(1)])}  # overridden; the spec said: "
                       f"{line.split('=', 1)[1].strip()}")  # fmt: skip
            continue
        out.append(line)
    head = [f"{OVERRIDES_HEADER} {overrides_text(spec.overrides)}"]
    head += [f"{k} = {_toml_value(v)}  # set on the command line" for k, v in spec.overrides if k not in seen]
    return "\n".join(head + out) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v).lower() if isinstance(v, bool) else str(v)


def read_spec(path: str | Path) -> Spec:
    """Read and schema-check a TOML spec file (no accelerator checks: see :func:`load_spec`)."""
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_SPEC_BYTES:
            raise InputError("spec", f"{p} is {p.stat().st_size:,} bytes; a spec is at most {MAX_SPEC_BYTES:,}")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("spec", f"file not found: {p}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as err:
        raise InputError("spec", f"cannot read {p}: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError("spec", f"{p}: invalid TOML: {err}") from None
    except RecursionError:
        raise InputError("spec", f"{p}: arrays or tables nested too deeply") from None
    return parse_spec(data, source=text, path=str(p))


def load_spec(path: str | Path, **overrides: Any):
    """Read, schema-check and validate a spec against its accelerator → :class:`~dse.search.space.Problem`.

    ``overrides`` (``study``, ``trials``, ``sampler``, ``seed``, ``results_dir``) replace spec fields
    (the CLI's options) before validation.
    """
    from dataclasses import replace

    from dse.search.space import Problem

    spec = read_spec(path)
    changes = {k: v for k, v in overrides.items() if v is not None}
    if "study" in changes and not _NAME_RE.match(changes["study"]):
        raise InputError("--study", f"{changes['study']!r}: use letters, digits, '_', '-', '.'")
    if "sampler" in changes:
        samplers.get(changes["sampler"], "--sampler")
        if changes["sampler"] != spec.sampler:
            changes["sampler_options"] = ()
    if "trials" in changes and not 1 <= changes["trials"] <= MAX_TRIALS:
        raise InputError("--trials", f"must be in [1, {MAX_TRIALS:,}], got {changes['trials']:,}")
    if "seed" in changes:
        _seed(changes["seed"], "--seed")
    recorded = tuple((k, v) for k, v in changes.items() if k != "sampler_options" and getattr(spec, k) != v)
    spec = replace(spec, **changes, overrides=recorded)
    if spec.sampler != "grid" and spec.trials < 1:
        raise InputError("trials", "missing; the number of completed trials to reach")
    return Problem(spec)
