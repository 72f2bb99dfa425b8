"""The sweep summary: an infeasible study lists its closest designs ranked, each with why it is infeasible (an
invalid design with its accelerator's reason); the wall-time line gives each step once, and its parts add up to
the total."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_specs import spec_text

from dse.commands.sweep import hypervolume_text, infeasible_lines, infeasible_text, timing_text

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

QUICK = Path(__file__).resolve().parents[2] / "sweeps" / "quickstart.toml"
HEATVIT = spec_text(
    "hv",
    "heatvit",
    """
select1_at = { low = 0.625, high = 1.0, step = 0.125 }
select2_at = { low = 0.0, high = 0.5, step = 0.125 }
select3_at = 0.9
""",
    trials=12,
    seed=3,
    constraints="area_mm2 = { max = 1e6 }",
)


def test_closest_designs_are_ranked_and_say_why_they_are_invalid():
    trials = pd.DataFrame({"number": [1, 2, 3, 4], "state": ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE"],
                           "x": [0.5, 0.25, 0.0, 1.0], "constraint_area_max": [-1.0, 0.5, np.nan, -1.0],
                           "constraint_valid": [1.0, 1.0, np.nan, 1.0]})  # fmt: skip

    def reasons(rows):
        return [f"rule {n}" for n in rows["number"]]

    lines = infeasible_lines(trials, ["area_max", "valid"], ["x"], reasons=reasons)
    assert lines[0] == "no feasible design: of 3 designs, area_max violated by 33%, valid violated by 100%"
    assert lines[1:] == [
        "  closest 1, design #1: invalid: rule 1; x=0.5",
        "  closest 2, design #4: invalid: rule 4; x=1",
        "  closest 3, design #2: area_max +50 %, invalid: rule 2; x=0.25",
    ]


def test_infeasible_sweep_summary_gives_the_invalid_designs_reason(run, tmp_path):
    spec = tmp_path / "hv.toml"
    spec.write_text(HEATVIT)  # select1_at > select2_at everywhere: every design breaks HeatViT's order rule
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--no-progress")
    assert r.code == 0, r.err
    closest = [line for line in r.out.splitlines() if line.startswith("  closest ")]
    assert [line.split(",")[0] for line in closest] == ["  closest 1", "  closest 2", "  closest 3"]
    assert all(": invalid: selector positions out of order" in line for line in closest), r.out
    numbers = [int(re.search(r"design #(\d+):", line).group(1)) for line in closest]
    trials = pd.read_csv(tmp_path / "hv" / "trials.csv").set_index("number")
    assert (trials.loc[numbers, "valid"] == 0).all()


def parts(line: str) -> tuple[float, dict[str, float]]:
    """(total, {top-level part: seconds}) of a ``wall …`` line; the steps in parentheses belong to their part."""
    total = float(line.split()[1])
    body = re.sub(r"\([^)]*\)", "", line.split(": ", 1)[1].split(";")[0])
    return total, {m[0]: float(m[1]) for m in re.findall(r"([a-z][a-z ]*?) (\d+\.\d+) s", body)}


def test_timing_parts_add_up_to_the_wall_time_each_step_once():
    steps = {"evaluation": 1.0, "front": 0.5, "trials table": 0.25, "study": 0.5, "baselines": 0.125,
             "robust front": 1.25, "outputs": 0.125, "figures": 10.25}  # fmt: skip
    line = timing_text(14.5, steps)
    assert line == ("wall 14.5 s: search 1.50 s (evaluation 1.00, front 0.50), baselines 0.12 s, robust front 1.25 s, "
                    "writing 11.12 s (trials table 0.25, study 0.50, outputs 0.12, figures 10.25), other 0.50 s")  # fmt: skip
    total, top = parts(line)
    assert abs(sum(top.values()) - total) < 0.02
    for step in steps:
        assert len(re.findall(rf"(?:\(|[:,] ){step} \d", line)) == 1, step  # every step once


def test_sweep_wall_line_is_truthful(run, tmp_path):
    spec = tmp_path / "hv.toml"
    spec.write_text(HEATVIT.replace("select1_at = { low = 0.625", "select1_at = { low = 0.0"))
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-progress")  # with the figures
    assert r.code == 0, r.err
    line = " ".join(r.out.split("wall ", 1)[1].split("; storage")[0].split())
    total, top = parts("wall " + line)
    assert list(top) == ["search", "baselines", "robust front", "writing"], line
    assert abs(sum(top.values()) - total) <= 0.05 + 0.005 * len(top), line
    assert "(outputs " in line and "figures " in line and line.count("search") == 1


def test_normalised_hypervolume_is_given_with_its_maximum():
    """The maximum is what a front holding the ideal point reaches: the whole box up to the reference point."""
    from dse.search import load_spec
    from dse.search.pareto import normalized_hypervolume
    from dse.search.sweep import front_hypervolume

    best = normalized_hypervolume(np.array([[1.0, 2.0, 3.0]]), ["minimize"] * 3)  # one point: ideal = nadir
    assert hypervolume_text(1.21, "objectives normalised to [0, 1], reference 1.1", 3) == (
        f"hypervolume 1.21 of {best:.4g} (objectives normalised to [0, 1], reference 1.1 per objective)"
    )
    assert f"{best:.4g}" == "1.331"
    # the kind as the sweep names it; a hypervolume in metric units has no fixed maximum
    spec = load_spec(QUICK)
    trials = pd.DataFrame({"latency_s": [1.0, 2.0], "energy_j": [2.0, 1.0], "area_mm2": [1.0, 1.0],
                           "feasible": [True, True]})  # fmt: skip
    hv, kind = front_hypervolume(spec, trials)
    assert 0 < hv < 1.331
    assert hypervolume_text(hv, kind, 3).startswith(f"hypervolume {hv:.4g} of 1.331 (")
    assert (
        hypervolume_text(0.5, "reference point from the spec", 2) == "hypervolume 0.5 (reference point from the spec)"
    )


def test_infeasible_baseline_line_says_why():
    b = {"feasible": False, "violated": "area_mm2_max, invalid: exceeds the FPGA's DSP or BRAM budget"}
    assert infeasible_text(b) == "(infeasible: area_mm2_max, invalid: exceeds the FPGA's DSP or BRAM budget)"
    assert infeasible_text({"feasible": False, "violated": ""}) == "(infeasible)"


def test_sweep_summary_baseline_lines_give_the_violations(run, tmp_path):
    spec = tmp_path / "hv.toml"
    text = HEATVIT.replace("select1_at = { low = 0.625", "select1_at = { low = 0.0")
    text = text.replace(
        "baselines = []", 'baselines = [{ accelerator = "heatvit", name = "big", params = { cols = 300 } }]'
    )
    spec.write_text(text)
    r = run("sweep", spec, "--results-dir", tmp_path, "--no-figures", "--no-progress")
    assert r.code == 0, r.err
    out = " ".join(r.out.split())  # the summary wraps at 100 columns
    assert "baseline big: " in out and "(infeasible: invalid: exceeds the FPGA's DSP or BRAM budget)" in out, r.out
    assert re.search(
        r"hypervolume \S+ of 1\.21 \(objectives normalised to \[0, 1\], reference 1\.1 per objective\)", out
    )
