"""Every use of an optuna internal, in one place, each with why it is needed and what happens without it.

rtsa-dse drives optuna through its public API (``create_study``, ``ask``/``tell``, ``add_trials``, the
storage classes and their ``BaseStorage`` methods) except for the hooks below. optuna does not promise
them across releases, so ``pyproject.toml`` pins optuna to the minor versions tested, and
``tests/search/test_optuna_adapter.py`` has one test per hook: a new optuna that moves one fails there,
not in a sweep.

Hooks (optuna 5.0):

``trial_id(trial)`` — ``Trial._trial_id`` / ``FrozenTrial._trial_id``
    The storage key of a trial. The storage API (``set_trial_system_attr``, ``set_trial_state_values``,
    ``record_heartbeat``) takes it, and ``Trial`` has no public accessor. Fallback: the public
    ``storage.get_trial_id_from_study_id_trial_number`` (one storage read more).
``study_storage(study)`` — ``Study._storage``
    The storage a loaded study talks to, to write many attributes of a trial at once, mark orphaned
    trials FAIL and send heartbeats. There is no public accessor.
``study_id(study)`` — ``Study._study_id``
    The study's storage key, to copy told trials into a journal (``storage.create_new_trial(study_id,
    template_trial=…)``). Fallback: ``storage.get_study_id_from_name`` (public).
``unwrap(storage)`` — ``_CachedStorage._backend``
    A study on an RDB talks to ``_CachedStorage(RDBStorage)``; the RDB itself is needed for the one-
    transaction attribute write below and to tell an RDB from a journal.
``journal_backend(storage)`` — ``JournalStorage._backend``
    The journal's file backend, to batch its ``fsync`` calls (one per told batch, not one per record).
``rdb_set_trial_attrs(rdb, trial_id, user, system)`` — ``optuna.storages._rdb.models``,
    ``optuna.storages._rdb.storage._create_scoped_session``
    Many user/system attributes of one trial in one transaction (~2 ms per commit on PostgreSQL, and a
    trial carries ~30 metrics). Returns False when the internals moved: the caller then uses the public
    per-attribute API (slower, same result).
``encode_journal_logs(logs)`` — the journal file's record format
    ``JournalFileBackend.append_logs`` writes ``json.dumps(log, separators=(",", ":"))`` lines; the
    batched backend writes the same lines itself so that it can defer the ``fsync``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage
from optuna.storages.journal import JournalStorage

#: optuna minor versions these hooks were tested with (also the pin in pyproject.toml)
TESTED = ("5.0",)


def trial_id(trial: optuna.trial.Trial | optuna.trial.FrozenTrial, study: optuna.Study | None = None) -> int:
    """The storage key of ``trial`` (``study`` lets a ``FrozenTrial`` without one be looked up by number)."""
    tid = getattr(trial, "_trial_id", None)
    if isinstance(tid, int):
        return tid
    if study is None:  # pragma: no cover - only if optuna drops the attribute
        raise AttributeError("optuna trial without _trial_id; pass the study to look it up")
    return study_storage(study).get_trial_id_from_study_id_trial_number(study_id(study), trial.number)


def study_storage(study: optuna.Study) -> BaseStorage:
    """The storage object ``study`` reads and writes (for an RDB, optuna's caching wrapper around it)."""
    return study._storage


def study_id(study: optuna.Study) -> int:
    """The storage key of ``study``."""
    sid = getattr(study, "_study_id", None)
    if isinstance(sid, int):
        return sid
    return study_storage(study).get_study_id_from_name(study.study_name)  # pragma: no cover


def unwrap(storage: BaseStorage) -> BaseStorage:
    """The storage behind optuna's caching wrapper (an ``RDBStorage``), else ``storage`` itself."""
    inner = getattr(storage, "_backend", None)
    return inner if isinstance(inner, BaseStorage) else storage


def is_rdb(storage: BaseStorage) -> bool:
    return isinstance(unwrap(storage), RDBStorage)


def journal_backend(storage: BaseStorage) -> Any | None:
    """The backend of a ``JournalStorage`` (e.g. a ``JournalFileBackend``), else None."""
    if isinstance(storage, JournalStorage):
        return getattr(storage, "_backend", None)
    return None


def rdb_set_trial_attrs(
    storage: BaseStorage, trial_id: int, user: Mapping[str, Any], system: Mapping[str, Any]
) -> bool:
    """Set ``user`` and ``system`` attributes of a running trial in one RDB transaction.

    Returns False (nothing written) when ``storage`` is not an RDB or optuna's table models moved.
    """
    rdb = unwrap(storage)
    if not isinstance(rdb, RDBStorage):
        return False
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        with _create_scoped_session(rdb.scoped_session, True) as session:  # rolled back on any error
            row = models.TrialModel.find_or_raise_by_id(trial_id, session)
            rdb.check_trial_is_updatable(trial_id, row.state)
            for model, attrs in ((models.TrialUserAttributeModel, user), (models.TrialSystemAttributeModel, system)):
                have = {a.key: a for a in session.query(model).filter(model.trial_id == trial_id)}
                for key, value in attrs.items():
                    if key in have:  # a re-run trial inherits attributes
                        have[key].value_json = json.dumps(value)
                    else:
                        session.add(model(trial_id=trial_id, key=key, value_json=json.dumps(value)))
    except (ImportError, AttributeError):  # optuna's internals moved: the caller uses the public API
        return False
    return True


def encode_journal_logs(logs: list[dict[str, Any]]) -> bytes:
    """Journal records as ``JournalFileBackend.append_logs`` writes them (one compact JSON object a line)."""
    return ("\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n").encode("utf-8")
