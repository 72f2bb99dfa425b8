"""The optuna side of a sweep: ask a batch, evaluate it in one vectorized call, tell, persist.

Two drivers share the evaluation code:

* :func:`run_embedded` (default storage, one process): an in-memory study (optuna's fastest) whose
  told batches are copied into the journal file with ``storage.create_new_trial(template_trial=…)``
  and ``fsync``\\ed before the next batch is asked. A crash loses at most the batch in flight;
  re-running loads the journal back (``study.add_trials``) and runs only the missing trials.
* :func:`run_worker` (``--jobs N`` or ``--storage URL``): ask/tell one trial at a time on a shared
  storage. Before a trial runs, the worker checks that fewer than N trials precede it (complete,
  running or waiting), so concurrent workers stop at exactly N complete trials. Each worker sends
  heartbeats for its trial in flight (RDB: optuna's rows; journal: a trial attribute); the trials of
  dead workers are failed and re-queued by the survivors (:func:`~dse.search.storage.recover_dead_trials`
  and optuna's stale check). :func:`run_workers` runs ``--jobs N`` as this process and N − 1 spawned
  processes, surviving the death of any of them.

SIGINT and SIGTERM inside :func:`interruptible` stop the drivers at the next safe point (between
batches or trials) with :class:`Interrupted`, after what finished is stored; exit 130 / 143.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import signal
import sys
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.storages import BaseStorage, InMemoryStorage, fail_stale_trials
from optuna.trial import Trial, TrialState

from dse import plugins
from dse.errors import InputError
from dse.search import optuna_adapter as oa
from dse.search.export import SURPLUS_ATTR, constraint_attrs, trial_constraints
from dse.search.results_schema import STUDY
from dse.search.samplers import batch_size, make_sampler
from dse.search.space import Problem
from dse.search.storage import (
    HEARTBEAT_ATTR,
    MAX_RETRY,
    WORKER_ATTR,
    StorageConfig,
    open_journal,
    recover_dead_trials,
    without_attrs,
    worker_tag,
    write_trial_attrs,
)

PENDING = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
#: a worker counts the study's trials before each ask once its last trial number is this close to N
NEAR_END = 64
#: longest wait of a worker for other workers' running trials (their heartbeats fresh) before giving up
PATIENCE_S = 3600.0


@dataclass
class RunStats:
    """What one command (or one worker) did."""

    run: int = 0  # trials completed now
    failed: int = 0  # trials told FAIL (NaN objective)
    evaluations: int = 0  # design points evaluated by the model
    cache_hits: int = 0  # trials answered from the cache (repeated designs)
    recovered: int = 0  # orphaned trials of dead workers failed and re-queued
    surplus: int = 0  # trials asked past the target by a racing worker, dropped unevaluated
    incomplete: bool = False  # stopped short of the target (see ``why``)
    lost_workers: int = 0  # --jobs worker processes that died (their trials were re-queued)
    why: str = ""  # why the run stopped short of the target
    by_others: int = 0  # trials other workers on the study completed while this command ran
    model_s: float = 0.0  # seconds spent in the model (Problem.evaluate), summed over workers

    def __iadd__(self, other: RunStats) -> RunStats:
        for f in self.__dataclass_fields__:
            setattr(
                self,
                f,
                _merge(f, getattr(self, f), getattr(other, f)),
            )
        return self


def _merge(name: str, a: Any, b: Any) -> Any:
    if name == "incomplete":
        return a or b
    if name == "why":
        return "; ".join(x for x in dict.fromkeys((a, b)) if x)
    return a + b


@dataclass
class Point:
    """One evaluated design, ready to be recorded on a trial."""

    metrics: dict[str, float]
    values: list[float]
    constraints: dict[str, float]
    ok: bool


@dataclass
class Evaluator:
    """Evaluates trials' parameter sets in one vectorized call, caching by parameter set."""

    problem: Problem
    cache: dict[tuple, Point] = field(default_factory=dict)

    def key(self, params: dict[str, Any]) -> tuple:
        return tuple(params[d.name] for d in self.problem.searched)

    def __call__(self, param_sets: list[dict[str, Any]], stats: RunStats) -> list[Point]:
        keys = [self.key(p) for p in param_sets]
        todo = list(dict.fromkeys(k for k in keys if k not in self.cache))
        stats.cache_hits += len(keys) - len(todo)
        if todo:
            names = [d.name for d in self.problem.searched]
            cols = {n: np.asarray([k[i] for k in todo]) for i, n in enumerate(names)}
            t0 = time.perf_counter()
            b = self.problem.evaluate(cols)
            stats.model_s += time.perf_counter() - t0
            stats.evaluations += len(todo)
            report = list(b.metrics)
            mat = np.column_stack([np.asarray(b.metrics[m], dtype=float) for m in report])
            cnames = self.problem.constraint_names
            for i, k in enumerate(todo):
                self.cache[k] = Point(
                    dict(zip(report, mat[i].tolist(), strict=True)),
                    b.objectives[i].tolist(),
                    dict(zip(cnames, b.constraints[i].tolist(), strict=True)),
                    bool(b.ok[i]),
                )
        return [self.cache[k] for k in keys]

    def prefill(self, trials: list[optuna.trial.FrozenTrial]) -> None:
        """Seed the cache from stored complete trials (their metrics are user attributes)."""
        report = self.problem.report_names()
        names = self.problem.objective_names
        for t in trials:
            if t.state != TrialState.COMPLETE or not all(m in t.user_attrs for m in report):
                continue
            with contextlib.suppress(KeyError):
                metrics = {m: t.user_attrs[m] for m in report}
                cons = trial_constraints(t, self.problem.constraint_names)
                self.cache[self.key(t.params)] = Point(metrics, [metrics[m] for m in names], cons, True)


