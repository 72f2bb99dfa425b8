"""Study storages: the embedded journal default, RDB URLs, locks, and recovery of dead workers' trials.

Default: optuna's journal file ``results/<study>/study.journal`` (plain optuna opens it with
``JournalStorage(JournalFileBackend(path))``). A single local process drives an in-memory study and
persists each told batch into the journal before asking the next (:class:`BatchedJournalFileBackend`
writes every record at once and ``fsync``\\s once per batch); several processes write the journal (or an
RDB) directly. A killed worker's trial is failed and re-queued by the survivors: on an RDB through
optuna's heartbeat rows, on a journal through a ``dse:heartbeat`` trial attribute, and on both through
the worker's ``host:pid:start`` tag and a grace period for a trial that has neither
(:func:`recover_dead_trials`). Locks are kernel file locks (``filelock``), released when their holder
dies: one sweep per embedded results directory (:func:`exclusive`) and the journal's write lock
(:class:`JournalFlock`). Commands that only read a study never create one (:func:`require_existing`);
a damaged journal is one line naming the file and the line (:func:`open_journal`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import FrozenTrial, TrialState

from dse.errors import InputError
from dse.search import optuna_adapter as oa
from dse.search.optuna_adapter import encode_journal_logs
from dse.search.results_schema import JOURNAL_FILE, TRIAL

JOURNAL_NAME = JOURNAL_FILE
WORKER_ATTR = TRIAL.worker
#: wall-clock time (s since the epoch) of a journal worker's last heartbeat on its running trial
HEARTBEAT_ATTR = TRIAL.heartbeat
#: a design whose trial was orphaned this many times is not re-queued again
MAX_RETRY = 3
#: one sweep command per results directory with the embedded journal (:func:`exclusive`)
SWEEP_LOCK = ".sweep.lock"
#: the journal's write lock, ``<journal>.wlock`` (:class:`JournalFlock`)
JOURNAL_LOCK_SUFFIX = ".wlock"
RDB_PREFIXES = ("sqlite", "postgresql", "postgres", "mysql", "oracle", "mssql")


class JournalFlock:
    """The journal's write lock as an OS file lock (``filelock``: ``flock``) on ``<journal>.wlock``.

    optuna's default symlink lock outlives a writer killed while holding it: the other writers then
    wait out its 30 s grace period. A kernel file lock is released when its holder dies. Every
    rtsa-dse writer of a journal uses this lock (a plain optuna process writing the same file at the
    same time would use its own; reading is always safe).
    """

    def __init__(self, journal_path: str):
        from filelock import FileLock

        self._lock = FileLock(journal_path + JOURNAL_LOCK_SUFFIX, mode=0o644)

    def acquire(self) -> bool:
        self._lock.acquire()
        return True

    def release(self) -> None:
        self._lock.release()


class BatchedJournalFileBackend(JournalFileBackend):
    """optuna's journal file backend, with one ``fsync`` per batch inside :meth:`batch`.

    Outside a batch it behaves exactly like :class:`JournalFileBackend`. Inside, each record is
    still written (and visible to other readers) at once, under the journal's lock; only the
    ``fsync`` is deferred to the end of the batch, so a process crash loses nothing written and a
    power cut at most the batch in flight.
    """

    def __init__(self, file_path: str) -> None:
        self.journal_lock = JournalFlock(file_path)  # released by the kernel if its holder dies
        self.journal_path = file_path
        super().__init__(file_path, lock_obj=self.journal_lock)
        self._batch_depth = 0

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if not self._batch_depth:
            super().append_logs(logs)
            return
        data = encode_journal_logs(logs)  # the records optuna's own append_logs writes
        self.journal_lock.acquire()  # blocking
        try:
            with open(self.journal_path, "ab") as f:
                f.write(data)
        finally:
            self.journal_lock.release()

    @contextlib.contextmanager
    def batch(self, hold_lock: bool = False) -> Iterator[None]:
        """Defer the ``fsync`` to the end of the block; with ``hold_lock``, also hold the journal's lock for the
        whole block (other writers wait), so that its many records take the lock once, not once each — for
        writes that do no other work in between (a grid's front, thousands of trials at once)."""
        self._batch_depth += 1
        if hold_lock:
            self.journal_lock.acquire()  # re-entrant: the records' own acquires only count
        try:
            yield
        finally:
            if hold_lock:
                self.journal_lock.release()
            self._batch_depth -= 1
            if not self._batch_depth:
                fd = os.open(self.journal_path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)


@dataclass(frozen=True)
class StorageConfig:
    """Where a study lives: ``kind`` is ``journal`` (a file) or ``rdb`` (a SQLAlchemy URL)."""

    kind: str
    location: str  # journal path or RDB URL
    heartbeat_s: int = 10
    #: the default journal in the results directory (the command holds it exclusively)
    embedded: bool = False

    @property
    def concurrent(self) -> bool:
        """Tolerates several writing processes (journal file, server RDB; not one SQLite file)."""
        return not (self.kind == "rdb" and self.location.startswith("sqlite"))

    @property
    def grace_s(self) -> float:
        """Seconds a running trial may go without a heartbeat before it is failed and re-queued."""
        return 3.0 * self.heartbeat_s

    def describe(self) -> str:
        if self.kind == "journal":
            return f"journal file {self.location}"
        return f"RDB {mask_password(self.location)}"

    def open(self) -> BaseStorage:
        """A fresh storage object (one per process)."""
        if self.kind == "journal":
            return open_journal(self.location)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return RDBStorage(
                    self.location,
                    engine_kwargs={"pool_pre_ping": True},
                    heartbeat_interval=self.heartbeat_s,
                    grace_period=int(self.grace_s),
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
                )
            except ImportError as err:
                raise InputError("--storage", f"driver missing for {mask_password(self.location)}: {err}") from None
            except Exception as err:  # sqlalchemy errors: unreachable server, bad credentials, bad URL
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise InputError("--storage", f"cannot open {mask_password(self.location)}: {first}") from None


#: PostgreSQL drivers SQLAlchemy knows, in the order a URL without one gets them: psycopg 3 (SQLAlchemy ≥ 2.1's
#: default for ``postgresql://``), then psycopg2 (the ``postgres`` extra's, and SQLAlchemy < 2.1's default)
PG_DRIVERS = (("psycopg", "psycopg"), ("psycopg2", "psycopg2"))


def with_driver(url: str) -> str:
    """``url`` with an installed PostgreSQL driver named where it names none (``postgresql://`` or the
    ``postgres://`` alias → ``postgresql+psycopg2://`` when only psycopg2 is installed), so that the URL works
    whichever driver SQLAlchemy's version defaults to; other URLs unchanged."""
    head, sep, rest = url.partition("://")
    if not sep or head.lower() not in ("postgresql", "postgres"):
        return url
    for module, driver in PG_DRIVERS:
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    return url  # no driver: opening it names the missing module


def mask_password(url: str) -> str:
    """``postgresql://u:secret@h/db`` → ``postgresql://u:***@h/db``."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        if ":" in cred:
            cred = cred.split(":", 1)[0] + ":***"
        return f"{scheme}://{cred}@{host}"
    return url


def journal_damage(path: str | Path) -> tuple[int, int, bool]:
    """(first damaged line or 0, number of lines, ends in a partial record) of a journal file.

    A line is damaged when it is not one JSON object; a last line without its newline is a record
    cut short (a writer killed mid-write, or a copy cut off), not damage.
    """
    import json

    bad = n = 0
    partial = False
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):  # noqa: B007
            if not line.endswith(b"\n"):
                partial = True
                n -= 1
                break
            if bad:
                continue
            try:
                ok = isinstance(json.loads(line), dict)
            except ValueError:
                ok = False
            if not ok:
                bad = n
    return bad, n, partial


def _last_record_ok(path: Path) -> bool:
    """Whether the last complete line of a journal is a JSON object (optuna skips a bad last line
    silently, then fails once a record follows it). A partial last line is a write in progress."""
    import json

    if not path.is_file() or path.stat().st_size == 0:
        return True
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - (1 << 20)))
        tail = f.read()
    lines = tail.split(b"\n")
    complete = lines[:-1]  # the part after the last newline is partial (or empty)
    if not complete or (len(complete) == 1 and size > len(tail)):
        return True  # one line longer than the window: leave it to optuna
    try:
        return isinstance(json.loads(complete[-1]), dict)
    except ValueError:
        return False


def open_journal(path: str, field: str = "--storage") -> JournalStorage:
    """optuna's journal storage on ``path`` (created if missing) with this package's backend.

    One-line InputError when the path is a directory or the journal is damaged (a line that is not a
    record, anywhere but a last line cut short), naming the file and the line.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(field, f"{p} is a directory; expected a journal file (PATH.journal)")
    try:
        if not _last_record_ok(p):
            raise ValueError("last record")
        return JournalStorage(BatchedJournalFileBackend(str(p)))
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as err:
        bad, n, _ = journal_damage(p)
        where = f"line {bad} of {n} is not a journal record" if bad else f"unreadable ({type(err).__name__})"
        raise InputError(
            field, f"{p} is damaged: {where}; restore it from a copy, or move it away to start the study anew"
        ) from None
    except OSError as err:  # its folder cannot be made or written (a file in the way, no permission)
        raise InputError(field, f"cannot open the journal {p}: {err.strerror or err}") from None


def require_existing(url_or_path: str, field: str = "--storage") -> None:
    """For commands that only read a study: a journal file or SQLite database must exist already
    (opening a missing one would create it). Other RDB URLs are left to the server."""
    cfg_path = None
    if "://" in url_or_path:
        scheme = url_or_path.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme == "sqlite":
            rest = url_or_path.split("://", 1)[1]
            cfg_path = rest[1:] if rest.startswith("/") else rest
            if cfg_path in ("", ":memory:"):
                raise InputError(field, f"{url_or_path!r} names no database file")
    else:
        cfg_path = url_or_path[len("journal:") :] if url_or_path.startswith("journal:") else url_or_path
    if cfg_path is not None and not Path(cfg_path).is_file():
        what = "directory, not a file" if Path(cfg_path).is_dir() else "no such file"
        raise InputError(field, f"{cfg_path}: {what}; nothing to read (commands that only read never create one)")


def storage_config(url: str | None, out_dir: Path, heartbeat_s: int = 10) -> StorageConfig:
    """``None`` → the default journal in ``out_dir``; an RDB URL; or a journal file path."""
    if url is None:
        return StorageConfig("journal", str(out_dir / JOURNAL_NAME), heartbeat_s, embedded=True)
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if "://" in url and scheme in RDB_PREFIXES:
        return StorageConfig("rdb", with_driver(url), heartbeat_s)
    if url.startswith("journal:"):
        return StorageConfig("journal", url[len("journal:") :], heartbeat_s)
    if url.endswith((".journal", ".log")) and "://" not in url:
        return StorageConfig("journal", url, heartbeat_s)
    raise InputError(
        "--storage",
        f"unsupported {mask_password(url)!r}; allowed: an RDB URL (sqlite:///f.db, postgresql://user@host/db, "
        "mysql://...) or a journal file (PATH.journal, PATH.log, journal:PATH)",
    )


def write_trial_attrs(storage: BaseStorage, trial_id: int, user: dict[str, Any], system: dict[str, Any]) -> None:
    """Set many attributes of a running trial at once.

    On an RDB: one transaction through optuna's table models (instead of one commit per attribute,
    ~2 ms each on PostgreSQL); on a journal: one ``fsync``. Falls back to the public per-attribute
    API if optuna's internals change.
    """
    if oa.rdb_set_trial_attrs(storage, trial_id, user, system):
        return
    backend = oa.journal_backend(storage)
    batch = backend.batch() if isinstance(backend, BatchedJournalFileBackend) else contextlib.nullcontext()
    with batch:
        for key, value in user.items():
            storage.set_trial_user_attr(trial_id, key, value)
        for key, value in system.items():
            storage.set_trial_system_attr(trial_id, key, value)


# -- one owner per embedded study --------------------------------------------------------------


@contextlib.contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.sweep.lock`` (``filelock``) for the whole run: one sweep command per results
    directory with the embedded journal. Not waited for: a second command fails at once, in one line.

    On the way out the journal's write lock file goes (:func:`remove_journal_lock`), then the sweep lock
    file, while still held and only if it is still the file that was locked, as
    :func:`~dse.search.export.results_lock` removes its own: a finished sweep leaves only its outputs.
    """
    from filelock import FileLock, Timeout

    from dse.search.export import FILE_MODE, _file_id, _unlink_while_held_is_safe, ensure_dir

    ensure_dir(out_dir)
    path = out_dir / SWEEP_LOCK
    lock = FileLock(str(path), timeout=0, mode=FILE_MODE)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            "study",
            f"{out_dir} is in use by another sweep (it holds {path}); for several workers use --jobs N or --storage URL",
        ) from None
    held = _file_id(path)
    journal = out_dir / JOURNAL_NAME
    try:
        stale = Path(str(journal) + ".lock")  # left by a killed writer: no one else writes now
        if stale.is_symlink():
            stale.unlink(missing_ok=True)
        drop_torn_tail(journal)
        yield
    finally:
        try:
            remove_journal_lock(journal)
            if held is not None and _file_id(path) == held and _unlink_while_held_is_safe():
                with contextlib.suppress(OSError):  # a directory turned read-only keeps its lock file
                    path.unlink()
        finally:
            lock.release()


def remove_journal_lock(journal: Path, timeout_s: float = 10.0) -> None:
    """Remove ``<journal>.wlock``, the journal's write lock file (:class:`JournalFlock`, this package's, not
    optuna's), once this command's writes are done: locked, then unlinked while held (a writer that opened
    it meanwhile finds the file gone and locks a fresh one, as with :func:`~dse.search.export.results_lock`).
    A lock still busy after ``timeout_s`` (another command writing the same journal) is left."""
    from filelock import FileLock, Timeout

    from dse.search.export import FILE_MODE, _file_id, _unlink_while_held_is_safe

    path = Path(str(journal) + JOURNAL_LOCK_SUFFIX)
    if not path.is_file() or path.is_symlink() or not _unlink_while_held_is_safe():
        return
    lock = FileLock(str(path), timeout=timeout_s, mode=FILE_MODE)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return
    try:
        if _file_id(path) is not None:
            with contextlib.suppress(OSError):
                path.unlink()
    finally:
        lock.release()


def drop_torn_tail(journal: Path) -> None:
    """Cut a last record left half-written by a killed process (optuna would fail on the next append)."""
    if not journal.is_file() or journal.stat().st_size == 0:
        return
    with open(journal, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        size = f.seek(0, os.SEEK_END)
        start = max(0, size - (1 << 20))
        f.seek(start)
        tail = f.read()
        cut = tail.rfind(b"\n")
        f.truncate(start + cut + 1 if cut >= 0 else 0)
        f.flush()
        os.fsync(f.fileno())


# -- dead workers ------------------------------------------------------------------------------


def _start_time(pid: int) -> str:
    """Process start time (clock ticks since boot) from /proc, to tell a reused pid apart; '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def worker_tag() -> str:
    """``host:pid:start`` of this process, stored on each trial it runs (journal storages)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _alive(tag: str) -> bool:
    """Whether the worker that wrote ``tag`` may still run (a worker on another host counts as alive)."""
    try:
        host, pid_s, start = tag.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not start or _start_time(pid) in ("", start)


def _age_s(t: FrozenTrial) -> float:
    """Seconds since the trial's last sign of life: its heartbeat attribute (journal), else its start."""
    beat = t.system_attrs.get(HEARTBEAT_ATTR)
    if isinstance(beat, int | float) and not isinstance(beat, bool):
        return time.time() - float(beat)
    if t.datetime_start is None:
        return 0.0
    return time.time() - t.datetime_start.timestamp()


def stale_reason(t: FrozenTrial, grace_s: float | None, *, journal: bool) -> str | None:
    """Why a RUNNING trial is orphaned (its worker is gone), or None while it may still run.

    * its worker is a dead process on this host (``dse:worker`` tag);
    * it has no tag and started more than ``grace_s`` ago (a worker killed between ``ask`` and the
      tag; on an RDB it has no heartbeat row either, which optuna's stale check needs);
    * on a journal: its worker's last heartbeat (``dse:heartbeat``) is older than ``grace_s`` (a
      worker on another host, or a hung one). On an RDB, optuna's own heartbeat rows cover this case.
    """
    tag = t.system_attrs.get(WORKER_ATTR)
    if tag is not None and not _alive(tag):
        return "worker process gone"
    if grace_s is None:
        return None
    if tag is None and _age_s(t) > grace_s:
        return "no worker tag or heartbeat"
    if journal and tag is not None and _age_s(t) > grace_s:
        return "heartbeat stale"
    return None


def recover_dead_trials(study: optuna.Study, *, all_running: bool = False, grace_s: float | None = None) -> int:
    """Fail the RUNNING trials whose worker is gone and re-queue their parameters; returns the count.

    ``all_running``: every RUNNING trial is orphaned (the caller holds the study exclusively).
    ``grace_s``: how long a trial may go without a sign of life (see :func:`stale_reason`); None
    checks only for dead local processes. The re-queued copy (optuna's
    :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`, at most :data:`MAX_RETRY` times per
    design) records the failed trial's number in ``failed_trial``. Several workers may run this at
    once: only the one whose FAIL lands re-queues.
    """
    n = 0
    journal = not oa.is_rdb(oa.study_storage(study))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not all_running and stale_reason(t, grace_s, journal=journal) is None:
            continue
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
            if oa.study_storage(study).set_trial_state_values(oa.trial_id(t), state=TrialState.FAIL):
                n += 1
                frozen = oa.study_storage(study).get_trial(oa.trial_id(t))
                retry(study, without_attrs(frozen, (WORKER_ATTR, HEARTBEAT_ATTR)))
    return n


def without_attrs(trial: FrozenTrial, keys: tuple[str, ...]) -> FrozenTrial:
    trial = optuna.trial.FrozenTrial(
        number=trial.number, state=trial.state, value=None, values=trial.values,
        datetime_start=trial.datetime_start, datetime_complete=trial.datetime_complete, params=trial.params,
        distributions=trial.distributions, user_attrs=trial.user_attrs,
        system_attrs={k: v for k, v in trial.system_attrs.items() if k not in keys},
        intermediate_values=trial.intermediate_values, trial_id=oa.trial_id(trial),
    )  # fmt: skip
    return trial
