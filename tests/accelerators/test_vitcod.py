"""ViTCoD model: the released simulator's logs, its per-layer equations, dense limit, monotonicity, batching."""

from __future__ import annotations

import numpy as np
import pytest

from dse.accelerators import get
from dse.accelerators.vitcod import _attention_pass
from dse.workloads import build

# GATECH-EIC/ViTCoD Hardware/Simulator/masks/deit_tiny_lowrank, DeiT-Tiny 95% [src:vitcod-sim]: whole model,
# 12 layers, all heads of a layer in parallel.
LOG_ATTENTION = 9492  # vitcod_atten_0.95_wo.txt "Total cycles" (= total preloading cycles)
LOG_PRELOAD, LOG_DECODER, LOG_COMPUTE = 9492, 4728, 4709
LOG_LINEAR = 681492  # vitcod_atten_ffn.txt "total linear cycles" (QKV + projection)
LOG_MLP = 1361664  # vitcod_atten_ffn.txt "total ffn cycles"

# Per layer of the same log: (global tokens, dense SDDMM, sparse SDDMM, dense SpMM, sparse SpMM, sparser nnz);
# nnz recovered from the logged cycles (the mask itself is binary data), any value in its range gives them.
LOG_LAYERS = [
    (1, 120, 117, 119, 115, 2250), (1, 30, 30, 29, 28, 395), (70, 840, 744, 767, 745, 2478),
    (1, 54, 54, 54, 54, 940), (1, 87, 75, 85, 74, 1400), (20, 300, 270, 269, 269, 1787),
    (17, 255, 213, 224, 211, 1333), (1, 87, 84, 85, 82, 1550), (1, 33, 33, 32, 31, 458),
    (9, 135, 117, 121, 116, 770), (10, 150, 138, 145, 136, 1038), (31, 372, 303, 316, 301, 601),
]  # fmt: skip


@pytest.fixture(scope="module")
def vitcod():
    return get("vitcod")


@pytest.fixture(scope="module")
def deit_tiny():
    return build("deit-tiny")


def test_released_logs_within_10pct(vitcod, deit_tiny):
    ev = vitcod.evaluate(deit_tiny, {"sparsity_attention": 0.95, **vitcod.presets["released-sim"]})
    assert ev["attention_cycles"] == pytest.approx(LOG_ATTENTION, rel=0.10)
    assert ev["attention_preload_cycles"] == pytest.approx(LOG_PRELOAD, rel=0.01)
    assert ev["attention_decoder_cycles"] == pytest.approx(LOG_DECODER, rel=0.01)
    assert ev["attention_compute_cycles"] == pytest.approx(LOG_COMPUTE, rel=0.10)
    assert ev["linear_qkv_proj_cycles"] == pytest.approx(LOG_LINEAR, rel=0.01)
    assert ev["mlp_cycles"] == pytest.approx(LOG_MLP, rel=0.001)


def test_cli_acceptance_command(run):
    r = run(
        "eval",
        "--accelerator",
        "vitcod",
        "--workload",
        "deit-tiny",
        "--set",
        "sparsity_attention=0.95",
        "--set",
        "attn_rows=64",
        "--set",
        "encoder_cycles=0",
        "--set",
        "engine_split=0",
        "--format",
        "json",
    )  # fmt: skip (the released simulator's row split)
    assert r.code == 0, r.err
    m = r.json()["metrics"]
    assert abs(m["attention_cycles"] / LOG_ATTENTION - 1) < 0.10
    assert abs((m["linear_qkv_proj_cycles"] + m["mlp_cycles"]) / (LOG_LINEAR + LOG_MLP) - 1) < 0.10


