"""A sweep's results directory as data: trials, front, spec copy, study, baselines and re-evaluations.

``results/<study>/`` holds ``trials.csv``, ``pareto.csv``, ``spec.toml`` (the spec copy) and, with the
default storage, ``study.journal`` (see :mod:`dse.search.export` and :mod:`dse.search.storage`).
Everything the figures re-evaluate (baselines, breakdowns, resolution scaling) runs on the study's
workload scenario: one (resolution, frames) point or the weighted resolution mix of the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from dse import accelerators
from dse.errors import InputError
from dse.metrics import ALIASES
from dse.search.pareto import minimization_form
from dse.search.results_schema import (
    COLUMNS,
    COMPLETE,
    CONSTRAINT_PREFIX,
    JOURNAL_FILE,
    NON_METRIC_COLUMNS,
    PARETO,
    SPEC_FILE,
    STUDY,
    TRIALS,
    find_table,
    read_checked,
)
from dse.search.spec import Baseline, Spec, baseline_label, parse_spec, read_spec
from dse.workloads import STAGES, build

DEFAULT_BASELINES = ("vitcod", "heatvit", "cpu:xeon16", "gpu:h100")
#: what the report matches a baseline to: the design's peak MAC rate (MACs × clock), buffer and DRAM bandwidth
MATCHED_RESOURCES = ("macs", "buffer", "bandwidth")
SCALING_RESOLUTIONS = (112, 160, 224, 320, 448)
#: an FPGA design's resource shares (of the device's budget), shown instead of mm²
FPGA_USE = ("dsp_util", "bram_util", "lut_util")


@dataclass(frozen=True)
class Point:
    """One workload point of the scenario, with its weight in the mix."""

    resolution: int | tuple[int, int] | None
    frames: int | None
    weight: float


@dataclass
class Breakdown:
    """One design evaluated on the scenario: latency (s) by stage, energy (J) by component."""

    label: str
    accelerator: str
    stage_latency_s: dict[str, float]
    component_energy_j: dict[str, float]
    latency_s: float
    energy_j: float


@dataclass
class Results:
    """A loaded results directory (see :func:`load_results`)."""

    path: Path
    spec: Spec
    trials: pd.DataFrame
    pareto: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: the study's journal storage as opened by :func:`load_results` (reused by :meth:`load_study`: the
    #: journal is replayed once per load, not once per reader; it syncs with the file on every read)
    store: Any = field(default=None, repr=False, compare=False)

    # -- layout -----------------------------------------------------------------------------------

    @property
    def objectives(self) -> list[str]:
        return [o.metric for o in self.spec.objectives]

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.spec.objectives]

    def direction(self, metric: str) -> str:
        return next((o.direction for o in self.spec.objectives if o.metric == metric), "minimize")

    @property
    def params(self) -> list[str]:
        return [d.name for d in self.spec.space if d.name in self.trials.columns]

    @property
    def searched(self) -> list[str]:
        return [d.name for d in self.spec.searched if d.name in self.trials.columns]

    @cached_property
    def metrics(self) -> list[str]:
        """Numeric metric columns of ``trials`` (not params, constraints or bookkeeping)."""
        skip = NON_METRIC_COLUMNS | set(self.params)
        return [
            c
            for c in self.trials.columns
            if c not in skip and not c.startswith(CONSTRAINT_PREFIX) and pd.api.types.is_numeric_dtype(self.trials[c])
        ]

    def metric(self, name: str, field_: str) -> str:
        """A user's metric name (or alias) → the column; InputError listing the metrics otherwise."""
        col = ALIASES.get(name, name)
        if col not in self.metrics:
            aliases = [a for a, m in ALIASES.items() if m in self.metrics]
            raise InputError(field_, f"unknown metric {name!r}; allowed: {', '.join(self.metrics + aliases)}")
        return col

    @cached_property
    def complete(self) -> pd.DataFrame:
        """COMPLETE trials with numeric objectives (computed once: every panel of every figure reads it)."""
        df = self.trials[self.trials[COLUMNS.state] == COMPLETE]
        return df.dropna(subset=self.objectives)

    @cached_property
    def feasible(self) -> pd.DataFrame:
        df = self.complete
        return df[df[COLUMNS.feasible].astype(bool)]

    # -- scenario ---------------------------------------------------------------------------------

    @property
    def points(self) -> list[Point]:
        sc = self.spec.scenario
        return [Point(r, f, w) for r, f, w in zip(sc.resolutions, sc.frames, sc.weights, strict=True)]

    def scenario_text(self) -> str:
        """``deit-tiny, 224²`` / ``videomae-b, 16×224²`` / ``…, mix 112² 0.3 + 224² 0.7 (mean)``."""
        sc = self.spec.scenario
        model = self.model

        def one(res: Any, frames: int | None) -> str:
            if res is None:
                res = model.resolution
            size = f"{res}²" if isinstance(res, int) else f"{res[0]}×{res[1]}"
            frames = frames or model.frames
            return f"{frames}×{size}" if frames > 1 else size

        if not sc.is_mix:
            return f"{model.name}, {one(sc.resolutions[0], sc.frames[0])}"
        parts = " + ".join(f"{one(p.resolution, p.frames)} {p.weight:.2g}" for p in self.points)
        return f"{model.name}, mix {parts} ({sc.aggregate})"

    @property
    def model(self):
        """The study's model (zoo, model file or ONNX graph, with the spec's architecture overrides)."""
        from dse.workloads.models import load_model

        sc = self.spec.scenario
        return load_model(sc.model, sc.base_dir or None, "workload.model", **dict(sc.overrides)).spec

    def build(self, resolution=None, frames=None):
        """The study's workload at ``resolution`` and ``frames`` (with its sparsity table, if any)."""
        sc = self.spec.scenario
        return build(sc.model_ref, resolution, frames, **sc.build_options([d.name for d in self.spec.space]))

    def overrides_text(self) -> str:
        """The sweep's command-line overrides (``--trials 80 --sampler tpe``) as its spec copy records them."""
        from dse.search.spec import OVERRIDES_HEADER

        for line in self.spec.source.splitlines():
            if line.startswith(OVERRIDES_HEADER):
                return line[len(OVERRIDES_HEADER) :].strip()
        return ""

    @property
    def is_fpga(self) -> bool:
        """An FPGA design: its trials report DSP, BRAM and LUT use (shown instead of an ASIC area)."""
        return all(m in self.trials.columns for m in FPGA_USE)

    @property
    def size_metric(self) -> str:
        """What a design's size is shown as: the largest FPGA resource share, else the silicon area."""
        return "dsp_util" if self.is_fpga else "area_mm2"

    def fpga_use_text(self, row: pd.Series | dict) -> str:
        """``DSP 42 %, BRAM 17 %, LUT 63 %`` of a design (FPGA studies)."""
        names = {"dsp_util": "DSP", "bram_util": "BRAM", "lut_util": "LUT"}
        return ", ".join(f"{names[m]} {float(row[m]) * 100:.0f} %" for m in FPGA_USE if m in row and pd.notna(row[m]))

    @property
    def input_word(self) -> str:
        """What one input of the study is: ``clips`` (a video model, frames > 1) or ``images``."""
        sc = self.spec.scenario
        frames = [f for f in sc.frames if f is not None]
        if not frames:
            from dse.workloads.models import load_model

            try:
                frames = [load_model(sc.model, sc.base_dir or None).spec.frames]
            except InputError:
                frames = [1]
        return "clips" if max(frames) > 1 else "images"

    def title(self) -> str:
        return f"{self.spec.accelerator} · {self.scenario_text()}"

    # -- the stored study -------------------------------------------------------------------------

    @property
    def journal(self) -> Path:
        return self.path / JOURNAL_FILE

    def load_study(self, storage: str | None = None) -> optuna.Study | None:
        """The optuna study (journal in the directory, or ``storage``); None if there is none."""
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        if storage is None:
            if not self.journal.is_file():
                return None
            store: Any = self.store if self.store is not None else JournalStorage(JournalFileBackend(str(self.journal)))
        else:
            store = storage
        names = optuna.get_all_study_names(store)
        if not names:
            return None
        name = (
            self.path.name if self.path.name in names else (self.spec.study if self.spec.study in names else names[0])
        )
        return optuna.load_study(study_name=name, storage=store)

    def samplers_text(self, study: optuna.Study | None) -> str:
        """The sampler, or the samplers in order where a resumed run used another (``study``'s record)."""
        from dse.search.runner import samplers_used

        used = samplers_used(study) if study is not None else []
        return ", then ".join(used) if len(used) > 1 else self.spec.sampler

    # -- designs ----------------------------------------------------------------------------------

    def design_params(self, row: pd.Series | dict) -> dict[str, Any]:
        """The accelerator parameters (and workload dims) of a trial row, as plain Python values."""
        out = {}
        for name in self.params:
            v = row[name]
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and np.isnan(v):
                continue
            if isinstance(v, float) and v.is_integer() and self._int_param(name):
                v = int(v)
            out[name] = v
        return out

    def _int_param(self, name: str) -> bool:
        acc = accelerators.get(self.spec.accelerator)
        if name in ("resolution", "frames"):
            return True
        return any(p.name == name and p.kind == "int" for p in acc.params)

    def baselines(self, names: Sequence[str] | None = None) -> tuple[list[Baseline], list[str]]:
        """Baselines to show and notes on skipped ones: ``names``, else the spec's (``baselines = []``: none),
        else (no ``baselines`` key) the default set."""
        by_label = {b.label: b for b in self.spec.baselines}
        if names is None:
            given = self.spec.baselines_given  # `baselines = []` in the spec: none
            wanted = list(self.spec.baselines) if given else [Baseline(n, n) for n in DEFAULT_BASELINES]
        else:  # a spec label, else an accelerator name or NAME:PRESET, labelled by its preset (gpu → gpu:h100)
            wanted = [by_label.get(n) or Baseline(baseline_label(n), n) for n in names]
        keep, notes = [], []
        for b in wanted:
            try:
                accelerators.get(b.accelerator)
            except InputError as err:
                notes.append(f"baseline {b.label}: {str(err).split(': ', 1)[-1]}; skipped")
                continue
            keep.append(b)
        return keep, notes

    def matched_baselines(self, params: dict[str, Any], baselines: Sequence[Baseline],
                          resources: Sequence[str] = MATCHED_RESOURCES) -> list[tuple[Baseline, dict[str, Any]]]:  # fmt: skip
        """Each baseline re-configured with the design's ``resources`` (peak MAC rate, buffer, DRAM bandwidth;
        :func:`dse.compare.matched_values`), labelled ``LABEL matched``, with the overrides it took; a baseline
        that can express none of them is left out. A baseline keeping its own clock takes the MACs/cycle for the
        design's rate at the clock its spec entry sets (its published one if none)."""
        from dse.compare import matched_values

        acc = accelerators.get(self.spec.accelerator)
        design = acc.budget(acc.resolve({k: v for k, v in params.items() if k in {q.name for q in acc.params}}))
        out = []
        for b in baselines:
            base = accelerators.get(b.accelerator)
            own = base.resolve({k: v for k, v in b.params if k in {q.name for q in base.params}})
            over = matched_values(base, design, resources, own=own)
            if over:
                out.append((Baseline(f"{b.label} matched", b.accelerator, tuple({**dict(b.params), **over}.items())),
                            over))  # fmt: skip
        return out

    def evaluate_baselines(self, baselines: Sequence[Baseline]) -> pd.DataFrame:
        """One row per baseline on the study's scenario (aggregated over a mix like the trials)."""
        from dse.search.space import Problem

        if not baselines:
            return pd.DataFrame(columns=["baseline", "accelerator", "feasible"])
        # the sampler does not matter here (a gp spec would want torch installed just to validate)
        problem = Problem(replace(self.spec, baselines=tuple(baselines), sampler="random", sampler_options=()))
        return pd.DataFrame(problem.evaluate_baselines())

    def breakdown(self, label: str, accelerator: str, params: dict[str, Any]) -> Breakdown:
        """Stage latencies and component energies on the scenario, aggregated as the trials are
        (:mod:`dse.scenario`): a mix's weighted mean under ``mean``, its worst point under ``max``."""
        from dse import scenario as scn
        from dse.search.space import Problem

        problem = Problem(replace(self.spec, baselines=(), sampler="random", sampler_options=()))
        values = dict(params)
        res, frames = values.pop("resolution", None), values.pop("frames", None)
        result = scn.evaluate(accelerators.get(accelerator), problem.scenario, values, 1,
                              resolution=None if res is None else np.asarray([res]),
                              frames=None if frames is None else np.asarray([frames]))  # fmt: skip
        stages, comps = result.breakdown(0)
        stages = {s: stages.get(s, 0.0) for s in STAGES}
        lat = float(np.asarray(result.metrics["latency_s"]).reshape(-1)[0])
        energy = float(np.asarray(result.metrics["energy_j"]).reshape(-1)[0])
        return Breakdown(label, accelerator, stages, comps, lat, energy)

    def scaling(self, params: dict[str, Any], baselines: Sequence[Baseline],
                resolutions: Sequence[int] = SCALING_RESOLUTIONS) -> pd.DataFrame:  # fmt: skip
        """Per square resolution: the design's stage latencies and its speedup over each baseline."""
        model = self.model
        values = dict(params)
        values.pop("resolution", None)
        frames = values.pop("frames", None) or self.points[0].frames or model.frames
        ok = []
        for r in resolutions:
            try:
                self.build(r, frames)
            except InputError:
                continue
            ok.append(r)
        if not ok:  # a graph fixed at its own size (an ONNX export with static axes): that size alone
            ok = [self.points[0].resolution or model.resolution]
        res = np.asarray(ok)
        wl = self.build(res, frames)
        ev = accelerators.get(self.spec.accelerator).evaluate(wl, values)
        df = pd.DataFrame({"resolution": res, "latency_s": np.broadcast_to(ev["latency_s"], res.shape)})
        for s in STAGES:
            df[f"{s}_s"] = np.broadcast_to(ev.stages[s]["latency_s"] if s in ev.stages else 0.0, res.shape)
        for b in baselines:
            bev = accelerators.get(b.accelerator).evaluate(wl, dict(b.params))
            df[f"speedup_{b.label}"] = np.broadcast_to(bev["latency_s"], res.shape) / df["latency_s"]
        return df

    # -- selections on the front ------------------------------------------------------------------

    def best(self, metric: str) -> pd.Series | None:
        """The front design best in ``metric`` (an objective), or None without a front."""
        front = self.pareto.dropna(subset=[metric])
        if not len(front):
            return None
        col = front[metric].astype(float)
        return front.loc[col.idxmax() if self.direction(metric) == "maximize" else col.idxmin()]

    def selected_designs(self) -> list[tuple[str, pd.Series]]:
        """Front designs worth a breakdown: the best per objective and the knee (labels merged)."""
        from dse.plots.style import metric_label

        front = self.pareto.dropna(subset=self.objectives)
        if not len(front):
            return []
        picks: dict[int, list[str]] = {}
        rows: dict[int, pd.Series] = {}
        for metric, direction in zip(self.objectives, self.directions, strict=True):
            row = self.best(metric)
            word = "max" if direction == "maximize" else "min"
            picks.setdefault(int(row["number"]), []).append(f"{word} {metric_label(metric).name}")
            rows[int(row["number"])] = row
        if len(self.objectives) > 1:
            k = knee(front[self.objectives].to_numpy(dtype=float), self.directions)
            n = int(front.iloc[k]["number"])
            picks.setdefault(n, []).append("knee")
            rows[n] = front.iloc[k]
        return [(" = ".join(labels) + f" (#{n})", rows[n]) for n, labels in picks.items()]


