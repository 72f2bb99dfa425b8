"""A grid that keeps only its front in the study: the report's hypervolume is the sweep's own figure."""

from __future__ import annotations

import re

from sweep_specs import spec_text

from dse.plots import write_report
from dse.search import load_spec, run_sweep
from dse.search.runner import quiet_optuna

# 192 systolic designs; a store_limit of 10 keeps only the grid's front in the study
SPEC = spec_text(
    "gridhv",
    "systolic",
    "rows = { low = 4, high = 32, step = 4 }\ncols = { low = 4, high = 32, step = 4 }\nglb_kib = [32, 128, 512]",
    sampler="grid",
).replace('sampler = "grid"', 'sampler = { name = "grid", store_limit = 10 }')


def test_report_hypervolume_equals_the_sweeps_for_a_front_only_grid(tmp_path):
    """Regression (a fresh-user trial): the report normalised the hypervolume between the ideal and nadir of the
    stored front only, the sweep between those of every feasible grid point: 1.016 vs 1.21 for one study."""
    spec = tmp_path / "grid.toml"
    spec.write_text(SPEC)
    with quiet_optuna():
        rep = run_sweep(load_spec(str(spec)), results_dir=str(tmp_path / "results"), table="front")
    write_report(rep.out_dir, baselines=[])
    text = (rep.out_dir / "report.md").read_text()
    m = re.search(r"Final normalised hypervolume ([0-9.]+) \(at most ([0-9.]+)\) of the grid's front", text)
    assert m, text
    assert float(m.group(1)) == float(f"{rep.hypervolume:.4g}")
    # the counts are the grid's, as the sweep printed them, not the stored front's (a fresh-user trial)
    assert f"| trials (completed) | 192 ({rep.n_complete}) grid designs" in text
    assert f"| feasible | {rep.n_feasible} |" in text and rep.n_feasible > len(rep.pareto)


def test_report_of_a_front_only_study_with_the_full_table_reads_the_table(tmp_path):
    """The study keeps only the front but the trials table every design (a grid between the store limit and
    the full-table size): the report counts the table and keeps its Constraints section (review)."""
    spec = tmp_path / "grid.toml"
    spec.write_text(SPEC + "\n[constraints]\narea_mm2 = { max = 2.0 }\n")
    with quiet_optuna():
        rep = run_sweep(load_spec(str(spec)), results_dir=str(tmp_path / "results"), table="full")
    write_report(rep.out_dir, baselines=[])
    text = (rep.out_dir / "report.md").read_text()
    assert "| trials (completed) | 192 (192) |" in text and "## Constraints" in text


def test_report_of_a_front_table_counts_the_whole_grid_the_study_keeps(tmp_path):
    """Regression (a fresh-user trial): with ``--table front`` on a grid the study keeps whole, the report read
    the trials table (the front) and counted 124 trials, 124 feasible and a smaller hypervolume than the
    sweep's 4,096 / 2,146; it now reads the study's trials."""
    spec = tmp_path / "grid.toml"
    spec.write_text(SPEC.replace("store_limit = 10", "store_limit = 1000"))
    with quiet_optuna():
        rep = run_sweep(load_spec(str(spec)), results_dir=str(tmp_path / "results"), table="front")
    write_report(rep.out_dir, baselines=[])
    text = (rep.out_dir / "report.md").read_text()
    assert "| trials (completed) | 192 (192) |" in text
    assert f"| feasible | {rep.n_feasible} |" in text and rep.n_feasible > len(rep.pareto)
    m = re.search(r"Final normalised hypervolume ([0-9.]+) \(at most [0-9.]+\) after 192 completed trials", text)
    assert m, text
    assert float(m.group(1)) == float(f"{rep.hypervolume:.4g}")


def test_export_of_a_grid_without_a_table_keeps_the_grid_numbers(tmp_path):
    """Regression (a fresh-user trial): with ``--table none`` export rebuilt the front from the study and
    numbered its designs by optuna trial, not by grid index, with trial-timing columns a grid has not."""
    import pandas as pd

    from dse.cli import main

    spec = tmp_path / "grid.toml"
    spec.write_text(SPEC)
    out = tmp_path / "results"
    assert main(["sweep", str(spec), "--results-dir", str(out), "--table", "none", "--no-figures"]) == 0
    assert main(["export", str(out / "gridhv"), "-o", str(tmp_path / "ex")]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "ex" / "pareto.csv"), pd.read_csv(out / "gridhv" / "pareto.csv")
    )
