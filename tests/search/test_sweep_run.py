"""Running sweeps: quickstart end to end, resume, killed runs, local workers, grid, search quality, export."""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from sweep_specs import spec_text
from test_sweep_support import ROOT, TOY_SPEC, cli_process, register, unregister, write_spec

from dse.search import load_spec, run_sweep
from dse.search import optuna_adapter as oa
from dse.search.grid import evaluate_grid
from dse.search.pareto import bounds, normalized_hypervolume


@pytest.fixture(autouse=True)
def _toy():
    register()
    yield
    unregister()


def journal_study(path: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(str(path))))


def complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def brute_force_front(values: np.ndarray) -> np.ndarray:
    """O(n²) reference: rows no other row dominates (minimisation)."""
    keep = np.ones(len(values), dtype=bool)
    for i in range(0, len(values), 512):
        a = values[i : i + 512, None, :]
        dominated = np.any(np.all(values[None] <= a, axis=2) & np.any(values[None] < a, axis=2), axis=1)
        keep[i : i + 512] = ~dominated
    return keep


def test_quickstart_end_to_end_and_rerun_adds_nothing(run, tmp_path):
    args = ("sweep", ROOT / "sweeps" / "quickstart.toml", "--results-dir", tmp_path)
    t0 = time.perf_counter()
    r = run(*args)
    assert r.code == 0, r.err
    assert time.perf_counter() - t0 < 60
    out = tmp_path / "quickstart"
    trials = pd.read_csv(out / "trials.csv")
    pareto = pd.read_csv(out / "pareto.csv")
    assert len(trials) == 2000 and (trials["state"] == "COMPLETE").all()
    for col in ("rows", "cols", "lanes", "sparsity_linear", "latency_s", "energy_j", "area_mm2", "utilization",
                "accuracy_drop", "constraint_area_mm2_max", "feasible", "pareto", "duration_s"):  # fmt: skip
        assert col in trials.columns, col
    assert 0 < len(pareto) < 2000 and pareto["feasible"].all()
    keys = ["rows", "cols", "lanes", "glb_kib", "dram_gbps", "sparsity_linear", "sparsity_attention", "sfu_lanes"]
    assert not pareto.duplicated(keys).any()
    assert (out / "report.md").exists() and (out / "pareto.png").exists()  # default figures written at the end
    assert "2000 run now" in r.out and "hypervolume" in r.out and "trials.csv" in r.out
    assert r.err == ""  # no progress bar off a terminal, no warnings
    assert (out / "spec.toml").read_text() == (ROOT / "sweeps" / "quickstart.toml").read_text()
    # plain optuna reads the study, with every metric as a user attribute
    study = journal_study(out / "study.journal", "quickstart")
    assert len(complete(study)) == 2000 and study.metric_names == ["latency_s", "energy_j", "area_mm2"]
    t = study.trials[0]
    assert t.user_attrs["latency_s"] == pytest.approx(t.values[0])
    names = study.user_attrs["dse:constraints"]  # optuna's own `constraints` list, in this order
    assert "area_mm2_max" in names and len(t.system_attrs["constraints"]) == len(names) == len(t.constraints)
    # optuna's own front (best_trials) is the one written
    best = {tt.number for tt in study.best_trials}
    assert set(trials.loc[trials["pareto"], "number"]) == best
    # export rebuilds the same front, robustness columns included (a fresh-user trial: it dropped them)
    assert run("export", out, "-o", tmp_path / "exported").code == 0
    exported = pd.read_csv(tmp_path / "exported" / "pareto.csv")
    assert "p_pareto" in exported.columns and list(exported.columns) == list(pareto.columns)
    pd.testing.assert_frame_equal(exported, pareto)
    again = run(*args)
    assert again.code == 0 and "0 run now" in again.out
    assert len(journal_study(out / "study.journal", "quickstart").trials) == 2000
    assert len(pd.read_csv(out / "trials.csv")) == 2000


def test_resume_after_interruption_loses_nothing(tmp_path):
    problem = load_spec(write_spec(tmp_path, "resume", trials=400))
    batches = []

    def stop_after_three(stats):
        batches.append(stats.run)
        if len(batches) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(problem, results_dir=str(tmp_path), on_batch=stop_after_three)
    journal = tmp_path / "resume" / "study.journal"
    before = complete(journal_study(journal, "resume"))
    assert len(before) == 150  # three NSGA-II generations of 50, all persisted
    report = run_sweep(problem, results_dir=str(tmp_path))
    assert report.stats.run == 250 and report.previously_complete == 150
    after = journal_study(journal, "resume")
    assert len(complete(after)) == 400 and len(after.trials) == 400
    trials = after.get_trials(deepcopy=False)
    for old in before:
        new = trials[old.number]
        assert new.params == old.params and new.values == old.values
    assert report.stats.cache_hits > 0  # NSGA-II repeats designs; the cache answers them


