"""Figures and reports of sweep results (dse/plots, ``rtsa-dse pareto`` and ``rtsa-dse report``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_specs import spec_text

from dse.plots import figures, load_results, pareto_figure, plot_pareto, write_report
from dse.plots.results import knee

HAVE_SWEEP = importlib.util.find_spec("dse.search.sweep") is not None
needs_sweep = pytest.mark.skipif(not HAVE_SWEEP, reason="dse.search.sweep (the sweep's Python API) is not present")

QUICK = Path(__file__).resolve().parents[2] / "sweeps" / "quickstart.toml"
MIX = """
study = "mix2"
accelerator = "rtsa"
sampler = "nsga2"
trials = 60
seed = 3
baselines = ["vitcod", "cpu", "gpu", "no-such-accelerator"]

[workload]
model = "deit-tiny"
resolutions = [112, 224]
weights = [1, 3]

[objectives]
latency_s = "minimize"
energy_j = "minimize"

[space]
rows = { low = 8, high = 64, step = 8 }
cols = { low = 8, high = 64, step = 8 }
glb_kib = { low = 64, high = 2048, log = true }

[constraints]
area_mm2 = { max = 12.0 }
"""


def _sweep(spec: Path, root: Path, trials: int):
    from dse.search import load_spec, run_sweep

    return run_sweep(load_spec(spec, trials=trials), results_dir=str(root))


@pytest.fixture(scope="module")
def study3(tmp_path_factory):
    """The quickstart spec (systolic, three objectives), 80 trials."""
    if not HAVE_SWEEP:
        pytest.skip("dse.search.sweep (the sweep's Python API) is not present")
    return _sweep(QUICK, tmp_path_factory.mktemp("r3"), 80)


@pytest.fixture(scope="module")
def study2(tmp_path_factory):
    """Two objectives on a weighted resolution mix, with one unregistered baseline in the spec."""
    if not HAVE_SWEEP:
        pytest.skip("dse.search.sweep (the sweep's Python API) is not present")
    root = tmp_path_factory.mktemp("r2")
    spec = root / "mix2.toml"
    # a sweep validates its baselines: the unregistered one goes into the results' spec copy only
    spec.write_text(MIX.replace(', "no-such-accelerator"', ""))
    report = _sweep(spec, root, 60)
    (report.out_dir / "spec.toml").write_text(MIX)
    return report


def _axes_have_data(fig) -> None:
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" or not ax.axison:
            continue
        assert ax.has_data(), f"empty axes: {ax.get_title() or ax.get_xlabel()}"


def _legend_texts(fig) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    return [t.get_text() for lg in legends for t in lg.get_texts()]


# -- the Pareto figure ----------------------------------------------------------------------------


def test_front_equals_pareto_csv_two_objectives(study2):
    res = load_results(study2.out_dir)
    plot = pareto_figure(res)
    csv = pd.read_csv(study2.out_dir / "pareto.csv")
    assert plot.pairs == [("latency_s", "energy_j")]
    assert sorted(plot.front["number"]) == sorted(csv["number"])
    # with two objectives the step line runs through every front point, best latency first
    want = np.unique(csv[["latency_s", "energy_j"]].to_numpy(dtype=float), axis=0)
    got = plot.steps[("latency_s", "energy_j")]
    np.testing.assert_allclose(got, want[np.argsort(want[:, 0])], rtol=1e-12)
    assert np.all(np.diff(got[:, 0]) > 0) and np.all(np.diff(got[:, 1]) < 0)
    _axes_have_data(plot.figure)


def test_matrix_for_three_objectives(study3):
    res = load_results(study3.out_dir)
    plot = pareto_figure(res)
    csv = pd.read_csv(study3.out_dir / "pareto.csv")
    assert plot.pairs == [("latency_s", "energy_j"), ("latency_s", "area_mm2"), ("energy_j", "area_mm2")]
    assert sorted(plot.front["number"]) == sorted(csv["number"])
    for (x, y), pts in plot.steps.items():  # each panel's line: front points non-dominated in that pair
        assert len(pts) >= 1 and set(map(tuple, pts)) <= set(map(tuple, csv[[x, y]].to_numpy(dtype=float)))
    assert len([ax for ax in plot.figure.axes if ax.axison]) == 3
    _axes_have_data(plot.figure)
    # the spec's baselines (cpu, gpu) lie decades away from the designs: the axes follow the designs, and the
    # baselines sit at the edges as off-scale markers with their values
    r = plot.ranges["area_mm2"]
    far = plot.baselines[plot.baselines["baseline"].str.match("cpu|gpu")]
    assert len(far) == 2 and all(not r.contains(v) for v in far["area_mm2"])
    from matplotlib.legend import Legend

    keys = [a for ax in plot.figure.axes for a in ax.artists if isinstance(a, Legend)]  # each panel's "off scale"
    labels = [t.get_text() for k in keys for t in k.get_texts()]
    assert any("cpu" in t and "mm²" in t for t in labels)


def test_baselines_in_legend_and_unregistered_skipped(study2):
    res = load_results(study2.out_dir)
    plot = pareto_figure(res)
    texts = " ".join(_legend_texts(plot.figure))
    for name in ("vitcod", "cpu:xeon16", "gpu:h100", "Pareto front", "feasible trials", "infeasible trials"):
        assert name in texts
    assert list(plot.baselines["baseline"]) == ["vitcod", "cpu:xeon16", "gpu:h100"]  # labelled by preset
    assert any("no-such-accelerator" in n for n in plot.notes)


def test_baselines_on_the_study_scenario(study2):
    """A baseline's point is the weighted mean over the study's resolution mix."""
    from dse import accelerators
    from dse.workloads import build

    res = load_results(study2.out_dir)
    plot = pareto_figure(res, baselines=["cpu"])
    cpu = accelerators.get("cpu")
    lat = [float(cpu.evaluate(build("deit-tiny", r, None), {})["latency_s"]) for r in (112, 224)]
    assert plot.baselines.loc[0, "latency_s"] == pytest.approx(0.25 * lat[0] + 0.75 * lat[1], rel=1e-9)


def test_breakdown_reevaluation_matches_trials(study2):
    res = load_results(study2.out_dir)
    for label, row in res.selected_designs():
        b = res.breakdown(label, res.spec.accelerator, res.design_params(row))
        assert b.latency_s == pytest.approx(row["latency_s"], rel=1e-9)
        assert b.energy_j == pytest.approx(row["energy_j"], rel=1e-9)
        assert sum(b.component_energy_j.values()) == pytest.approx(b.energy_j, rel=1e-6)


def test_same_data_same_svg(study3, tmp_path):
    res = load_results(study3.out_dir)
    a = plot_pareto(res, tmp_path / "a.svg", x="latency", y="energy", color="area")
    plot_pareto(load_results(study3.out_dir), tmp_path / "b.svg", x="latency", y="energy", color="area")
    assert a.pairs == [("latency_s", "energy_j")]
    data = (tmp_path / "a.svg").read_bytes()
    assert data == (tmp_path / "b.svg").read_bytes()
    assert b"<dc:date>" not in data


def test_knee_is_closest_to_ideal():
    values = np.array([[0.0, 10.0], [1.0, 1.0], [10.0, 0.0]])
    assert knee(values, ["minimize", "minimize"]) == 1
    assert knee(values * [1, -1], ["minimize", "maximize"]) == 1


# -- the report -----------------------------------------------------------------------------------


def test_report_writes_figures_and_numbers(study3):
    rep = write_report(study3.out_dir)
    names = {p.name for p in rep.paths}
    for name in ("pareto.png", "hypervolume.png", "breakdown.png", "scaling.png", "importance.png", "report.md",
                 "pareto_latency_s_energy_j.png", "pareto_energy_j_area_mm2.png"):  # fmt: skip
        assert name in names
    for p in rep.paths:
        assert p.is_file() and p.stat().st_size > 0
    md = (study3.out_dir / "report.md").read_text()
    assert f"| Pareto-optimal designs | {len(study3.pareto)} |" in md
    assert f"| feasible | {study3.n_feasible} |" in md
    assert f"{study3.hypervolume:.4g}" in md  # the curve ends at the sweep's own hypervolume
    assert f"| hypervolume | {study3.hypervolume:.4g} of at most 1.331 (" in md  # 1.1³: three objectives
    for p in rep.paths[:-1]:
        assert f"]({p.relative_to(study3.out_dir)})" in md


def test_report_selected_designs_carry_their_robustness(study3):
    """The selected front designs show pareto.csv's p_pareto, p_feasible and each objective's p5–p95 interval,
    said in one sentence; the quickstart constrains the accuracy drop, so the report says it is an estimate and
    how many designs are past the published points."""
    write_report(study3.out_dir)
    md = (study3.out_dir / "report.md").read_text()
    res = load_results(study3.out_dir)
    assert {"p_pareto", "p_feasible", "latency_s_p5", "latency_s_p95"} <= set(res.pareto.columns)
    assert "| design | p_pareto | p_feasible | latency (p5–p95) | energy (p5–p95) | area (p5–p95) | parameters |" in md
    assert "p_pareto is the share of samples in which the design is feasible and Pareto-optimal" in md
    for label, row in res.selected_designs():
        line = next(x for x in md.splitlines() if x.startswith(f"| {label} |"))
        cells = [c.strip() for c in line.split("|")[2:-1]]
        assert cells[:2] == [f"{row['p_pareto']:.2f}", f"{row['p_feasible']:.2f}"]
        ms = [row[c] * 1e3 for c in ("latency_s", "latency_s_p5", "latency_s_p95")]
        assert cells[2] == "{:.4g} ms ({:.4g}–{:.4g})".format(*ms)
        assert row["latency_s_p5"] <= row["latency_s_p95"]
    note = next(x for x in md.splitlines() if x.startswith("> note: accuracy_drop is an estimate"))
    flagged = int((res.complete["accuracy_extrapolated"] > 0).sum())
    assert f"{flagged} of {len(res.complete)} completed designs" in note


def test_report_robustness_and_accuracy_only_where_they_apply(study2, study3):
    """No robustness column without pareto.csv's; no accuracy note without an accuracy constraint; a baseline
    failing one is named; an invalid baseline says why."""
    from dataclasses import replace

    from dse.plots.report import _accuracy_note, _meets, _robust_cells

    res = load_results(study2.out_dir)  # no accuracy constraint
    assert _accuracy_note(res, [pd.DataFrame({"baseline": ["vitcod"], "feasible": [False], "violated": ["x"]})]) == []
    bare = replace(res, pareto=res.pareto.drop(columns=[c for c in res.pareto.columns if c.startswith("p_")
                                                        or c.endswith(("_p5", "_p50", "_p95"))]))  # fmt: skip
    assert _robust_cells(bare) is None
    header, _ = _robust_cells(replace(res, pareto=bare.pareto.assign(p_feasible=0.5)))
    assert header == ["p_feasible", "latency", "energy"]
    quick = load_results(study3.out_dir)
    table = pd.DataFrame({"baseline": ["vitcod", "gpu"], "feasible": [False, False],
                          "violated": ["max_accuracy_drop", "area_mm2_max"], "accuracy_extrapolated": [1.0, 0.0]})  # fmt: skip
    (_, note) = _accuracy_note(quick, [table])
    assert "; vitcod fails max_accuracy_drop on it" in note
    assert "and the baselines vitcod." in note and "gpu" not in note
    invalid = pd.Series({"feasible": False, "violated": "area_mm2_max, invalid: exceeds the FPGA's DSP or BRAM budget"})
    assert _meets(invalid) == "no (area_mm2_max, invalid: exceeds the FPGA's DSP or BRAM budget)"
    assert _meets(pd.Series({"feasible": True, "violated": ""})) == "yes"


def test_report_figures_not_empty(study3):
    res = load_results(study3.out_dir)
    curve = figures.hypervolume_curve(res)
    assert curve["hypervolume"].is_monotonic_increasing
    assert curve["hypervolume"].iloc[-1] == pytest.approx(study3.hypervolume, rel=1e-9)
    items = [res.breakdown(lb, res.spec.accelerator, res.design_params(r)) for lb, r in res.selected_designs()]
    chosen, _ = res.baselines()
    scale = res.scaling(res.design_params(res.best("latency_s")), chosen)
    assert list(scale["resolution"]) == [112, 160, 224, 320, 448]
    assert {"speedup_cpu:xeon16", "speedup_gpu:h100"} <= set(scale.columns)
    imp, method = figures.importances(res.load_study(), res)
    assert imp is not None, method
    assert set(imp.columns) == {"latency_s", "energy_j", "area_mm2"} and len(imp) >= 2
    for fig in (figures.hypervolume_figure(curve, "t"), figures.breakdown_figure(figures.breakdown_table(items)),
                figures.scaling_figure(scale, "d"), figures.importance_figure(imp)):  # fmt: skip
        _axes_have_data(fig)


def test_report_svg_deterministic(study2, tmp_path):
    import shutil

    copies = []
    for name in ("a", "b"):
        d = tmp_path / name / "mix2"
        shutil.copytree(study2.out_dir, d, ignore=shutil.ignore_patterns("figures", "*.png", "report.md"))
        write_report(d, fmt="svg")
        copies.append(d)
    files = sorted(p.relative_to(copies[0]) for p in copies[0].rglob("*.svg"))
    assert files
    for f in files:
        assert (copies[0] / f).read_bytes() == (copies[1] / f).read_bytes(), f
    assert (copies[0] / "figures" / "importance.svg").is_file()
    assert (copies[0] / "report.md").read_bytes() == (copies[1] / "report.md").read_bytes()


def test_report_in_another_format_replaces_the_older_figures(study2, tmp_path):
    """A report in SVG after one in PNG leaves only the SVG figures: the PNGs would show an older state under
    the same names (report.md points at the SVGs)."""
    import shutil

    d = tmp_path / "mix2"
    shutil.copytree(study2.out_dir, d, ignore=shutil.ignore_patterns("figures", "*.png", "report.md"))
    first = write_report(d, fmt="png")
    assert any(p.suffix == ".png" for p in first.paths)
    (d / "figures" / "notes.txt").write_text("mine")  # not a figure: left alone
    shutil.copyfile(d / "figures" / "hypervolume.png", d / "figures" / "mine.png")  # the user's own: left alone
    second = write_report(d, fmt="svg")
    figures = sorted(p for f in ("png", "svg", "pdf") for p in [*d.glob(f"*.{f}"), *(d / "figures").glob(f"*.{f}")])
    figures.remove(d / "figures" / "mine.png")
    assert figures and all(p.suffix == ".svg" for p in figures)
    assert set(figures) == {p for p in second.paths if p.suffix == ".svg"}
    assert (d / "figures" / "notes.txt").read_text() == "mine"


# -- the stored study is plain optuna -------------------------------------------------------------


@needs_sweep
def test_study_loads_with_plain_optuna(study3):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(study3.out_dir / "study.journal")))
    study = optuna.load_study(study_name="quickstart", storage=storage)
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == study3.n_complete
    metrics = study.user_attrs["dse:metrics"]
    assert {"latency_s", "energy_j", "area_mm2", "power_w"} <= set(metrics)
    csv = pd.read_csv(study3.out_dir / "trials.csv").set_index("number")
    for t in trials[:10]:
        assert set(metrics) <= set(t.user_attrs)
        assert t.user_attrs["latency_s"] == pytest.approx(csv.loc[t.number, "latency_s"], rel=1e-8)
        assert list(t.values) == pytest.approx([t.user_attrs[m] for m in study.user_attrs["dse:objectives"]])


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_pareto_and_report(run, study2, tmp_path):
    out = tmp_path / "front.pdf"
    r = run("pareto", study2.out_dir, "--x", "latency", "--y", "energy", "--baselines", "cpu,gpu,heatvit2", "-o", out)
    assert r.code == 0, r.err
    assert out.read_bytes().startswith(b"%PDF")
    assert "heatvit2" in r.err and r.err.startswith("note:")
    r = run("pareto", study2.out_dir, "--baselines", "none")
    assert r.code == 0 and (study2.out_dir / "pareto.png").is_file()
    r = run("report", study2.out_dir)
    assert r.code == 0, r.err
    assert "report.md" in r.out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--x", "nope"), "--x"),
        (("--y", "latency_s", "--x", "latency"), "--y"),
        (("--color", "bogus"), "--color"),
        (("-o", "front.jpg"), "--output"),
    ],
)
def test_cli_bad_arguments(run, study2, args, field):
    r = run("pareto", study2.out_dir, *args)
    assert r.code == 2
    assert r.err.count("\n") == 1 and r.err.startswith(f"error: {field}")


def test_cli_missing_results(run, tmp_path):
    for cmd in ("pareto", "report"):
        r = run(cmd, tmp_path / "nothing")
        assert r.code == 2 and r.err.count("\n") == 1 and "RESULTS_DIR" in r.err
    (tmp_path / "empty").mkdir()
    r = run("report", tmp_path / "empty")
    assert r.code == 2 and "no trials.csv" in r.err


def test_report_without_study_storage(study2, tmp_path):
    """trials.csv, pareto.csv and spec.toml suffice; importances are then skipped with a note."""
    import shutil

    d = tmp_path / "mix2"
    d.mkdir()
    for name in ("trials.csv", "pareto.csv", "spec.toml"):
        shutil.copy(study2.out_dir / name, d / name)
    rep = write_report(d)
    assert any("no optuna study" in n for n in rep.notes)
    assert "Not computed: no optuna study" in (d / "report.md").read_text()
    assert (d / "figures" / "breakdown.png").is_file()


def test_matched_baseline_keeps_the_clock_its_spec_entry_sets(study2):
    """A baseline whose spec entry sets its clock (HeatViT at 100 MHz) is matched to the design's MAC rate at
    that clock: twice the columns it would take at its published 200 MHz; the entry's clock stays."""
    from dse import accelerators
    from dse.search.spec import Baseline

    res = load_results(study2.out_dir)
    params = res.design_params(res.best("latency_s"))
    rtsa = accelerators.get("rtsa")
    design = rtsa.budget(rtsa.resolve({k: v for k, v in params.items() if k in {q.name for q in rtsa.params}}))
    rate = design["macs"] * design["clock"] * 1e6
    ((b, over),) = res.matched_baselines(params, [Baseline("slow", "heatvit", (("clock_mhz", 100.0),))], ("macs",))
    assert over == {"cols": max(1, round(rate / (32 * 100e6)))}
    assert dict(b.params)["clock_mhz"] == 100.0 and b.label == "slow matched"


