"""Feasibility: a missing value is never feasible; per-resolution constraints and per-objective aggregates
of a resolution mix; reference values only where they apply; ``baselines = []`` means none."""

from __future__ import annotations

import datetime

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState
from test_sweep_support import TOY_SPEC, register, unregister, write_spec

from dse.search import load_spec, run_sweep
from dse.search.export import trials_table

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

BASE = TOY_SPEC.format(study="feas", sampler="nsga2", trials=40)
MIX = 'model = "deit-tiny"\nresolutions = [112, 224]\nweights = [3, 1]'


@pytest.fixture(autouse=True)
def _toy():
    register()
    yield
    unregister()


# -- a missing value is never feasible ------------------------------------------------------------


def test_baseline_without_the_constrained_metric_is_infeasible(tmp_path):
    """cpu and gpu report no FPGA fit: they cannot meet `fpga_fit` (they used to "meet" it); they run the model
    dense, so their accuracy drop is 0 and meets `max_accuracy_drop`."""
    text = BASE.replace("seed = 0", 'seed = 0\nbaselines = ["cpu", "gpu", "toy"]').replace(
        "area_mm2 = { max = 40.0 }", "area_mm2 = { max = 40.0 }\nmax_accuracy_drop = 0.01\nfpga_fit = true"
    )
    report = run_sweep(load_spec(write_spec(tmp_path, "feas", text=text)), results_dir=str(tmp_path))
    rows = {b["baseline"].split(":")[0]: b for b in report.baselines}  # cpu:xeon16 → cpu
    assert not rows["cpu"]["feasible"] and not rows["gpu"]["feasible"]
    for name in ("cpu", "gpu"):  # their dies are larger than 40 mm² too
        assert "fpga_fit" in rows[name]["violated"] and "max_accuracy_drop" not in rows[name]["violated"]
    assert rows["toy"]["feasible"] and rows["toy"]["violated"] == ""  # the toy at its defaults meets both
    table = pd.read_csv(tmp_path / "feas" / "baselines.csv")
    assert list(table.loc[table["baseline"].str.startswith("cpu"), "feasible"]) == [False]


def test_nan_metric_is_infeasible(tmp_path):
    problem = load_spec(write_spec(tmp_path, "feas", text=BASE))
    (v,) = problem.violations({"area_mm2": np.array([1.0, np.nan, 80.0])}, 3)
    assert v[0] <= 0 and v[1] == np.inf and v[2] > 0
    (v,) = problem.violations({}, 2)  # not reported at all
    assert np.all(v == np.inf)


def test_trial_missing_a_constraint_value_is_infeasible():
    def trial(number, system_attrs):
        return optuna.trial.create_trial(
            state=TrialState.COMPLETE, values=[1.0], params={"x": number}, distributions={"x": IntDistribution(0, 9)},
            system_attrs=system_attrs,
        )  # fmt: skip

    trials = [trial(0, {"constraints": [-1.0, -0.5]}), trial(1, {}), trial(2, {"constraints": [-1.0, 0.2]})]
    for i, t in enumerate(trials):
        t.number = i
        t.datetime_start = datetime.datetime.now()
    meta = {"params": ["x"], "metrics": [], "objectives": ["y"], "directions": ["minimize"], "constraints": ["a", "b"]}
    df = trials_table(trials, meta)
    assert list(df["feasible"]) == [True, False, False]
    assert list(df["constraint_a"].isna()) == [False, True, False]


def test_constraint_on_a_metric_the_study_does_not_report_is_refused(run, tmp_path):
    text = BASE.replace("area_mm2 = { max = 40.0 }", "dsp = { max = 100 }")  # the toy (an ASIC) has no DSPs
    r = run("sweep", write_spec(tmp_path, "feas", text=text), "--results-dir", tmp_path / "r")
    assert r.code == 2 and r.err.startswith("error: constraints.dsp:") and "unknown metric" in r.err
    assert not (tmp_path / "r").exists()


# -- resolution mixes: per-resolution constraints, per-objective aggregates ------------------------


def test_per_resolution_constraint(tmp_path):
    text = BASE.replace('model = "deit-tiny"', MIX).replace(
        "area_mm2 = { max = 40.0 }", '"latency_s@112" = { max = 0.0015 }'
    )
    report = run_sweep(load_spec(write_spec(tmp_path, "feas", text=text)), results_dir=str(tmp_path))
    df = report.trials
    col = "constraint_latency_s@112_max"
    assert col in df.columns
    ok = df["latency_s@112"] <= 0.0015
    assert ok.any() and (~ok).any()
    assert (df["feasible"] == ok).all()  # only the 112² point is constrained
    assert ((df[col] <= 0) == ok).all()


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.replace('model = "deit-tiny"', MIX).replace("area_mm2 = { max", '"latency_s@160" = { max'),
         "constraints.latency_s@160"),
        (lambda s: s.replace("area_mm2 = { max", '"latency_s@224" = { max'), "constraints.latency_s@224"),
        (lambda s: s.replace('latency_s = "minimize"', 'latency_s = { aggregate = "max" }'),
         "objectives.latency_s.aggregate"),
        (lambda s: s.replace('model = "deit-tiny"', MIX).replace(
            'latency_s = "minimize"', 'latency_s = { aggregate = "worst" }'), "objectives.latency_s.aggregate"),
    ],
    ids=["unknown-point", "no-mix", "aggregate-without-mix", "bad-aggregate"],
)  # fmt: skip
def test_mix_options_are_validated(run, tmp_path, edit, field):
    r = run("sweep", write_spec(tmp_path, "feas", text=edit(BASE)), "--results-dir", tmp_path / "r")
    assert r.code == 2 and r.err.startswith(f"error: {field}:") and len(r.err.strip().splitlines()) == 1, r.err


