"""The results schema: study and trial attribute keys, trials-table columns, output file names, table I/O.

One place owns what a sweep writes, so that writers (:mod:`dse.search.runner`, :mod:`dse.search.grid`,
:mod:`dse.search.sweep`) and readers (:mod:`dse.plots.results`, ``rtsa-dse export``) agree:

* :data:`STUDY` — keys of the optuna study's user attributes (``dse:*``): the column layout, the spec copy;
* :data:`TRIAL` — keys of a trial's system attributes (``dse:*`` and optuna's own ``constraints``);
* :data:`COLUMNS` — the trials table's non-metric columns (bookkeeping; every other column is a parameter,
  a metric or a ``constraint_<name>`` value);
* the file names of ``results/<study>/``: :data:`TRIALS`, :data:`PARETO`, :data:`BASELINES` (table stems;
  ``.csv`` or ``.parquet``), :data:`SPEC_FILE`, :data:`REPORT_FILE`, :data:`JOURNAL_FILE`;
* :func:`write_table`, :func:`read_table`, :func:`read_checked`, :func:`find_table`, :func:`export_tables`.

The key strings are stored in existing studies: never change one (add a new key instead).
"""

from __future__ import annotations

import importlib.util
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import pandas as pd

from dse.errors import InputError


@dataclass(frozen=True)
class StudyKeys:
    """Keys of a sweep study's user attributes (``study.user_attrs``)."""

    identity: str = "dse:identity"
    """JSON of the spec fields that define the study (``Spec.identity()``); a resumed run must match them."""
    spec: str = "dse:spec"
    """The sweep spec's TOML source text (the fallback when ``spec.toml`` is missing)."""
    params: str = "dse:params"
    """Parameter names, in trials-table column order (list of str)."""
    fixed: str = "dse:fixed"
    """Parameters held fixed, name → value (dict)."""
    metrics: str = "dse:metrics"
    """Metric names each trial reports as user attributes, in column order (list of str)."""
    objectives: str = "dse:objectives"
    """Objective metric names, in the order of the trial values (list of str)."""
    directions: str = "dse:directions"
    """``minimize`` / ``maximize`` per objective (list of str)."""
    constraints: str = "dse:constraints"
    """Constraint names, in the order of the trials' ``constraints`` system attribute (list of str)."""
    sampler: str = "dse:sampler"
    """The sampler's name (``tpe``, ``nsga2``, ``grid``, …) the study was created with."""
    samplers: str = "dse:samplers"
    """The samplers that ran the study's trials, in the order of use, once a resumed run used another (list of
    str; absent while one sampler ran them all)."""
    plugins: str = "dse:plugins"
    """Absolute paths of the plugin files the study was made with (list of str; :mod:`dse.plugins`)."""
    grid_points: str = "dse:grid_points"
    """Number of points of the grid stored in the study (int); set once the grid is stored whole."""
    grid_stored: str = "dse:grid_stored"
    """Which grid rows the study holds as trials: :data:`GRID_ALL` or :data:`GRID_FRONT` (a large grid's front)."""
    grid_bounds: str = "dse:grid_bounds"
    """[ideal, nadir] of every feasible grid point, objectives in minimisation form (lists of float): the
    hypervolume's normalisation when the study holds only the grid's front."""
    grid_counts: str = "dse:grid_counts"
    """[designs, evaluated, feasible] of the grid (ints): what a report of a study that holds only the grid's
    front counts."""


@dataclass(frozen=True)
class TrialKeys:
    """Keys of a trial's system attributes (``trial.system_attrs``)."""

    constraints: str = "constraints"
    """optuna's own key: the constraint values (list of float, ≤ 0 satisfied), in ``dse:constraints`` order."""
    grid_index: str = "dse:grid_index"
    """The grid point's number (int): the row's ``number`` in the grid's trials table."""
    surplus: str = "dse:surplus"
    """True on a trial dropped unevaluated because racing workers had reached the target; never exported."""
    worker: str = "dse:worker"
    """The evaluating worker's tag ``host:pid:start-time`` (finds trials orphaned by a dead worker)."""
    heartbeat: str = "dse:heartbeat"
    """Wall-clock time (s since the epoch) of a journal worker's last heartbeat on its running trial."""


@dataclass(frozen=True)
class Columns:
    """The trials table's non-metric columns (``trials.csv``, ``pareto.csv``)."""

    number: str = "number"
    """The trial number (optuna's; a grid point's index for a grid), int."""
    state: str = "state"
    """optuna's trial state name: ``COMPLETE``, ``FAIL``, ``RUNNING``, … (str)."""
    feasible: str = "feasible"
    """COMPLETE and every constraint value ≤ 0 (a missing value is never feasible), bool."""
    pareto: str = "pareto"
    """On the feasible Pareto front of the objectives, bool (absent from a grid's streamed table)."""
    duration_s: str = "duration_s"
    """Wall-clock evaluation time in s, float (NaN if unfinished; absent from grid tables)."""
    datetime_start: str = "datetime_start"
    """Start time, ISO 8601 (str; absent from grid tables)."""