def test_a_resumed_run_with_another_sampler_is_recorded(run, tmp_path):
    """Regression (a fresh-user trial): report.md named only the last sampler though NSGA-II ran the first
    trials. A run that adds no trial records nothing."""
    spec = write_spec(tmp_path, "mixed", trials=40)
    assert run("sweep", spec, "--results-dir", tmp_path, "--no-figures").code == 0
    assert run("sweep", spec, "--results-dir", tmp_path, "--sampler", "tpe", "--no-figures").code == 0  # adds none
    r = run("sweep", spec, "--results-dir", tmp_path, "--trials", "50", "--sampler", "random")
    assert r.code == 0, r.err
    study = journal_study(tmp_path / "mixed" / "study.journal", "mixed")
    assert study.user_attrs["dse:samplers"] == ["nsga2", "random"]
    assert "| sampler | nsga2, then random |" in (tmp_path / "mixed" / "report.md").read_text()


def test_killed_run_resumes_to_exactly_n(tmp_path):
    spec = write_spec(tmp_path, "killed", trials=3000)
    journal = tmp_path / "killed" / "study.journal"
    proc = cli_process("sweep", spec, "--results-dir", tmp_path, "--no-progress")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or journal.stat().st_size < 400_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    n_before = len(complete(journal_study(journal, "killed")))
    assert 0 < n_before < 3000
    report = run_sweep(load_spec(spec), results_dir=str(tmp_path))
    study = journal_study(journal, "killed")
    assert len(complete(study)) == 3000 and report.stats.run == 3000 - n_before


def test_two_local_workers_on_the_journal(tmp_path):
    problem = load_spec(write_spec(tmp_path, "jobs", trials=120))
    report = run_sweep(problem, results_dir=str(tmp_path), jobs=2)
    study = journal_study(tmp_path / "jobs" / "study.journal", "jobs")
    assert len(complete(study)) == 120
    assert report.n_complete == 120 and (tmp_path / "jobs" / "trials.csv").exists()
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


def test_grid_front_equals_brute_force(tmp_path):
    text = TOY_SPEC.format(study="grid", sampler="grid", trials=1).replace(
        "low = 8, high = 128, step = 8", "low = 16, high = 128, step = 16"
    )
    problem = load_spec(write_spec(tmp_path, "grid", text=text))
    assert problem.grid_size() == 8 * 8 * 3 * 7 * 3
    report = run_sweep(problem, results_dir=str(tmp_path))
    df = pd.read_csv(tmp_path / "grid" / "trials.csv")
    assert len(df) == problem.grid_size() and not df.duplicated(problem.param_names).any()
    feas = df[df["feasible"]]
    ref = brute_force_front(feas[["latency_s", "energy_j", "area_mm2"]].to_numpy())
    front = set(pd.read_csv(tmp_path / "grid" / "pareto.csv")["number"])  # the full table has no pareto column
    assert set(feas["number"][ref]) == front
    assert len(report.pareto) == ref.sum()
    # the points are in the study too, so exports and optuna plots see them
    study = journal_study(tmp_path / "grid" / "study.journal", "grid")
    assert len(study.trials) == len(df)
    assert {t.user_attrs["dse:grid_index"] if "dse:grid_index" in t.user_attrs else t.system_attrs["dse:grid_index"]
            for t in study.best_trials} == front  # fmt: skip
    rerun = run_sweep(problem, results_dir=str(tmp_path))
    assert rerun.stats.run == 0 and len(journal_study(tmp_path / "grid" / "study.journal", "grid").trials) == len(df)


