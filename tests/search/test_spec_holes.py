"""Spec and option validation without holes: booleans, seeds, nesting, sizes, maxima, float steps, failed specs."""

from __future__ import annotations

import importlib.metadata

import pandas as pd
import pytest
from test_sweep_support import TOY_SPEC, register, unregister, write_spec

from dse.search import load_spec, run_sweep
from dse.search.spec import MAX_POINTS, MAX_SEED, MAX_SPEC_BYTES, MAX_TRIALS
from dse.workloads import MAX_FRAMES, MAX_RESOLUTION

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

BASE = TOY_SPEC.format(study="hole", sampler="nsga2", trials=10)
ROWS = "rows = { low = 8, high = 128, step = 8 }"


@pytest.fixture(autouse=True)
def _toy():
    register()
    yield
    unregister()


# (case id, edit of the toy spec, field the one-line message must name, words it must contain)
BAD = [
    ("bool-fixed", lambda s: s.replace(ROWS, f"{ROWS}\nclock_mhz = true"), "space.clock_mhz", "true"),
    ("bool-choices", lambda s: s.replace("dram_gbps = [12.8, 25.6, 51.2]", "dram_gbps = [true, false]"),
     "space.dram_gbps", "true"),
    ("bool-range", lambda s: s.replace(ROWS, "rows = { low = true, high = 128, step = 8 }"), "space.rows.low",
     "boolean"),
    ("bool-baseline-param", lambda s: s.replace("seed = 0", 'seed = 0\nbaselines = [{ accelerator = "toy", '
     "params = { rows = true } }]"), "baselines[0].params.rows", "true"),
    ("bool-seed", lambda s: s.replace("seed = 0", "seed = true"), "seed", "boolean"),
    ("bool-weights", lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nresolutions = [112, 224]\n'
     "weights = [true, 1]"), "workload.weights", "boolean"),
    ("seed-negative", lambda s: s.replace("seed = 0", "seed = -1"), "seed", str(MAX_SEED)),
    ("seed-too-big", lambda s: s.replace("seed = 0", f"seed = {MAX_SEED + 1}"), "seed", str(MAX_SEED)),
    ("nested-choices", lambda s: s.replace("dram_gbps = [12.8, 25.6, 51.2]", "dram_gbps = [[12.8], [25.6]]"),
     "space.dram_gbps.choices", "plain values"),
    ("choice-table", lambda s: s.replace("dram_gbps = [12.8, 25.6, 51.2]", "dram_gbps = [{ a = 1 }]"),
     "space.dram_gbps.choices", "plain values"),
    ("too-many-points", lambda s: s.replace("points = 7", f"points = {MAX_POINTS + 1}"), "space.glb_kib.points",
     str(MAX_POINTS)),
    ("too-many-trials", lambda s: s.replace("trials = 10", f"trials = {MAX_TRIALS + 1}"), "trials", "at most"),
    ("dup-resolution-frames", lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\n'
     "resolutions = [224, 224]\nframes = [1, 1]"), "workload.resolutions", "duplicate"),
    ("dup-resolution-same-frames", lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\n'
     "resolutions = [224, 224]\nframes = 1"), "workload.resolutions", "duplicate"),
    ("huge-resolution", lambda s: s.replace('model = "deit-tiny"', 'model = "deit-tiny"\nresolution = 1000000'),
     "workload.resolution", str(MAX_RESOLUTION)),
    ("huge-frames", lambda s: s.replace('model = "deit-tiny"', 'model = "videomae-b"\nframes = 1000000000'),
     "workload.frames", str(MAX_FRAMES)),
    ("mac-overflow", lambda s: s.replace('model = "deit-tiny"', 'model = "videomae-b"\nresolution = 8064\n'
     "frames = 4096"), "workload.resolution", "MACs"),
    ("deep-nesting", lambda s: s.replace("seed = 0", "seed = 0\ndescription = " + "[" * 3000 + "]" * 3000), "spec",
     "nested"),
    ("huge-spec", lambda s: s + "\n# " + "x" * MAX_SPEC_BYTES, "spec", "at most"),
]  # fmt: skip


@pytest.mark.parametrize("edit,field,words", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_spec_is_one_line(run, tmp_path, edit, field, words):
    text = edit(BASE)
    assert text != BASE
    r = run("sweep", write_spec(tmp_path, "hole", text=text), "--results-dir", tmp_path / "results")
    assert r.code == 2, (r.out, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}"), r.err
    assert words.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in r.err and not (tmp_path / "results").exists()


@pytest.mark.parametrize(("args", "field"), [(("--seed", "-3"), "--seed"), (("--seed", str(2**32)), "--seed"),
                                             (("--trials", str(MAX_TRIALS + 1)), "--trials")])  # fmt: skip
def test_option_bounds(run, tmp_path, args, field):
    r = run("sweep", write_spec(tmp_path, "opt", trials=10), "--results-dir", tmp_path / "r", *args)
    assert r.code == 2 and r.err.startswith(f"error: {field}:") and len(r.err.strip().splitlines()) == 1, r.err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("args", [("-r", "100000"), ("-f", "100000000"), ("-r", "8064", "-f", "4096")])
def test_workload_maxima_on_the_command_line(run, args):
    r = run("workloads", "show", "videomae-b", *args)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err, r.err


SPLIT = """
study = "split"
accelerator = "rtsa-split"
sampler = "{sampler}"
trials = 24
[workload]
model = "deit-tiny"
[objectives]
latency_s = "minimize"
energy_j = "minimize"
[space]
split = {{ low = 0.1, high = 0.9, step = 0.05 }}
rows = [16, 32]
"""


@pytest.mark.parametrize("sampler", ["nsga2", "nsga3", "tpe", "random", "qmc", "grid"])
def test_float_step_not_exactly_representable_works_in_every_sampler(tmp_path, sampler):
    """0.05 has no exact binary form: every sampler draws only the 17 decimal values 0.10, 0.15, … 0.90."""
    problem = load_spec(write_spec(tmp_path, "split", text=SPLIT.format(sampler=sampler)))
    report = run_sweep(problem, results_dir=str(tmp_path))
    allowed = {round(0.1 + 0.05 * i, 2) for i in range(17)}
    values = set(pd.read_csv(tmp_path / "split" / "trials.csv")["split"])
    assert values and values <= allowed, sorted(values - allowed)
    assert report.n_complete == (34 if sampler == "grid" else 24)


def test_qmc_scipy_is_a_declared_requirement():
    requires = importlib.metadata.requires("rtsa-dse") or []
    assert any(r.split(">")[0].split("=")[0].strip() == "scipy" and "extra" not in r for r in requires)


def test_failed_spec_leaves_no_study_that_refuses_the_corrected_one(run, tmp_path, monkeypatch):
    from dse.errors import InputError
    from dse.search.space import Problem

    spec = write_spec(tmp_path, "fix", trials=20)

    def broken(self, points):
        raise InputError("space.rows", "the model refused these rows")

    with monkeypatch.context() as m:
        m.setattr(Problem, "evaluate", broken)
        for _ in range(2):  # failing twice leaves nothing either
            r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures")
            assert r.code == 2 and "space.rows" in r.err
    spec.write_text(spec.read_text().replace("max = 40.0", "max = 30.0"))  # the corrected spec: another identity
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures")
    assert r.code == 0, r.err
    assert "20 trials complete of 20" in r.out
