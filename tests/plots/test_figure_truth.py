"""Figures that tell the truth: each panel's own front, labels that fit, off-scale baselines, degenerate studies,
exact units, FPGA resources, paper options, and no stale figures after a run that did not redraw them."""

from __future__ import annotations

import sys
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from dse.plots import load_results, pareto_figure, write_report
from dse.plots.pareto import axis_range
from dse.plots.style import FigureOptions, metric_label

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "search"))
from test_sweep_support import TOY_SPEC, register, unregister, write_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(scope="module", autouse=True)
def _toy():
    register()
    yield
    unregister()


def _sweep(root: Path, name: str, text: str, trials: int | None = None):
    from dse.search import load_spec, run_sweep

    return run_sweep(load_spec(write_spec(root, name, text=text), trials=trials), results_dir=str(root))


@pytest.fixture(scope="module")
def toy3(tmp_path_factory):
    """Three objectives on the toy, cpu and gpu as baselines (their areas are far beyond the designs')."""
    root = tmp_path_factory.mktemp("toy3")
    text = TOY_SPEC.format(study="toy3", sampler="nsga2", trials=120).replace(
        "seed = 0", 'seed = 0\nbaselines = ["toy", "cpu", "gpu"]'
    )
    return _sweep(root, "toy3", text).out_dir


def _front_2d(df: pd.DataFrame, x: str, y: str) -> set[tuple[float, float]]:
    pts = np.unique(df[[x, y]].to_numpy(dtype=float), axis=0)
    keep = [not np.any(np.all(pts <= p, axis=1) & np.any(pts < p, axis=1)) for p in pts]
    return set(map(tuple, pts[keep]))


def test_each_panel_steps_its_own_front_and_marks_the_full_front_apart(toy3):
    res = load_results(toy3)
    plot = pareto_figure(res)
    for x, y in combinations(res.objectives, 2):
        assert set(map(tuple, plot.steps[(x, y)])) == _front_2d(res.feasible, x, y)
    legend = " ".join(plot.legend)
    assert "front of each panel's pair (2-D)" in legend and "Pareto-optimal in all 3 objectives" in legend
    assert "Pareto front (" not in legend  # the old label would claim the line is the 3-objective front


