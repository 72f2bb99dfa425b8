"""The typed cost contract: every accelerator's breakdowns add up to its totals, and it reports exactly the
metrics it declares (all of them declared in the metric schema)."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.accelerators.base import COMPONENTS, Evaluation, OpCost, StageCost
from dse.metrics import METRICS
from dse.workloads import build

NAMES = accelerators.names()
#: accelerators whose stages run one after another (their stage latencies add up to the latency)
PIPELINED = {"rtsa-split"}


@pytest.mark.parametrize("model", ["deit-tiny", "videomae-b"])
@pytest.mark.parametrize("name", NAMES)
def test_stage_and_op_sums_equal_totals_in_eval_json(run, name, model):
    r = run("eval", "-a", name, "-w", model, "--format", "json")
    assert r.code == 0, r.err
    d = r.json()
    total = d["metrics"]["energy_j"]
    stages = d["breakdown"]["stages"]
    assert sum(s["energy_j"] for s in stages.values()) == pytest.approx(total, rel=1e-3)
    assert sum(d["breakdown"]["energy_j"].values()) == pytest.approx(total, rel=1e-3)
    assert sum(op["energy_j"] for op in d["ops"]) == pytest.approx(total, rel=1e-3)
    for s, st in stages.items():
        ops = [op for op in d["ops"] if op["stage"] == s]
        assert sum(op["latency_s"] for op in ops) == pytest.approx(st["latency_s"], rel=1e-9, abs=1e-15)
    if name not in PIPELINED:
        assert sum(s["latency_s"] for s in stages.values()) == pytest.approx(d["latency_s"], rel=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_reports_exactly_the_declared_metrics(name):
    acc = accelerators.get(name)
    ev = acc.evaluate(build("deit-tiny"))
    assert set(acc.metrics) <= set(METRICS), set(acc.metrics) - set(METRICS)
    assert set(ev.metrics) == set(acc.metrics)
    assert isinstance(ev, Evaluation) and all(isinstance(s, StageCost) for s in ev.stages.values())
    assert all(isinstance(o, OpCost) for o in ev.ops) and set(ev.energy) == set(COMPONENTS)


@pytest.mark.parametrize("name", NAMES)
def test_evaluation_is_frozen(name):
    ev = accelerators.get(name).evaluate(build("deit-tiny"))
    with pytest.raises(TypeError):
        ev.metrics["latency_s"] = np.zeros(())  # type: ignore[index]
    with pytest.raises(AttributeError):
        ev.notes = ()  # type: ignore[misc]


def test_fpga_fabric_is_a_technology_variant():
    """On FPGA designs the power gap scales on-chip dynamic energy in every op and stage, not only the totals."""
    from dse.hardware import cost, fpga

    win = accelerators.get("windowed")
    wl = build("deit-tiny")
    ev = win.evaluate(wl)
    p = win.resolve({})
    area = {"pe": np.ones(()), "buffer": np.ones(())}
    ctx = cost.fpga_context({**p, "dram_type": p["dram_type"]}, area, 20, node_nm=28, power_gap=fpga.POWER_GAP,
                            area_gap=fpga.AREA_GAP, static_w=0.0)  # fmt: skip
    assert float(ctx.dynamic_scale) == fpga.POWER_GAP and float(ctx.static_w) == 0.0
    assert sum(ctx.area_mm2.values()) == pytest.approx(2 * fpga.AREA_GAP)
    assert sum(float(s.energy_j) for s in ev.stages.values()) == pytest.approx(float(ev["energy_j"]), rel=1e-9)


def test_structural_parameter_values_are_evaluated_separately():
    """windowed_blocks changes the op list: a batch with several values gives each point its own answer."""
    win = accelerators.get("windowed")
    wl = build("deit-tiny")
    nb = np.array([0, 6, 12, 6])
    batch = win.evaluate(wl, {"windowed_blocks": nb})
    for i, v in enumerate(nb):
        one = win.evaluate(wl, {"windowed_blocks": int(v)})
        for k in ("latency_s", "energy_j", "macs", "accuracy_drop"):
            assert batch[k][i] == pytest.approx(float(one[k]), rel=1e-12)