def record(study: optuna.Study, trial: Trial, point: Point) -> bool:
    """Metrics as user attributes, constraints as optuna constraints, then tell; True if COMPLETE.

    Constraint values go under optuna's own ``constraints`` system attribute, a list in the study's
    ``dse:constraints`` order (what optuna's samplers, ``optuna.visualization`` and optuna-dashboard
    read). In memory one attribute at a time; on a shared storage all at once
    (:func:`~dse.search.storage.write_trial_attrs`).
    """
    system = constraint_attrs(list(point.constraints.values()))
    if isinstance(oa.study_storage(study), InMemoryStorage):
        for name, value in point.metrics.items():
            trial.set_user_attr(name, value)
        for key, value in system.items():
            oa.study_storage(study).set_trial_system_attr(oa.trial_id(trial), key, value)
    else:
        write_trial_attrs(oa.study_storage(study), oa.trial_id(trial), point.metrics, system)
    if not point.ok:
        study.tell(trial, state=TrialState.FAIL)
        return False
    study.tell(trial, point.values)
    return True


# -- study creation / identity ---------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def open_study(problem: Problem, storage: BaseStorage, sampler=None) -> optuna.Study:
    """Create the study (with its layout in user attributes) or load it, checking it is the same sweep."""
    spec = problem.spec
    name = spec.study
    try:
        study = optuna.create_study(storage=storage, study_name=name, directions=problem.directions, sampler=sampler)
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
        _check_same(problem, study)
        return study
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(problem.objective_names)
    attrs = {
        STUDY.identity: _jsonable(spec.identity()),
        STUDY.spec: spec.source,
        STUDY.params: problem.param_names,
        STUDY.fixed: _jsonable(problem.fixed),
        STUDY.metrics: problem.report_names(),
        STUDY.objectives: problem.objective_names,
        STUDY.directions: problem.directions,
        STUDY.constraints: problem.constraint_names,
        STUDY.sampler: spec.sampler,
        STUDY.plugins: plugins.loaded_files(),  # re-loaded by report and pareto (dse.plugins)
    }
    for k, v in attrs.items():
        study.set_user_attr(k, v)
    return study


def samplers_used(study: optuna.Study) -> list[str]:
    """The samplers that ran ``study``'s trials, in order (:data:`STUDY` ``samplers``, else the creating one)."""
    used = study.user_attrs.get(STUDY.samplers)
    if used:
        return list(used)
    first = study.user_attrs.get(STUDY.sampler)
    return [first] if first else []


def record_sampler(study: optuna.Study, sampler: str) -> None:
    """Note that ``sampler`` ran trials of ``study`` (a resumed run may use another than the first)."""
    used = samplers_used(study)
    if used and used[-1] != sampler:
        study.set_user_attr(STUDY.samplers, used + [sampler])