def test_default_sampler_reaches_95_percent_of_exhaustive_hypervolume(tmp_path):
    text = TOY_SPEC.format(study="hv", sampler="grid", trials=1).replace(
        "low = 8, high = 128, step = 8", "low = 16, high = 128, step = 16"
    )
    grid_problem = load_spec(write_spec(tmp_path, "hvgrid", text=text))
    grid = evaluate_grid(grid_problem)
    dirs = grid_problem.directions
    front = grid.batch.objectives[grid.pareto]
    ideal, nadir = bounds(grid.batch.objectives[grid.batch.feasible], dirs)
    exhaustive = normalized_hypervolume(front, dirs, ideal, nadir)
    budget = len(grid) // 10
    search = load_spec(write_spec(tmp_path, "hv", text=text.replace('sampler = "grid"', 'sampler = "nsga2"')
                                  .replace("trials = 1", f"trials = {budget}")))  # fmt: skip
    assert search.spec.sampler == "nsga2"
    report = run_sweep(search, results_dir=str(tmp_path))
    found = report.trials[report.trials["feasible"]][["latency_s", "energy_j", "area_mm2"]].to_numpy()
    ratio = normalized_hypervolume(found, dirs, ideal, nadir) / exhaustive
    assert ratio >= 0.95, ratio


@pytest.mark.parametrize("sampler", ["nsga3", "tpe", "random", "qmc"])
def test_other_samplers(tmp_path, sampler):
    trials = 25 if sampler == "tpe" else 60
    report = run_sweep(
        load_spec(write_spec(tmp_path, sampler, sampler=sampler, trials=trials)), results_dir=str(tmp_path)
    )
    assert report.n_complete == trials and len(report.pareto) > 0


def test_gp_needs_torch_or_runs(run, tmp_path):
    r = run("sweep", write_spec(tmp_path, "gp", sampler="gp", trials=12), "--results-dir", tmp_path)
    if importlib.util.find_spec("torch") is None:
        assert r.code == 2 and "torch" in r.err.lower() and len(r.err.strip().splitlines()) == 1
    else:
        assert r.code == 0, r.err


def test_sqlite_storage_and_no_concurrent_sqlite(run, tmp_path):
    spec = write_spec(tmp_path, "lite", trials=20)
    url = f"sqlite:///{tmp_path / 'lite.db'}"
    r = run("sweep", spec, "--storage", url, "--results-dir", tmp_path)
    assert r.code == 0, r.err
    assert len(complete(optuna.load_study(study_name="lite", storage=url))) == 20
    r = run("sweep", spec, "--storage", url, "--jobs", "2", "--results-dir", tmp_path)
    assert r.code == 2 and "--jobs" in r.err


def test_export_results_dir_and_storage(run, tmp_path):
    spec = write_spec(tmp_path, "exp", trials=100)
    assert run("sweep", spec, "--results-dir", tmp_path).code == 0
    orig = pd.read_csv(tmp_path / "exp" / "trials.csv")
    r = run("export", tmp_path / "exp", "-o", tmp_path / "out")
    assert r.code == 0, r.err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "trials.csv"), orig)
    # the same front with the sweep's own columns, its robustness columns included (p_pareto, p5/p50/p95)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "out" / "pareto.csv"), pd.read_csv(tmp_path / "exp" / "pareto.csv")
    )
    r = run("export", "--storage", tmp_path / "exp" / "study.journal", "--study", "exp", "-o", tmp_path / "all.csv")
    assert r.code == 0 and len(pd.read_csv(tmp_path / "all.csv")) == 100
    r = run("export", "--storage", tmp_path / "exp" / "study.journal", "--study", "nope")
    assert r.code == 2 and "nope" in r.err
    r = run("export", tmp_path / "exp", "--format", "parquet", "-o", tmp_path / "pq")
    if importlib.util.find_spec("pyarrow") is None:
        assert r.code == 2 and "pyarrow" in r.err and len(r.err.strip().splitlines()) == 1
    else:
        assert r.code == 0 and (tmp_path / "pq" / "trials.parquet").exists()
    r = run("export")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1


def test_another_format_replaces_every_table(run, tmp_path):
    """A sweep resumed with --format parquet after a CSV run leaves one trials, front and baselines table each,
    all Parquet: the readers (pareto, report) would otherwise take the older CSV front. Export into the
    directory does the same the other way round."""
    spec = tmp_path / "fmt.toml"
    spec.write_text(spec_text("fmt", "systolic", "rows = { low = 4, high = 64, step = 4 }", trials=40,
                              baselines=("vitcod",)))  # fmt: skip
    assert run("sweep", spec, "--results-dir", tmp_path).code == 0
    out = tmp_path / "fmt"
    assert {p.name for p in out.glob("*.csv")} == {"trials.csv", "pareto.csv", "baselines.csv"}
    r = run("sweep", spec, "--results-dir", tmp_path, "--trials", "60", "--format", "parquet")
    assert r.code == 0, r.err
    assert not list(out.glob("*.csv"))
    assert {p.name for p in out.glob("*.parquet")} == {"trials.parquet", "pareto.parquet", "baselines.parquet"}
    assert len(pd.read_parquet(out / "trials.parquet")) == 60
    r = run("export", out, "-o", out, "--force")
    assert r.code == 0, r.err
    assert not (out / "trials.parquet").exists() and not (out / "pareto.parquet").exists()
    assert len(pd.read_csv(out / "trials.csv")) == 60


