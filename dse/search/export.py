"""Trials → tables (``trials.csv``, ``pareto.csv``), written atomically; export of any stored study.

A study written by ``rtsa-dse sweep`` carries its column layout in study user attributes
(:data:`dse.search.results_schema.STUDY`); any other optuna study exports with its params, user attributes
and objective values. The table reader and writer live in :mod:`dse.search.results_schema` (re-exported here).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from dse.errors import InputError
from dse.search.pareto import nondominated
from dse.search.results_schema import (  # noqa: F401  (re-exported: the public table I/O)
    COLUMNS,
    COMPLETE,
    FORMATS,
    STUDY,
    TRIAL,
    check_format,
    constraint_column,
    export_tables,
    read_checked,
    read_table,
    write_table,
)

SURPLUS_ATTR = TRIAL.surplus
#: optuna's own system attribute for a trial's constraint values (a list, ≤ 0 feasible): what its
#: constraints machinery, ``optuna.visualization`` and optuna-dashboard read
CONSTRAINTS_KEY = TRIAL.constraints
#: a violation too large to mean anything (a missing metric): stored finite, so that JSON readers cope
MISSING_VIOLATION = 1e300


def constraint_attrs(values: Sequence[float]) -> dict[str, list[float]]:
    """System attributes recording a trial's constraint values (in the study's ``dse:constraints`` order)."""
    return {CONSTRAINTS_KEY: [min(float(v), MISSING_VIOLATION) for v in values]}


def trial_constraints(t: FrozenTrial, names: Sequence[str] | None) -> dict[str, float]:
    """A trial's constraint values by name: optuna's ``constraints`` list in ``names`` order, and any
    ``constraints:<name>`` attributes (studies written before; ``Trial.set_constraint``)."""
    out: dict[str, float] = {}
    values = t.system_attrs.get(CONSTRAINTS_KEY)
    if isinstance(values, list | tuple):
        keys = list(names) if names and len(names) == len(values) else [str(i) for i in range(len(values))]
        out.update(zip(keys, values, strict=True))
    prefix = f"{CONSTRAINTS_KEY}:"
    out.update({k[len(prefix) :]: v for k, v in t.system_attrs.items() if k.startswith(prefix)})
    return out


def study_meta(study: optuna.Study) -> dict[str, Any]:
    """Column layout stored with the study; falls back to what the trials carry."""
    attrs = study.user_attrs
    directions = ["maximize" if d == optuna.study.StudyDirection.MAXIMIZE else "minimize" for d in study.directions]
    names = study.metric_names or [f"values_{i}" for i in range(len(directions))]
    return {
        "params": attrs.get(STUDY.params),
        "fixed": attrs.get(STUDY.fixed, {}),
        "metrics": attrs.get(STUDY.metrics),
        "objectives": attrs.get(STUDY.objectives, names),
        "directions": attrs.get(STUDY.directions, directions),
        "constraints": attrs.get(STUDY.constraints),
        "grid_points": attrs.get(STUDY.grid_points),
    }


def design_number(t: FrozenTrial) -> int:
    """A trial's number in the tables: a grid design's index in the grid (its ``dse:grid_index``), else the
    optuna trial number."""
    return int(t.system_attrs.get(TRIAL.grid_index, t.number))


def trials_table(
    trials: Sequence[FrozenTrial], meta: dict[str, Any], pareto_numbers: set[int] | None = None
) -> pd.DataFrame:
    """One row per trial: params, metrics, constraint values, feasible, pareto, state, duration."""
    trials = [t for t in trials if not t.system_attrs.get(SURPLUS_ATTR)]
    params = meta.get("params") or sorted({k for t in trials for k in t.params})
    fixed = meta.get("fixed") or {}
    metrics = meta.get("metrics") or sorted({k for t in trials for k in t.user_attrs})
    objectives = meta.get("objectives") or []
    cons = meta.get("constraints") or sorted({k for t in trials for k in trial_constraints(t, None)})
    c = COLUMNS
    cols: dict[str, list[Any]] = {c.number: [], c.state: []}
    for name in params:
        cols[name] = []
    for name in metrics:
        cols[name] = []
    extra_objectives = [o for o in objectives if o not in metrics]
    for name in extra_objectives:
        cols[name] = []
    for name in cons:
        cols[constraint_column(name)] = []
    cols.update({c.feasible: [], c.duration_s: [], c.datetime_start: []})
    for t in trials:
        cols[c.number].append(design_number(t))
        cols[c.state].append(t.state.name)
        for name in params:
            cols[name].append(t.params.get(name, fixed.get(name)))
        for name in metrics:
            cols[name].append(t.user_attrs.get(name, np.nan))
        for i, name in enumerate(extra_objectives):
            cols[name].append(t.values[i] if t.values else np.nan)
        tc = trial_constraints(t, cons)
        for name in cons:
            cols[constraint_column(name)].append(tc.get(name, np.nan))
        complete = t.state == TrialState.COMPLETE
        # a missing constraint value is never feasible
        feasible = all(tc.get(name, np.inf) <= 0 for name in cons) and all(v <= 0 for v in tc.values())
        cols[c.feasible].append(bool(complete and feasible))
        cols[c.duration_s].append(t.duration.total_seconds() if t.duration is not None else np.nan)
        cols[c.datetime_start].append(t.datetime_start.isoformat() if t.datetime_start else None)
    df = pd.DataFrame(cols)
    if trials and all(TRIAL.grid_index in t.system_attrs for t in trials):
        df = df.drop(columns=[c.duration_s, c.datetime_start])  # a grid's designs are rows, not timed trials
    if pareto_numbers is None:
        df[c.pareto] = pareto_mask(df, objectives, meta.get("directions") or [])
    else:
        df[c.pareto] = df[c.number].isin(pareto_numbers)
    return df


def pareto_mask(df: pd.DataFrame, objectives: Sequence[str], directions: Sequence[str]) -> np.ndarray:
    """Non-dominated feasible COMPLETE rows (moocore; duplicates of a front point all kept)."""
    mask = np.zeros(len(df), dtype=bool)
    if not len(df) or not objectives:
        return mask
    ok = (df[COLUMNS.state] == COMPLETE).to_numpy() & df[COLUMNS.feasible].to_numpy(dtype=bool)
    if ok.any():
        mask[ok] = nondominated(df.loc[ok, list(objectives)].to_numpy(dtype=float), directions)
    return mask


def pareto_table(df: pd.DataFrame, params: Sequence[str], objectives: Sequence[str]) -> pd.DataFrame:
    """The Pareto rows, one per distinct design, sorted by the first objective."""
    front = df[df[COLUMNS.pareto]]
    keys = [p for p in params if p in front.columns]
    if keys:
        front = front.drop_duplicates(subset=keys)
    if objectives:
        front = front.sort_values(list(objectives), kind="stable")
    return front.reset_index(drop=True)


# -- atomic writes -----------------------------------------------------------------------------


#: temporary files of :func:`atomic_path` (``.<name>.<random>.tmp``), and the results directory's lock
TMP_GLOB = ".*.tmp"
WRITE_LOCK = ".write.lock"
LOCK_TIMEOUT_S = 120.0
#: output files are readable by the group and others (like a shell's default umask 022 gives)
FILE_MODE = 0o644


def ensure_dir(path: Path, field: str = "--results-dir") -> Path:
    """Create directory ``path`` (and parents); one-line InputError when a file stands in the way."""
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise InputError(field, f"{p} is a file, not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path in the target's directory; rename it onto ``path`` on success.

    The file gets mode :data:`FILE_MODE`. A reader never sees a half-written file; a killed writer
    leaves only a ``.<name>.*.tmp`` file, which :func:`results_lock` removes next time.
    """
    ensure_dir(path.parent)
    if path.is_dir():
        raise InputError("output", f"{path} is a directory; expected a file path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:  # name the file the user asked for, not our temporary one
        raise type(err)(err.errno, err.strerror, str(path)) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_stale_temp(directory: Path) -> list[Path]:
    """Remove the temporary files of :func:`atomic_path` left by killed writers in ``directory`` and
    ``directory/figures`` (call while holding :func:`results_lock`); returns them. Temporary directories
    (a streamed Parquet dataset, :mod:`dse.search.columnar`) go too."""
    gone = []
    for d in (directory, directory / "figures"):
        if d.is_dir():
            for f in d.glob(TMP_GLOB):
                if f.is_dir() and not f.is_symlink():
                    shutil.rmtree(f, ignore_errors=True)
                    gone.append(f)
                    continue
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
                    gone.append(f)
    return gone


def _unlink_while_held_is_safe() -> bool:
    """Whether removing the lock file while holding it keeps writers mutually exclusive.

    filelock >= 3.20.4 (on Unix) discards a lock it obtained on a file that was unlinked meanwhile and
    retries on the path, so a waiter that opened the removed file never believes it holds the lock
    (the race filelock's docs warn about needs a waiter that does not re-check). On Windows filelock
    removes the file itself after release; older versions keep it (it then stays, harmless but visible).
    """
    import filelock

    found = re.match(r"(\d+)\.(\d+)\.(\d+)", getattr(filelock, "__version__", ""))
    return sys.platform != "win32" and found is not None and tuple(map(int, found.groups())) >= (3, 20, 4)


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path`` itself, or None when it is absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


@contextlib.contextmanager
def results_lock(directory: Path, timeout_s: float = LOCK_TIMEOUT_S):
    """Hold ``directory/.write.lock`` (``filelock``) while writing tables, figures and reports there.

    Writers of one results directory take turns; the lock is released by the system if its holder
    dies. Temporary files present once the lock is held belong to no live writer and are removed.
    A lock not obtained within ``timeout_s`` raises InputError naming the lock file and its holder's
    likely identity (another rtsa-dse command writing the same directory).

    The lock file is removed on the way out, while still held and only if it is still the file that
    was locked (see :func:`_unlink_while_held_is_safe`), so a finished command leaves only its outputs;
    a killed holder leaves it behind, and the next writer locks and removes it.
    """
    from filelock import FileLock, Timeout

    ensure_dir(directory)
    path = directory / WRITE_LOCK
    lock = FileLock(str(path), timeout=timeout_s, mode=FILE_MODE)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            "results",
            f"timed out after {timeout_s:.0f} s waiting for {path}: another rtsa-dse command "
            "is writing this results directory; wait for it to finish or use another --results-dir",
        ) from None
    held = _file_id(path)
    try:
        remove_stale_temp(directory)
        yield
    finally:
        try:
            if held is not None and _file_id(path) == held and _unlink_while_held_is_safe():
                with contextlib.suppress(OSError):  # a directory turned read-only keeps its lock file
                    path.unlink()
        finally:
            lock.release()


def write_text(text: str, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# -- export ------------------------------------------------------------------------------------


def study_tables(study: optuna.Study) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(trials, pareto, meta) of a stored study; the front comes from ``study.best_trials``."""
    meta = study_meta(study)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    pareto = {design_number(t) for t in study.best_trials} if complete else set()
    df = trials_table(trials, meta, pareto)
    params = meta["params"] or [c for c in df.columns if c in {k for t in trials for k in t.params}]
    return df, pareto_table(df, params, meta["objectives"]), meta
