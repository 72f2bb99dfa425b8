"""HeatViT model: computation reduction in the published range, dense limit, token schedule, FPGA fit, batching."""

from __future__ import annotations

import numpy as np
import pytest

from dse.accelerators import get
from dse.accelerators.heatvit import pruned_ops
from dse.hardware import cost, fpga
from dse.workloads import build

# HeatViT abstract [src:heatvit2023]: 28.4%–65.3% computation reduction at similar accuracy (DeiT-T/S/B, LV-ViT).
PUBLISHED_REDUCTION = (0.284, 0.653)
NO_PRUNING = {"keep1": 1.0, "keep2": 1.0, "keep3": 1.0}


@pytest.fixture(scope="module")
def heatvit():
    return get("heatvit")


@pytest.mark.parametrize("model", ["deit-tiny", "deit-small", "deit-base"])
def test_computation_reduction_in_published_range(heatvit, model):
    ev = heatvit.evaluate(build(model))
    lo, hi = PUBLISHED_REDUCTION
    assert lo <= float(ev["computation_reduction"]) <= hi
    assert ev["selector_macs"] > 0


def test_default_schedule_is_197_88_45_32(heatvit):
    wl = build("deit-tiny")
    ops, _, final = pruned_ops(wl, heatvit.resolve())
    tokens = [int(o.m) for o in ops if o.name == "qkv"]
    assert tokens == [197] * 3 + [88] * 3 + [45] * 3 + [32] * 3
    assert int(final) == 32


def test_keep_one_reproduces_dense_engine(heatvit):
    wl = build("deit-small")
    p = heatvit.resolve(NO_PRUNING)
    ev = heatvit.evaluate(wl, NO_PRUNING)
    assert ev["macs"] == pytest.approx(float(wl.macs), rel=1e-12)
    assert ev["selector_macs"] == 0 and ev["computation_reduction"] == pytest.approx(0.0, abs=1e-12)
    geom = cost.ArrayGeometry.of(p)
    works = [cost.dense_work(op, geom, p["sfu_lanes"]) for op in wl.ops]
    ctx = cost.asic_context({**p, "leakage_mw_per_mm2": 0.0}, cost.array_area_mm2(p), p["rows"] * p["cols"])
    dense = cost.summarize(wl, works, ctx)
    assert ev["cycles"] == pytest.approx(float(dense["cycles"]), rel=1e-12)


def test_video_pruned_per_frame(heatvit):
    wl = build("videomae-b")
    ev = heatvit.evaluate(wl)
    assert 0.3 < ev["computation_reduction"] < 0.7
    assert int(ev["tokens_final"]) == round(1568 * 32 / 197)
    dense = heatvit.evaluate(wl, NO_PRUNING)
    assert ev["latency_s"] < 0.6 * dense["latency_s"]
    swin = heatvit.evaluate(build("video-swin-t"))
    assert swin["computation_reduction"] == pytest.approx(0.0, abs=1e-12) and swin.notes


def test_more_pruning_is_faster(heatvit):
    k = np.linspace(0.2, 1.0, 9)
    ev = heatvit.evaluate(build("deit-tiny"), {"keep1": k, "keep2": k, "keep3": k})
    assert np.all(np.diff(ev["cycles"]) > 0) and np.all(np.diff(ev["macs"]) > 0)


def test_fpga_resources(heatvit):
    ev = heatvit.evaluate(build("deit-tiny"))
    assert ev["fpga_fits"] == 1 and ev["dsp"] <= 2520 and ev["bram"] <= 912
    big = heatvit.evaluate(build("deit-tiny"), {"rows": 64, "cols": 64})  # 4,096 lanes > 2,520 DSPs
    assert big["fpga_fits"] == 0 and big["valid"] == 0 and "budget" in big.reasons.item()
    packed = heatvit.evaluate(build("deit-tiny"), {"rows": 64, "cols": 64, "macs_per_dsp": 2})
    assert packed["fpga_fits"] == 1


def test_fpga_power_gap_scales_dynamic_energy_only(heatvit):
    wl = build("deit-tiny")
    one = heatvit.evaluate(wl, {"fpga_power_factor": 1.0})
    ten = heatvit.evaluate(wl, {"fpga_power_factor": 10.0})
    for c in ("mac", "buffer", "sfu"):
        assert ten.energy[c] == pytest.approx(10 * float(one.energy[c]))
    assert ten.energy["dram"] == pytest.approx(float(one.energy["dram"]))
    assert ten.energy["leakage"] == pytest.approx(fpga.STATIC_W * float(ten["latency_s"]))
    assert sum(float(s["energy_j"]) for s in ten.stages.values()) == pytest.approx(float(ten["energy_j"]))


def test_batch_equals_pointwise(heatvit):
    wl = build("timesformer-b")
    vals = {"keep1": np.array([1.0, 0.5, 0.7]), "select2_at": np.array([0.5, 0.3, 0.6]),
            "rows": np.array([32, 16, 64]), "fpga_power_factor": np.array([14.0, 7.0, 1.0])}  # fmt: skip
    batch = heatvit.evaluate(wl, vals)
    for i in range(3):
        one = heatvit.evaluate(wl, {k: v[i] for k, v in vals.items()})
        for key in ("cycles", "energy_j", "macs", "computation_reduction", "dsp", "fpga_fits"):
            assert batch[key][i] == pytest.approx(float(one[key]), rel=1e-12)


def test_out_of_order_selectors_are_invalid_not_errors(heatvit):
    """A design breaking HeatViT's own rule is an output (valid = 0 with a reason), never an exception."""
    at1 = np.array([0.25, 0.8, 0.25])
    at2 = np.array([0.5, 0.5, 0.9])
    ev = heatvit.evaluate(build("deit-tiny"), {"select1_at": at1, "select2_at": at2})
    assert list(ev["valid"]) == [1.0, 0.0, 0.0]
    assert ev.reasons[0] == "" and "out of order" in ev.reasons[1] and "out of order" in ev.reasons[2]
    assert np.all(np.isfinite(ev["latency_s"]))
