"""Exhaustive search: every point of the discretised space, evaluated in chunks, reduced to the exact front.

No optuna trial is created per point (a 2,560-point ``GridSampler`` took 283 s; this path evaluates
about 10⁶ points in seconds). The grid's flat index ``0 … size-1`` (row-major over the searched axes,
the ``number`` column) is cut into chunks of ``sampler.batch_size`` points (default 131,072). Each chunk:

1. builds its parameter columns from its index range (``numpy.unravel_index``; nothing of size ``size``
   is ever held), evaluates them in one vectorized :meth:`Problem.evaluate` call,
2. reduces itself to its feasible non-dominated rows (moocore) and the ideal / nadir of its feasible
   objectives, and
3. returns those, plus its whole table when the full table is kept.

Chunks run in this process (``jobs=1``), on local processes through joblib (loky; default: every core
from :data:`MIN_PARALLEL_CHUNKS` chunks on), or on a Dask cluster through joblib's Dask backend
(:func:`dask_client`). The driver writes each full
chunk table as it arrives (:class:`~dse.search.columnar.TableSink`: partitioned Parquet or one CSV) and
folds the chunk fronts into a running front. A point on the global front is non-dominated inside its
own chunk, so the union of the chunk fronts contains the whole front and one more reduction of that
union gives it exactly, whatever the chunking and the engine; memory is bounded by a few chunks plus
the front. The grid's full table has no ``pareto`` column (the front is only known at the end;
``pareto.csv`` holds it, joined on ``number``) and no timing columns, so the same grid gives the same
tables whatever the engine.

The study storage receives the points as COMPLETE trials (``study.add_trials``) when there are at
most ``sampler.store_limit`` of them (default 20,000 on a journal, 2,000 on an RDB), otherwise only
the Pareto-optimal ones, so ``export`` and optuna's plots see the front either way.
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from dse.errors import InputError
from dse.search.columnar import TableSink
from dse.search.export import constraint_attrs, constraint_column
from dse.search.optuna_adapter import journal_backend, study_storage
from dse.search.pareto import minimization_form, nondominated
from dse.search.results_schema import COLUMNS, COMPLETE, STUDY, TRIAL
from dse.search.runner import check_interrupt
from dse.search.space import Batch, Problem

DEFAULT_BATCH = 1 << 17
DEFAULT_STORE_LIMIT = 20_000
DEFAULT_STORE_LIMIT_RDB = 2_000  # one transaction per trial on an RDB server
GRID_ATTR = STUDY.grid_points
#: the running front is re-reduced once this many chunk-front rows have piled up (or twice its size)
REDUCE_ROWS = 1 << 16
#: without ``--jobs``, a grid of fewer chunks than this runs in-process: one process evaluates a 131,072-design
#: chunk in 0.1–0.2 s (6×10⁵–1.5×10⁶ designs/s, benchmarks/bench_perf.py) and starting the local workers takes
#: 1–1.5 s, so below about 16 chunks (2×10⁶ designs) the workers' start costs what they save (measured: a
#: 1,007,616-design grid evaluated in 1.6 s in one process, 2.1–5.4 s with the start of 2 workers)
MIN_PARALLEL_CHUNKS = 16


# -- one chunk -------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """One evaluated chunk ``[start, stop)`` of the grid's flat index, reduced to what the driver needs."""

    index: int
    start: int
    stop: int
    n_ok: int
    n_feasible: int
    ideal: np.ndarray | None  # (n_objectives,) minimisation form, of the feasible rows; None if none
    nadir: np.ndarray | None
    front: pa.Table  # the chunk's feasible non-dominated rows, every column
    rows: pa.Table | None  # every row, when the full table is kept
    eval_s: float  # evaluation and table building
    front_s: float

    def __len__(self) -> int:
        return self.stop - self.start


