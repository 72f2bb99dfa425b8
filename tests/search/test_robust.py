"""Robust fronts: p_pareto in [0, 1] and ordered intervals in pareto.csv after a tiny sweep, the figure's
interval bars, quantile objectives, and p_pareto by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dse.errors import InputError
from dse.plots import load_results, pareto_figure, style
from dse.search import load_spec, run_sweep
from dse.search.robust import p_pareto, robust_front

SPEC = """
study = "{study}"
accelerator = "rtsa"
sampler = "grid"
seed = 0
baselines = ["vitcod"]

[workload]
model = "videomae-s"
resolution = 112
frames = 16

[objectives]
latency_s = {latency}
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = [8, 16, 32]
cols = [8, 16, 32]
sparsity_linear = [0.5, 0.7]
glb_kib = 256

[constraints]
area_mm2 = {{ max = 4.0 }}

[uncertainty]
samples = 24
search_samples = 12
"""


def _spec(tmp_path, study="robust", latency='"minimize"'):
    path = tmp_path / f"{study}.toml"
    path.write_text(SPEC.format(study=study, latency=latency))
    return path


def test_tiny_sweep_writes_p_pareto_and_intervals(tmp_path):
    problem = load_spec(_spec(tmp_path))
    report = run_sweep(problem, results_dir=str(tmp_path / "results"), jobs=1)
    df = pd.read_csv(report.out_dir / "pareto.csv")
    assert len(df) >= 2
    assert df["p_pareto"].between(0.0, 1.0).all() and df["p_feasible"].between(0.0, 1.0).all()
    assert df["p_pareto"].max() > 0  # some design of the front stays on it
    for m in ("latency_s", "energy_j"):
        assert (df[f"{m}_p5"] <= df[f"{m}_p50"]).all() and (df[f"{m}_p50"] <= df[f"{m}_p95"]).all()
    assert (df["energy_j_p95"] > df["energy_j_p5"]).all()  # the technology factors move every design's energy
    assert report.robust.samples == 24 and "tech.mac_energy" in report.robust.inputs
    assert not any(name.startswith("rtsa.cols") for name in report.robust.inputs)  # no design inputs in a sweep
    # the figure draws each front design's interval (one line per axis: a bar per design, broken by NaN)
    plot = pareto_figure(load_results(report.out_dir), x="latency_s", y="energy_j", baselines=[])
    ax = plot.figure.axes[0]
    bars = [ln for ln in ax.lines if np.isnan(ln.get_xdata()).sum() == len(df) and len(ln.get_xdata()) == 3 * len(df)]
    assert len(bars) == 2  # a horizontal and a vertical bar per front design
    lo, hi = bars[0].get_xdata()[0::3], bars[0].get_xdata()[1::3]  # the horizontal bars span p5..p95 of latency
    scale = style.metric_label("latency_s").scale
    assert np.allclose(lo, df["latency_s_p5"] * scale) and np.allclose(hi, df["latency_s_p95"] * scale)
    assert any("5–95%" in label for label in plot.legend)


def test_robust_front_is_deterministic_and_skippable(tmp_path):
    problem = load_spec(_spec(tmp_path))
    front = pd.DataFrame({"rows": [8, 16], "cols": [8, 32], "sparsity_linear": [0.7, 0.7]})
    a, b = robust_front(problem, front), robust_front(problem, front)
    pd.testing.assert_frame_equal(a.table, b.table)
    skipped = robust_front(problem, front, samples=0)
    assert list(skipped.table.columns) == list(front.columns) and skipped.samples == 0


def test_p_pareto_by_hand():
    # design 0 is on the front in both samples, design 1 in neither; 3 dominates 2 in sample 0, 2 dominates 3 in 1
    v = np.array([
        [[1.0, 0.1], [1.0, 0.1]],
        [[2.0, 2.0], [2.0, 2.0]],
        [[0.5, 3.0], [0.5, 0.5]],
        [[0.4, 0.4], [0.6, 3.0]],
    ])  # fmt: skip
    feasible = np.ones((4, 2), dtype=bool)
    assert p_pareto(v, feasible, ["minimize", "minimize"]) == pytest.approx([1.0, 0.0, 0.5, 0.5])
    feasible[3, 0] = False  # an infeasible sample is never Pareto-optimal, and dominates nothing
    assert p_pareto(v, feasible, ["minimize", "minimize"]) == pytest.approx([1.0, 0.0, 1.0, 0.0])
    assert p_pareto(-v, np.ones((4, 2), dtype=bool), ["maximize", "maximize"]) == pytest.approx([1.0, 0.0, 0.5, 0.5])


def test_quantile_objective_is_searched_on_its_quantile(tmp_path):
    problem = load_spec(_spec(tmp_path, "q", '{ direction = "minimize", quantile = 0.9 }'))
    assert problem.objective_names == ["latency_s@q90", "energy_j", "area_mm2"]
    pts = {"rows": np.array([8, 32]), "cols": np.array([8, 32]), "sparsity_linear": np.array([0.7, 0.5])}
    batch = problem.evaluate(pts)
    nominal = problem.evaluate(pts, robust=False)
    assert batch.objectives[:, 0] == pytest.approx(batch.metrics["latency_s@q90"])
    assert np.all(batch.metrics["latency_s@q90"] >= nominal.metrics["latency_s"] * 0.999)  # delta spread upward
    report = run_sweep(problem, results_dir=str(tmp_path / "results"), jobs=1)
    df = pd.read_csv(report.out_dir / "pareto.csv")
    assert {"latency_s@q90", "latency_s_p95", "p_pareto"} <= set(df.columns)
    assert "latency_s@q90" in pd.read_csv(report.out_dir / "baselines.csv").columns


@pytest.mark.parametrize(
    "text,field",
    [
        ('{ direction = "minimize", quantile = 1.5 }', "objectives.latency_s.quantile"),
        ('{ direction = "minimize", quantile = 0.905 }', "objectives.latency_s.quantile"),
    ],
)
def test_bad_quantile_names_the_field(tmp_path, text, field):
    with pytest.raises(InputError) as err:
        load_spec(_spec(tmp_path, "bad", text))
    assert err.value.field == field


def test_bad_uncertainty_section_names_the_field(tmp_path):
    path = _spec(tmp_path)
    path.write_text(path.read_text().replace("samples = 24", 'samples = 24\nfile = "missing.toml"'))
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == "uncertainty.file"
    path.write_text(SPEC.format(study="x", latency='"minimize"').replace("search_samples = 12", "draws = 3"))
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == "uncertainty.draws"