def test_per_objective_aggregate_mean_energy_worst_case_latency(tmp_path):
    text = BASE.replace('model = "deit-tiny"', MIX).replace(
        'latency_s = "minimize"', 'latency_s = { direction = "minimize", aggregate = "max" }'
    )  # energy keeps the mix's default: the weighted mean
    report = run_sweep(load_spec(write_spec(tmp_path, "feas", text=text)), results_dir=str(tmp_path))
    df = report.trials[report.trials["state"] == "COMPLETE"]
    np.testing.assert_allclose(df["latency_s"], np.maximum(df["latency_s@112"], df["latency_s@224"]), rtol=1e-9)
    np.testing.assert_allclose(df["energy_j"], 0.75 * df["energy_j@112"] + 0.25 * df["energy_j@224"], rtol=1e-9)


# -- reference values only where they apply; `baselines = []` --------------------------------------


@pytest.mark.parametrize(
    ("args", "published"),
    [((), True), (("-r", "384"), False), (("--depth", "6"), False), (("-r", "224", "-f", "1"), True)],
)
def test_published_macs_only_for_the_published_input_and_architecture(run, args, published):
    d = run("workloads", "show", "deit-base", *args, "--format", "json").json()
    assert (d["published_macs"] is not None) == published
    assert d["published_for"] == {"resolution": [224, 224], "frames": 1}
    if published:
        assert abs(d["macs"] / d["published_macs"] - 1) < 0.01


def test_empty_baselines_means_none(run, tmp_path):
    text = BASE.replace("seed = 0", "seed = 0\nbaselines = []")
    assert run("sweep", write_spec(tmp_path, "feas", text=text), "--results-dir", tmp_path).code == 0
    from dse.plots import load_results

    results = load_results(tmp_path / "feas")
    chosen, notes = results.baselines()
    assert chosen == [] and notes == []
    report_md = (tmp_path / "feas" / "report.md").read_text()
    assert "## Baselines" not in report_md


# -- infeasible studies explain themselves ---------------------------------------------------------


def test_infeasible_study_explains_itself(run, tmp_path):
    text = BASE.replace("max = 40.0", "max = 0.5")  # no toy design is that small
    r = run("sweep", write_spec(tmp_path, "feas", text=text), "--results-dir", tmp_path)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("no feasible design"))
    assert "area_mm2_max violated by 100%" in lines[i]
    closest = [line for line in lines if line.startswith("  closest ")]
    assert len(closest) == 3 and all("area_mm2_max +" in line for line in closest)
    firsts = [float(line.split("area_mm2_max +")[1].split(" %")[0]) for line in closest]
    assert firsts == sorted(firsts)  # the closest first
    assert max(len(line) for line in lines[i : i + 4]) <= 100
    md = (tmp_path / "feas" / "report.md").read_text()
    assert "## Constraints" in md and "| area_mm2_max | 100.0% | 40 of 40 |" in md
    assert "No design meets every constraint" in md and f"| #{closest[0].split('#')[1].split(':')[0]} |" in md


def test_feasible_study_reports_violation_shares(tmp_path):
    from dse.search.feasibility import closest_to_feasible, violation_shares

    df = pd.DataFrame({"number": [0, 1, 2, 3], "state": ["COMPLETE"] * 3 + ["FAIL"],
                       "constraint_a": [-1.0, 0.5, np.nan, 9.0], "constraint_b": [-1.0, -1.0, 0.1, 9.0]})  # fmt: skip
    shares = {s.name: (s.violated, s.total) for s in violation_shares(df, ["a", "b"])}
    assert shares == {"a": (2, 3), "b": (1, 3)}  # the missing value violates; the FAIL trial does not count
    closest = closest_to_feasible(df, ["a", "b"])
    assert list(closest["number"]) == [1, 2] and closest["total_violation"].iloc[0] == 0.5


def test_invalid_baseline_says_why(tmp_path):
    """A baseline breaking its accelerator's own rules (HeatViT at 300 columns needs 10,657 DSPs, over the
    ZCU102's budget) is infeasible and its `violated` text says so with the evaluation's reason, next to the
    constraints it violates; the same accelerator at its published size is valid and meets them."""
    text = BASE.replace("seed = 0", 'seed = 0\nbaselines = ["heatvit", { accelerator = "heatvit", name = "big", '
                        "params = { cols = 300 } }]").replace("max = 40.0", "max = 1e6")  # fmt: skip
    rows = {b["baseline"]: b for b in load_spec(write_spec(tmp_path, "feas", text=text)).evaluate_baselines()}
    assert rows["heatvit"]["valid"] == 1 and rows["heatvit"]["feasible"] and rows["heatvit"]["violated"] == ""
    big = rows["big"]
    assert big["valid"] == 0 and big["dsp"] > 2520 and not big["feasible"]
    assert big["violated"] == "invalid: exceeds the FPGA's DSP or BRAM budget"
    text = text.replace("max = 1e6", "max = 1.0")  # both dies are larger: the constraint comes first
    rows = {b["baseline"]: b for b in load_spec(write_spec(tmp_path, "feas", text=text)).evaluate_baselines()}
    assert rows["heatvit"]["violated"] == "area_mm2_max"
    assert rows["big"]["violated"] == "area_mm2_max, invalid: exceeds the FPGA's DSP or BRAM budget"