STUDY = StudyKeys()
TRIAL = TrialKeys()
COLUMNS = Columns()
#: the bookkeeping columns: never a parameter or a metric
NON_METRIC_COLUMNS = frozenset(astuple(COLUMNS))
#: a constraint's value column is ``constraint_<name>`` (relative violation, ≤ 0 satisfied)
CONSTRAINT_PREFIX = "constraint_"
#: the value of :attr:`Columns.state` of a finished trial
COMPLETE = "COMPLETE"
#: values of :attr:`StudyKeys.grid_stored`: every grid point stored as a trial, or only the front
GRID_ALL = "all"
GRID_FRONT = "pareto"

# -- files of results/<study>/ -------------------------------------------------------------------

#: table stems; the suffix is the format's (``trials.csv`` or ``trials.parquet``, the latter possibly a
#: partitioned dataset directory)
TRIALS = "trials"
PARETO = "pareto"
BASELINES = "baselines"
#: the spec copy, the report, and the default optuna journal storage
SPEC_FILE = "spec.toml"
REPORT_FILE = "report.md"
JOURNAL_FILE = "study.journal"
FORMATS = ("csv", "parquet")


def constraint_column(name: str) -> str:
    """The trials-table column of constraint ``name``."""
    return f"{CONSTRAINT_PREFIX}{name}"


def attribute_keys() -> list[str]:
    """Every study and trial attribute key (for checks: they must be unique)."""
    return [getattr(STUDY, f.name) for f in fields(STUDY)] + [getattr(TRIAL, f.name) for f in fields(TRIAL)]


# -- reading and writing tables ---------------------------------------------------------------------


def check_format(fmt: str) -> None:
    """InputError (``--format``) unless ``fmt`` is one of :data:`FORMATS` and its writer is installed."""
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown value {fmt!r}; allowed: {', '.join(FORMATS)}")
    if fmt == "parquet" and not any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet")):
        raise InputError("--format", "parquet needs pyarrow: pip install 'rtsa-dse[parquet]' (or use csv)")


def find_table(directory: Path, stem: str) -> Path | None:
    """``directory/<stem>.csv`` or ``.parquet`` (a file, or a partitioned dataset directory), if there."""
    for fmt in FORMATS:
        path = directory / f"{stem}.{fmt}"
        if path.exists():
            return path
    return None


def write_table(df: pd.DataFrame, path: Path, fmt: str = "csv") -> Path:
    """Write ``df`` as CSV or Parquet (suffix set from ``fmt``), atomically; returns the path written."""
    from dse.search.export import atomic_path  # export imports this module

    path = path.with_suffix(f".{fmt}")
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, float_format="%.15g")  # 15 digits: exact counts (MACs) yet no float noise
    return path


def read_table(path: Path) -> pd.DataFrame:
    """A table written by :func:`write_table` or :class:`dse.search.columnar.TableSink` (by suffix)."""
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def read_checked(path: Path, field: str = "RESULTS_DIR") -> pd.DataFrame:
    """Read a results table, with one-line InputErrors for an empty, cut-short or unparsable file."""
    hint = f"re-create it with `rtsa-dse export {path.parent}`"
    if path.suffix == ".csv" and path.is_file():
        size = path.stat().st_size
        if size == 0:
            raise InputError(field, f"{path} is empty; {hint}")
        with open(path, "rb") as f:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                raise InputError(field, f"{path} is cut short (its last line is incomplete); {hint}")
    try:
        return read_table(path)
    except InputError:
        raise
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(field, f"{path} is not a readable table ({first}); {hint}") from None


def export_tables(
    trials: pd.DataFrame, pareto: pd.DataFrame, out: Path, fmt: str, *, single: bool = False
) -> list[Path]:
    """Write ``trials`` and ``pareto`` into directory ``out`` (or only trials to file ``out`` if ``single``); in a
    directory the tables of the other format go, so that it never holds two of one table (the readers would
    take the other one)."""
    from dse.search.columnar import remove_table  # columnar imports this module

    if single:
        return [write_table(trials, out, fmt)]
    paths = [write_table(trials, out / TRIALS, fmt), write_table(pareto, out / PARETO, fmt)]
    for p in paths:
        remove_table(p.with_suffix(""), keep=p)
    return paths
