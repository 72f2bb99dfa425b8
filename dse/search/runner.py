"""The optuna side of a sweep: ask a batch, evaluate it in one vectorized call, tell, persist.

Two drivers share the evaluation code:

* :func:`run_embedded` (default storage, one process): an in-memory study (optuna's fastest) whose
  told batches are copied into the journal file with ``storage.create_new_trial(template_trial=…)``
  and ``fsync``\\ed before the next batch is asked. A crash loses at most the batch in flight;
  re-running loads the journal back (``study.add_trials``) and runs only the missing trials.
* :func:`run_worker` (``--jobs N`` or ``--storage URL``): ask/tell one trial at a time on a shared
  storage. Before a trial runs, the worker checks that fewer than N trials precede it (complete,
  running or waiting), so concurrent workers stop at exactly N complete trials. RDB storages send
  heartbeats (a killed worker's trial is failed and re-queued by optuna); on a journal, trials of
  dead local processes are failed and re-queued by :func:`~dse.search.storage.recover_dead_trials`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
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
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, fail_stale_trials
from optuna.trial import Trial, TrialState

from dse.errors import InputError
from dse.search.export import SURPLUS_ATTR
from dse.search.samplers import batch_size, make_sampler
from dse.search.space import Problem
from dse.search.storage import (
    WORKER_ATTR,
    BatchedJournalFileBackend,
    StorageConfig,
    recover_dead_trials,
    worker_tag,
    write_trial_attrs,
)

PENDING = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
#: a worker counts the study's trials before each ask once its last trial number is this close to N
NEAR_END = 64


@dataclass
class RunStats:
    """What one command (or one worker) did."""

    run: int = 0  # trials completed now
    failed: int = 0  # trials told FAIL (NaN objective)
    evaluations: int = 0  # design points evaluated by the model
    cache_hits: int = 0  # trials answered from the cache (repeated designs)
    recovered: int = 0  # orphaned trials of dead workers failed and re-queued
    surplus: int = 0  # trials asked past the target by a racing worker, dropped unevaluated
    incomplete: bool = False  # stopped waiting for other workers' running trials

    def __iadd__(self, other: RunStats) -> RunStats:
        for f in self.__dataclass_fields__:
            setattr(
                self,
                f,
                getattr(self, f) | getattr(other, f) if f == "incomplete" else getattr(self, f) + getattr(other, f),
            )
        return self


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
            b = self.problem.evaluate(cols)
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
                self.cache[self.key(t.params)] = Point(metrics, [metrics[m] for m in names], dict(t.constraints), True)


def record(study: optuna.Study, trial: Trial, point: Point) -> bool:
    """Metrics as user attributes, constraints as optuna constraints, then tell; True if COMPLETE.

    In memory through ``trial.set_user_attr`` / ``trial.set_constraint``; on a shared storage all at
    once (:func:`~dse.search.storage.write_trial_attrs`, the same ``constraints:<name>`` keys).
    """
    if isinstance(study._storage, InMemoryStorage):
        for name, value in point.metrics.items():
            trial.set_user_attr(name, value)
        for name, value in point.constraints.items():
            trial.set_constraint(name, value)
    else:
        system = {f"constraints:{name}": float(v) for name, v in point.constraints.items()}
        write_trial_attrs(study._storage, trial._trial_id, point.metrics, system)
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
        "dse:identity": _jsonable(spec.identity()),
        "dse:spec": spec.source,
        "dse:params": problem.param_names,
        "dse:fixed": _jsonable(problem.fixed),
        "dse:metrics": problem.report_names(),
        "dse:objectives": problem.objective_names,
        "dse:directions": problem.directions,
        "dse:constraints": problem.constraint_names,
        "dse:sampler": spec.sampler,
    }
    for k, v in attrs.items():
        study.set_user_attr(k, v)
    return study


def _check_same(problem: Problem, study: optuna.Study) -> None:
    where = f"study {study.study_name!r}"
    dirs = ["maximize" if d == optuna.study.StudyDirection.MAXIMIZE else "minimize" for d in study.directions]
    if dirs != problem.directions:
        raise InputError("study", f"{where} exists with {len(dirs)} objectives {dirs}; use another name (--study)")
    stored = study.user_attrs.get("dse:identity")
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
    backend = BatchedJournalFileBackend(cfg.location)
    storage = JournalStorage(backend)
    disk = open_study(problem, storage)
    study_id = disk._study_id
    # we hold the results directory exclusively: RUNNING/WAITING trials are orphans of dead workers
    orphans = disk.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    with backend.batch():
        for t in orphans:
            with contextlib.suppress(Exception):
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
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
        finally:
            persist()  # whatever was told before an interruption
    return mem, stats


# -- workers on a shared storage ---------------------------------------------------------------


class _Heartbeat:
    """Records RDB heartbeats of the trial in flight from a background thread."""

    def __init__(self, storage: BaseStorage):
        self.storage = storage
        self.interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
        self.trial_id: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.interval:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

    def beat(self, trial_id: int | None) -> None:
        self.trial_id = trial_id
        if trial_id is not None and self.interval:
            self.storage.record_heartbeat(trial_id)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            tid = self.trial_id
            if tid is not None:
                with contextlib.suppress(Exception):
                    self.storage.record_heartbeat(tid)

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
    """One worker: ask/evaluate/tell on the shared study until it holds ``n_target`` COMPLETE trials."""
    with quiet_optuna():
        return _run_worker(problem, cfg, n_target, index, progress, poll_s, patience_s)


def _run_worker(problem, cfg, n_target, index, progress, poll_s, patience_s) -> RunStats:
    stats = RunStats()
    storage = cfg.open()
    spec = problem.spec
    study = optuna.load_study(
        study_name=spec.study, storage=storage, sampler=make_sampler(spec, worker_seed(spec.seed, index))
    )
    is_journal = cfg.kind == "journal"
    heart = _Heartbeat(study._storage) if not is_journal else None
    tag = worker_tag()
    evaluator = Evaluator(problem)
    dists = problem.distributions()
    check_every = max(1.0, cfg.heartbeat_s / 2)
    patience = patience_s if patience_s is not None else 6 * cfg.heartbeat_s + 30
    last_check = -math.inf
    last_number = n_target  # unknown yet: count on the first pass
    waited_since: float | None = None
    rng = random.Random(index)
    try:
        with _progress(n_target, 0, progress) as bar:
            while True:
                now = time.monotonic()
                if now - last_check >= check_every:
                    last_check = now
                    if is_journal:
                        stats.recovered += recover_dead_trials(study)
                    else:
                        fail_stale_trials(study)
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
                        break
                    time.sleep(poll_s * (0.5 + rng.random()))
                    continue
                waited_since = None
                trial = study.ask(dists)
                if heart is not None:
                    heart.beat(trial._trial_id)
                study._storage.set_trial_system_attr(trial._trial_id, WORKER_ATTR, tag)  # dead-worker check, provenance
                last_number = trial.number
                # fewer than N trials numbered below ours may be complete, running or queued; trivially
                # so while our number is below N
                ahead = 0
                if trial.number >= n_target:
                    pending = study.get_trials(deepcopy=False, states=PENDING)
                    ahead = sum(1 for t in pending if t.number < trial.number)
                if ahead >= n_target:  # a racing worker took the last slot: drop this one unevaluated
                    study._storage.set_trial_system_attr(trial._trial_id, SURPLUS_ATTR, True)
                    study.tell(trial, state=TrialState.FAIL)
                    stats.surplus += 1
                    continue
                (point,) = evaluator([trial.params], stats)
                done = record(study, trial, point)
                if heart is not None:
                    heart.beat(None)
                stats.run += done
                stats.failed += not done
    finally:
        if heart is not None:
            heart.close()
    return stats


def run_workers(problem: Problem, cfg: StorageConfig, n_target: int, jobs: int, progress: bool) -> RunStats:
    """``jobs`` local worker processes (joblib/loky) on one study that already exists in ``cfg``."""
    if jobs == 1:
        return run_worker(problem, cfg, n_target, progress=progress)
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=jobs, backend="loky")(
        delayed(run_worker)(problem, cfg, n_target, index=i, progress=progress and i == 0) for i in range(jobs)
    )
    total = RunStats()
    for r in results:
        total += r
    return total
