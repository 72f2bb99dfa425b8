"""The chunked grid: exact front whatever the chunking and the engine, table modes, streamed tables, --cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_sweep_support import TOY_SPEC, register, unregister, write_spec

from dse.search import grid, load_spec, run_sweep
from dse.search.columnar import TableSink
from dse.search.grid import chunk_spans, evaluate_grid, parse_cluster, run_grid
from dse.search.pareto import nondominated

# 8 × 8 × 3 × 7 × 3 = 4,032 toy designs
SMALL = TOY_SPEC.replace("low = 8, high = 128, step = 8", "low = 16, high = 128, step = 16")

# 960 systolic designs (a real accelerator: Dask and loky workers import it like any module)
SYSTOLIC = """
study = "{study}"
accelerator = "systolic"
sampler = {{ name = "grid", batch_size = {batch} }}

[workload]
model = "deit-tiny"

[objectives]
latency_s = "minimize"
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = {{ low = 4, high = 32, step = 4 }}
cols = {{ low = 4, high = 32, step = 4 }}
dataflow = ["os", "ws", "is"]
glb_kib = [32, 64, 128, 256, 512]

[constraints]
area_mm2 = {{ max = 2.0 }}
"""


@pytest.fixture(autouse=True)
def _toy():
    register()
    yield
    unregister()


def toy_text(study: str, batch: int = 131072, store_limit: int = 20000) -> str:
    """The toy grid; a small ``store_limit`` stores only the front in the study (fast)."""
    sampler = f'sampler = {{ name = "grid", batch_size = {batch}, store_limit = {store_limit} }}'
    return SMALL.format(study=study, sampler="grid", trials=1).replace('sampler = "grid"', sampler)


def toy_grid(tmp_path, study: str, batch: int = 131072, store_limit: int = 20000):
    return load_spec(write_spec(tmp_path, study, text=toy_text(study, batch, store_limit)))


def test_chunk_spans_cover_the_grid_once():
    assert chunk_spans(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_spans(8, 4) == [(0, 4), (4, 8)]
    assert chunk_spans(3, 100) == [(0, 3)]


@pytest.mark.parametrize("batch", [97, 1000, 131072])
def test_chunked_front_equals_the_in_memory_front(tmp_path, batch, monkeypatch):
    monkeypatch.setattr(grid, "REDUCE_ROWS", 16)  # fold the running front often: every path of the reduction runs
    problem = toy_grid(tmp_path, f"g{batch}", batch)
    whole = evaluate_grid(problem)
    run = run_grid(problem, jobs=1, keep_rows=True)
    assert run.chunks == -(-4032 // batch) and run.size == 4032
    assert run.n_ok == int(whole.batch.ok.sum()) and run.n_feasible == int(whole.batch.feasible.sum())
    assert list(run.front["number"]) == list(np.flatnonzero(whole.pareto))
    assert list(run.rows["number"]) == list(range(4032))
    # the bounds (for the normalised hypervolume) are those of every feasible design, not of the front
    f = whole.batch.objectives[whole.batch.feasible]
    assert np.allclose(run.ideal, f.min(axis=0)) and np.allclose(run.nadir, f.max(axis=0))
    # parameters of each row are the grid's, in row-major order of the searched axes
    row = run.rows.iloc[1234]
    assert all(row[k] == whole.params[k][1234] for k in whole.params)


def test_a_stop_request_ends_the_grid_after_the_chunk_in_hand(tmp_path, monkeypatch):
    """Ctrl-C / SIGTERM (:func:`dse.search.runner.interruptible`) stops the grid between chunks, not after
    every chunk has run (a fresh-user trial: the whole 10⁶ grid, tables and figures ran before the exit)."""
    import signal

    from dse.search import runner

    problem = toy_grid(tmp_path, "gstop", 97)
    seen = []
    monkeypatch.setitem(runner._STOP, "signum", signal.SIGINT)  # a stop already requested
    with pytest.raises(runner.Interrupted):
        run_grid(problem, jobs=1, progress=seen.append)
    assert seen == [97]  # one chunk, then the stop


def test_front_rows_are_non_dominated_and_carry_every_column(tmp_path):
    problem = toy_grid(tmp_path, "cols", 500)
    run = run_grid(problem, jobs=1)
    assert run.rows is None  # nothing of the grid's size is kept unless asked
    values = run.front[problem.objective_names].to_numpy()
    assert nondominated(values, problem.directions).all() and run.front["feasible"].all()
    for col in ("number", "state", *problem.param_names, "latency_s", "constraint_area_mm2_max", "feasible"):
        assert col in run.front.columns


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_full_table_is_streamed_chunk_by_chunk(tmp_path, fmt):
    problem = toy_grid(tmp_path, f"full_{fmt}", 1000, store_limit=100)
    report = run_sweep(problem, results_dir=str(tmp_path), fmt=fmt, table="full", jobs=1)
    out = tmp_path / f"full_{fmt}"
    if fmt == "parquet":
        parts = sorted(p.name for p in (out / "trials.parquet").iterdir())
        assert parts == [f"part-0000{i}.parquet" for i in range(5)]
        df = pd.read_parquet(out / "trials.parquet")
    else:
        df = pd.read_csv(out / "trials.csv")
    assert list(df["number"]) == list(range(4032)) and "pareto" not in df.columns
    assert df["feasible"].dtype == bool and set(df["dataflow"]) == {"os", "ws", "is"}
    pareto = pd.read_parquet(out / "pareto.parquet") if fmt == "parquet" else pd.read_csv(out / "pareto.csv")
    assert set(pareto["number"]) == set(report.grid.front["number"])
    assert not list(out.glob(".*.tmp"))  # no temporary left behind


def test_table_front_and_none_and_stale_tables_removed(tmp_path, run):
    spec = write_spec(tmp_path, "modes", text=toy_text("modes", store_limit=100))
    out = tmp_path / "modes"
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--table", "full", "--jobs", "1")
    assert r.code == 0, r.err
    assert len(pd.read_csv(out / "trials.csv")) == 4032
    pareto = pd.read_csv(out / "pareto.csv")
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--table", "front", "--format", "parquet")
    assert r.code == 0, r.err
    assert not (out / "trials.csv").exists()  # the other format's table of the earlier run is gone
    front = pd.read_parquet(out / "trials.parquet")
    assert sorted(front["number"]) == sorted(pareto["number"])
    r = run("sweep", spec, "--results-dir", tmp_path, "--table", "none")  # figures from the front alone
    assert r.code == 0, r.err
    assert not list(out.glob("trials.*")) and (out / "pareto.csv").is_file() and (out / "report.md").is_file()
    assert f"Pareto-optimal designs {len(pareto)}" in r.out


def test_default_table_depends_on_the_size(tmp_path, monkeypatch):
    from dse.search import sweep

    monkeypatch.setattr(sweep, "FULL_TABLE_MAX", 4000)  # the toy grid has 4,032 designs
    report = run_sweep(toy_grid(tmp_path, "dflt", store_limit=100), results_dir=str(tmp_path))
    assert report.table == "front"
    assert len(pd.read_csv(tmp_path / "dflt" / "trials.csv")) == len(report.pareto)
    # the summary still counts every design and normalises the hypervolume over all feasible ones
    whole = evaluate_grid(toy_grid(tmp_path, "dflt2"))
    assert report.n_feasible == int(whole.batch.feasible.sum()) and report.n_complete == 4032


def test_sink_replaces_an_older_dataset_and_aborts_cleanly(tmp_path):
    t = pa.table({"number": np.arange(3), "x": np.ones(3)})
    with TableSink(tmp_path / "trials", "parquet") as sink:
        sink.write(1, t)
        sink.write(0, t)
    assert len(pd.read_parquet(tmp_path / "trials.parquet")) == 6
    with TableSink(tmp_path / "trials", "parquet") as sink:
        sink.write(0, t)
    assert len(pd.read_parquet(tmp_path / "trials.parquet")) == 3
    with pytest.raises(RuntimeError), TableSink(tmp_path / "trials", "csv") as sink:
        sink.write(0, t)
        raise RuntimeError("killed")
    assert not (tmp_path / "trials.csv").exists() and len(pd.read_parquet(tmp_path / "trials.parquet")) == 3
    assert not list(tmp_path.glob(".*.tmp"))


def test_cluster_address_is_checked():
    assert parse_cluster("local:3") == ("local", 3)
    assert parse_cluster("tcp://10.0.0.5:8786") == ("remote", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:x", "10.0.0.5:8786", "tcp://"):
        with pytest.raises(ValueError, match="--cluster"):
            parse_cluster(bad)


@pytest.mark.parametrize(
    "args, field",
    [
        (("--cluster", "nowhere"), "--cluster"),
        (("--cluster", "local:2", "--jobs", "2"), "--jobs"),
        (("--table", "some"), "--table"),
    ],
)
def test_cluster_and_table_errors_are_one_line(tmp_path, run, args, field):
    spec = write_spec(tmp_path, "bad", text=SMALL.format(study="bad", sampler="grid", trials=1))
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", *args)
    assert r.code == 2 and field in r.err and len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "bad" / "trials.csv").exists()


def test_cluster_needs_the_grid_sampler(tmp_path, run):
    r = run("sweep", write_spec(tmp_path, "opt", trials=10), "--results-dir", tmp_path, "--cluster", "local:2")
    assert r.code == 2 and "--cluster" in r.err and len(r.err.strip().splitlines()) == 1


def test_local_processes_and_a_dask_cluster_give_the_same_pareto_table(tmp_path, run):
    pytest.importorskip("dask.distributed")
    tables = {}
    for name, args in {
        "one": ("--jobs", "1"),
        "loky": ("--jobs", "2"),
        "dask": ("--cluster", "local:2"),
    }.items():
        spec = tmp_path / f"{name}.toml"
        spec.write_text(SYSTOLIC.format(study="same", batch=128))
        r = run("sweep", spec, "--results-dir", tmp_path / name, "--no-figures", "--format", "parquet",
                "--table", "full", *args)  # fmt: skip
        assert r.code == 0, r.err
        assert "8 chunks" in r.out
        tables[name] = tmp_path / name / "same"
    reference = (tables["one"] / "pareto.parquet").read_bytes()
    full = pd.read_parquet(tables["one"] / "trials.parquet")
    assert len(full) == 960
    for name in ("loky", "dask"):
        assert (tables[name] / "pareto.parquet").read_bytes() == reference, name
        pd.testing.assert_frame_equal(pd.read_parquet(tables[name] / "trials.parquet"), full)


def test_export_of_a_grid_stored_by_its_front_reads_the_partitioned_table(tmp_path, run):
    spec = write_spec(tmp_path, "exp", text=toy_text("exp", batch=1000, store_limit=100))
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--table", "full", "--format", "parquet")
    assert r.code == 0, r.err
    out = tmp_path / "exp"
    front = set(pd.read_parquet(out / "pareto.parquet")["number"])
    r = run("export", out, "--format", "csv", "-o", tmp_path / "exported")
    assert r.code == 0, r.err
    trials = pd.read_csv(tmp_path / "exported" / "trials.csv")
    assert len(trials) == 4032 and set(trials.loc[trials["pareto"], "number"]) == front
    assert set(pd.read_csv(tmp_path / "exported" / "pareto.csv")["number"]) == front


def test_cluster_without_dask_is_a_one_line_error(tmp_path, run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    spec = write_spec(tmp_path, "nodask", text=toy_text("nodask"))
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--cluster", "local:2")
    assert r.code == 2 and "rtsa-dse[dask]" in r.err and len(r.err.strip().splitlines()) == 1


def test_default_jobs_use_every_core_only_for_grids_of_several_chunks(tmp_path):
    from joblib import cpu_count

    from dse.search.grid import MIN_PARALLEL_CHUNKS, default_grid_jobs

    assert MIN_PARALLEL_CHUNKS == 16
    assert default_grid_jobs(toy_grid(tmp_path, "few", batch=400)) == 1  # fewer than 16 chunks
    assert default_grid_jobs(toy_grid(tmp_path, "many", batch=250)) == cpu_count()  # 16 chunks or more


def test_a_grid_without_feasible_designs_reports_an_empty_front(tmp_path, run):
    text = toy_text("none_ok", batch=1000).replace("area_mm2 = { max = 40.0 }", "area_mm2 = { max = 0.001 }")
    r = run("sweep", write_spec(tmp_path, "none_ok", text=text), "--results-dir", tmp_path, "--no-figures")
    assert r.code == 0, r.err
    assert "feasible 0" in r.out and "no feasible design" in r.out
    pareto = pd.read_csv(tmp_path / "none_ok" / "pareto.csv")
    assert len(pareto) == 0 and "latency_s" in pareto.columns
