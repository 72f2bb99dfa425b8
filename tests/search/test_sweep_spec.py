"""Sweep specs: every shipped spec validates; every bad spec is one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_sweep_support import ROOT, TOY_SPEC, register, unregister, write_spec

from dse import accelerators
from dse.errors import InputError
from dse.search import load_spec, read_spec
from dse.search.spec import Constraint

SHIPPED = sorted((ROOT / "sweeps").glob("*.toml"))


@pytest.fixture(autouse=True)
def _toy():
    register()
    yield
    unregister()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_spec_validates(path: Path):
    spec = read_spec(path)
    names = [spec.accelerator, *(b.accelerator for b in spec.baselines)]
    missing = [a for a in names if a.partition(":")[0] not in accelerators.names()]  # NAME:PRESET baselines
    if missing:
        pytest.skip(f"accelerator {missing[0]!r} is not registered yet")
    problem = load_spec(path)
    assert problem.spec.study == path.stem
    assert problem.searched and problem.metric_names
    batch = problem.evaluate({d.name: np.asarray(problem._values_of(d)[:1] * 3) for d in problem.searched})
    assert batch.objectives.shape == (3, len(problem.spec.objectives))


def test_quickstart_is_the_readme_command():
    spec = read_spec(ROOT / "sweeps" / "quickstart.toml")
    assert spec.study == "quickstart" and spec.sampler == "nsga2"
    assert "rtsa-dse sweep sweeps/quickstart.toml" in (ROOT / "README.md").read_text()


BASE = TOY_SPEC.format(study="bad", sampler="nsga2", trials=10)

# (case id, edit of the toy spec, field the one-line message must name)
BAD = [
    ("unknown-key", lambda s: s.replace("seed = 0", "seed = 0\ntrails = 5"), "trails"),
    (
        "unknown-workload-key",
        lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nres = 224'),
        "workload.res",
    ),
    ("wrong-type", lambda s: s.replace("trials = 10", 'trials = "many"'), "trials"),
    ("float-trials", lambda s: s.replace("trials = 10", "trials = 10.5"), "trials"),
    (
        "inverted-range",
        lambda s: s.replace("rows = { low = 8, high = 128, step = 8 }", "rows = { low = 128, high = 8 }"),
        "space.rows",
    ),
    (
        "empty-range",
        lambda s: s.replace("rows = { low = 8, high = 128, step = 8 }", "rows = { low = 8, high = 8 }"),
        "space.rows",
    ),
    (
        "bad-step",
        lambda s: s.replace("rows = { low = 8, high = 128, step = 8 }", "rows = { low = 8, high = 128, step = 7 }"),
        "space.rows.step",
    ),
    ("step-and-log", lambda s: s.replace("log = true, points = 7", "log = true, step = 2.0"), "space.glb_kib"),
    (
        "out-of-range",
        lambda s: s.replace("rows = { low = 8, high = 128, step = 8 }", "rows = { low = 8, high = 1000 }"),
        "space.rows",
    ),
    (
        "float-for-int",
        lambda s: s.replace("rows = { low = 8, high = 128, step = 8 }", "rows = { low = 8.5, high = 100.0 }"),
        "space.rows",
    ),
    (
        "missing-param",
        lambda s: s.replace("[constraints]", "[constraints]").replace("dataflow =", "warp_drive = 3\ndataflow ="),
        "space.warp_drive",
    ),
    ("bad-choice", lambda s: s.replace('["os", "ws", "is"]', '["os", "zz"]'), "space.dataflow"),
    (
        "range-on-choice",
        lambda s: s.replace('dataflow = ["os", "ws", "is"]', "dataflow = { low = 1, high = 3 }"),
        "space.dataflow",
    ),
    ("unknown-metric", lambda s: s.replace('energy_j = "minimize"', 'speed = "minimize"'), "objectives.speed"),
    ("bad-direction", lambda s: s.replace('energy_j = "minimize"', 'energy_j = "minimise"'), "objectives.energy_j"),
    (
        "unknown-constraint-metric",
        lambda s: s.replace("area_mm2 = { max = 40.0 }", "bogus = { max = 1.0 }"),
        "constraints.bogus",
    ),
    (
        "constraint-key",
        lambda s: s.replace("area_mm2 = { max = 40.0 }", "area_mm2 = { below = 1.0 }"),
        "constraints.area_mm2.below",
    ),
    ("unknown-sampler", lambda s: s.replace('sampler = "nsga2"', 'sampler = "cmaes"'), "sampler"),
    (
        "sampler-option",
        lambda s: s.replace('sampler = "nsga2"', 'sampler = { name = "nsga2", pop = 10 }'),
        "sampler.pop",
    ),
    ("unknown-accelerator", lambda s: s.replace('accelerator = "toy"', 'accelerator = "tpu"'), "accelerator"),
    ("unknown-model", lambda s: s.replace('model = "deit-tiny"', 'model = "bert"'), "workload.model"),
    ("bad-resolution", lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nresolution = 225'), "workload"),
    ("image-frames", lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nframes = 8'), "workload"),
    (
        "mix-weights",
        lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nresolutions = [160, 224]\nweights = [1.0]'),
        "workload.weights",
    ),
    (
        "bad-aggregate",
        lambda s: s.replace(
            'model = "deit-tiny"', 'model = "deit-tiny"\nresolutions = [160, 224]\naggregate = "median"'
        ),
        "workload.aggregate",
    ),
    (
        "search-resolution-twice",
        lambda s: (
            s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nresolution = 224')
            .replace("[constraints]", "")
            .replace("area_mm2 = { max = 40.0 }", "")
            .replace("dram_gbps =", "resolution = [160, 224]\ndram_gbps =")
        ),
        "space.resolution",
    ),
    (
        "search-resolution-patch",
        lambda s: s.replace("dram_gbps =", "resolution = [160, 225]\ndram_gbps ="),
        "space.resolution",
    ),
    (
        "grid-float-no-step",
        lambda s: s.replace('sampler = "nsga2"', 'sampler = "grid"').replace("log = true, points = 7", "log = true"),
        "space.glb_kib",
    ),
    ("all-fixed", lambda s: s.split("[space]")[0] + "[space]\nrows = 8\n", "space"),
    ("bad-baseline", lambda s: s.replace("seed = 0", 'seed = 0\nbaselines = ["abacus"]'), "baselines[0].accelerator"),
    ("bad-toml", lambda s: s.replace("seed = 0", "seed = = 0"), "spec"),
    ("bad-study-name", lambda s: s.replace('study = "bad"', 'study = "../etc"'), "study"),
]


@pytest.mark.parametrize("edit,field", [(e, f) for _, e, f in BAD], ids=[c for c, _, _ in BAD])
def test_bad_spec_exits_2_with_one_line(run, tmp_path, edit, field):
    text = edit(BASE)
    assert text != BASE
    path = write_spec(tmp_path, "bad", text=text)
    results = tmp_path / "results"
    r = run("sweep", path, "--results-dir", results)
    assert r.code == 2, (r.out, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    assert f" {field}" in lines[0] or f"error: {field}" in lines[0], lines[0]
    assert "Traceback" not in r.err and r.out == ""
    assert not results.exists()


def test_missing_file_and_fpga_fit_on_asic(run, tmp_path):
    r = run("sweep", tmp_path / "nope.toml", "--results-dir", tmp_path / "r")
    assert r.code == 2 and "file not found" in r.err and len(r.err.strip().splitlines()) == 1
    text = BASE.replace('accelerator = "toy"', 'accelerator = "systolic"').replace("dram_gbps =", "dram_gbps_x =")
    text = text.split("[space]")[0] + "[space]\nrows = [8, 16]\n[constraints]\nfpga_fit = true\n"
    r = run("sweep", write_spec(tmp_path, "asic", text=text), "--results-dir", tmp_path / "r")
    assert r.code == 2 and "constraints.fpga_fit" in r.err and "fpga_fits" in r.err
    assert not (tmp_path / "r").exists()


def test_cli_overrides_are_validated(run, tmp_path):
    path = write_spec(tmp_path)
    for args, field in ((["--sampler", "bogus"], "--sampler"), (["--trials", "0"], "--trials"), (["--jobs", "0"], "--jobs"),
                        (["--storage", "redis://x"], "--storage"), (["--study", "a/b"], "--study")):  # fmt: skip
        r = run("sweep", path, "--results-dir", tmp_path / "r", *args)
        assert r.code == 2 and field in r.err and len(r.err.strip().splitlines()) == 1, (args, r.err)
    assert not (tmp_path / "r").exists()


def test_constraint_violation_is_relative():
    c = Constraint("area_mm2_max", "area_mm2", "max", 10.0)
    assert c.violation(5.0) == -0.5 and c.violation(15.0) == 0.5
    c = Constraint("fpga_fit", "fpga_fits", "min", 1.0)
    assert c.violation(1.0) == 0.0 and c.violation(0.0) == 1.0


def _problem(tmp_path, extra_workload: str = "", space_extra: str = "", objectives: str | None = None):
    text = BASE.replace('model = "deit-tiny"', f'model = "deit-tiny"\n{extra_workload}')
    text = text.replace("dram_gbps = [12.8, 25.6, 51.2]", f"dram_gbps = [12.8, 25.6, 51.2]\n{space_extra}")
    if objectives:
        text = text.replace('latency_s = "minimize"\nenergy_j = "minimize"', objectives)
    return load_spec(write_spec(tmp_path, "p", text=text))


def _points(problem, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return {d.name: rng.choice(np.asarray(problem._values_of(d)), n) for d in problem.searched}


def test_resolution_mix_mean_and_max(tmp_path):
    single = {r: _problem(tmp_path, f"resolution = {r}") for r in (160, 224)}
    mean = _problem(tmp_path, 'resolutions = [160, 224]\nweights = [3.0, 1.0]\naggregate = "mean"')
    worst = _problem(tmp_path, 'resolutions = [160, 224]\naggregate = "max"',
                     objectives='latency_s = "minimize"\nutilization = "maximize"')  # fmt: skip
    pts = _points(mean)
    per = {r: p.evaluate(pts) for r, p in single.items()}
    got = mean.evaluate(pts)
    np.testing.assert_allclose(
        got.metrics["latency_s"], 0.75 * per[160].metrics["latency_s"] + 0.25 * per[224].metrics["latency_s"]
    )
    np.testing.assert_allclose(got.metrics["latency_s@224"], per[224].metrics["latency_s"])
    w = worst.evaluate(pts)
    np.testing.assert_allclose(
        w.metrics["latency_s"], np.maximum(per[160].metrics["latency_s"], per[224].metrics["latency_s"])
    )
    np.testing.assert_allclose(
        w.metrics["utilization"], np.minimum(per[160].metrics["utilization"], per[224].metrics["utilization"])
    )
    # constraints hold at every resolution of the mix
    np.testing.assert_allclose(
        got.constraints[:, 0], np.maximum(per[160].constraints[:, 0], per[224].constraints[:, 0])
    )


def test_resolution_as_search_dimension(tmp_path):
    p = _problem(tmp_path, space_extra="resolution = { low = 160, high = 256, step = 32 }")
    assert [d.name for d in p.searched][-1] == "resolution"
    pts = _points(p, 30)
    b = p.evaluate(pts)
    for r in (160, 224):
        sel = pts["resolution"] == r
        ref = _problem(tmp_path, f"resolution = {r}").evaluate({k: v[sel] for k, v in pts.items() if k != "resolution"})
        np.testing.assert_allclose(b.metrics["latency_s"][sel], ref.metrics["latency_s"])


def test_video_measured_delta_sparsity_as_knob(tmp_path):
    """`sparsity_linear = { video = ..., threshold = ... }` takes the profile-video measurement."""
    from dse.search.spec import read_spec
    from dse.video import delta_sparsity

    text = (ROOT / "sweeps" / "rtsa_battery_mix.toml").read_text()
    spec = read_spec(ROOT / "sweeps" / "rtsa_battery_mix.toml")
    dim = next(d for d in spec.space if d.name == "sparsity_linear")
    # at the gap VideoMAE-B sees (tubelet 2 × sampling interval 4 = 8 frames), each resolution its own value
    per = [delta_sparsity(r, stride=8) for r in (112, 160, 224)]
    expect = 0.5 * per[0] + 0.3 * per[1] + 0.2 * per[2]
    assert dim.kind == "fixed" and 0 < dim.value < 1 and abs(dim.value - expect) < 1e-9
    assert dim.per_point == pytest.approx(per) and per[0] != per[2]
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('video = "bigbuckbunny"', 'video = "no-such-clip"'))
    with pytest.raises(InputError) as err:
        read_spec(bad)
    assert "space.sparsity_linear" in str(err.value)