def test_report_shows_baselines_published_and_matched(run, study2):
    """Issue 11 item 10: each baseline at its published configuration and matched to the lead design's peak MAC
    rate, buffer and bandwidth; CPU/GPU labelled by preset."""
    from dse import accelerators

    res = load_results(study2.out_dir)
    chosen, _ = res.baselines()
    row = res.best("latency_s")
    params = res.design_params(row)
    matched = dict((b.label, over) for b, over in res.matched_baselines(params, chosen))
    assert set(matched) == {"vitcod matched", "cpu:xeon16 matched", "gpu:h100 matched"}
    rtsa = accelerators.get("rtsa")
    design = rtsa.budget(rtsa.resolve({k: v for k, v in params.items() if k in {q.name for q in rtsa.params}}))
    rate_tflops = 2 * design["macs"] * design["clock"] * 1e6 / 1e12
    gpu = matched["gpu:h100 matched"]
    assert gpu.keys() == {"peak_tflops", "mem_gbps", "power_w"} and gpu["mem_gbps"] == design["bandwidth"]
    assert gpu["peak_tflops"] == pytest.approx(rate_tflops) and gpu["power_w"] < 700  # the power of what it keeps
    assert matched["cpu:xeon16 matched"]["cache_mb"] == pytest.approx(design["buffer"] * 1024 / 1e6)
    r = run("report", study2.out_dir)
    assert r.code == 0, r.err
    text = (study2.out_dir / "report.md").read_text()
    assert "At their published configuration" in text and "| gpu:h100 matched |" in text
    assert "| cpu:xeon16 | cpu:xeon16 |" in text


BIG = spec_text(
    "big",
    "rtsa",
    "rows = 64\ncols = { low = 200, high = 256, step = 8 }\nlanes = 8",
    trials=12,
    seed=1,
    baselines=("heatvit", "vitcod"),
)


def test_report_marks_a_match_beyond_a_baselines_range_invalid(tmp_path):
    """A design far larger than a baseline can be built: its matched copy is evaluated at the edge of the
    parameter's range and shown invalid with the reason, as `compare --match` does (not left out)."""
    from dse.plots.report import write_report

    spec = tmp_path / "big.toml"
    spec.write_text(BIG)
    out = _sweep(spec, tmp_path, 12).out_dir
    write_report(out)
    text = (out / "report.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| heatvit matched"))
    assert "cols=1024" in row and "beyond heatvit's range [1, 1024]" in row and "| no (invalid:" in row
    assert "Not matched" not in text
