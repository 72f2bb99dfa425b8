"""Hardware cost model: equations, invariants (hypothesis) and the systolic accelerator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse import accelerators
from dse.hardware import array, memory
from dse.hardware import technology as tech
from dse.workloads import build, gemm_workload

SYS = accelerators.get("systolic")


def test_scalesim_facts_qkv_16x16():
    """[src:scalesim3]: SCALE-Sim 3.0.0, M=197 K=192 N=576 on 16×16: OS 103,895, WS 104,975, IS 97,031."""
    for df, ref in (("os", 103_895), ("ws", 104_975), ("is", 97_031)):
        cyc = array.gemm_cycles(1, 197, 192, 576, 16, 16, df)
        assert abs(cyc / ref - 1) < 0.05


def test_fold_formula_by_hand():
    # OS: ceil(197/16)·ceil(576/16) = 13·36 folds × (192 + 16 + 16 − 2)
    assert array.gemm_cycles(1, 197, 192, 576, 16, 16, "os") == 13 * 36 * 222 - 1
    assert array.gemm_cycles(3, 8, 8, 8, 8, 8, "ws") == 3 * (8 + 16 + 8 - 2 - 1)


def test_mixed_dataflow_array_equals_scalar():
    dfs = np.array(["os", "ws", "is", "os"])
    rows = np.array([8, 16, 32, 64])
    got = array.gemm_cycles(1, 197, 192, 576, rows, rows, dfs)
    for i in range(4):
        assert got[i] == array.gemm_cycles(1, 197, 192, 576, int(rows[i]), int(rows[i]), str(dfs[i]))


def test_technology_tables():
    assert tech.energy_scale(45) == pytest.approx(1.0)
    assert tech.energy_scale(28) == pytest.approx(0.513, rel=0.01)  # [src:stillmaker2017]
    assert tech.area_scale(28) == pytest.approx(0.377, rel=0.01)  # [src:stillmaker2017]
    assert tech.mac_energy_pj("int8", 28) == pytest.approx(0.15, rel=0.05)  # [D] [src:horowitz2014]
    assert tech.sram_read_pj_per_byte(32, 45) * 8 == pytest.approx(17.0, rel=1e-6)  # CACTI 45 nm 32 KB
    assert tech.sram_area_mm2(128, 45) == pytest.approx(0.430, rel=1e-6)
    # 28 nm SRAM ≈ 1.4e-3 mm²/KB [src:cacti7]
    assert tech.sram_area_mm2(512, 28) / 512 == pytest.approx(1.4e-3, rel=0.15)
    assert tech.dram_pj_per_byte("lpddr4") == 64.0
    assert list(tech.lookup(np.array(["int8", "fp32"]), tech.BYTES)) == [1, 4]


def test_all_fits_moves_each_tensor_once():
    b = memory.gemm_dram_bytes(1, 64, 64, 64, 1, 4, 1 << 20)
    assert b == 3 * 64 * 64


def test_stage_macs_add_up_to_workload():
    wl = build("videomae-b")
    ev = SYS.evaluate(wl)
    total = sum(float(ev.stages[s]["macs"]) for s in ("linear", "attention", "other"))
    assert total == pytest.approx(float(wl.macs))
    assert float(ev["energy_j"]) == pytest.approx(sum(float(v) for v in ev.energy.values()))


def test_batch_equals_points():
    rows = np.array([8, 16, 32, 64])
    glb = np.array([64, 128, 512, 1024])
    bw = np.array([6.4, 12.8, 25.6, 51.2])
    dfs = np.array(["os", "ws", "is", "ws"])
    wl = build("deit-small")
    ev = SYS.evaluate(wl, {"rows": rows, "cols": rows, "glb_kib": glb, "dram_gbps": bw, "dataflow": dfs})
    for i in range(4):
        one = SYS.evaluate(wl, {"rows": rows[i], "cols": rows[i], "glb_kib": glb[i], "dram_gbps": bw[i],
                                "dataflow": dfs[i]})  # fmt: skip
        for key in ("cycles", "energy_j", "area_mm2", "dram_bytes"):
            assert ev[key][i] == pytest.approx(float(one[key]))


def test_resolution_array_with_hardware_arrays():
    res = np.array([112, 224, 448])[:, None]
    rows = np.array([8, 32])[None, :]
    ev = SYS.evaluate(build("videomae-b", res), {"rows": rows})
    assert ev["latency_s"].shape == (3, 2)
    assert np.all(np.diff(ev["latency_s"], axis=0) > 0)


def test_tiny_dram_bandwidth_is_memory_bound():
    ev = SYS.evaluate(gemm_workload(512, 512, 512), {"dram_gbps": 0.1, "glb_kib": 16})
    assert float(ev["memory_bound_share"]) == pytest.approx(1.0)


def test_bad_values_name_the_parameter():
    from dse.errors import InputError

    for vals, field in [({"rows": 0}, "rows"), ({"dataflow": "xx"}, "dataflow"), ({"precision": "int4"}, "precision"),
                        ({"nope": 1}, "systolic parameter"), ({"rows": 3.5}, "rows")]:  # fmt: skip
        with pytest.raises(InputError) as err:
            SYS.resolve(vals)
        assert err.value.field == field


# ---- property tests -----------------------------------------------------------------------------
dims = st.integers(1, 2048)
shape = st.tuples(st.integers(1, 16), dims, dims, dims)
hw_rows = st.sampled_from([4, 8, 16, 32, 64])
dataflows = st.sampled_from(["os", "ws", "is"])


@settings(max_examples=60, deadline=None)
@given(shape, hw_rows, hw_rows, dataflows, st.floats(0.5, 100), st.floats(1.01, 10))
def test_more_bandwidth_never_increases_latency(s, r, c, df, bw, factor):
    wl = gemm_workload(s[1], s[2], s[3], s[0])
    p = {"rows": r, "cols": c, "dataflow": df}
    slow = SYS.evaluate(wl, {**p, "dram_gbps": bw})
    fast = SYS.evaluate(wl, {**p, "dram_gbps": bw * factor})
    assert float(fast["latency_s"]) <= float(slow["latency_s"]) * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(shape, st.floats(1, 4096), st.floats(1.01, 16), st.sampled_from([1, 2, 4]), st.booleans())
def test_larger_buffer_never_increases_dram_traffic(s, kib, factor, e, weight):
    small = memory.gemm_dram_bytes(s[0], s[1], s[2], s[3], e, 4, kib * 1024, weight)
    large = memory.gemm_dram_bytes(s[0], s[1], s[2], s[3], e, 4, kib * factor * 1024, weight)
    assert large <= small * (1 + 1e-12)
    # never below moving each tensor once
    assert small >= s[0] * s[1] * s[2] * e * 0.999


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["deit-tiny", "videomae-s", "video-swin-t"]), st.sampled_from(["int8", "int16", "fp16", "fp32"]),
       st.sampled_from([7, 16, 28, 45]), hw_rows, dataflows)  # fmt: skip
def test_energy_at_least_macs_times_mac_energy(model, prec, node, r, df):
    wl = build(model)
    ev = SYS.evaluate(wl, {"precision": prec, "node_nm": node, "rows": r, "dataflow": df})
    floor = float(wl.macs) * float(tech.mac_energy_pj(prec, node)) * 1e-12
    assert float(ev["energy_j"]) >= floor


@settings(max_examples=60, deadline=None)
@given(shape, st.floats(0.8, 4.0), st.floats(1.5, 8))
def test_memory_bound_latency_scales_with_bytes_over_bandwidth(s, bw, factor):
    """When DRAM is the bottleneck, halving bandwidth doubles latency (cycles = bytes / bytes-per-cycle)."""
    wl = gemm_workload(s[1], s[2], s[3], s[0])
    p = {"glb_kib": 4, "rows": 64, "cols": 64}
    a = SYS.evaluate(wl, {**p, "dram_gbps": bw})
    b = SYS.evaluate(wl, {**p, "dram_gbps": bw / factor})
    if float(a["memory_bound_share"]) == 1.0:
        assert float(b["latency_s"]) == pytest.approx(float(a["latency_s"]) * factor, rel=1e-9)
        expect = float(a["dram_bytes"]) / (bw * 1e9)
        assert float(a["latency_s"]) == pytest.approx(expect, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(hw_rows, st.floats(8, 2048), st.floats(1, 100), dataflows), min_size=2, max_size=6))
def test_batch_evaluation_equals_one_by_one(points):
    wl = build("deit-tiny")
    r, g, b, d = (np.array(x) for x in zip(*points, strict=False))
    ev = SYS.evaluate(wl, {"rows": r, "glb_kib": g, "dram_gbps": b, "dataflow": d})
    for i, (ri, gi, bi, di) in enumerate(points):
        one = SYS.evaluate(wl, {"rows": ri, "glb_kib": gi, "dram_gbps": bi, "dataflow": di})
        for key in ("latency_s", "energy_j", "area_mm2"):
            assert ev[key][i] == pytest.approx(float(one[key]), rel=1e-12)


def test_cli_eval_json(run):
    r = run("eval", "--accelerator", "systolic", "--gemm", "197,192,576", "--set", "rows=16", "--set", "cols=16",
            "--set", "dataflow=os", "--format", "json")  # fmt: skip
    assert r.code == 0
    d = r.json()
    assert {"cycles", "latency_s", "energy_j", "area_mm2", "bound", "breakdown"} <= set(d)
    assert abs(d["cycles"] / 103_895 - 1) < 0.05
    r = run("eval", "-a", "systolic", "-w", "videomae-b", "--format", "json")
    d = r.json()
    assert sum(v["macs"] for v in d["breakdown"]["stages"].values()) == pytest.approx(180_344_893_440)


@pytest.mark.parametrize(
    "args,word",
    [
        (["-a", "nope", "-w", "deit-tiny"], "accelerator"),
        (["-a", "systolic", "-w", "deit-tiny", "--set", "foo=1"], "foo"),
        (["-a", "systolic", "-w", "deit-tiny", "--set", "rows=-1"], "rows"),
        (["-a", "systolic", "-w", "deit-tiny", "--set", "dataflow=xy"], "dataflow"),
        (["-a", "systolic", "--gemm", "1,2"], "gemm"),
        (["-a", "systolic"], "workload"),
    ],
)
def test_cli_eval_errors(run, args, word):
    r = run("eval", *args)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and word in r.err


def test_cli_accelerators_lists_params(run):
    r = run("accelerators", "--format", "json")
    d = r.json()
    assert {"rows", "cols", "dataflow", "glb_kib", "dram_gbps", "clock_mhz", "precision", "node_nm"} <= {
        p["param"] for p in d["systolic"]["params"]
    }
    assert all(p["source"] for p in d["systolic"]["params"])
