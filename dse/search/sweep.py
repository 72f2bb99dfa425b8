"""One sweep end to end: pick the storage and driver, run, write the outputs, summarise."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from dse.errors import InputError
from dse.search.columnar import TableSink, remove_table
from dse.search.export import check_format, pareto_table, results_lock, study_tables, write_table, write_text
from dse.search.grid import GRID_ATTR, GridRun, check_cluster, default_grid_jobs, run_grid, store_grid, store_limit
from dse.search.pareto import HV_REFERENCE, hypervolume, minimization_form, normalized_hypervolume
from dse.search.results_schema import BASELINES, COLUMNS, COMPLETE, GRID_ALL, GRID_FRONT, PARETO, SPEC_FILE, TRIALS
from dse.search.runner import RunStats, open_study, quiet_optuna, record_sampler, run_embedded, run_workers
from dse.search.space import Problem
from dse.search.spec import effective_source
from dse.search.storage import StorageConfig, exclusive, recover_dead_trials, storage_config

DEFAULT_RESULTS = "results"
TABLES = ("full", "front", "none")
#: ``--table`` default: every design's row up to this many designs, only the front's above
FULL_TABLE_MAX = 100_000


def default_table(n_designs: int) -> str:
    """``full`` for up to :data:`FULL_TABLE_MAX` designs (grid points or trials), else ``front``."""
    return "full" if n_designs <= FULL_TABLE_MAX else "front"


@dataclass
class SweepReport:
    """What a sweep did and where its outputs are (the CLI prints it)."""

    problem: Problem
    out_dir: Path
    storage: StorageConfig
    trials: pd.DataFrame
    pareto: pd.DataFrame
    stats: RunStats
    wall_s: float
    target: int
    previously_complete: int
    hypervolume: float
    hv_kind: str
    paths: list[Path] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)
    grid: GridRun | None = None
    table: str = "full"  # what the trials table holds: every design, the front's, or no table
    jobs: int = 1  # worker processes this command ran (the grid's chunks or optuna workers)
    #: where the wall time went (s), by step, each step once: search (optuna) or a grid's evaluation, front,
    #: trials table, study (and cluster start); then baselines, robust front, outputs (and figures, added by
    #: the command). They add up to ``wall_s`` but for a grid's bookkeeping outside its steps
    timings: dict[str, float] = field(default_factory=dict)
    #: figures and report.md of an earlier state removed because this run did not redraw them
    removed_figures: list[Path] = field(default_factory=list)
    #: the front re-evaluated under the declared uncertainty (:mod:`dse.search.robust`); None before it ran
    robust: Any = None

    @property
    def n_complete(self) -> int:
        if self.grid is not None:
            return self.grid.n_ok
        return int((self.trials[COLUMNS.state] == COMPLETE).sum()) if len(self.trials) else 0

    @property
    def short_of_target(self) -> str:
        """Why the run ended with fewer than ``target`` complete trials ("" when it reached it)."""
        if self.grid is not None or self.n_complete >= self.target:
            return ""
        why = [self.stats.why] if self.stats.why else []
        if self.stats.lost_workers:
            why.append(f"{self.stats.lost_workers} worker process(es) died")
        return "; ".join(why) or "the workers stopped early"

    @property
    def n_feasible(self) -> int:
        if self.grid is not None:
            return self.grid.n_feasible
        return int(self.trials[COLUMNS.feasible].sum()) if len(self.trials) else 0

    def best(self) -> list[tuple[str, str, float, dict[str, Any]]]:
        """Per objective: (metric, direction, best feasible value, the design's row). The best value of
        an objective over the feasible designs is reached on the front, so only the front is searched: where
        designs tie on that value the one shown is Pareto-optimal (not one the others dominate)."""
        out = []
        table = self.grid.front if self.grid is not None else self.trials
        ok = table[table[COLUMNS.feasible]] if len(table) else table
        if COLUMNS.pareto in ok.columns and ok[COLUMNS.pareto].astype(bool).any():
            ok = ok[ok[COLUMNS.pareto].astype(bool)]
        for obj in self.problem.spec.objectives:
            if not len(ok):
                continue
            col = ok[obj.metric].astype(float)
            i = col.idxmax() if obj.direction == "maximize" else col.idxmin()
            out.append((obj.metric, obj.direction, float(col[i]), ok.loc[i].to_dict()))
        return out


def front_hypervolume(problem: Problem, trials: pd.DataFrame, bounds=None) -> tuple[float, str]:
    """Hypervolume of the feasible front: in metric units if every objective has a reference, else normalised
    (between the ideal and nadir of the feasible ``trials``, or ``bounds`` = (ideal, nadir) in minimisation
    form when ``trials`` holds only the front of a larger set)."""
    objs = problem.spec.objectives
    names = [o.metric for o in objs]
    ok = trials[trials[COLUMNS.feasible]] if len(trials) else trials
    if not len(ok):
        return 0.0, "no feasible design"
    values = ok[names].to_numpy(dtype=float)
    if all(o.reference is not None for o in objs):
        ref = minimization_form(np.array([[o.reference for o in objs]]), problem.directions)[0]
        return hypervolume(minimization_form(values, problem.directions), ref), "reference point from the spec"
    kind = f"objectives normalised to [0, 1], reference {HV_REFERENCE}"
    ideal, nadir = bounds if bounds is not None else (None, None)
    return normalized_hypervolume(values, problem.directions, ideal, nadir), kind


def _complete_before(problem: Problem, cfg) -> int:
    """Complete trials the study holds before this run starts (0 for a new study)."""
    storage = cfg.open()
    if problem.spec.study not in optuna.get_all_study_names(storage):
        return 0
    study = optuna.load_study(study_name=problem.spec.study, storage=storage)
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


@contextlib.contextmanager
def _no_empty_folder_on_error(out_dir: Path):
    """A results folder this run created is removed again if the run fails before writing anything into it."""
    new = [d for d in (out_dir, *out_dir.parents) if not d.exists()]  # the folders this run may create
    try:
        yield
    except BaseException:
        for d in new:  # innermost first
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        raise


def run_sweep(
    problem: Problem,
    *,
    storage: str | None = None,
    jobs: int | None = None,
    results_dir: str | None = None,
    fmt: str = "csv",
    progress: bool = False,
    heartbeat_s: int = 10,
    on_batch: Callable[[RunStats], None] | None = None,
    table: str | None = None,
    cluster: str | None = None,
) -> SweepReport:
    """Run (or resume) the sweep of ``problem`` and write ``trials``, ``pareto``, the spec copy and baselines.

    ``jobs``: worker processes (default: 1 for optuna samplers, every core for the grid). ``table``: what
    the trials table holds, ``full`` / ``front`` / ``none`` (default :func:`default_table`). ``cluster``
    (grid only): ``tcp://HOST:PORT`` of a Dask scheduler or ``local:N``; the grid's chunks run there.
    """
    spec = problem.spec
    check_format(fmt)
    grid_run = spec.sampler == "grid"
    if jobs is not None and jobs < 1:
        raise InputError("--jobs", f"must be ≥ 1, got {jobs}")
    if table is not None and table not in TABLES:
        raise InputError("--table", f"unknown value {table!r}; allowed: {', '.join(TABLES)}")
    if cluster is not None and not grid_run:
        raise InputError("--cluster", "only the grid sampler runs on a Dask cluster; optuna samplers share a "
                         "study through --storage (run the same command on each machine)")  # fmt: skip
    if cluster is not None and jobs is not None:
        raise InputError("--jobs", "with --cluster the cluster's workers run the chunks; drop --jobs")
    if cluster is not None:
        check_cluster(cluster)
    table = table or default_table(problem.grid_size() if grid_run else spec.trials)
    out_dir = Path(results_dir or spec.results_dir or DEFAULT_RESULTS) / spec.study
    cfg = storage_config(storage, out_dir, heartbeat_s)
    if (jobs or 1) > 1 and not cfg.concurrent and not grid_run:
        raise InputError(
            "--jobs", "one SQLite file does not take concurrent writers; use the default journal or a PostgreSQL URL"
        )
    if grid_run:
        jobs = jobs or default_grid_jobs(problem)
    else:
        jobs = jobs or 1
    t0 = time.perf_counter()
    stats = RunStats()
    grid = None
    hold = exclusive(out_dir) if cfg.embedded else contextlib.nullcontext()
    with _no_empty_folder_on_error(out_dir), hold, quiet_optuna(), discard_if_new(cfg, spec.study):
        if grid_run:
            grid, study, previously = _run_grid(problem, cfg, out_dir, fmt, table, jobs, cluster, progress)
            trials = grid.rows if grid.rows is not None else grid.front
            pareto = pareto_table(grid.front.assign(pareto=True), problem.param_names, problem.objective_names)
            stats.run = len(grid) - previously
            stats.evaluations = len(grid)
            target = len(grid)
        else:
            target = spec.trials
            before = _complete_before(problem, cfg)
            if cfg.embedded and jobs == 1:
                study, stats = run_embedded(problem, cfg, target, progress=progress, on_batch=on_batch)
            else:
                study = open_study(problem, cfg.open())  # before any worker starts
                if cfg.embedded:
                    stats.recovered += recover_dead_trials(study, all_running=True)
                stats += run_workers(problem, cfg, target, jobs, progress)
                if stats.run:
                    record_sampler(study, spec.sampler)
                study = optuna.load_study(study_name=spec.study, storage=cfg.open())
            trials, pareto, _ = study_tables(study)
            previously = min(before, int((trials[COLUMNS.state] == COMPLETE).sum()) - stats.run)
            stats.by_others = int((trials[COLUMNS.state] == COMPLETE).sum()) - stats.run - previously
        if grid is not None:
            hv, hv_kind = front_hypervolume(problem, grid.front, (grid.ideal, grid.nadir))
        else:
            hv, hv_kind = front_hypervolume(problem, trials)
        report = SweepReport(
            problem, out_dir, cfg, trials, pareto, stats, 0.0, target, previously, hv, hv_kind, grid=grid, table=table,
            jobs=jobs
        )  # fmt: skip
        if grid is not None:
            report.timings.update(evaluation=grid.eval_s, front=grid.front_s, **grid.timings)
        t1 = time.perf_counter()
        report.baselines = problem.evaluate_baselines()
        t2 = time.perf_counter()
        from dse.search.robust import robust_front

        report.robust = robust_front(problem, report.pareto)  # p_pareto and intervals into pareto.csv
        report.pareto = report.robust.table
        t3 = time.perf_counter()
        report.paths = write_outputs(report, fmt)
        t4 = time.perf_counter()
        if grid is None:
            report.timings["search"] = t1 - t0  # asking, evaluating and telling trials, and reading them back
        report.timings.update(baselines=t2 - t1, **{"robust front": t3 - t2}, outputs=t4 - t3)
        report.wall_s = t4 - t0  # the steps' sum (a grid's: with its bookkeeping, see SweepReport.timings)
    return report


@contextlib.contextmanager
def discard_if_new(cfg: StorageConfig, name: str):
    """Delete the study again if this command created it and failed before any trial completed, so
    that a corrected spec is not refused as "a different study" by the remains of a failed one."""
    existed = name in _study_names(cfg)
    try:
        yield
    except Exception:
        if not existed:
            with contextlib.suppress(Exception):
                storage = cfg.open()
                study = optuna.load_study(study_name=name, storage=storage)
                if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
                    optuna.delete_study(study_name=name, storage=storage)
                    if cfg.embedded and not storage.get_all_studies():  # the journal held only this study
                        Path(cfg.location).unlink(missing_ok=True)
        raise


def _study_names(cfg: StorageConfig) -> list[str]:
    if cfg.kind == "journal" and not Path(cfg.location).is_file():
        return []  # not created yet (and not created by looking)
    if cfg.embedded:  # one study per results directory: a journal with records holds it (no replay needed)
        return [Path(cfg.location).parent.name] if Path(cfg.location).stat().st_size else []
    return [s.study_name for s in cfg.open().get_all_studies()]


def _run_grid(
    problem: Problem,
    cfg: StorageConfig,
    out_dir: Path,
    fmt: str,
    table: str,
    jobs: int,
    cluster: str | None,
    progress: bool,
) -> tuple[GridRun, optuna.Study, int]:
    """Evaluate the grid (streaming the full table into ``out_dir`` when ``table == "full"``) and record
    it in the study: every point up to the store limit, else the front."""
    study = open_study(problem, cfg.open())  # a different sweep under this name fails here, before the work
    size = problem.grid_size()
    previously = size if study.user_attrs.get(GRID_ATTR) == size else 0
    keep_rows = size <= store_limit(study, problem) and not previously
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=size, unit="pt", unit_scale=True, leave=False, dynamic_ncols=True)
    try:
        with results_lock(out_dir):
            sink = TableSink(out_dir / TRIALS, fmt) if table == "full" else None
            try:
                grid = run_grid(problem, keep_rows=keep_rows, sink=sink, jobs=jobs, cluster=cluster,
                                progress=bar.update if bar is not None else None)  # fmt: skip
                if sink is not None:
                    t = time.perf_counter()
                    grid.table_path = sink.commit()
                    grid.write_s += time.perf_counter() - t
            except BaseException:
                if sink is not None:
                    sink.abort()
                raise
    finally:
        if bar is not None:
            bar.close()
    grid.timings["trials table"] = grid.write_s
    t = time.perf_counter()
    if not previously:
        store_grid(study, problem, grid.rows if keep_rows else grid.front, size, GRID_ALL if keep_rows else GRID_FRONT,
                   (grid.ideal, grid.nadir), (grid.n_ok, grid.n_feasible))  # fmt: skip
    grid.timings["study"] = time.perf_counter() - t
    return grid, study, previously


def write_outputs(report: SweepReport, fmt: str) -> list[Path]:
    """``trials`` (as ``report.table`` says), ``pareto``, ``spec.toml`` and ``baselines`` into the results
    directory, atomically; a table of the other format or of an earlier run (trials, front, baselines) is
    removed, so the directory never holds two of one table."""
    out = report.out_dir
    grid = report.grid
    with results_lock(out):
        paths = []
        if grid is not None and grid.table_path is not None:
            paths.append(grid.table_path)  # streamed while the grid was evaluated
            remove_table(out / TRIALS, keep=grid.table_path)
        elif report.table == "none":
            remove_table(out / TRIALS)
        else:
            rows = report.trials
            if report.table == "front":
                rows = grid.front if grid is not None else rows[rows[COLUMNS.pareto]]
            paths.append(write_table(rows, out / TRIALS, fmt))
            remove_table(out / TRIALS, keep=paths[-1])
        paths.append(write_table(report.pareto, out / PARETO, fmt))
        remove_table(out / PARETO, keep=paths[-1])  # never two fronts: the readers would take the other one
        spec = report.problem.spec
        if spec.source:  # as it ran: command-line overrides applied and named
            paths.append(write_text(effective_source(spec), out / SPEC_FILE))
        paths += keep_inputs(spec.scenario.files(), out)
        if report.baselines:
            paths.append(write_table(pd.DataFrame(report.baselines), out / BASELINES, fmt))
        remove_table(out / BASELINES, keep=paths[-1] if report.baselines else None)
    if report.storage.kind == "journal":
        paths.append(Path(report.storage.location))
    return paths


def keep_inputs(files: list[Path], out: Path) -> list[Path]:
    """Copy the model file / ONNX graph and sparsity table a study reads into ``out/inputs/``, where the
    commands that read the study (report, pareto) find them when the originals have moved."""
    import shutil

    from dse.search.export import atomic_path
    from dse.workloads.models import INPUTS_DIR, file_digest

    kept = []
    for src in files:
        dst = out / INPUTS_DIR / src.name
        if dst.resolve() == src.resolve():
            continue
        if not (dst.is_file() and dst.stat().st_size == src.stat().st_size and file_digest(dst) == file_digest(src)):
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
        kept.append(dst)
    return kept


def count_complete(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
