"""RTSA, rtsa-split and windowed models: sparsity transforms, dense limits, bottleneck shift, FPGA fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse import accelerators
from dse.sparsity import imbalance_factor, window_kept_fraction
from dse.sparsity import vecscalar as vs
from dse.workloads import build

RTSA = accelerators.get("rtsa")
SPLIT = accelerators.get("rtsa-split")
WIN = accelerators.get("windowed")
DENSE = {"sparsity_linear": 0.0, "sparsity_attention": 0.0, "mask_overhead": 0.0}


def test_window_kept_fraction_deit_tiny():
    # [src:windowed-poster]: 5.14% kept (94.86% pruned) for 14×14 + CLS, 3×3
    assert window_kept_fraction(14, 14, 3) == pytest.approx(0.0514, abs=5e-5)
    assert window_kept_fraction(14, 14, 29) == pytest.approx(1.0)  # window covers the grid: dense


def test_windowed_whole_model_mac_drop():
    wl = build("deit-tiny")
    ev = WIN.evaluate(wl)
    drop = 1 - float(ev["macs"]) / float(wl.macs)
    assert drop == pytest.approx(0.068, abs=0.002)  # [src:windowed-poster]: ~6.8%
    assert float(ev["attention_kept"]) == pytest.approx(0.5 + 0.5 * 0.0514, abs=1e-3)


def test_rtsa_knobs_at_zero_reproduce_dense_array_cost():
    wl = build("videomae-b")
    p = RTSA.resolve(DENSE)
    ev = RTSA.evaluate(wl, DENSE)
    assert float(ev["macs"]) == pytest.approx(float(wl.macs))
    pes, lanes, L = p["rows"] * p["cols"], p["lanes"], p["sub_len"]
    for row, op in zip(ev.ops, wl.ops, strict=False):
        if op.kind in ("linear", "patch_embed", "pool_classifier"):
            units = vs.dense_units(op.batch, op.m, op.k, op.n, lanes)
        elif op.kind == "attn_score":
            units = op.batch * np.ceil(op.m / L) * op.n * op.k * np.ceil(L / lanes)
        elif op.kind == "attn_context":
            units = op.batch * np.ceil(op.m / L) * op.k * op.n * np.ceil(L / lanes)
        else:
            continue
        assert float(row["compute_cycles"]) == pytest.approx(
            op.repeat * float(vs.cycles(units, pes, p["rows"], p["cols"]))
        )


def test_windowed_without_windowed_blocks_is_the_dense_engine():
    wl = build("deit-tiny")
    ev = WIN.evaluate(wl, {"windowed_blocks": 0})
    sysp = {"rows": 4, "cols": 4, "glb_kib": 256, "dram_gbps": 4.26, "clock_mhz": 100, "precision": "int16",
            "node_nm": 28, "sfu_lanes": 4, "dram_type": "ddr3", "dataflow": "os"}  # fmt: skip
    ref = accelerators.get("systolic").evaluate(wl, sysp)
    assert float(ev["cycles"]) == pytest.approx(float(ref["cycles"]))
    assert float(ev["macs"]) == pytest.approx(float(wl.macs))


def test_sparsity_saves_and_reports_computation_saving():
    wl = build("videomae-b")
    dense = RTSA.evaluate(wl, DENSE)
    sparse = RTSA.evaluate(wl, {"sparsity_linear": 0.7, "sparsity_attention": 0.9})
    assert float(sparse["latency_s"]) < float(dense["latency_s"])
    assert float(sparse["energy_j"]) < float(dense["energy_j"])
    assert 2.0 < float(sparse["computation_saving"]) < 6.0
    assert 0 < float(sparse["accuracy_drop"]) < 2.0


def test_images_get_no_delta_saving():
    wl = build("deit-tiny")
    a = RTSA.evaluate(wl, {"sparsity_linear": 0.0, "sparsity_attention": 0.0})
    b = RTSA.evaluate(wl, {"sparsity_linear": 0.9, "sparsity_attention": 0.0})
    assert float(a["macs"]) == pytest.approx(float(b["macs"]))


def test_rtsa_linear_share_falls_with_resolution():
    res = np.array([112, 160, 224, 320, 448])
    ev = RTSA.evaluate(build("videomae-b", res))
    share = ev.stages["linear"]["cycles"] / ev["cycles"]
    assert np.all(np.diff(share) < 0)
    assert np.all(ev["stall_cycles"] == 0)


def test_split_stall_grows_away_from_its_balance():
    """Stall is smallest where the PE split matches the stage balance and grows on both sides."""
    wl = build("videomae-b", 224)
    splits = np.linspace(0.1, 0.9, 17)
    ev = SPLIT.evaluate(wl, {**DENSE, "split": splits, "rows": 32})
    stall = ev["stall_share"]
    i = int(np.argmin(stall))
    assert 0 < i < len(splits) - 1
    assert np.all(np.diff(stall[: i + 1]) <= 1e-12) and np.all(np.diff(stall[i:]) >= -1e-12)


def test_split_stall_as_resolution_moves_the_balance():
    """A fixed 75/25 split is balanced at one resolution (224² here, dense) and leaves PEs idle on either side
    (stall share = idle share of the split design's PE-cycles); rtsa never stalls."""
    res = np.array([112, 160, 224, 320, 448])
    wl = build("videomae-b", res)
    stall = SPLIT.evaluate(wl, {**DENSE, "split": 0.75})["stall_share"]
    i = int(np.argmin(stall))
    assert res[i] == 224 and stall[i] < 0.05
    assert np.all(np.diff(stall[: i + 1]) < 0) and np.all(np.diff(stall[i:]) > 0)
    assert np.all(RTSA.evaluate(wl, DENSE)["stall_cycles"] == 0)


def test_unified_beats_split_at_equal_pes():
    res = np.array([112, 224, 448])
    wl = build("videomae-b", res)
    assert np.all(RTSA.evaluate(wl)["latency_s"] < SPLIT.evaluate(wl)["latency_s"])


def test_windowed_fpga_fit():
    wl = build("deit-tiny")
    ok = WIN.evaluate(wl)
    assert float(ok["fpga_fits"]) == 1.0
    big = WIN.evaluate(wl, {"rows": 16, "cols": 16})  # 260 DSP > 220 on XC7Z020
    assert float(big["fpga_fits"]) == 0.0 and float(big["dsp_util"]) > 1
    zcu = WIN.evaluate(wl, {"rows": 16, "cols": 16, "fpga": "zcu102"})
    assert float(zcu["fpga_fits"]) == 1.0
    small = WIN.evaluate(wl, {"fpga": "xc7z010", "glb_kib": 512})  # 114+15 BRAM > 60
    assert float(small["fpga_fits"]) == 0.0


def test_poster_configuration_resources():
    from dse.accelerators.windowed import poster_config

    ev = WIN.evaluate(build("deit-tiny"), poster_config())
    assert float(ev["dsp"]) == 20 and float(ev["bram"]) == 131 and float(ev["lut"]) == 20_879  # [src:windowed-poster]


@settings(max_examples=40, deadline=None)
@given(st.floats(0.1, 0.95), st.floats(0.1, 0.95), st.floats(0.0, 0.04))
def test_more_sparsity_never_slower(s_lin, s_att, ds):
    """Once sparsity is switched on (its metadata and Δ work paid), more of it never slows RTSA down.

    (Between 0 and a few percent it can: the overheads are then larger than the saving.)"""
    wl = build("videomae-s", 160)
    a = RTSA.evaluate(wl, {"sparsity_linear": s_lin, "sparsity_attention": s_att})
    b = RTSA.evaluate(wl, {"sparsity_linear": s_lin + ds, "sparsity_attention": s_att + ds})
    assert float(b["macs"]) <= float(a["macs"]) * (1 + 1e-12)
    assert float(b["latency_s"]) <= float(a["latency_s"]) * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1e9), st.floats(0.01, 1.0), st.integers(1, 4096))