@pytest.mark.parametrize("g,dS,sS,dM,sM,nnz", LOG_LAYERS)
def test_per_layer_equations_match_log_exactly(vitcod, g, dS, sS, dM, sM, nnz):
    """With a layer's own global-column count and nnz, the closed form gives the logged cycles exactly."""
    p = vitcod.resolve(
        {"global_columns": g / 197, "global_density": 1.0, "sparsity_attention": 1 - (g * 197 + nnz) / 197**2,
         **vitcod.presets["released-sim"]}
    )  # fmt: skip
    a = _attention_pass(197, 197, 64, 3, p)
    assert a["g"] == g and a["nnz"] == nnz
    assert a["sddmm"] == max(dS, sS) and a["spmm"] == max(dM, sM)
    assert a["preload"] == 791 and a["decoder"] == 394  # LOG_PRELOAD / 12, LOG_DECODER / 12


def test_sparsity_zero_is_dense_attention(vitcod, deit_tiny):
    ev = vitcod.evaluate(deit_tiny, {"sparsity_attention": 0.0})
    assert ev["attention_engine_macs"] == pytest.approx(deit_tiny.attention_macs, rel=1e-12)
    dense = vitcod.evaluate(deit_tiny, {"sparsity_attention": 0.0, "global_columns": 0.0})
    assert dense["attention_engine_macs"] == pytest.approx(deit_tiny.attention_macs, rel=1e-12)


def test_more_sparsity_fewer_attention_cycles(vitcod, deit_tiny):
    s = np.linspace(0.0, 0.99, 100)
    for rows in (8, 64):
        ev = vitcod.evaluate(deit_tiny, {"sparsity_attention": s, "attn_rows": rows})
        att, comp = ev["attention_cycles"], ev["attention_compute_cycles"]
        assert np.all(np.diff(att) <= 1e-9 * att[:-1])  # non-increasing (flat once preload-bound)
        assert comp[-1] < 0.1 * comp[0]
        assert np.all(np.diff(ev["attention_engine_macs"]) <= 0)


def test_batch_equals_pointwise(vitcod):
    wl = build("deit-small")
    vals = {"sparsity_attention": np.array([0.0, 0.5, 0.9, 0.95]), "global_columns": np.array([0.0, 0.05, 0.1, 0.3]),
            "attn_rows": np.array([8, 64, 16, 64]), "pe_cols": np.array([64, 32, 64, 128])}  # fmt: skip
    batch = vitcod.evaluate(wl, vals)
    for i in range(4):
        one = vitcod.evaluate(wl, {k: v[i] for k, v in vals.items()})
        for key in ("cycles", "energy_j", "area_mm2", "attention_cycles", "linear_qkv_proj_cycles"):
            assert batch[key][i] == pytest.approx(float(one[key]), rel=1e-12)


def test_video_workloads_and_windowed_attention(vitcod):
    for model in ("videomae-b", "timesformer-b", "video-swin-t", "vivit-b-m4"):
        wl = build(model)
        ev = vitcod.evaluate(wl)
        assert np.all(np.isfinite(ev["cycles"])) and ev["attention_cycles"] > 0
        dense = vitcod.evaluate(wl, {"sparsity_attention": 0.0})
        assert dense["attention_engine_macs"] == pytest.approx(wl.attention_macs, rel=1e-9)
        assert ev["attention_cycles"] < dense["attention_cycles"]


def test_physical_attention_engine_is_slower(vitcod, deit_tiny):
    """The default attn_rows = 8 (the 64×8 array) instead of the released simulator's 64-row split."""
    rel = vitcod.evaluate(deit_tiny, {"sparsity_attention": 0.95, **vitcod.presets["released-sim"]})
    phys = vitcod.evaluate(deit_tiny, {"sparsity_attention": 0.95})
    assert float(phys["utilization"]) <= 1.0 < float(rel["utilization"]) or float(rel["utilization"]) <= 1.0
    assert phys["attention_compute_cycles"] > 6 * rel["attention_compute_cycles"]
    assert phys["linear_qkv_proj_cycles"] == rel["linear_qkv_proj_cycles"]
