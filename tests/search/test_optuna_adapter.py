"""One test per optuna internal that rtsa-dse uses (dse/search/optuna_adapter.py): a new optuna that moves
one of them fails here. Each test checks the hook against optuna's public API where one exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import optuna
import pytest
from optuna.storages import InMemoryStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalStorage

from dse.search import optuna_adapter as oa

ROOT = Path(__file__).resolve().parents[2]
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(storage, name="s"):
    return optuna.create_study(storage=storage, study_name=name, directions=["minimize"])


@pytest.fixture
def sqlite(tmp_path):
    return RDBStorage(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_trial_id_is_the_storage_key(tmp_path):
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.journal")))
    study = _study(storage)
    study.ask()
    trial = study.ask()
    sid = storage.get_study_id_from_name("s")
    assert oa.trial_id(trial) == storage.get_trial_id_from_study_id_trial_number(sid, 1)
    assert oa.trial_id(study.trials[1]) == oa.trial_id(trial)


def test_study_storage_is_what_the_study_writes(tmp_path):
    storage = InMemoryStorage()
    study = _study(storage)
    assert oa.study_storage(study) is storage
    trial = study.ask()
    oa.study_storage(study).set_trial_system_attr(oa.trial_id(trial), "k", 1)
    assert study.trials[0].system_attrs["k"] == 1


def test_study_id_is_the_storage_key(tmp_path):
    storage = InMemoryStorage()
    _study(storage, "a")
    study = _study(storage, "b")
    assert oa.study_id(study) == storage.get_study_id_from_name("b")


def test_unwrap_finds_the_rdb_behind_the_cache(sqlite):
    study = _study(sqlite)
    assert oa.unwrap(oa.study_storage(study)) is sqlite
    assert oa.is_rdb(oa.study_storage(study))
    memory = InMemoryStorage()
    assert oa.unwrap(memory) is memory and not oa.is_rdb(memory)


def test_journal_backend(tmp_path):
    backend = JournalFileBackend(str(tmp_path / "j.journal"))
    assert oa.journal_backend(JournalStorage(backend)) is backend
    assert oa.journal_backend(InMemoryStorage()) is None


def test_rdb_set_trial_attrs_in_one_transaction(sqlite):
    study = _study(sqlite)
    trial = study.ask()
    storage = oa.study_storage(study)
    assert oa.rdb_set_trial_attrs(storage, oa.trial_id(trial), {"latency_s": 1.5}, {"constraints:c": -1.0})
    # a second write updates the keys it had (a re-run trial inherits attributes)
    assert oa.rdb_set_trial_attrs(storage, oa.trial_id(trial), {"latency_s": 2.5, "energy_j": 3.0}, {})
    study.tell(trial, 1.0)
    t = optuna.load_study(study_name="s", storage=sqlite).trials[0]
    assert t.user_attrs == {"latency_s": 2.5, "energy_j": 3.0}
    assert t.system_attrs["constraints:c"] == -1.0
    assert not oa.rdb_set_trial_attrs(InMemoryStorage(), 0, {"x": 1}, {})  # not an RDB: nothing written


def test_encode_journal_logs_matches_optuna(tmp_path):
    logs = [{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}, {"op_code": 5, "value": 1.5}]
    path = tmp_path / "ref.journal"
    JournalFileBackend(str(path)).append_logs(logs)
    assert oa.encode_journal_logs(logs) == path.read_bytes()


def test_no_optuna_internals_outside_the_adapter():
    """Private optuna names (``_storage``, ``_trial_id``, ``optuna.storages._rdb`` …) appear nowhere else."""
    private = re.compile(r"\._(storage|trial_id|study_id|backend|file_path)\b|optuna\.[\w.]*\._|_CachedStorage")
    offenders = []
    for path in sorted((ROOT / "dse").rglob("*.py")):
        if path.name == "optuna_adapter.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute | ast.ImportFrom) and private.search(ast.unparse(node)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


def test_tested_versions_match_the_pin():
    """The installed optuna is one of the tested minor versions, and pyproject pins exactly those."""
    major_minor = ".".join(optuna.__version__.split(".")[:2])
    assert major_minor in oa.TESTED
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"optuna>=([\d.]+),<([\d.]+)"', text)
    assert pin is not None
    lo, hi = (tuple(int(x) for x in v.split(".")) for v in pin.groups())
    for v in oa.TESTED:
        assert lo <= tuple(int(x) for x in v.split(".")) + (0,) < hi
