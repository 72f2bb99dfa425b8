"""Distributed sweeps on the local PostgreSQL server (127.0.0.1:5432, user postgres, database test).

Workers are separate CLI processes, as on separate machines. Without a server these tests skip,
except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState
from test_sweep_support import ROOT, cli_process, write_spec

from dse.search.storage import WORKER_ATTR

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")]

URL = os.environ.get("RTSA_DSE_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _server_error() -> str | None:
    try:
        import psycopg2
    except ImportError:
        return "psycopg2 is not installed (pip install '.[test]')"
    try:
        psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3).close()
    except psycopg2.OperationalError as err:
        return f"no PostgreSQL at 127.0.0.1:5432 ({str(err).strip().splitlines()[0]})"
    return None


@pytest.fixture
def pg_study():
    """A unique study name on the server; the study is deleted afterwards."""
    err = _server_error()
    if err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(err)
        pytest.skip(err)
    name = f"test_sweep_{uuid.uuid4().hex[:10]}"
    yield name
    storage = optuna.storages.RDBStorage(URL)
    try:
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:
        pass
    finally:
        storage.remove_session()
        storage.engine.dispose()


def _trials(name: str) -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.RDBStorage(URL)
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials()
    finally:
        storage.engine.dispose()


def _complete(name: str) -> list[optuna.trial.FrozenTrial]:
    return [t for t in _trials(name) if t.state == TrialState.COMPLETE]


def _worker(spec, name: str, tmp_path, tag: str, trials: int, env: dict | None = None):
    if env:
        os.environ.update(env)
    try:
        return cli_process("sweep", spec, "--storage", URL, "--study", name, "--trials", trials, "--heartbeat", 1,
                           "--results-dir", tmp_path / tag, "--no-progress")  # fmt: skip
    finally:
        for k in env or {}:
            os.environ.pop(k, None)


def test_two_workers_finish_exactly_n(pg_study, tmp_path):
    spec = write_spec(tmp_path, "pg", trials=60)
    a = _worker(spec, pg_study, tmp_path, "a", 60)
    time.sleep(0.3)  # the first creates the study; the second may also race it: both must work
    b = _worker(spec, pg_study, tmp_path, "b", 60)
    for p in (a, b):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert len(_complete(pg_study)) == 60
    assert (tmp_path / "a" / pg_study / "trials.csv").exists()


def test_sigkilled_worker_trial_is_rerun(pg_study, tmp_path):
    n = 16  # enough trials that the study is still running when b is caught mid-trial on a loaded machine
    spec = write_spec(tmp_path, "pgkill", trials=n)
    # each trial spends 2 s evaluating, so a kill lands mid-trial even when polling the study is slow (0.5 s
    # let the kill land between trials on a loaded CI machine: nothing was left to retry)
    slow = {"TOY_SLEEP_S": "2.0"}
    a = _worker(spec, pg_study, tmp_path, "a", n, slow)
    b = _worker(spec, pg_study, tmp_path, "b", n, slow)
    deadline = time.monotonic() + 60
    caught = False
    while time.monotonic() < deadline and b.poll() is None:  # kill b while it runs a trial, after some are done
        time.sleep(0.02)
        try:
            trials = _trials(pg_study)
        except KeyError:  # study not created yet
            continue
        mine = [
            t for t in trials if t.state == TrialState.RUNNING and f":{b.pid}:" in t.system_attrs.get(WORKER_ATTR, "")
        ]
        if sum(t.state == TrialState.COMPLETE for t in trials) >= 3 and mine:
            caught, seen = True, mine[0].number
            break
    assert caught, "worker b was never seen running a trial: the test could not kill it mid-trial"
    b.send_signal(signal.SIGKILL)
    b.wait(10)
    out, err = a.communicate(timeout=120)
    assert a.returncode == 0, err
    trials = _trials(pg_study)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(done) == n
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    failed = [t for t in trials if t.state == TrialState.FAIL and not t.system_attrs.get("dse:surplus")]
    retried = {RetryHeartbeatStaleTrialCallback.retried_trial_number(t) for t in done}
    assert seen in {t.number for t in failed}, "the killed worker's trial was not failed"
    for t in failed:  # the killed worker's trial was detected by its heartbeat and re-run
        assert t.number in retried


def test_quickstart_with_jobs_on_postgres(run, pg_study, tmp_path):
    r = run("sweep", ROOT / "sweeps" / "quickstart.toml", "--storage", URL, "--jobs", "2", "--study", pg_study,
            "--trials", "80", "--results-dir", tmp_path)  # fmt: skip
    assert r.code == 0, r.err
    assert len(_complete(pg_study)) == 80
    r = run("export", "--storage", URL, "--study", pg_study, "-o", tmp_path / "x.csv")
    assert r.code == 0 and (tmp_path / "x.csv").exists()


# the test plays a worker killed between ask and its first heartbeat with optuna's own ask(), which warns that
# heartbeats are meant for Study.optimize: expected here
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_orphan_killed_before_its_first_heartbeat_is_retried(pg_study, tmp_path):
    """A worker killed between ``ask`` and its first heartbeat leaves a RUNNING trial with no heartbeat
    row (optuna's stale check never sees it) and no worker tag: it is failed after the grace period."""
    from test_sweep_support import register, unregister

    from dse.search import load_spec, run_sweep
    from dse.search.runner import open_study
    from dse.search.storage import storage_config

    register()
    try:
        problem = load_spec(write_spec(tmp_path, "pgorphan", trials=10), study=pg_study)
        cfg = storage_config(URL, tmp_path, heartbeat_s=1)
        study = open_study(problem, cfg.open())
        orphan = study.ask(problem.distributions())  # no heartbeat, no tag: the kill landed right here
        time.sleep(cfg.grace_s + 0.5)
        report = run_sweep(problem, storage=URL, results_dir=str(tmp_path), heartbeat_s=1)
    finally:
        unregister()
    trials = _trials(pg_study)
    assert report.n_complete == 10 and not report.short_of_target
    assert trials[orphan.number].state == TrialState.FAIL
    assert any(t.params == orphan.params and t.system_attrs.get("failed_trial") == orphan.number for t in trials)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


def test_jobs_2_on_postgres_survives_a_killed_child(pg_study, tmp_path):
    """``--jobs 2 --storage postgresql://…``: one worker process is SIGKILLed mid-trial; exactly N, exit 0."""
    n = 12
    spec = write_spec(tmp_path, "pgjobs", trials=n)
    # the kill lands while the trial seen RUNNING still runs: 2 s leaves room for a slow poll on a loaded machine
    os.environ["TOY_SLEEP_S"] = "2.0"
    try:
        proc = cli_process("sweep", spec, "--storage", URL, "--study", pg_study, "--jobs", 2, "--heartbeat", 1,
                           "--results-dir", tmp_path, "--no-progress", "--no-figures")  # fmt: skip
    finally:
        os.environ.pop("TOY_SLEEP_S")
    deadline = time.monotonic() + 60
    child = seen = None
    while child is None and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            trials = _trials(pg_study)
        except KeyError:
            continue
        if sum(t.state == TrialState.COMPLETE for t in trials) < 2:
            continue
        for t in trials:
            tag = t.system_attrs.get(WORKER_ATTR, "")
            if t.state == TrialState.RUNNING and tag and int(tag.rsplit(":", 2)[1]) != proc.pid:
                child, seen = int(tag.rsplit(":", 2)[1]), t.number
    assert child is not None, "no running trial of the child worker appeared"
    os.kill(child, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    trials = _trials(pg_study)
    assert len([t for t in trials if t.state == TrialState.COMPLETE]) == n
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    failed = [t for t in trials if t.state == TrialState.FAIL and not t.system_attrs.get("dse:surplus")]
    assert seen in {t.number for t in failed}, "the killed worker's trial was not failed"
    assert {t.number for t in failed} <= {t.system_attrs.get("failed_trial") for t in trials}
    assert "1 worker process(es) died" in out


def test_url_without_driver_uses_the_installed_one(run, pg_study, tmp_path):
    """``postgresql://`` names no driver; SQLAlchemy ≥ 2.1 then defaults to psycopg 3, which the ``postgres``
    extra does not install: the URL users type still opens (with psycopg2), and the summary shows the model's
    share of the search."""
    bare = "postgresql://" + URL.split("://", 1)[1]
    r = run("sweep", ROOT / "sweeps" / "quickstart.toml", "--storage", bare, "--study", pg_study,
            "--trials", "20", "--results-dir", tmp_path, "--no-figures")  # fmt: skip
    assert r.code == 0, r.err
    assert len(_complete(pg_study)) == 20
    assert "model evaluations in" in " ".join(r.out.split()) and "of the search)" in r.out