def _check_same(problem: Problem, study: optuna.Study) -> None:
    where = f"study {study.study_name!r}"
    dirs = ["maximize" if d == optuna.study.StudyDirection.MAXIMIZE else "minimize" for d in study.directions]
    if dirs != problem.directions:
        raise InputError("study", f"{where} exists with {len(dirs)} objectives {dirs}; use another name (--study)")
    stored = study.user_attrs.get(STUDY.identity)
    if stored is None:
        return  # being created by another worker right now, or a plain optuna study
    current = _jsonable(problem.spec.identity())
    for key in current:
        if stored.get(key) != current[key]:
            raise InputError(
                "study", f"{where} exists with a different {key}; use another name (--study) or remove the old results"
            )


# -- embedded: in-memory study persisted batch by batch --------------------------------------


def _progress(total: int, initial: int, enabled: bool):
    if not enabled:
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="trial", file=sys.stderr, dynamic_ncols=True, leave=False)


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """optuna logs every trial at INFO and warns about experimental features: keep the terminal clean."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", module="optuna")
        try:
            yield
        finally:
            optuna.logging.set_verbosity(level)


def run_embedded(
    problem: Problem,
    cfg: StorageConfig,
    n_target: int,
    *,
    progress: bool = False,
    on_batch: Callable[[RunStats], None] | None = None,
) -> tuple[optuna.Study, RunStats]:
    """Run until ``n_target`` trials are COMPLETE; returns the in-memory study (all trials) and stats."""
    stats = RunStats()
    storage = open_journal(cfg.location, "storage")
    backend = oa.journal_backend(storage)
    disk = open_study(problem, storage)
    study_id = oa.study_id(disk)
    # we hold the results directory exclusively: RUNNING/WAITING trials are orphans of dead workers
    orphans = disk.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    with backend.batch():
        for t in orphans:
            with contextlib.suppress(Exception):
                storage.set_trial_state_values(oa.trial_id(t), TrialState.FAIL)
    stored = disk.get_trials(deepcopy=False)
    spec = problem.spec
    mem = optuna.create_study(
        study_name=spec.study, directions=problem.directions, sampler=make_sampler(spec, spec.seed + len(stored))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        mem.set_metric_names(problem.objective_names)
    for k, v in disk.user_attrs.items():
        mem.set_user_attr(k, v)
    mem.add_trials(stored)
    for t in orphans:
        mem.enqueue_trial(t.params, skip_if_exists=False)
        stats.recovered += 1
    evaluator = Evaluator(problem)
    evaluator.prefill(stored)
    dists = problem.distributions()
    complete = sum(t.state == TrialState.COMPLETE for t in stored)
    persisted = len(stored)
    batch = batch_size(spec)
    fail_budget = max(100, n_target)

    def persist() -> None:
        nonlocal persisted
        new = mem.get_trials(deepcopy=False)[persisted:]
        with backend.batch():
            for t in new:
                if not t.state.is_finished():
                    break
                storage.create_new_trial(study_id, template_trial=t)
                persisted += 1

    with _progress(n_target, complete, progress) as bar:
        try:
            while complete < n_target and stats.failed < fail_budget:
                check_interrupt()
                trials = [mem.ask(dists) for _ in range(min(batch, n_target - complete))]
                points = evaluator([t.params for t in trials], stats)
                for t, p in zip(trials, points, strict=True):
                    done = record(mem, t, p)
                    complete += done
                    stats.run += done
                    stats.failed += not done
                persist()
                if bar is not None:
                    bar.n = min(complete, n_target)
                    bar.refresh()
                if on_batch is not None:
                    on_batch(stats)
            if complete < n_target:
                stats.incomplete = True
                stats.why = f"{stats.failed} trials failed (non-numeric objective)"
        finally:
            persist()  # whatever was told before an interruption
            if stats.run:
                record_sampler(disk, spec.sampler)
    return mem, stats


# -- workers on a shared storage ---------------------------------------------------------------


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM during a run; ``code`` is the shell's exit status for it (130, 143)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def code(self) -> int:
        return 128 + self.signum


_STOP: dict[str, int] = {"signum": 0}


def _request_stop(signum, _frame) -> None:
    """First SIGINT/SIGTERM: stop at the next safe point (between batches); a second one: at once."""
    if _STOP["signum"]:
        raise Interrupted(signum)
    _STOP["signum"] = signum


def check_interrupt() -> None:
    """Raise :class:`Interrupted` if a stop was requested (called between batches and trials, where
    everything told so far is persisted and no storage lock is held)."""
    if _STOP["signum"]:
        raise Interrupted(_STOP["signum"])


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM request a stop that the drivers honour at the next safe
    point by raising :class:`Interrupted` (their ``finally`` clauses save what finished); a second
    signal interrupts at once. The previous handlers come back afterwards. A no-op outside the main
    thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    _STOP["signum"] = 0
    for s in old:
        signal.signal(s, _request_stop)
    try:
        yield
        check_interrupt()
    finally:
        _STOP["signum"] = 0
        for s, handler in old.items():
            signal.signal(s, handler)


class _Heartbeat:
    """Signs of life of the trial in flight, from a background thread every ``heartbeat_s``.

    RDB: optuna's heartbeat rows (``record_heartbeat``; optuna fails a trial whose row is older than
    the grace period). Journal: the ``dse:heartbeat`` system attribute (wall-clock time), read by
    :func:`~dse.search.storage.recover_dead_trials`. Either way the worker's ``dse:worker`` tag is
    written right after, so a dead local process is noticed at once.
    """

    def __init__(self, storage: BaseStorage, cfg: StorageConfig):
        self.storage = storage
        self.rdb = cfg.kind == "rdb"
        self.interval = float(cfg.heartbeat_s)
        self.trial_id: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _beat(self, trial_id: int) -> None:
        if self.rdb:
            self.storage.record_heartbeat(trial_id)
        else:
            self.storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def start(self, trial_id: int, tag: str) -> None:
        """The first heartbeat, then the worker tag (a kill between ask and here leaves an untagged
        trial, which is failed after the grace period)."""
        with self._lock:
            self.trial_id = trial_id
            self._beat(trial_id)
        self.storage.set_trial_system_attr(trial_id, WORKER_ATTR, tag)

    def stop(self) -> None:
        with self._lock:
            self.trial_id = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self.trial_id is not None:
                    with contextlib.suppress(Exception):  # the trial may have just finished
                        self._beat(self.trial_id)

    def close(self) -> None:
        self._stop.set()


def worker_seed(seed: int, index: int) -> int:
    """Distinct per worker process and host (several machines run the same command)."""
    import os
    import socket

    return zlib.crc32(f"{seed}:{index}:{socket.gethostname()}:{os.getpid()}".encode()) & 0x7FFFFFFF


def run_worker(
    problem: Problem,
    cfg: StorageConfig,
    n_target: int,
    *,
    index: int = 0,
    progress: bool = False,
    poll_s: float = 0.2,
    patience_s: float | None = None,
) -> RunStats:
    """One worker: ask/evaluate/tell on the shared study until it holds ``n_target`` COMPLETE trials.

    Every ``heartbeat_s / 2`` (at least 1 s) it fails and re-queues the trials of dead workers
    (optuna's stale-heartbeat check on an RDB, :func:`~dse.search.storage.recover_dead_trials` on
    both). When the rest of the target is in flight elsewhere it waits, at most ``patience_s``
    (default: the grace period twice over plus 30 s), then stops with ``stats.incomplete``. An
    interruption fails and re-queues the trial in flight, so no RUNNING trial is left behind.
    """
    with quiet_optuna():
        return _run_worker(problem, cfg, n_target, index, progress, poll_s, patience_s)


def _requeue(study: optuna.Study, trial_id: int) -> None:
    """Fail a trial this worker holds and re-queue its parameters (an interrupted worker)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    with contextlib.suppress(Exception):
        if oa.study_storage(study).set_trial_state_values(trial_id, state=TrialState.FAIL):
            frozen = oa.study_storage(study).get_trial(trial_id)
            retry(study, without_attrs(frozen, (WORKER_ATTR, HEARTBEAT_ATTR)))


