"""Study storages: the embedded journal default, RDB URLs, locks, and recovery of dead workers' trials.

Default: optuna's journal file ``results/<study>/study.journal`` (plain optuna opens it with
``JournalStorage(JournalFileBackend(path))``). A single local process drives an in-memory study and
persists each told batch into the journal before asking the next (:class:`BatchedJournalFileBackend`
writes every record at once and ``fsync``\\s once per batch); several processes write the journal (or an
RDB) directly. RDB storages get heartbeats, so a killed worker's trial is failed and retried by
optuna; the journal has none, so :func:`recover_dead_trials` fails and re-queues RUNNING trials
whose local worker process is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
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

JOURNAL_NAME = "study.journal"
WORKER_ATTR = "dse:worker"
RDB_PREFIXES = ("sqlite", "postgresql", "postgres", "mysql", "oracle", "mssql")


class BatchedJournalFileBackend(JournalFileBackend):
    """optuna's journal file backend, with one ``fsync`` per batch inside :meth:`batch`.

    Outside a batch it behaves exactly like :class:`JournalFileBackend`. Inside, each record is
    still written (and visible to other readers) at once, under the journal's lock; only the
    ``fsync`` is deferred to the end of the batch, so a process crash loses nothing written and a
    power cut at most the batch in flight.
    """

    def __init__(self, file_path: str) -> None:
        super().__init__(file_path)
        self._batch_depth = 0

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if not self._batch_depth:
            super().append_logs(logs)
            return
        data = ("\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n").encode("utf-8")
        self._lock.acquire()  # blocking (optuna's symlink lock)
        try:
            with open(self._file_path, "ab") as f:
                f.write(data)
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if not self._batch_depth:
                fd = os.open(self._file_path, os.O_RDONLY)
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

    def describe(self) -> str:
        if self.kind == "journal":
            return f"journal file {self.location}"
        return f"RDB {mask_password(self.location)}"

    def open(self) -> BaseStorage:
        """A fresh storage object (one per process)."""
        if self.kind == "journal":
            return JournalStorage(BatchedJournalFileBackend(self.location))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return RDBStorage(
                    self.location,
                    engine_kwargs={"pool_pre_ping": True},
                    heartbeat_interval=self.heartbeat_s,
                    grace_period=3 * self.heartbeat_s,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
                )
            except ImportError as err:
                raise InputError("--storage", f"driver missing for {mask_password(self.location)}: {err}") from None
            except Exception as err:  # sqlalchemy errors: unreachable server, bad credentials, bad URL
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise InputError("--storage", f"cannot open {mask_password(self.location)}: {first}") from None


def mask_password(url: str) -> str:
    """``postgresql://u:secret@h/db`` → ``postgresql://u:***@h/db``."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        if ":" in cred:
            cred = cred.split(":", 1)[0] + ":***"
        return f"{scheme}://{cred}@{host}"
    return url


def storage_config(url: str | None, out_dir: Path, heartbeat_s: int = 10) -> StorageConfig:
    """``None`` → the default journal in ``out_dir``; an RDB URL; or a journal file path."""
    if url is None:
        return StorageConfig("journal", str(out_dir / JOURNAL_NAME), heartbeat_s, embedded=True)
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if "://" in url and scheme in RDB_PREFIXES:
        return StorageConfig("rdb", url, heartbeat_s)
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
    rdb = getattr(storage, "_backend", storage)
    if isinstance(rdb, RDBStorage):
        try:
            from optuna.storages._rdb import models
            from optuna.storages._rdb.storage import _create_scoped_session

            with _create_scoped_session(rdb.scoped_session, True) as session:
                row = models.TrialModel.find_or_raise_by_id(trial_id, session)
                rdb.check_trial_is_updatable(trial_id, row.state)
                for model, attrs in (
                    (models.TrialUserAttributeModel, user),
                    (models.TrialSystemAttributeModel, system),
                ):
                    have = {a.key: a for a in session.query(model).filter(model.trial_id == trial_id)}
                    for key, value in attrs.items():
                        if key in have:  # a re-run trial inherits attributes
                            have[key].value_json = json.dumps(value)
                        else:
                            session.add(model(trial_id=trial_id, key=key, value_json=json.dumps(value)))
            return
        except (ImportError, AttributeError):
            pass
    backend = getattr(storage, "_backend", None)
    batch = backend.batch() if isinstance(backend, BatchedJournalFileBackend) else contextlib.nullcontext()
    with batch:
        for key, value in user.items():
            storage.set_trial_user_attr(trial_id, key, value)
        for key, value in system.items():
            storage.set_trial_system_attr(trial_id, key, value)


# -- one owner per embedded study --------------------------------------------------------------


@contextlib.contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.sweep.lock`` for the whole run: one sweep command per results directory."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ".sweep.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                "study", f"{out_dir} is in use by another sweep; for several workers use --jobs N or --storage URL"
            ) from None
        journal = out_dir / JOURNAL_NAME
        stale = Path(str(journal) + ".lock")  # left by a killed writer: no one else writes now
        if stale.is_symlink():
            stale.unlink(missing_ok=True)
        drop_torn_tail(journal)
        yield
    finally:
        os.close(fd)


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


def recover_dead_trials(study: optuna.Study, *, all_running: bool = False) -> int:
    """Fail the RUNNING trials of dead local workers and re-queue their parameters; returns the count.

    ``all_running``: every RUNNING trial is orphaned (the caller holds the study exclusively).
    Trials on RDB storages are handled by optuna's heartbeats instead.
    """
    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = RetryHeartbeatStaleTrialCallback(max_retry=3)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        tag = t.system_attrs.get(WORKER_ATTR)
        if not all_running and (tag is None or _alive(tag)):
            continue
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
            if study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                n += 1
                frozen = study._storage.get_trial(t._trial_id)
                retry(study, _without(frozen, WORKER_ATTR))
    return n


def _without(trial: FrozenTrial, key: str) -> FrozenTrial:
    trial = optuna.trial.FrozenTrial(
        number=trial.number, state=trial.state, value=None, values=trial.values,
        datetime_start=trial.datetime_start, datetime_complete=trial.datetime_complete, params=trial.params,
        distributions=trial.distributions, user_attrs=trial.user_attrs,
        system_attrs={k: v for k, v in trial.system_attrs.items() if k != key},
        intermediate_values=trial.intermediate_values, trial_id=trial._trial_id,
    )  # fmt: skip
    return trial