def test_imbalance_factor_bounds(n, q, pes):
    f = imbalance_factor(n, q, pes)
    assert 1.0 <= f <= 1.0 / q + 1e-9


def test_longer_subvectors_more_imbalance():
    L = np.array([4, 16, 64, 256])
    f = imbalance_factor(1e6 / L, 0.1, 256)
    assert np.all(np.diff(f) > 0)


def test_batch_equals_pointwise_rtsa():
    wl = build("videomae-b", 224)
    s = np.array([0.0, 0.5, 0.9])
    rows = np.array([8, 16, 32])
    ev = RTSA.evaluate(wl, {"sparsity_attention": s, "rows": rows})
    for i in range(3):
        one = RTSA.evaluate(wl, {"sparsity_attention": s[i], "rows": rows[i]})
        assert ev["latency_s"][i] == pytest.approx(float(one["latency_s"]))
        assert ev["energy_j"][i] == pytest.approx(float(one["energy_j"]))


def test_cli_eval_rtsa_and_windowed(run):
    r = run("eval", "--accelerator", "rtsa", "--workload", "videomae-b", "--set", "sparsity_linear=0.7",
            "--set", "sparsity_attention=0.9", "--format", "json")  # fmt: skip
    assert r.code == 0
    d = r.json()
    assert set(d["breakdown"]["stages"]) == {"linear", "attention", "other"}
    r = run("eval", "--accelerator", "windowed", "--workload", "deit-tiny", "--format", "json")
    assert r.code == 0 and r.json()["metrics"]["fpga_fits"] == 1.0


def test_cli_breakdown(run):
    r = run("breakdown", "--accelerator", "systolic", "--workload", "videomae-b", "--format", "json")
    rows = r.json()["rows"]
    assert rows[0]["bound"] == "linear" and rows[-1]["bound"] == "attention"
    r = run("breakdown", "--accelerator", "rtsa", "--workload", "videomae-b", "--resolutions", "112,160,224,320,448",
            "--format", "json")  # fmt: skip
    rows = r.json()["rows"]
    shares = [x["attention_share"] for x in rows]
    assert shares == sorted(shares) and rows[-1]["dense_bound"] == "attention"
    r = run("breakdown", "--accelerator", "rtsa-split", "--workload", "videomae-b", "--format", "json")
    row = r.json()["rows"][0]
    assert {"rtsa_period_ms", "oracle_period_ms", "static_period_ms", "static_stall_share"} <= set(row)
    r = run("breakdown", "--workload", "videomae-b", "--resolutions", "112,abc")
    assert r.code == 2 and "resolutions" in r.err


def test_poster_build_power_matches_measured_on_chip_power():
    """The shared FPGA static floor is derived from the poster's 1.552 W (dse/hardware/fpga.py)."""
    from dse.accelerators.windowed import poster_config

    ev = WIN.evaluate(build("deit-tiny"), poster_config())
    assert float(ev["power_w"]) == pytest.approx(1.552, rel=0.05)


def test_windowed_on_a_gemm_without_attention_keeps_it_all():
    """Regression (a fresh-user trial): ``--gemm`` on ``windowed`` divided 0 by 0 (a numpy warning on stderr;
    NaN in the table, null in JSON, 1 in CSV); a workload without attention prunes none of it."""
    import warnings

    from dse.workloads import gemm_workload

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = accelerators.get("windowed").evaluate(gemm_workload(64, 64, 64), {})
    assert float(ev["attention_kept"]) == 1.0