def _run_worker(problem, cfg, n_target, index, progress, poll_s, patience_s) -> RunStats:
    stats = RunStats()
    storage = cfg.open()
    spec = problem.spec
    study = optuna.load_study(
        study_name=spec.study, storage=storage, sampler=make_sampler(spec, worker_seed(spec.seed, index))
    )
    heart = _Heartbeat(oa.study_storage(study), cfg)
    tag = worker_tag()
    evaluator = Evaluator(problem)
    dists = problem.distributions()
    check_every = max(1.0, cfg.heartbeat_s / 2)
    patience = patience_s if patience_s is not None else PATIENCE_S
    fail_budget = max(100, n_target)
    last_check = -math.inf
    last_number = n_target  # unknown yet: count on the first pass
    waited_since: float | None = None
    rng = random.Random(index)
    inflight: int | None = None
    try:
        with _progress(n_target, 0, progress) as bar:
            while stats.failed < fail_budget:
                check_interrupt()
                now = time.monotonic()
                if now - last_check >= check_every:
                    last_check = now
                    if cfg.kind == "rdb":
                        fail_stale_trials(study)  # optuna's heartbeat rows
                    stats.recovered += recover_dead_trials(study, grace_s=cfg.grace_s)
                # far from the target there is no need to count (one storage read less per trial):
                # the check after ask keeps the total exact in any case
                trials = study.get_trials(deepcopy=False) if last_number + NEAR_END >= n_target else []
                complete = sum(t.state == TrialState.COMPLETE for t in trials)
                running = sum(t.state == TrialState.RUNNING for t in trials)
                if bar is not None:
                    bar.n = min(complete, n_target)
                    bar.refresh()
                if complete >= n_target:
                    break
                if complete + running >= n_target:  # the rest is in flight elsewhere: wait in case it dies
                    waited_since = waited_since or now
                    if now - waited_since > patience:
                        stats.incomplete = True
                        stats.why = (
                            f"{running} trials of other workers still RUNNING after {patience:.0f} s (heartbeats fresh)"
                        )
                        break
                    time.sleep(poll_s * (0.5 + rng.random()))
                    continue
                waited_since = None
                trial = study.ask(dists)
                inflight = oa.trial_id(trial)
                heart.start(inflight, tag)  # heartbeat, then the dead-worker tag (also provenance)
                last_number = trial.number
                # fewer than N trials numbered below ours may be complete, running or queued; trivially
                # so while our number is below N
                ahead = 0
                if trial.number >= n_target:
                    pending = study.get_trials(deepcopy=False, states=PENDING)
                    ahead = sum(1 for t in pending if t.number < trial.number)
                if ahead >= n_target:  # a racing worker took the last slot: drop this one unevaluated
                    oa.study_storage(study).set_trial_system_attr(oa.trial_id(trial), SURPLUS_ATTR, True)
                    study.tell(trial, state=TrialState.FAIL)
                    inflight = None
                    heart.stop()
                    stats.surplus += 1
                    continue
                (point,) = evaluator([trial.params], stats)
                done = record(study, trial, point)
                inflight = None
                heart.stop()
                stats.run += done
                stats.failed += not done
            else:
                stats.incomplete = True
                stats.why = f"{stats.failed} trials failed (non-numeric objective)"
    finally:
        heart.close()
        if inflight is not None:  # interrupted mid-trial: hand it back
            _requeue(study, inflight)
    return stats


