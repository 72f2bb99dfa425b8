"""Property tests (hypothesis) of every built-in accelerator's physics (issue 11, item 11).

Random design points are drawn from each parameter's declared range (``Accelerator.params``: kind, low, high,
choices; a sensible sub-range where the declared one is huge, :data:`SUB_RANGES`), on several workloads, and
each example evaluates its whole batch of points in one vectorized call. The invariants:

1. compute bound: ``period_s ≥ performed MACs / peak MAC rate``, ``utilization ≤ 1``, ``period_s ≤ latency_s``;
2. memory bound: ``latency_s`` and ``period_s ≥ DRAM bytes / DRAM bandwidth`` (rtsa-split's two arrays share
   one DRAM interface, so its period obeys it too);
3. more sparsity is never slower (latency, period) and never costs more energy (:data:`KNOBS`);
4. per-op rows add up to their stage, stages and energy components to the totals, and stage latencies to
   the latency where stages run one after another;
5. a higher clock never lowers on-chip dynamic energy below the V–f relation's prediction (ASICs);
6. ``valid`` is 0 or 1 and every declared metric is finite at valid points.

The CLI side (a clock above the node's maximum, ``rtsa-split`` with one row: exit 2) is in
tests/cli/test_eval_limits.py.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dse import accelerators
from dse.accelerators import roofline
from dse.hardware import technology as tech
from dse.workloads import build

#: built-in accelerators (plugins registered by other tests are not ours to check)
NAMES = [e.name for e in accelerators.entries() if e.origin == accelerators.BUILTIN]
REL = 1e-9  # relative slack for floating-point sums and comparisons
#: the workloads drawn: an image model and video models of every attention family, at small resolutions
WORKLOADS = (
    ("deit-tiny", None),
    ("deit-tiny", 112),
    ("videomae-s", 112),
    ("timesformer-b", None),
    ("video-swin-t", 112),
    ("vivit-b-m2", 112),
)
#: accelerators on FPGA fabric: a fixed supply, so the clock does not change energy per operation
FPGA = {"windowed", "heatvit"}
#: accelerators whose two stages run concurrently on separate arrays (their stage latencies need not add up)
PIPELINED = {"rtsa-split"}

# Sub-ranges where the declared range is huge: (low, high, log-scale). Clipped to the declared range.
SUB_RANGES: dict[str, tuple[float, float, bool]] = {
    "rows": (1, 64, False),
    "cols": (1, 64, False),
    "pe_rows": (1, 64, False),
    "pe_cols": (2, 64, False),
    "lanes": (1, 16, False),
    "glb_kib": (8, 4096, True),
    "dram_gbps": (1, 1000, True),
    "clock_mhz": (20, 3000, True),
    "sfu_lanes": (1, 256, True),
    "leakage_mw_per_mm2": (0, 50, False),
    "key_interval": (1, 32, False),
    "sub_len": (1, 64, False),
    "sddmm_lanes": (1, 64, False),
    "sddmm_kib": (4, 1024, True),
    "window": (1, 15, False),
    "windowed_blocks": (0, 12, False),
    "lut_per_lane": (0, 1000, False),
    "static_w": (0, 10, False),
    "q_buf_kib": (1, 512, True),
    "k_buf_kib": (1, 512, True),
    "v_buf_kib": (1, 512, True),
    "index_buf_kib": (0, 256, False),
    "out_buf_kib": (1, 1024, True),
    "dsp_budget": (100, 100_000, True),
    "bram_budget": (50, 100_000, True),
    "fpga_power_factor": (1, 20, False),
    "fpga_area_factor": (1, 40, False),
}
#: per-accelerator sub-ranges (FPGA clocks stay near the devices' DSP limits)
SUB_RANGES_BY_ACC: dict[str, dict[str, tuple[float, float, bool]]] = {
    "windowed": {"clock_mhz": (20, 600, True)},
    "heatvit": {"clock_mhz": (20, 900, True)},
}
#: CPU/GPU overrides: 0 means "the preset's value", else a value in this range
ZERO_OR_RANGE: dict[str, tuple[float, float]] = {
    "peak_tflops": (0.01, 2000),
    "mem_gbps": (1, 5000),
    "launch_us": (0.1, 100),
    "power_w": (1, 1000),
    "area_mm2": (1, 1000),
}


# ---- drawing design points ----------------------------------------------------------------------------


def _float(lo: float, hi: float, log: bool):
    if log and lo > 0:
        return st.floats(math.log(lo), math.log(hi)).map(lambda x: min(max(math.exp(x), lo), hi))
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def param_strategy(name: str, param):
    """Values of one parameter: its choices, or its declared range narrowed by :data:`SUB_RANGES`."""
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.name in ZERO_OR_RANGE:
        lo, hi = ZERO_OR_RANGE[param.name]
        return st.one_of(st.just(0.0), _float(lo, hi, True))
    lo, hi = param.low, param.high
    sub = SUB_RANGES_BY_ACC.get(name, {}).get(param.name) or SUB_RANGES.get(param.name)
    log = False
    if sub is not None:
        lo, hi, log = max(sub[0], lo), min(sub[1], hi), sub[2]
    if param.kind == "int":
        return st.integers(int(math.ceil(lo)), int(math.floor(hi)))
    return _float(lo, hi, log)


@st.composite
def one_point(draw, name: str) -> dict:
    """One design point (non-structural parameters)."""
    acc = accelerators.get(name)
    out = {}
    for p in acc.params:
        if p.structural or p.name == "attn_rows":
            continue
        out[p.name] = draw(param_strategy(name, p))
    if name == "vitcod":
        # the physical engine divides its own PE rows among the heads (attn_rows > pe_rows is the explicit
        # released-simulator preset, which counts 8× the engine's MACs per cycle)
        out["attn_rows"] = draw(st.integers(1, out["pe_rows"]))
    return out


@st.composite
def design_batch(draw, name: str, min_size: int = 1, max_size: int = 6) -> dict[str, np.ndarray]:
    """A batch of design points as parameter arrays; structural parameters take one value per batch."""
    acc = accelerators.get(name)
    points = draw(st.lists(one_point(name), min_size=min_size, max_size=max_size))
    values = {k: np.array([pt[k] for pt in points]) for k in points[0]}
    for p in acc.params:
        if p.structural:
            values[p.name] = np.asarray(draw(param_strategy(name, p)))
    return values


@cache
def workload(model: str, resolution):
    return build(model, resolution)


workloads = st.sampled_from(WORKLOADS).map(lambda mr: workload(*mr))


def concat(a: dict, b: dict) -> dict[str, np.ndarray]:
    """Two batches of the same parameters side by side (scalars broadcast to each batch's length)."""
    n_a = len(next(v for v in a.values() if np.ndim(v)))
    n_b = len(next(v for v in b.values() if np.ndim(v)))
    return {k: np.concatenate([np.broadcast_to(a[k], (n_a,)), np.broadcast_to(b[k], (n_b,))]) for k in a}


# ---- each accelerator's peak MAC rate and DRAM bandwidth ----------------------------------------------


def _mac_lanes(name: str, p: dict) -> np.ndarray:
    if name in ("systolic", "rtsa", "rtsa-split"):
        return p["rows"] * p["cols"] * p["lanes"]
    if name == "vitcod":
        return p["pe_rows"] * p["pe_cols"]
    if name == "windowed":
        return p["rows"] * p["cols"] + p["sddmm_lanes"]  # dense engine + SDDMM engine
    if name == "heatvit":
        return p["rows"] * p["cols"]
    raise AssertionError(f"add {name}'s peak MAC rate to tests/accelerators/test_physics.py")


def peak_macs_per_s(name: str, p: dict) -> np.ndarray:
    """The design's peak MAC rate (MAC/s) from its parameters."""
    if name in ("cpu", "gpu"):
        return roofline.machine(p["platform"], p["precision"], p["attention"], p).macs_per_s
    return _mac_lanes(name, p) * p["clock_mhz"] * 1e6


def dram_bytes_per_s(name: str, p: dict) -> np.ndarray:
    """The design's DRAM peak bandwidth (B/s)."""
    if "dram_gbps" in p:
        return p["dram_gbps"] * 1e9
    if name in ("cpu", "gpu"):
        preset = tech.lookup(p["platform"], {k: v.mem_gbps for k, v in roofline.PLATFORMS.items()})
        return np.where(p["mem_gbps"] > 0, p["mem_gbps"], preset) * 1e9
    raise AssertionError(f"add {name}'s DRAM bandwidth to tests/accelerators/test_physics.py")


def at_most(a, b, what: str, values: dict) -> None:
    """Assert ``a ≤ b`` elementwise with :data:`REL` slack; the message shows the first violating point."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    bad = ~(a <= b * (1 + REL) + 1e-300)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        point = {k: np.broadcast_to(v, a.shape).ravel()[i].item() for k, v in values.items()}
        raise AssertionError(f"{what}: {a.ravel()[i]!r} > {b.ravel()[i]!r} at {point}")


def close(a, b, what: str) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-9, atol=1e-300,
                               err_msg=what)  # fmt: skip


FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- 1, 2, 4, 6: bounds, sums and validity at random design points ---------------------------------------


def test_every_builtin_accelerator_is_covered():
    assert {"systolic", "rtsa", "rtsa-split", "windowed", "vitcod", "heatvit", "cpu", "gpu"} <= set(NAMES)
    for name in NAMES:  # each has a peak and a bandwidth here (a new accelerator must add its own)
        p = accelerators.get(name).resolve({})
        assert float(np.max(peak_macs_per_s(name, p))) > 0
        assert float(np.max(dram_bytes_per_s(name, p))) > 0


@pytest.mark.parametrize("name", NAMES)
def test_bounds_sums_and_validity_at_random_points(name):
    acc = accelerators.get(name)

    @FAST
    @given(values=design_batch(name), wl=workloads)
    def check(values, wl):
        ev = acc.evaluate(wl, values)
        p = acc.resolve(values)
        m = ev.metrics
        lat, per = m["latency_s"], m["period_s"]

        # 1. compute bound, utilisation, period ≤ latency
        at_most(m["macs"] / peak_macs_per_s(name, p), per, "MACs / peak rate ≤ period_s", values)
        at_most(m["utilization"], 1.0, "utilization ≤ 1", values)
        at_most(per, lat, "period_s ≤ latency_s", values)
        # 2. memory bound
        t_dram = m["dram_bytes"] / dram_bytes_per_s(name, p)
        at_most(t_dram, per, "DRAM bytes / bandwidth ≤ period_s", values)
        at_most(t_dram, lat, "DRAM bytes / bandwidth ≤ latency_s", values)

        # 4. per-op rows → stages → totals
        stages = ev.stages
        close(sum(s.energy_j for s in stages.values()), m["energy_j"], "stage energies add up to energy_j")
        close(sum(ev.energy.values()), m["energy_j"], "energy components add up to energy_j")
        close(sum(s.macs for s in stages.values()), m["macs"], "stage MACs add up to macs")
        close(sum(s.dram_bytes for s in stages.values()), m["dram_bytes"], "stage DRAM bytes add up to dram_bytes")
        if name in PIPELINED:  # each array's side fits in the period; one input crosses both (fill included)
            side_lin = stages["linear"].latency_s + stages["other"].latency_s
            at_most(np.maximum(side_lin, stages["attention"].latency_s), per, "each pipeline side ≤ period", values)
        else:
            close(sum(s.latency_s for s in stages.values()), lat, "stage latencies add up to latency_s")
        if ev.ops:  # a stitched evaluation (several structural values) keeps no op rows
            for s, st_cost in stages.items():
                rows = [r for r in ev.ops if r.stage == s]
                for f in ("latency_s", "energy_j", "macs", "dram_bytes", "cycles"):
                    got = sum((np.asarray(getattr(r, f), dtype=float) for r in rows), np.zeros(ev.shape))
                    close(got, getattr(st_cost, f), f"op {f} add up to stage {s}")

        # 6. valid is 0/1, every declared metric present and finite at valid points
        valid = np.asarray(m["valid"])
        assert np.isin(valid, (0.0, 1.0)).all(), valid
        assert set(acc.metrics) <= set(m), set(acc.metrics) - set(m)
        ok = valid == 1.0
        for k in acc.metrics:
            v = np.broadcast_to(np.asarray(m[k], dtype=float), ev.shape)
            assert np.isfinite(v[ok]).all(), f"{k} not finite at a valid point: {v}"
        assert (np.asarray(ev.reasons)[ok] == "").all()
        assert (np.asarray(ev.reasons)[~ok] != "").all()

    check()


# ---- 3: more sparsity is never slower and never costs more energy -----------------------------------------

#: (accelerator, knob, direction): raising the knob (+1) or lowering it (-1) means more sparsity
KNOBS = [
    ("rtsa", "sparsity_linear", +1),
    ("rtsa", "sparsity_attention", +1),
    ("rtsa-split", "sparsity_linear", +1),
    ("rtsa-split", "sparsity_attention", +1),
    ("vitcod", "sparsity_attention", +1),
    ("heatvit", "keep1", -1),
    ("heatvit", "keep2", -1),
    ("heatvit", "keep3", -1),
    ("windowed", "window", -1),  # a smaller window keeps fewer (query, key) pairs
]


@pytest.mark.parametrize(("name", "knob", "direction"), KNOBS, ids=[f"{n}-{k}" for n, k, _ in KNOBS])
def test_more_sparsity_is_never_slower_nor_costlier(name, knob, direction):
    acc = accelerators.get(name)
    knob_values = param_strategy(name, acc.param(knob))

    @FAST
    @given(data=st.data(), wl=workloads)
    def check(data, wl):
        base = data.draw(design_batch(name, max_size=4))
        n = len(base[knob])
        pairs = [sorted(data.draw(st.tuples(knob_values, knob_values))) for _ in range(n)]
        lo, hi = (np.array([pr[i] for pr in pairs]) for i in (0, 1))
        less, more = (lo, hi) if direction > 0 else (hi, lo)
        values = concat({**base, knob: less}, {**base, knob: more})
        ev = acc.evaluate(wl, values)
        for k in ("latency_s", "period_s", "energy_j"):
            v = np.asarray(ev[k])
            at_most(v[n:], v[:n], f"{k} with more {knob}", {k2: v2[n:] for k2, v2 in values.items()} | {
                f"{knob} (less sparse)": less})  # fmt: skip

    check()


# ---- 5: clock, voltage and energy -------------------------------------------------------------------------

CLOCKED = [n for n in NAMES if "clock_mhz" in {p.name for p in accelerators.get(n).params}]


def _on_chip_dynamic(ev) -> np.ndarray:
    """Energy the supply voltage scales: everything but static power (leakage) and off-chip DRAM."""
    return np.asarray(ev["energy_j"]) - np.asarray(ev.energy["leakage"]) - np.asarray(ev.energy["dram"])


@pytest.mark.parametrize("name", CLOCKED)
def test_higher_clock_never_lowers_energy_below_the_v_f_prediction(name):
    """(E − leakage − DRAM)(f₂) ≥ (E − leakage − DRAM)(f₁) · (V(f₂)/V(f₁))² for f₁ < f₂ ≤ f_max(node).

    DRAM energy is left out: it is off-chip, at the DRAM's own supply (cost.py scales it by neither the
    voltage nor the FPGA gap); scaling it by (V₂/V₁)² would predict more than physics does at every
    compute-bound point. FPGA fabric has a fixed supply (V ratio 1): on-chip energy never falls with clock.
    """
    acc = accelerators.get(name)
    fpga = name in FPGA

    @FAST
    @given(data=st.data(), wl=workloads)
    def check(data, wl):
        base = data.draw(design_batch(name, max_size=4))
        n = len(base["clock_mhz"])
        p = acc.resolve(base)
        f_max = np.broadcast_to(_f_max(acc, p), (n,))
        u = np.array([sorted(data.draw(st.tuples(st.floats(0.02, 1.0), st.floats(0.02, 1.0)))) for _ in range(n)])
        f1, f2 = u[:, 0] * f_max, u[:, 1] * f_max
        values = concat({**base, "clock_mhz": f1}, {**base, "clock_mhz": f2})
        ev = acc.evaluate(wl, values)
        e = _on_chip_dynamic(ev)
        if fpga:
            ratio = np.ones(n)
        else:
            node = np.broadcast_to(p["node_nm"], (n,))
            ratio = (tech.supply_voltage(f2, node) / tech.supply_voltage(f1, node)) ** 2
        at_most(e[:n] * ratio, e[n:], "on-chip dynamic energy at the higher clock ≥ V–f prediction",
                {**{k: v[n:] for k, v in values.items()}, "lower clock_mhz": f1})  # fmt: skip
        # the energy that the clock cannot lower: E − leakage never falls as the clock rises
        e_nl = np.asarray(ev["energy_j"]) - np.asarray(ev.energy["leakage"])
        at_most(e_nl[:n], e_nl[n:], "energy − leakage at the higher clock", {k: v[n:] for k, v in values.items()})

    check()


def _f_max(acc, p) -> np.ndarray:
    """Highest clock the design may run at: the bound of its ``clock_mhz`` limit (ASIC node or FPGA DSP)."""
    if "node_nm" in p and acc.name not in FPGA:
        return tech.max_clock_mhz(p["node_nm"])
    from dse.hardware import fpga

    device = p["fpga"] if "fpga" in p else np.asarray("zcu102")
    return tech.lookup(device, fpga.FMAX_MHZ)


@pytest.mark.parametrize("model", ["deit-tiny", "videomae-b"])
def test_rtsa_at_28nm_spends_more_energy_at_2ghz_than_at_500mhz(model):
    """Acceptance (issue 11): the clock is no free lunch — a 28 nm design at 2,000 MHz runs at a higher supply."""
    rtsa = accelerators.get("rtsa")
    assert float(tech.max_clock_mhz(28.0)) >= 2000.0
    ev = rtsa.evaluate(build(model), {"node_nm": 28, "clock_mhz": np.array([500.0, 2000.0])})
    e500, e2000 = np.asarray(ev["energy_j"])
    assert e2000 > e500
    assert (np.asarray(ev["valid"]) == 1).all()


@pytest.mark.parametrize("name", CLOCKED)
def test_clock_above_the_limit_is_an_infeasible_point(name):
    """In a search (``Accelerator.evaluate``) a clock above the node's or device's maximum is invalid, with a
    reason naming the clock; just below it the default design stays valid."""
    acc = accelerators.get(name)
    p = acc.resolve({})
    f_max = float(np.min(_f_max(acc, p)))
    ev = acc.evaluate(build("deit-tiny"), {"clock_mhz": np.array([0.999 * f_max, min(1.01 * f_max, 5000.0)])})
    valid = np.asarray(ev["valid"])
    assert valid[1] == 0.0 and "clock" in str(np.asarray(ev.reasons)[1])
    assert valid[0] == 1.0, np.asarray(ev.reasons)[0]