def knee(values: np.ndarray, directions: Sequence[str]) -> int:
    """Index of the front point closest to the ideal point after scaling each objective to [0, 1]."""
    f = minimization_form(values, directions)
    lo, hi = f.min(axis=0), f.max(axis=0)
    scaled = (f - lo) / np.where(hi > lo, hi - lo, 1.0)
    return int(np.argmin(np.linalg.norm(scaled, axis=1)))


def load_results(path: str | Path) -> Results:
    """Read a sweep's results directory; InputError (field ``RESULTS_DIR``) if it is not one."""
    path = Path(path)
    if not path.is_dir():
        raise InputError("RESULTS_DIR", f"{path}: no such directory (run `rtsa-dse sweep SPEC.toml` first)")
    trials_path = find_table(path, TRIALS)
    notes = []
    if trials_path is None and find_table(path, PARETO) is not None and (path / SPEC_FILE).is_file():
        trials_path = find_table(path, PARETO)  # swept with --table none: the front is all there is
        notes.append("no trials table (swept with --table none): figures show the Pareto front only")
    if trials_path is None:
        raise InputError("RESULTS_DIR", f"{path} has no trials.csv: not a sweep results directory")
    trials = read_checked(trials_path)
    for col in (COLUMNS.number, COLUMNS.state, COLUMNS.feasible):
        if col not in trials.columns:
            raise InputError("RESULTS_DIR", f"{trials_path} has no {col!r} column: not written by rtsa-dse sweep")
    trials[COLUMNS.feasible] = trials[COLUMNS.feasible].astype(bool)
    store = _reload_plugins(path)  # before the spec: it may name a plugin's accelerator or sampler
    spec = _spec(path)
    for obj in spec.objectives:
        if obj.metric not in trials.columns:
            raise InputError("RESULTS_DIR", f"{trials_path} lacks the objective column {obj.metric!r}")
    foreign = [d.name for d in spec.searched if d.name not in trials.columns]
    if foreign:  # a table copied from another study
        raise InputError(
            "RESULTS_DIR", f"{trials_path} is not this study's ({spec.study}): it lacks the searched parameter "
            f"column(s) {', '.join(foreign)}; re-create it with `rtsa-dse export {path}`",
        )  # fmt: skip
    pareto_path = find_table(path, PARETO)
    if pareto_path is not None:
        pareto = read_checked(pareto_path)
    elif COLUMNS.pareto in trials.columns:
        pareto = trials[trials[COLUMNS.pareto].astype(bool)].reset_index(drop=True)
    else:
        raise InputError("RESULTS_DIR", f"{path} has no pareto.csv")
    return Results(path, spec, trials, pareto, notes, store)


