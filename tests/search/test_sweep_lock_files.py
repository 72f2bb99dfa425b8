"""A finished sweep leaves no lock files in its results folder: ``.sweep.lock`` (one sweep per folder) and the
journal's ``study.journal.wlock`` (this package's :class:`~dse.search.storage.JournalFlock`, not optuna's) are
removed while held, as the write lock is (test_write_lock.py)."""

from __future__ import annotations

import pytest
from filelock import FileLock
from test_sweep_support import write_spec

from dse.search.storage import JOURNAL_LOCK_SUFFIX, SWEEP_LOCK, exclusive, remove_journal_lock

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(autouse=True)
def _toy(toy):
    """Every test here runs with the toy accelerator registered."""


def test_a_sweep_and_its_resumption_leave_no_lock_files(run, tmp_path):
    spec = write_spec(tmp_path, "locks", trials=20)
    out = tmp_path / "locks"
    for trials in ("20", "30"):  # the second run resumes the study
        r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--trials", trials)
        assert r.code == 0, r.err
        names = sorted(p.name for p in out.iterdir())
        assert SWEEP_LOCK not in names and "study.journal" + JOURNAL_LOCK_SUFFIX not in names, names
        assert not [n for n in names if "lock" in n], names


def test_a_killed_sweeps_lock_files_go_with_the_next_sweep(tmp_path):
    (tmp_path / SWEEP_LOCK).write_text("")  # left by a sweep that died holding them
    (tmp_path / ("study.journal" + JOURNAL_LOCK_SUFFIX)).write_text("")
    with exclusive(tmp_path):
        assert (tmp_path / SWEEP_LOCK).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_journal_lock_another_writer_holds_is_left(tmp_path):
    journal = tmp_path / "study.journal"
    path = tmp_path / ("study.journal" + JOURNAL_LOCK_SUFFIX)
    held = FileLock(str(path))
    held.acquire()
    try:
        remove_journal_lock(journal, timeout_s=0.1)
        assert path.exists()
    finally:
        held.release()
    remove_journal_lock(journal, timeout_s=0.1)
    assert not path.exists()
