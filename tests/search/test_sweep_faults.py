"""Faults during a sweep: killed workers (journal, ``--jobs``), interruptions, exit codes, closed pipes.

Workers are real processes killed with real signals. PostgreSQL cases live in test_sweep_postgres.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from test_sweep_support import ROOT, cli_process, write_spec

from dse.search import load_spec, run_sweep
from dse.search.runner import RunStats, open_study, run_worker
from dse.search.storage import HEARTBEAT_ATTR, WORKER_ATTR, recover_dead_trials, storage_config

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(autouse=True)
def _toy(toy):
    """Every test here runs with the toy accelerator registered."""


def _trials(journal: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    try:
        store = JournalStorage(JournalFileBackend(str(journal)))
        return optuna.load_study(study_name=name, storage=store).get_trials(deepcopy=False)
    except (KeyError, ValueError, FileNotFoundError):  # not created yet, or a record being written
        return []


def _wait_for_running(journal: Path, name: str, pid_ok, done_at_least: int, timeout: float = 60) -> int:
    """Poll until a trial of a worker whose pid satisfies ``pid_ok`` is RUNNING; returns that pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.02)
        trials = _trials(journal, name)
        if sum(t.state == TrialState.COMPLETE for t in trials) < done_at_least:
            continue
        for t in trials:
            tag = t.system_attrs.get(WORKER_ATTR, "")
            if t.state == TrialState.RUNNING and tag and pid_ok(int(tag.rsplit(":", 2)[1])):
                return int(tag.rsplit(":", 2)[1])
    raise AssertionError("no running trial of the wanted worker appeared")


def _assert_exactly_n_and_retried(trials, n: int) -> None:
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(done) == n
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    failed = [t for t in trials if t.state == TrialState.FAIL and not t.system_attrs.get("dse:surplus")]
    assert failed, "the killed worker left no trial behind"
    retried = {t.system_attrs.get("failed_trial") for t in done}
    for t in failed:  # each orphan was failed and its design re-run
        assert t.number in retried


def test_sigkilled_worker_on_a_shared_journal_is_retried(tmp_path):
    """Two commands by hand on one journal file; one is SIGKILLed mid-trial; the other ends at exactly N."""
    spec = write_spec(tmp_path, "jk", trials=16)
    journal = tmp_path / "shared.journal"
    os.environ["TOY_SLEEP_S"] = "0.5"  # the kill lands while the trial seen RUNNING still runs
    try:
        args = ("sweep", spec, "--storage", journal, "--heartbeat", 1, "--no-progress", "--no-figures")
        a = cli_process(*args, "--results-dir", tmp_path / "a")
        b = cli_process(*args, "--results-dir", tmp_path / "b")
    finally:
        os.environ.pop("TOY_SLEEP_S")
    _wait_for_running(journal, "jk", lambda pid: pid == b.pid, done_at_least=2)
    b.send_signal(signal.SIGKILL)
    b.wait(10)
    out, err = a.communicate(timeout=120)
    assert a.returncode == 0, err
    _assert_exactly_n_and_retried(_trials(journal, "jk"), 16)
    assert "re-queued" in out