# -- local worker processes ----------------------------------------------------------------------


def _child(blob: bytes, cfg: StorageConfig, n_target: int, index: int, conn) -> None:
    """Entry point of a ``--jobs`` worker process: run, send the stats back, exit 0 (130/143 if stopped)."""
    import pickle

    problem = pickle.loads(blob)
    try:
        with interruptible():
            stats = run_worker(problem, cfg, n_target, index=index)
    except Interrupted as err:
        raise SystemExit(err.code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    conn.send(stats)
    conn.close()


def run_workers(problem: Problem, cfg: StorageConfig, n_target: int, jobs: int, progress: bool) -> RunStats:
    """``jobs`` workers on one study that already exists in ``cfg``: this process and ``jobs - 1``
    child processes (``multiprocessing``, spawn).

    A child that dies (SIGKILL, out of memory) costs only its trial in flight, which the surviving
    workers fail and re-queue (:func:`run_worker`); its death is counted in ``stats.lost_workers``.
    On an interruption the children are stopped (SIGTERM) and waited for.
    """
    if jobs == 1:
        return run_worker(problem, cfg, n_target, progress=progress)
    import multiprocessing

    import cloudpickle  # dse.plugins registers plug-in modules with it, to be pickled by value

    ctx = multiprocessing.get_context("spawn")
    # by value where needed: a plug-in accelerator loaded from a file is no module a fresh process can import
    blob = cloudpickle.dumps(problem)
    children = []
    for i in range(1, jobs):
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(blob, cfg, n_target, i, send), daemon=False)
        proc.start()
        send.close()
        children.append((proc, recv))
    total = RunStats()
    try:
        total += run_worker(problem, cfg, n_target, index=0, progress=progress)
        for proc, recv in children:
            proc.join()
            if recv.poll():
                with contextlib.suppress(EOFError, OSError):
                    total += recv.recv()
            if proc.exitcode != 0:
                total.lost_workers += 1
    finally:
        for proc, _ in children:
            if proc.is_alive():
                proc.terminate()
        for proc, recv in children:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()
            recv.close()
    return total