def chunk_spans(size: int, step: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of ``step`` points covering ``0 … size-1``."""
    return [(a, min(size, a + step)) for a in range(0, size, max(1, step))]


def chunk_params(problem: Problem, start: int, stop: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(values, axis indices) of the searched parameters for grid points ``start … stop-1``."""
    axes = problem.grid_axes()
    sizes = [len(v) for _, v in axes]
    flat = np.arange(start, stop, dtype=np.int64)
    sub = np.unravel_index(flat, sizes) if sizes else ()
    values = {name: vals[s] for (name, vals), s in zip(axes, sub, strict=True)}
    index = {name: s for (name, _), s in zip(axes, sub, strict=True)}
    return values, index


def chunk_table(problem: Problem, start: int, batch: Batch, index: dict[str, np.ndarray]) -> pa.Table:
    """The chunk as trials-table columns: number, state, parameters, metrics, ``constraint_*``, ``feasible``.

    No timing columns (``duration_s``, ``datetime_start`` of an optuna study's table): the same grid gives
    the same table, byte for byte, on any engine."""
    n = len(batch)
    cols: dict[str, pa.Array] = {
        COLUMNS.number: pa.array(np.arange(start, start + n, dtype=np.int64)),
        COLUMNS.state: pc.if_else(pa.array(np.asarray(batch.ok, dtype=bool)), COMPLETE, "FAIL"),
    }
    axes = dict(problem.grid_axes())
    for name in problem.param_names:
        if name in index:
            vals = axes[name]
            if vals.dtype.kind in "USO":  # strings: one dictionary lookup in C++, not n Python objects
                cols[name] = pa.array(vals.tolist()).take(pa.array(index[name]))
            else:
                cols[name] = pa.array(vals[index[name]])
        else:
            cols[name] = pa.repeat(problem.fixed[name], n)
    for name, v in batch.metrics.items():
        cols[name] = pa.array(np.ascontiguousarray(v, dtype=float))
    for j, name in enumerate(problem.constraint_names):
        cols[constraint_column(name)] = pa.array(np.ascontiguousarray(batch.constraints[:, j], dtype=float))
    cols[COLUMNS.feasible] = pa.array(np.asarray(batch.feasible, dtype=bool))
    return pa.table(cols)


def evaluate_chunk(problem: Problem, index: int, start: int, stop: int, keep_rows: bool) -> Chunk:
    """Evaluate grid points ``start … stop-1`` and reduce them to their front (runs on any worker)."""
    t0 = time.perf_counter()
    values, axis_index = chunk_params(problem, start, stop)
    batch = problem.evaluate(values)
    table = chunk_table(problem, start, batch, axis_index)
    t1 = time.perf_counter()
    feasible = batch.feasible & np.all(np.isfinite(batch.objectives), axis=1)
    rows = np.flatnonzero(feasible)
    ideal = nadir = None
    if len(rows):
        f = minimization_form(batch.objectives[rows], problem.directions)
        ideal, nadir = f.min(axis=0), f.max(axis=0)
        rows = rows[nondominated(batch.objectives[rows], problem.directions)]
    front = table.take(pa.array(rows, type=pa.int64()))
    front_s = time.perf_counter() - t1
    return Chunk(index, start, stop, int(np.sum(batch.ok)), int(np.sum(batch.feasible)), ideal, nadir, front,
                 table if keep_rows else None, t1 - t0, front_s)  # fmt: skip


def reduce_front(tables: list[pa.Table], problem: Problem) -> pa.Table:
    """The non-dominated rows of the union of ``tables`` (feasible rows; duplicates of a front point kept)."""
    nonempty = [t for t in tables if t.num_rows]
    if not nonempty:  # no feasible design: an empty table that keeps the columns
        return tables[0] if tables else pa.table({})
    t = pa.concat_tables(nonempty, promote_options="default") if len(nonempty) > 1 else nonempty[0]
    values = np.column_stack([t.column(m).to_numpy() for m in problem.objective_names])
    return t.filter(pa.array(nondominated(values, problem.directions)))


# -- engines ---------------------------------------------------------------------------------------


def parse_cluster(address: str) -> tuple[str, int | str]:
    """``local:N`` → ("local", N); ``tcp://HOST:PORT`` (or ``tls://``, ``ucx://``) → ("remote", address)."""
    if address.startswith("local:"):
        n = address.split(":", 1)[1]
        if not n.isdigit() or int(n) < 1:
            raise InputError("--cluster", f"local:N takes a worker count N ≥ 1, got {address!r}")
        return "local", int(n)
    if "://" in address and address.split("://", 1)[1]:
        return "remote", address
    raise InputError("--cluster", f"expected tcp://HOST:PORT (a Dask scheduler) or local:N, got {address!r}")


def check_cluster(address: str) -> None:
    """InputError now (before any work) if ``address`` is malformed or dask.distributed is missing."""
    parse_cluster(address)
    try:
        missing = importlib.util.find_spec("dask.distributed") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        raise InputError("--cluster", "needs dask.distributed: pip install 'rtsa-dse[dask]'")


@contextlib.contextmanager
def dask_client(address: str) -> Iterator[object]:
    """A ``dask.distributed`` client on ``address`` (``local:N`` starts a LocalCluster of N one-thread
    worker processes for the duration); InputError if dask is missing or no scheduler answers."""
    kind, target = parse_cluster(address)
    try:
        import logging

        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--cluster", "needs dask.distributed: pip install 'rtsa-dse[dask]'") from None
    if kind == "local":
        import dask

        # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's mmap threshold:
        # every numpy temporary of a chunk (≈1 MB) is then a fresh mmap, and a chunk evaluates 2–10× slower
        # (measured: 8.3 s instead of 3.7 s for the 10⁶-design benchmark grid in one process).
        environ = dask.config.get("distributed.nanny.pre-spawn-environ", {})
        environ = {k: v for k, v in environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(n_workers=int(target), threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)  # fmt: skip
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(str(target), timeout="10s")
    except (OSError, TimeoutError) as err:
        raise InputError("--cluster", f"no Dask scheduler answers at {target} ({err})") from None
    with client:
        yield client


def default_grid_jobs(problem: Problem) -> int:
    """Local processes for a grid when ``--jobs`` is not given: every core once the grid has at least
    :data:`MIN_PARALLEL_CHUNKS` chunks, else 1 (starting the workers, about a second, would not pay off)."""
    from joblib import cpu_count

    chunks = len(chunk_spans(problem.grid_size(), problem.spec.option("batch_size", DEFAULT_BATCH)))
    return cpu_count() if chunks >= MIN_PARALLEL_CHUNKS else 1


def _engine_name(jobs: int, n_chunks: int, cluster: str | None, client: object | None) -> str:
    if client is not None:
        workers = len(client.scheduler_info().get("workers", {}))
        return f"Dask cluster {cluster} ({workers} workers)"
    return "1 process" if jobs == 1 or n_chunks == 1 else f"{jobs} local processes"


@contextlib.contextmanager
def chunk_results(
    problem: Problem, spans: list[tuple[int, int]], keep_rows: bool, jobs: int, cluster: str | None, ordered: bool
) -> Iterator[tuple[str, Iterator[Chunk]]]:
    """(engine description, iterator over evaluated chunks). In-process for one job or one chunk; else
    joblib on ``jobs`` local processes (loky) or on the Dask cluster (joblib's Dask backend). joblib keeps
    at most ``2 × workers`` chunks in flight, so memory does not grow with the grid."""
    tasks = ((i, a, b) for i, (a, b) in enumerate(spans))
    if cluster is None and (jobs == 1 or len(spans) == 1):
        yield (
            _engine_name(1, len(spans), None, None),
            (evaluate_chunk(problem, i, a, b, keep_rows) for i, a, b in tasks),
        )
        return
    from joblib import Parallel, delayed, parallel_config

    return_as = "generator" if ordered else "generator_unordered"
    calls = (delayed(evaluate_chunk)(problem, i, a, b, keep_rows) for i, a, b in tasks)
    if cluster is None:
        yield (
            _engine_name(jobs, len(spans), None, None),
            Parallel(n_jobs=jobs, backend="loky", return_as=return_as)(calls),
        )
        return
    with dask_client(cluster) as client, parallel_config(backend="dask"):
        yield _engine_name(jobs, len(spans), cluster, client), Parallel(n_jobs=-1, return_as=return_as)(calls)


# -- the whole grid --------------------------------------------------------------------------------


@dataclass
class GridRun:
    """A grid reduced to its front: counts, the front's rows, bounds and where the time went (s)."""

    size: int
    chunks: int
    engine: str
    n_ok: int
    n_feasible: int
    front: pd.DataFrame  # feasible non-dominated rows, every column, sorted by number
    rows: pd.DataFrame | None  # every row (only when kept in memory)
    ideal: np.ndarray | None  # minimisation form, over every feasible row
    nadir: np.ndarray | None
    eval_s: float = 0.0  # chunk evaluation (wall time of the chunk loop not spent on fronts or writing)
    front_s: float = 0.0  # fronts, in the driver (the chunks' own fronts too when they run in-process)
    write_s: float = 0.0  # the streamed full table
    timings: dict[str, float] = field(default_factory=dict)  # the later steps, by name
    table_path: Path | None = None  # the full table, once committed

    def __len__(self) -> int:
        return self.size


def run_grid(
    problem: Problem,
    *,
    keep_rows: bool = False,
    sink: TableSink | None = None,
    jobs: int = 1,
    cluster: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> GridRun:
    """Evaluate the whole grid in chunks and return its exact front; stream every row into ``sink`` if
    given, and keep every row in memory if ``keep_rows``. See the module docstring for the engines."""
    size = problem.grid_size()
    spans = chunk_spans(size, problem.spec.option("batch_size", DEFAULT_BATCH))
    in_process = cluster is None and (jobs == 1 or len(spans) == 1)
    want_rows = keep_rows or sink is not None
    front: pa.Table | None = None
    pending: list[pa.Table] = []
    pending_rows = 0
    kept: list[pa.Table] = []
    n_ok = n_feasible = 0
    ideal = nadir = None
    front_s = write_s = 0.0
    t0 = time.perf_counter()
    ordered = sink is not None and sink.fmt == "csv"
    with chunk_results(problem, spans, want_rows, jobs, cluster, ordered) as (engine, results):
        start_s = time.perf_counter() - t0
        for chunk in results:
            n_ok += chunk.n_ok
            n_feasible += chunk.n_feasible
            if chunk.ideal is not None:
                ideal = chunk.ideal if ideal is None else np.minimum(ideal, chunk.ideal)
                nadir = chunk.nadir if nadir is None else np.maximum(nadir, chunk.nadir)
            if in_process:
                front_s += chunk.front_s
            t1 = time.perf_counter()
            pending.append(chunk.front)
            pending_rows += chunk.front.num_rows
            if pending_rows > max(REDUCE_ROWS, 2 * (front.num_rows if front is not None else 0)):
                front = reduce_front(([front] if front is not None else []) + pending, problem)
                pending, pending_rows = [], 0
            t2 = time.perf_counter()
            front_s += t2 - t1
            if chunk.rows is not None:
                if sink is not None:
                    sink.write(chunk.index, chunk.rows)
                if keep_rows:
                    kept.append(chunk.rows)
            write_s += time.perf_counter() - t2
            if progress is not None:
                progress(len(chunk))
            check_interrupt()  # Ctrl-C / SIGTERM: stop between chunks (a grid keeps no partial state to resume)
    loop_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    front = reduce_front(([front] if front is not None else []) + pending, problem)
    front_df = _sorted_frame(front)
    front_s += time.perf_counter() - t1
    rows_df = _sorted_frame(pa.concat_tables(kept)) if keep_rows and kept else None
    run = GridRun(size, len(spans), engine, n_ok, n_feasible, front_df, rows_df, ideal, nadir,
                  eval_s=max(loop_s - start_s - write_s - front_s, 0.0), front_s=front_s, write_s=write_s)  # fmt: skip
    if cluster is not None:
        run.timings["cluster start"] = start_s
    return run


def _sorted_frame(table: pa.Table) -> pd.DataFrame:
    df = table.to_pandas()
    if COLUMNS.number in df.columns:
        df = df.sort_values(COLUMNS.number, kind="stable").reset_index(drop=True)
    return df


# -- in memory, for analysis in Python ---------------------------------------------------------------


@dataclass
class GridResult:
    """All grid points in memory: parameter columns, the evaluated batch, the Pareto mask and timings."""

    params: dict[str, np.ndarray]
    batch: Batch
    pareto: np.ndarray
    eval_s: float
    front_s: float

    def __len__(self) -> int:
        return len(self.pareto)


def _concat(batches: list[Batch]) -> Batch:
    if len(batches) == 1:
        return batches[0]
    return Batch(
        {k: np.concatenate([b.metrics[k] for b in batches]) for k in batches[0].metrics},
        np.concatenate([b.objectives for b in batches]),
        np.concatenate([b.constraints for b in batches]),
        np.concatenate([b.ok for b in batches]),
    )


def evaluate_grid(problem: Problem, batch_points: int | None = None, progress=None) -> GridResult:
    """Evaluate the whole grid in this process and keep every point (for analysis in Python; the sweep
    uses :func:`run_grid`, whose memory does not grow with the grid)."""
    size = problem.grid_size()
    step = batch_points or problem.spec.option("batch_size", DEFAULT_BATCH)
    t0 = time.perf_counter()
    params = {name: np.empty(size, dtype=vals.dtype) for name, vals in problem.grid_axes()}
    batches = []
    for start, stop in chunk_spans(size, step):
        points, _ = chunk_params(problem, start, stop)
        for name, v in points.items():
            params[name][start:stop] = v
        batches.append(problem.evaluate(points))
        if progress is not None:
            progress.update(stop - start)
    batch = _concat(batches)
    t1 = time.perf_counter()
    feasible = batch.feasible
    pareto = np.zeros(size, dtype=bool)
    if feasible.any():
        pareto[feasible] = nondominated(batch.objectives[feasible], problem.directions)
    return GridResult(params, batch, pareto, t1 - t0, time.perf_counter() - t1)


# -- the study record ------------------------------------------------------------------------------


def store_limit(study: optuna.Study, problem: Problem) -> int:
    """Grids up to this many points are stored whole in the study, larger ones by their front."""
    default = DEFAULT_STORE_LIMIT if isinstance(study_storage(study), JournalStorage) else DEFAULT_STORE_LIMIT_RDB
    return problem.spec.option("store_limit", default)


def store_grid(study: optuna.Study, problem: Problem, rows: pd.DataFrame, size: int, kind: str,
               bounds: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
               counts: tuple[int, int] | None = None) -> int:  # fmt: skip
    """Add ``rows`` (every point when ``kind == "all"``, else the front) to the study as trials whose
    ``dse:grid_index`` is their ``number``; returns how many were added. Skipped when the study already
    holds this grid (a re-run adds nothing); after an interrupted store only the missing rows are added.
    ``counts``: (evaluated, feasible) designs of the whole grid, kept for reports of a front-only study."""
    if study.user_attrs.get(GRID_ATTR) == size:
        return 0
    done = {t.system_attrs.get(TRIAL.grid_index) for t in study.get_trials(deepcopy=False)}
    rows = rows[~rows[COLUMNS.number].isin([d for d in done if d is not None])]
    dists = problem.distributions()
    report = [m for m in problem.report_names() if m in rows.columns]
    objectives = rows[problem.objective_names].to_numpy(dtype=float)
    metrics = rows[report].to_numpy(dtype=float)
    cons = rows[[constraint_column(c) for c in problem.constraint_names]].to_numpy(dtype=float)
    params = {k: rows[k].tolist() for k in dists}
    ok = (rows[COLUMNS.state] == COMPLETE).to_numpy()
    numbers = rows[COLUMNS.number].tolist()
    trials = []
    for i in range(len(rows)):
        system_attrs = constraint_attrs(cons[i])
        system_attrs[TRIAL.grid_index] = int(numbers[i])
        trials.append(
            optuna.trial.create_trial(
                state=TrialState.COMPLETE if ok[i] else TrialState.FAIL,
                values=objectives[i].tolist() if ok[i] else None,
                params={k: v[i] for k, v in params.items()},
                distributions=dists,
                user_attrs=dict(zip(report, metrics[i].tolist(), strict=True)),
                system_attrs=system_attrs,
            )
        )
    backend = journal_backend(study_storage(study))
    if hasattr(backend, "batch"):
        with backend.batch(hold_lock=True):  # one lock for the whole front, not one per record
            study.add_trials(trials)
    else:
        study.add_trials(trials)
    if bounds[0] is not None and bounds[1] is not None:
        study.set_user_attr(STUDY.grid_bounds, [np.asarray(b, dtype=float).tolist() for b in bounds])
    if counts is not None:
        study.set_user_attr(STUDY.grid_counts, [int(size), int(counts[0]), int(counts[1])])
    study.set_user_attr(GRID_ATTR, size)
    study.set_user_attr(STUDY.grid_stored, kind)
    return len(trials)
