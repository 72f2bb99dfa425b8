"""A plugin whose model fails or returns no number: one line naming it, nothing half-written (fresh processes,
so that the plugins' registrations stay out of the test session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sweep_specs import spec_text

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = """
from dse.accelerators import Accelerator, register
from dse.accelerators.common import array_params
from dse.hardware import cost


@register
class Broken(Accelerator):
    name = "{name}"
    description = "a plugin with a bug"
    params = array_params(rows=16, cols=16)

    def _evaluate(self, workload, p):
        g = cost.ArrayGeometry.of(p)
        works = [cost.dense_work(op, g, p["sfu_lanes"]) for op in workload.ops]
        {bug}
        ctx = cost.asic_context(p, cost.array_area_mm2(p), p["rows"] * p["cols"] * p["lanes"])
        ev = cost.summarize(workload, works, ctx)
        return ev.with_metrics(latency_s=ev["latency_s"] * {scale})
"""


def _spec(name: str, trials: int = 10) -> str:
    return spec_text(name, name, "rows = [8, 16, 32]", trials=trials)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_a_plugin_that_raises_is_one_line_and_leaves_no_folder(tmp_path):
    (tmp_path / "bug.py").write_text(PLUGIN.format(name="buggy", bug='raise ValueError("bug in model")', scale=1))
    (tmp_path / "bug.toml").write_text(_spec("buggy"))
    r = _cli("--plugin", "bug.py", "eval", "-a", "buggy", "-w", "deit-tiny", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: plugin accelerator buggy: its model failed: ValueError: bug in model"
    ]
    r = _cli("--plugin", "bug.py", "sweep", "bug.toml", "--results-dir", "out", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "out").exists()  # the folders the run made are gone again


def test_a_plugin_whose_model_returns_no_evaluation_is_one_line(tmp_path):
    """Regression (a fresh-user trial): a model returning 42 ended in a traceback (AttributeError), exit 1."""
    (tmp_path / "ret.py").write_text(PLUGIN.format(name="badret", bug="return 42", scale=1))
    r = _cli("--plugin", "ret.py", "eval", "-a", "badret", "-w", "deit-tiny", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: plugin accelerator badret: its model returned int, not an Evaluation (dse.hardware.cost.summarize "
        "builds one)"
    ]


def test_a_plugin_that_returns_nan_is_no_valid_design_in_eval(tmp_path):
    """Regression (a fresh-user trial): eval printed NaN numbers as a normal result; a missing value is never
    feasible, so the point is invalid with the reason."""
    (tmp_path / "nan.py").write_text(PLUGIN.format(name="naneval", bug="pass", scale='float("nan")'))
    r = _cli("--plugin", "nan.py", "eval", "-a", "naneval", "-w", "deit-tiny", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import json

    d = json.loads(r.stdout)
    assert d["metrics"]["valid"] == 0 and "not a finite number" in d["reasons"]


def test_a_plugin_that_returns_nan_ends_short_with_the_reason(tmp_path):
    (tmp_path / "nan.py").write_text(PLUGIN.format(name="nanarr", bug="pass", scale='float("nan")'))
    (tmp_path / "nan.toml").write_text(_spec("nanarr"))
    r = _cli("--plugin", "nan.py", "sweep", "nan.toml", "--results-dir", "out", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no trial completed" in r.stderr and "NaN" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "nanarr" / "report.md").exists()  # nothing to draw, nothing drawn


def test_a_plugin_file_runs_on_two_worker_processes(tmp_path):
    """Regression (a fresh-user trial): with ``--jobs 2`` the spawned worker could not import the plugin's private
    module (its by-value pickling was registered with joblib's former copy of cloudpickle, which joblib ≥ 1.5
    no longer ships), died, and the parent ran every trial alone."""
    (tmp_path / "ok.py").write_text(PLUGIN.format(name="okarr", bug="pass", scale=1))
    (tmp_path / "ok.toml").write_text(_spec("okarr", trials=12))
    r = _cli(
        "--plugin", "ok.py", "sweep", "ok.toml", "--results-dir", "out", "--jobs", "2", "--no-figures", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "died" not in r.stdout and "Traceback" not in r.stderr, r.stdout + r.stderr