def test_changed_spec_is_refused_on_resume(run, tmp_path):
    spec = write_spec(tmp_path, "chg", trials=50)
    assert run("sweep", spec, "--results-dir", tmp_path).code == 0
    spec.write_text(spec.read_text().replace("max = 40.0", "max = 30.0"))
    r = run("sweep", spec, "--results-dir", tmp_path)
    assert r.code == 2 and "constraints" in r.err and "--study" in r.err
    spec.write_text(spec.read_text().replace("max = 30.0", "max = 40.0").replace("trials = 50", "trials = 80"))
    r = run("sweep", spec, "--results-dir", tmp_path)
    assert r.code == 0 and "30 run now" in r.out


def test_dead_journal_worker_trial_is_requeued_and_rerun(tmp_path):
    """The journal has no heartbeats: a RUNNING trial of a dead local process is failed and re-run."""
    import subprocess
    import sys

    from dse.search.runner import open_study
    from dse.search.storage import WORKER_ATTR, _start_time, recover_dead_trials, storage_config

    problem = load_spec(write_spec(tmp_path, "dead", trials=30))
    journal = tmp_path / "shared.journal"
    cfg = storage_config(str(journal), tmp_path)
    study = open_study(problem, cfg.open())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = study.ask(problem.distributions())
    storage = oa.study_storage(study)
    storage.set_trial_system_attr(oa.trial_id(orphan), WORKER_ATTR, f"{os.uname().nodename}:{dead.pid}:1")
    alive = study.ask(problem.distributions())
    storage.set_trial_system_attr(
        oa.trial_id(alive), WORKER_ATTR, f"{os.uname().nodename}:{os.getpid()}:{_start_time(os.getpid())}"
    )
    assert recover_dead_trials(study) == 1
    states = {t.number: t.state for t in study.get_trials()}
    assert states[orphan.number] == TrialState.FAIL and states[alive.number] == TrialState.RUNNING
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert len(waiting) == 1 and waiting[0].params == orphan.params
    study.tell(alive, state=TrialState.FAIL)
    report = run_sweep(problem, storage=str(journal), results_dir=str(tmp_path))
    done = complete(journal_study(journal, "dead"))
    assert report.n_complete == 30 and len(done) == 30
    assert any(t.params == orphan.params and t.system_attrs.get("failed_trial") == orphan.number for t in done)


def test_torn_journal_tail_is_dropped_on_resume(tmp_path):
    problem = load_spec(write_spec(tmp_path, "torn", trials=100))
    run_sweep(problem, results_dir=str(tmp_path))
    journal = tmp_path / "torn" / "study.journal"
    with open(journal, "ab") as f:
        f.write(b'{"op_code": 4, "worker_id": "x", "study_id": 0, "datetime_st')  # a kill mid-write
    report = run_sweep(load_spec(write_spec(tmp_path, "torn", trials=150)), results_dir=str(tmp_path))
    assert report.stats.run == 50 and len(complete(journal_study(journal, "torn"))) == 150


def test_best_of_an_objective_is_a_pareto_design_where_designs_tie(tmp_path):
    """Regression (a fresh-user trial): designs tying on latency (a larger buffer the GEMMs do not need) were
    shown as "min latency_s" by the first of them, a design the others dominate in energy."""
    spec = tmp_path / "tie.toml"
    spec.write_text(spec_text("tie", "systolic", "glb_kib = [8192, 4096, 2048]", sampler="random", trials=12, seed=1))
    rep = run_sweep(load_spec(str(spec)), results_dir=str(tmp_path / "results"))
    lat = rep.trials["latency_s"].astype(float)
    assert rep.trials.loc[lat == lat.min(), "glb_kib"].nunique() > 1  # the case: designs tie on the best latency
    for metric, _, value, row in rep.best():
        assert row["pareto"], (metric, row)
        tied = rep.trials[rep.trials[metric].astype(float) == value]
        assert row["energy_j"] == tied["energy_j"].min()