def test_jobs_2_survives_a_killed_child(tmp_path):
    """``--jobs 2``: one worker process is SIGKILLed mid-trial; the command completes N and exits 0."""
    spec = write_spec(tmp_path, "jobs", trials=16)
    journal = tmp_path / "jobs" / "study.journal"
    os.environ["TOY_SLEEP_S"] = "0.5"  # the kill lands while the trial seen RUNNING still runs
    try:
        proc = cli_process("sweep", spec, "--jobs", 2, "--heartbeat", 1, "--results-dir", tmp_path,
                           "--no-progress", "--no-figures")  # fmt: skip
    finally:
        os.environ.pop("TOY_SLEEP_S")
    child = _wait_for_running(journal, "jobs", lambda pid: pid != proc.pid, done_at_least=2)
    os.kill(child, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    _assert_exactly_n_and_retried(_trials(journal, "jobs"), 16)
    assert "1 worker process(es) died" in out


@pytest.mark.parametrize("kind", ["untagged", "other host"])
def test_orphan_without_tag_or_with_a_stale_heartbeat_is_retried(tmp_path, kind):
    """A worker killed between ``ask`` and its tag, or one on another host whose heartbeat stopped."""
    problem = load_spec(write_spec(tmp_path, "orph", trials=12))
    journal = tmp_path / "orph.journal"
    cfg = storage_config(str(journal), tmp_path, heartbeat_s=1)
    study = open_study(problem, cfg.open())
    orphan = study.ask(problem.distributions())
    if kind == "other host":
        study._storage.set_trial_system_attr(orphan._trial_id, WORKER_ATTR, "elsewhere.example:4242:1")
        study._storage.set_trial_system_attr(orphan._trial_id, HEARTBEAT_ATTR, time.time())
    assert recover_dead_trials(study, grace_s=cfg.grace_s) == 0  # young or fresh: left alone
    if kind == "other host":
        study._storage.set_trial_system_attr(orphan._trial_id, HEARTBEAT_ATTR, time.time() - 60)
    else:
        time.sleep(cfg.grace_s + 0.2)
    report = run_sweep(problem, storage=str(journal), results_dir=str(tmp_path), heartbeat_s=1)
    trials = _trials(journal, "orph")
    assert report.n_complete == 12 and report.stats.recovered == 1 and not report.short_of_target
    assert trials[orphan.number].state == TrialState.FAIL
    assert any(t.params == orphan.params and t.system_attrs.get("failed_trial") == orphan.number for t in trials)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


def test_worker_waits_for_a_live_worker_then_stops_short_with_a_reason(tmp_path):
    """A trial held by a live worker (fresh heartbeat) is not stolen; after the patience the worker stops."""
    problem = load_spec(write_spec(tmp_path, "wait", trials=1))
    journal = tmp_path / "wait.journal"
    cfg = storage_config(str(journal), tmp_path, heartbeat_s=1)
    study = open_study(problem, cfg.open())
    held = study.ask(problem.distributions())
    tag = f"{socket.gethostname()}:{os.getpid()}:"  # this (live) process, start time unknown
    study._storage.set_trial_system_attr(held._trial_id, WORKER_ATTR, tag)
    study._storage.set_trial_system_attr(held._trial_id, HEARTBEAT_ATTR, time.time() + 3600)
    stats = run_worker(problem, cfg, 1, patience_s=0.5)
    assert stats.incomplete and "RUNNING" in stats.why and stats.run == 0
    assert study.trials[held.number].state == TrialState.RUNNING


def test_short_run_exits_non_zero_with_one_line(run, tmp_path, monkeypatch):
    import dse.commands.sweep as cmd

    spec = write_spec(tmp_path, "short", trials=20)
    real = cmd.run_sweep

    def short(*args, **kw):
        report = real(*args, **kw)
        report.target = 25
        report.stats.incomplete, report.stats.why = True, "2 trials of other workers still RUNNING after 1 s"
        return report

    monkeypatch.setattr(cmd, "run_sweep", short)
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures")
    assert r.code == 1
    assert r.err.strip().count("\n") == 0
    assert "20 of 25" in r.err and "RUNNING" in r.err and "again" in r.err


def test_a_stop_asked_while_the_last_outputs_are_written_loses_nothing(run, tmp_path, monkeypatch):
    """Regression (a fresh-user trial): Ctrl-C while the figures were drawn let them finish, then said
    'interrupted: … run the same command again to resume' and exited 130, with nothing left to do. A second
    signal still stops at once (the interrupted message, exit 130)."""
    import dse.plots

    spec = write_spec(tmp_path, "late", trials=20)
    real = dse.plots.write_default_figures

    def drawn_under_ctrl_c(out_dir, *a, **kw):
        os.kill(os.getpid(), signal.SIGINT)  # the first signal only asks for a stop
        return real(out_dir, *a, **kw)

    monkeypatch.setattr(dse.plots, "write_default_figures", drawn_under_ctrl_c)
    r = run("sweep", spec, "--results-dir", tmp_path)
    assert r.code == 0, r.err
    assert "after the run had finished; every trial and output is written" in r.err and "resume" not in r.err
    assert (tmp_path / "late" / "report.md").exists() and "20 trials complete of 20" in r.out

    def twice(out_dir, *a, **kw):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)  # a second one interrupts the drawing itself

    monkeypatch.setattr(dse.plots, "write_default_figures", twice)
    r = run("sweep", spec, "--results-dir", tmp_path, "--trials", "25")
    assert r.code == 130 and "resume" in r.err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_finished_trials_and_exits_128_plus_n(tmp_path, sig, code):
    spec = write_spec(tmp_path, "sig", trials=100_000)
    journal = tmp_path / "sig" / "study.journal"
    proc = cli_process("sweep", spec, "--results-dir", tmp_path, "--no-progress")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or journal.stat().st_size < 100_000):
        time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "resume" in err
    trials = _trials(journal, "sig")
    assert sum(t.state == TrialState.COMPLETE for t in trials) > 0
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert not list((tmp_path / "sig").glob(".*.tmp"))


@pytest.mark.parametrize("args", [("workloads",), ("accelerators",), ("sweep", "{spec}", "--no-figures")])
def test_closed_pipe_is_not_an_error(tmp_path, args):
    spec = write_spec(tmp_path, "pipe", trials=20)
    args = [a.format(spec=spec) for a in args] + (["--results-dir", str(tmp_path)] if args[0] == "sweep" else [])
    proc = cli_process(*args)
    proc.stdout.close()  # the reader went away (`| head -0`)
    err = proc.stderr.read()
    proc.wait(60)
    assert proc.returncode == 0, err
    assert err == ""


def test_runstats_merge():
    a, b = RunStats(run=2, why="x"), RunStats(run=3, incomplete=True, why="y", lost_workers=1)
    a += b
    assert (a.run, a.incomplete, a.why, a.lost_workers) == (5, True, "x; y", 1)


def test_killed_embedded_run_removes_stale_temp_files(tmp_path):
    spec = write_spec(tmp_path, "tmpf", trials=50)
    out = tmp_path / "tmpf"
    out.mkdir()
    stale = out / ".trials.csv.abc123.tmp"
    stale.write_text("half")
    assert run_sweep(load_spec(spec), results_dir=str(tmp_path)).n_complete == 50
    assert not stale.exists()


def _python(*code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ";".join(code)], capture_output=True, text=True, cwd=ROOT)