def _reload_plugins(path: Path) -> Any:
    """A study made with ``--plugin FILE.py`` recorded the file (:attr:`~dse.search.results_schema.StudyKeys.plugins`): load it
    again (once per process), so that report and pareto need no ``--plugin`` for its accelerator or sampler.
    Returns the journal storage it opened (None without a journal). Reads the studies' attributes only: no
    copy of every trial, as a study summary would make."""
    if not (path / JOURNAL_FILE).is_file():
        return None
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    from dse import plugins

    store = JournalStorage(JournalFileBackend(str(path / JOURNAL_FILE)))
    for s in store.get_all_studies():
        plugins.load_recorded(s.user_attrs.get(STUDY.plugins, []), field_name="RESULTS_DIR")
    return store


def _spec(path: Path) -> Spec:
    """The spec copy (``spec.toml``), else the copy stored in the study (``dse:spec``)."""
    if (path / SPEC_FILE).is_file():
        return read_spec(path / SPEC_FILE)
    if (path / JOURNAL_FILE).is_file():
        import tomllib

        from optuna.storages.journal import JournalFileBackend, JournalStorage

        store = JournalStorage(JournalFileBackend(str(path / JOURNAL_FILE)))
        for s in optuna.get_all_study_summaries(store):
            if s.user_attrs.get(STUDY.spec):
                text = s.user_attrs[STUDY.spec]
                return parse_spec(tomllib.loads(text), source=text, base_dir=str(path))
    raise InputError("RESULTS_DIR", f"{path} has no spec.toml (the sweep's copy of its spec)")
