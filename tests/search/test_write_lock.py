"""The results directory's write lock: writers take turns, and a finished command leaves only its outputs."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from test_sweep_support import write_spec

from dse.search.export import WRITE_LOCK, results_lock

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(autouse=True)
def _toy(toy):
    """Every test here runs with the toy accelerator registered."""


def test_export_folder_holds_only_the_outputs(run, tmp_path):
    spec = write_spec(tmp_path, "exp", trials=30)
    assert run("sweep", spec, "--results-dir", tmp_path, "--no-figures").code == 0
    assert not (tmp_path / "exp" / WRITE_LOCK).exists()
    r = run("export", tmp_path / "exp", "-o", tmp_path / "out")
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pareto.csv", "trials.csv"]
    r = run("export", tmp_path / "exp", "-o", tmp_path / "single" / "all.csv")
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "single").iterdir()) == ["all.csv"]


def test_a_killed_holders_lock_file_goes_with_the_next_writer(tmp_path):
    (tmp_path / WRITE_LOCK).write_text("")  # left by a writer that died holding it
    with results_lock(tmp_path, timeout_s=1):
        assert (tmp_path / WRITE_LOCK).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_that_is_not_the_locked_one_is_left(tmp_path):
    with results_lock(tmp_path, timeout_s=1):
        (tmp_path / WRITE_LOCK).unlink()
        (tmp_path / WRITE_LOCK).write_text("someone else's")
    assert (tmp_path / WRITE_LOCK).read_text() == "someone else's"


def _bump(directory: str, times: int) -> None:
    """Read-modify-write a counter under the lock, slowly enough that overlapping writers lose counts."""
    from pathlib import Path

    counter = Path(directory) / "counter"
    for _ in range(times):
        with results_lock(Path(directory), timeout_s=60):
            n = int(counter.read_text())
            time.sleep(0.002)
            counter.write_text(str(n + 1))


@pytest.mark.skipif(os.name != "posix", reason="fork start method")
def test_concurrent_writers_take_turns_although_the_lock_file_is_removed(tmp_path):
    (tmp_path / "counter").write_text("0")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_bump, args=(str(tmp_path), 40)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 4
    assert int((tmp_path / "counter").read_text()) == 4 * 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter"]
