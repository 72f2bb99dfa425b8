"""Infeasible is an output: a design that breaks its accelerator's own rule is a trial with valid = 0,
never an error that stops the search."""

from __future__ import annotations

import pandas as pd

SPEC = """
study = "heatvit-selectors"
accelerator = "heatvit"
sampler = "random"
trials = 40
seed = 3
baselines = []

[workload]
model = "deit-tiny"

[objectives]
latency_s = "minimize"
energy_j = "minimize"

[space]
select1_at = {{ low = 0.0, high = 1.0, step = 0.125 }}
select2_at = {{ low = 0.0, high = 1.0, step = 0.125 }}
select3_at = 0.9
"""


def test_sweep_over_heatvit_selector_positions_completes_with_out_of_order_designs_infeasible(run, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format())
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--no-progress")
    assert r.code == 0, r.err
    trials = pd.read_csv(tmp_path / "heatvit-selectors" / "trials.csv")
    done = trials[trials["state"] == "COMPLETE"]
    assert len(done) == 40
    bad = (done["select1_at"] > done["select2_at"]) | (done["select2_at"] > 0.9)
    assert bad.any() and (~bad).any()
    assert not done.loc[bad, "feasible"].astype(bool).any()
    assert (done.loc[bad, "valid"] == 0).all() and (done.loc[~bad, "valid"] == 1).all()


def test_eval_reports_an_invalid_design_with_its_reason(run):
    r = run("eval", "-a", "heatvit", "-w", "deit-tiny", "--set", "select1_at=0.8", "--set", "select2_at=0.5",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    d = r.json()
    assert d["valid"] == 0 and "out of order" in d["reasons"]