def _extents(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    return fig.bbox, renderer


def test_labels_are_neither_clipped_nor_overlapping(toy3):
    res = load_results(toy3)
    for kwargs in ({}, {"x": "latency_s", "y": "area_mm2"}):
        plot = pareto_figure(res, **kwargs)
        fig_box, renderer = _extents(plot.figure)
        for ax in plot.figure.axes:
            boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
            for b in boxes:  # every label lies inside the axes it annotates
                inside = ax.bbox.expanded(1.02, 1.02)
                assert inside.x0 <= b.x0 and b.x1 <= inside.x1 and inside.y0 <= b.y0 and b.y1 <= inside.y1
            for a, b in combinations(boxes, 2):
                assert not a.overlaps(b), (a, b)
        legends = [lg for lg in [*plot.figure.legends, *(ax.get_legend() for ax in plot.figure.axes)] if lg]
        for lg in legends:  # the saved figure is cropped to its artists: a legend is never cut off
            box = lg.get_window_extent(renderer)
            assert box.width > 0 and box.height > 0


def test_off_scale_baselines_carry_their_values_and_never_set_the_axes(toy3):
    res = load_results(toy3)
    plot = pareto_figure(res, x="latency_s", y="area_mm2")
    r = plot.ranges["area_mm2"]
    assert r == axis_range(res.complete["area_mm2"].to_numpy())  # the designs alone set the axis
    far = plot.baselines[plot.baselines["baseline"].str.match("cpu|gpu")]
    assert len(far) == 2 and all(not r.contains(v) for v in far["area_mm2"])
    for _, b in far.iterrows():
        entry = next(t for t in plot.legend if t.startswith(str(b["baseline"])))
        assert "off scale" in entry and f"{b['area_mm2']:.3g} mm² ↑" in entry
    # a baseline without the metric (cpu has no accuracy estimate) is not drawn and sets nothing
    plot = pareto_figure(res, x="latency_s", y="accuracy_drop")
    assert plot.ranges["accuracy_drop"] == axis_range(res.complete["accuracy_drop"].to_numpy())
    assert not any("cpu" in t and "off scale" in t for t in plot.legend)


@pytest.mark.parametrize(
    ("edit", "note"),
    [
        (lambda s: s.replace("max = 40.0", "max = 0.5"), "no feasible design"),
        (lambda s: s.split("[space]")[0] + "[space]\nrows = [8]\ncols = 16\n", "single distinct design"),
        (lambda s: s.replace('energy_j = "minimize"\narea_mm2 = "minimize"\n', ""), "single objective"),
    ],
    ids=["no-feasible", "one-design", "one-objective"],
)
def test_degenerate_studies_say_so(tmp_path, edit, note):
    text = edit(TOY_SPEC.format(study="deg", sampler="nsga2", trials=12))
    out = _sweep(tmp_path, "deg", text).out_dir
    res = load_results(out)
    plot = pareto_figure(res, baselines=[])
    assert any(note in n for n in plot.notes)
    assert any(note in t.get_text() for t in plot.figure.texts)  # visible on the figure itself
    write_report(out, baselines=[])
    assert "> note: " in (out / "report.md").read_text() and note in (out / "report.md").read_text()


def test_exact_units_clips_or_images():
    assert metric_label("inputs_per_s", inputs="clips").unit == "clips/s"
    assert metric_label("inputs_per_s", inputs="images").unit == "images/s"
    assert metric_label("frames_per_s", inputs="clips").unit == "frames/s"


def test_video_study_reads_clips_per_second(tmp_path):
    text = (ROOT / "sweeps" / "quickstart.toml").read_text().replace('baselines = ["vitcod", "heatvit", "cpu:xeon16", '
                                                                       '"gpu:h100"]', "baselines = []")  # fmt: skip
    out = _sweep(tmp_path, "quickstart", text, trials=30).out_dir
    res = load_results(out)
    assert res.input_word == "clips"
    plot = pareto_figure(res, x="latency_s", y="inputs_per_s")
    assert "clips/s" in plot.figure.axes[0].get_ylabel()


def test_fpga_designs_show_resource_use_not_area(tmp_path):
    text = (ROOT / "sweeps" / "windowed_deit_tiny.toml").read_text()
    out = _sweep(tmp_path, "windowed_deit_tiny", text, trials=40).out_dir
    res = load_results(out)
    assert res.is_fpga and res.size_metric == "dsp_util"
    single = load_results(out)
    single.spec = replace(single.spec, objectives=single.spec.objectives[:1])  # latency alone
    plot = pareto_figure(single)  # the second axis is the design's size: its DSP use, not an ASIC area
    assert plot.pairs == [("latency_s", "dsp_util")] and "mm²" not in plot.figure.axes[0].get_ylabel()
    write_report(out)
    md = (out / "report.md").read_text()
    assert "| FPGA use |" in md and "DSP " in md and "LUT " in md


def test_paper_options(run, toy3, tmp_path):
    res = load_results(toy3)
    opts = FigureOptions(title=False, size=(3.3, 2.4), font_size=9.0, legend="none")
    plot = pareto_figure(res, x="latency_s", y="energy_j", options=opts)
    ax = plot.figure.axes[0]
    assert tuple(plot.figure.get_size_inches()) == pytest.approx((3.3, 2.4))
    assert ax.get_title() == "" and ax.get_legend() is None and not plot.figure.legends
    assert ax.xaxis.label.get_fontsize() == pytest.approx(9.0)
    r = run("pareto", toy3, "--no-title", "--size", "3.3x2.4", "--font-size", "9", "--legend", "outside",
            "-o", tmp_path / "p.pdf")  # fmt: skip
    assert r.code == 0 and (tmp_path / "p.pdf").stat().st_size > 0, r.err
    for bad in (("--size", "3"), ("--size", "0.1x2"), ("--font-size", "200"), ("--legend", "left")):
        r = run("pareto", toy3, *bad, "-o", tmp_path / "q.png")
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and not (tmp_path / "q.png").exists(), r.err


def test_figures_not_redrawn_after_a_resumed_sweep_are_removed(run, tmp_path):
    spec = write_spec(tmp_path, "stale", trials=30)
    assert run("sweep", spec, "--results-dir", tmp_path).code == 0
    out = tmp_path / "stale"
    assert (out / "report.md").exists() and (out / "pareto.png").exists()
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures")  # nothing new: the figures still hold
    assert r.code == 0 and (out / "report.md").exists()
    r = run("sweep", spec, "--results-dir", tmp_path, "--trials", "50", "--no-figures")
    assert r.code == 0, r.err
    assert not (out / "report.md").exists() and not (out / "pareto.png").exists()
    assert not list((out / "figures").glob("*.png"))
    assert "removed" in r.out and "rtsa-dse report" in r.out
