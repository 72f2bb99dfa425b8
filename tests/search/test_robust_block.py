"""The robust front's (designs × samples) block evaluation gives, row for row, what evaluating each design
under each sample on its own gives: a single point with a perturbed searched parameter, a resolution mix
with a fixed value per point, a searched resolution, and a structural parameter (evaluated value by
value) with several values."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from dse.hardware import factors as F
from dse.search import load_spec
from dse.search.robust import draws, sampled_batch

SPEC = """
study = "block"
accelerator = "{acc}"
sampler = "grid"
seed = 0

[workload]
{workload}

[objectives]
latency_s = "minimize"
energy_j = "minimize"
area_mm2 = "minimize"

[space]
rows = [8, 32]
{space}

[constraints]
area_mm2 = {{ max = 4.0 }}
latency_s = {{ max = 0.05 }}
"""

VIDEO = 'model = "videomae-s"\nframes = 16'
CASES = {  # accelerator, [workload], [space] beside rows
    "single point, searched sparsity": ("rtsa", f"{VIDEO}\nresolution = 112", "sparsity_linear = [0.5, 0.8]\ncols = 16"),
    "mix, a fixed value per point": (
        "rtsa", f'{VIDEO}\nresolutions = [112, 160]\nweights = [0.6, 0.4]\naggregate = "max"',
        "cols = [8, 16]\nsparsity_linear = 0.6",
    ),
    "searched resolution": ("rtsa", VIDEO, "cols = 16\nresolution = [112, 160]"),
    "structural parameter": ("windowed", 'model = "deit-tiny"\nresolution = 224', "cols = 4\nwindowed_blocks = [2, 6]"),
}  # fmt: skip


def _problem(tmp_path, case):
    acc, workload, space = CASES[case]
    path = tmp_path / "block.toml"
    path.write_text(SPEC.format(acc=acc, workload=workload, space=space))
    problem = load_spec(path)
    if problem.scenario.is_mix:  # as a `{ video = … }` knob measured per resolution gives
        problem.per_point = {"sparsity_linear": np.asarray([[0.5, 0.75]])}
    return problem


def _one(problem, design: dict, dr, j: int):
    """Design ``design`` under sample ``j`` of ``dr`` alone: its data inputs applied by hand, scalar factors."""
    acc = problem.accelerator
    pts = {k: np.asarray([v]) for k, v in design.items()}
    for u in dr.inputs:
        if u.target != "param" or acc.name not in u.accelerators:
            continue
        param = acc.param(u.key)
        if u.key in design:
            nominal = np.asarray([design[u.key]], dtype=float)
        elif u.key in problem.per_point:
            nominal = problem.per_point[u.key]
        else:
            nominal = np.asarray([problem.fixed.get(u.key, param.default)], dtype=float)
        pts[u.key] = np.clip(nominal + (dr.column(u.name)[j] - param.default), param.low, param.high)
    all_factors = dr.factors()
    scalar = {f.name: np.asarray(getattr(all_factors, f.name)).reshape(-1)[j if np.ndim(getattr(all_factors, f.name)) else 0]
              for f in fields(all_factors)}  # fmt: skip
    with F.applied(F.make(**scalar)):
        return problem.evaluate(pts, robust=False)


@pytest.mark.parametrize("case", list(CASES))
def test_block_rows_are_each_design_under_each_sample(tmp_path, case):
    problem = _problem(tmp_path, case)
    axes = problem.grid_axes()
    mesh = np.meshgrid(*[a for _, a in axes], indexing="ij")
    points = {k: m.reshape(-1) for (k, _), m in zip(axes, mesh, strict=True)}
    d = len(next(iter(points.values())))
    dr = draws(problem, 5)
    assert any(u.target == "factor" for u in dr.inputs)
    assert any(u.target == "param" for u in dr.inputs) or problem.accelerator.structural
    block = sampled_batch(problem, points, d, dr)
    assert len(block) == d * dr.n
    for i in range(d):
        design = {k: v[i].item() for k, v in points.items()}
        for j in range(dr.n):
            one, row = _one(problem, design, dr, j), i * dr.n + j
            np.testing.assert_allclose(block.objectives[row], one.objectives[0], rtol=1e-12)
            np.testing.assert_allclose(block.constraints[row], one.constraints[0], rtol=1e-12)
            assert block.feasible[row] == one.feasible[0]
            for k, v in block.metrics.items():
                np.testing.assert_allclose(v[row], one.metrics[k][0], rtol=1e-12, err_msg=k)
    # the samples move every design, and the designs differ (else the comparison would prove little)
    energy = block.metrics["energy_j"].reshape(d, dr.n)
    assert np.all(np.ptp(energy, axis=1) > 0) and len(np.unique(energy[:, 0])) == d
