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
5. a higher clock never lowers on-chip dynamic energy below the V–f relation's prediction (ASICs; DRAM energy,
   off-chip, is not scaled by the core's supply), nor energy − leakage at all, where every op runs in the same
   mode at both clocks (the dense fallback may switch modes with the clock: test_clock_can_switch_a_mode);
6. ``valid`` is 0 or 1 and every declared metric is finite at valid points, with one value per design point.

Properties that the models break today are strict xfails with a minimal example and the diagnosis
(:data:`KNOWN`, and the ``..._minimal_example`` tests at the end): they fail until the model is fixed.

The CLI side (a clock above the node's maximum, ``rtsa-split`` with one row: exit 2) is in
tests/cli/test_eval_limits.py.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
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
    # 0 is the released simulator's accounting (the encoder's MACs without cycles): above the peak by
    # construction, so never a valid design (test_vitcod_simulator_accounting_is_no_valid_design)
    "vitcod": {"encoder_cycles": (1, 1, False)},
}
#: CPU/GPU overrides: 0 means "the preset's value", else a value in this range
ZERO_OR_RANGE: dict[str, tuple[float, float]] = {
    "peak_tflops": (0.01, 2000),
    "mem_gbps": (1, 5000),
    "launch_us": (0.1, 100),
    "power_w": (1, 1000),
    "area_mm2": (1, 1000),
    "cache_mb": (0.1, 1000),
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


#: a fixed set of examples per run (derandomize): CI stays deterministic and the passing properties do not
#: turn red by luck; to hunt further, run with ``derandomize=False`` and a larger ``max_examples`` (a few
#: hundred per accelerator found the open bugs in :data:`KNOWN`). ~20 s for the file on one core.
FAST = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


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

        # 6. valid is 0/1, every declared metric present, one value per point, finite at valid points
        n = len(next(v for v in values.values() if np.ndim(v)))
        assert {k: np.shape(v) for k, v in m.items() if np.shape(v) != (n,)} == {}
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


def _two_values(name: str, param) -> list:
    if param.kind == "choice":
        return list(param.choices[:2])
    lo, hi = param.low, param.high
    sub = SUB_RANGES_BY_ACC.get(name, {}).get(param.name) or SUB_RANGES.get(param.name) or ZERO_OR_RANGE.get(param.name)
    if sub is not None:
        lo, hi = max(sub[0], lo), min(sub[1], hi)
    return [lo, hi]


@pytest.mark.parametrize("name", NAMES)
def test_each_parameter_alone_gives_every_point_its_own_answer(name):
    """A batch that varies one parameter only (even one no cost depends on, e.g. an FPGA budget, or HeatViT's
    keep ratio on a Swin model, which has no plain token sequence to prune) reports one value per point."""
    acc = accelerators.get(name)
    for wl in (workload("deit-tiny", None), workload("video-swin-t", 112)):
        for param in acc.params:
            if param.structural:
                continue
            ev = acc.evaluate(wl, {param.name: np.array(_two_values(name, param))})
            assert {k: np.shape(v) for k, v in ev.metrics.items() if np.shape(v) != (2,)} == {}, param.name


@pytest.mark.parametrize("name", NAMES)
def test_a_design_alone_gives_what_it_gives_in_a_batch(name):
    """Arrays in, arrays out: no point's numbers depend on the other points of its batch (a rule decided for a
    whole batch, e.g. "nothing is pruned anywhere", would make them)."""
    acc = accelerators.get(name)

    @settings(FAST, max_examples=15)  # each example evaluates its points one by one too
    @given(values=design_batch(name, min_size=2, max_size=4), wl=workloads)
    def check(values, wl):
        batch = acc.evaluate(wl, values)
        n = len(next(v for v in values.values() if np.ndim(v) == 1))
        for i in range(n):
            one = {k: (v[i] if np.ndim(v) == 1 else v) for k, v in values.items()}
            alone = acc.evaluate(wl, one)
            for k in ("latency_s", "period_s", "energy_j", "area_mm2", "valid"):
                b = np.asarray(batch[k])
                assert np.asarray(alone[k]) == pytest.approx(b[i] if b.ndim else b, rel=1e-12), (k, one)

    check()


def test_zero_attention_sparsity_in_a_batch_minimal_example():
    """Regression (a random audit): whether the sub-vector mode runs at all was decided for the whole batch
    ("nothing pruned anywhere"), so a point with no attention sparsity ran it when a batch-mate was sparse:
    0.1033 s alone, 0.0955 s beside a point at 0.5."""
    rtsa = accelerators.get("rtsa")
    p = {"rows": 83, "cols": 3, "lanes": 53, "glb_kib": 31889.8, "dram_gbps": 84.308, "clock_mhz": 119.68,
         "precision": "fp16", "node_nm": 63.37, "sfu_lanes": 4096, "sfu_overlap": 0, "leakage_mw_per_mm2": 4.18,
         "sparsity_linear": 0.3345, "key_interval": 57, "sparsity_attention": 0.0, "sub_len": 48,
         "mask_overhead": 0.843}  # fmt: skip
    wl = workload("videomae-b", 224)
    alone = float(rtsa.evaluate(wl, p)["latency_s"])
    both = np.asarray(rtsa.evaluate(wl, {**p, "sparsity_attention": np.array([0.0, 0.5])})["latency_s"])
    assert both[0] == pytest.approx(alone, rel=1e-12)


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
    ("windowed", "windowed_blocks", +1),  # more blocks windowed (each may fall back to dense: acceptance review)
]
#: knob values drawn where the declared range is not the one the property is about (none at present: HeatViT's
#: keep ratios are drawn over their whole range, 1 = no selector included, so a selector switching on is tested)
KNOB_RANGES: dict[tuple[str, str], tuple[float, float]] = {}
#: parameters held fixed for a knob's property: windowing a block saves only where the hardware may run its
#: attention dense instead (dense_fallback=0 pins it to the SDDMM engine, as the poster measures the engine)
KNOB_FIXED: dict[tuple[str, str], dict[str, float]] = {("windowed", "windowed_blocks"): {"dense_fallback": 1}}

#: open model bugs: (accelerator, knob) → (why, a minimal example: (values, less sparse, more sparse), workload).
#: The example always runs first, so the case fails until the model is fixed (strict xfail); then move the entry
#: to :data:`FIXED` and keep the example as a regression example.
KNOWN: dict = {}
#: fixed model bugs, their minimal examples kept (always run first), in :data:`KNOWN`'s form
FIXED = {
    ("rtsa-split", "sparsity_linear"): (
        "the per-op dense fallback could not see the split design's shared DRAM interface: delta mode's re-read "
        "traffic (a whole temporal slice held per op, spilling on small buffers) lowered an op's cycles yet "
        "raised the DRAM total that set the period (+3.8% here). Delta rows now run position-major (one token's "
        "rows held) and on a pipelined design a sparse mode must move no more DRAM bytes than dense",
        ({"glb_kib": 256.0, "dram_gbps": 4.0}, np.array([0.0]), np.array([0.5])),
        ("videomae-b", None),
    ),
}


@st.composite
def knob_case(draw, name: str, knob: str, direction: int):
    """A design batch and, per point, a less and a more sparse value of ``knob``."""
    acc = accelerators.get(name)
    param = acc.param(knob)
    if (name, knob) in KNOB_RANGES:
        lo, hi = KNOB_RANGES[name, knob]
        knob_values = st.floats(lo, hi)
    else:
        knob_values = param_strategy(name, param)
    base = draw(design_batch(name, max_size=4))
    n = max((np.size(v) for v in base.values()), default=1)  # a structural knob is drawn as one value
    fixed = KNOB_FIXED.get((name, knob), {})
    base = {k: np.full(np.shape(v), fixed[k]) if k in fixed else v for k, v in base.items()}
    pairs = [sorted(draw(st.tuples(knob_values, knob_values))) for _ in range(n)]
    lo_v, hi_v = (np.array([pr[i] for pr in pairs]) for i in (0, 1))
    less, more = (lo_v, hi_v) if direction > 0 else (hi_v, lo_v)
    return base, less, more


def _knob_params():
    out = []
    for name, knob, direction in KNOBS:
        known = KNOWN.get((name, knob))
        marks = [pytest.mark.xfail(strict=True, reason=known[0])] if known else []
        out.append(pytest.param(name, knob, direction, marks=marks, id=f"{name}-{knob}"))
    return out


@pytest.mark.parametrize(("name", "knob", "direction"), _knob_params())
def test_more_sparsity_is_never_slower_nor_costlier(name, knob, direction):
    acc = accelerators.get(name)

    def check(case, wl):
        base, less, more = case
        n = len(less)
        values = concat({**base, knob: less}, {**base, knob: more})
        ev = acc.evaluate(wl, values)
        for k in ("latency_s", "period_s", "energy_j"):
            v = np.asarray(ev[k])
            at_most(v[n:], v[:n], f"{k} with more {knob}", {k2: v2[n:] for k2, v2 in values.items()} | {
                f"{knob} (less sparse)": less})  # fmt: skip

    if (name, knob) in KNOWN | FIXED:
        _, case, wl = (KNOWN | FIXED)[name, knob]
        check = example(case=case, wl=workload(*wl))(check)
    FAST(given(case=knob_case(name, knob, direction), wl=workloads)(check))()


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
    Both hold where every op runs in the same mode at both clocks. The dense fallback (``cost.cheaper``) may
    pick another mode at another clock: it weighs on-chip energy (∝ V²) against DRAM energy (not), and it
    takes a sparse mode only where it is no slower, so a sparse mode that saves DRAM traffic but is slower in
    compute is refused at a low clock and taken at a high clock where the op turns memory-bound. Across such
    a switch energy − leakage may fall as the clock rises where the new mode moves fewer DRAM bytes (random
    audits: 10,000 clock pairs on deit-tiny, rtsa 183 pairs by up to 9%, rtsa-split 126 by up to 12%; an
    acceptance review on video-swin-t, up to 23%; see :func:`test_clock_can_switch_a_mode`).
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
        same = _same_modes(ev, n)  # the dense fallback may pick another mode at another supply (see docstring)
        at_most(np.where(same, e[:n] * ratio, 0.0), e[n:], "on-chip dynamic energy at the higher clock ≥ V–f "
                "prediction", {**{k: v[n:] for k, v in values.items()}, "lower clock_mhz": f1})  # fmt: skip
        # the energy that the clock cannot lower: E − leakage never falls as the clock rises
        e_nl = np.asarray(ev["energy_j"]) - np.asarray(ev.energy["leakage"])
        at_most(np.where(same, e_nl[:n], 0.0), e_nl[n:], "energy − leakage at the higher clock",
                {k: v[n:] for k, v in values.items()})  # fmt: skip

    check()


def test_clock_can_switch_a_mode():
    """The example behind the same-mode condition above: rtsa-split on deit-tiny with 1 + 55 PE rows × 64 and a
    40 KiB buffer (the attention array's share 39.3 KiB) at 7 nm. At 257 MHz QKᵀ and A·V run dense
    (sub-vectors of 2 are slower in compute); at 2,059 MHz the dense ops are DRAM-bound, so the sub-vector
    mode, which moves fewer score bytes, is taken, and energy − leakage falls by 0.07% (DRAM energy −0.33%,
    on-chip +20% at +10% supply)."""
    split = accelerators.get("rtsa-split")
    f_max = float(tech.max_clock_mhz(7.0))
    values = {"rows": 56, "cols": 64, "lanes": 1, "glb_kib": 40, "dram_gbps": 54.6, "node_nm": 7, "sfu_lanes": 1,
              "sfu_overlap": 0, "leakage_mw_per_mm2": 0, "sparsity_linear": 0, "key_interval": 1,
              "sparsity_attention": 0.5, "sub_len": 2, "split": 0, "clock_mhz": np.array([0.0625, 0.5]) * f_max}  # fmt: skip
    ev = split.evaluate(build("deit-tiny"), values)
    modes = {r.op: tuple(np.broadcast_to(np.asarray(r.mode), (2,))) for r in ev.ops}
    assert modes["qk"] == modes["av"] == ("dense", "subvector")
    e = np.asarray(ev["energy_j"]) - np.asarray(ev.energy["leakage"])
    assert e[1] < e[0]
    dram = np.asarray(ev.energy["dram"])
    assert dram[1] < dram[0]


def _same_modes(ev, n: int) -> np.ndarray:
    """Per point of the first half: every op ran in the same mode as at the matching point of the second."""
    same = np.ones(n, dtype=bool)
    for row in ev.ops:
        mode = np.broadcast_to(np.asarray(row.mode), (2 * n,))
        same &= mode[:n] == mode[n:]
    return same


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


# ---- open model bugs found by the properties above (minimal examples; strict: they fail until fixed) -------


def test_vitcod_never_exceeds_its_peak_minimal_example():
    """Regression: the Q/K encoder's MACs once had no cycles, so an attention-bound design exceeded its peak."""
    vitcod = accelerators.get("vitcod")
    ev = vitcod.evaluate(build("deit-tiny"), {"pe_rows": 1, "pe_cols": 2, "attn_rows": 1, "sparsity_attention": 0.99,
                                             "global_columns": 0, "global_density": 0, "ae_ratio": 1})  # fmt: skip
    assert float(ev["utilization"]) <= 1.0  # 1.0024 today


def test_heatvit_switching_a_selector_on_minimal_example():
    """Regression: a keep ratio below 1 once switched its selector on (per-head MLP + package token) whether or
    not its pruning repaid it: keep3 1.0 → 0.99 on deit-tiny pruned no token (45 → 45) and made latency
    3.011 → 3.029 ms and energy 7.42 → 7.46 mJ. A selector that does not pay is now left out (mode ``skipped``,
    hardware unchanged); at the default keep3 (45 → 32 tokens) it pays and runs."""
    heatvit = accelerators.get("heatvit")
    ev = heatvit.evaluate(build("deit-tiny"), {"keep3": np.array([1.0, 0.99, 32 / 45])})
    lat, energy = np.asarray(ev["latency_s"]), np.asarray(ev["energy_j"])
    assert lat[1] <= lat[0] and energy[1] <= energy[0]
    assert lat[2] < lat[1] and energy[2] < energy[1]
    assert list(ev["selectors_run"]) == [2, 2, 3] and list(ev["tokens_final"]) == [45, 45, 32]
    modes = {r.op: tuple(np.broadcast_to(np.asarray(r.mode), (3,))) for r in ev.ops if r.block == "selector3"}
    assert modes["sel_local"] == ("skipped", "skipped", "dense") and modes["sel_softmax"][2] == "sfu"
    assert np.ptp(np.asarray(ev["dsp"])) == 0 and np.ptp(np.asarray(ev["area_mm2"])) == 0


@pytest.mark.xfail(
    strict=True,
    reason="heatvit: of the 2³ selector combinations the schedule runs the fastest that is no slower and no "
    "costlier than running none, so a lower keep ratio never raises latency through the choice, but energy can: "
    "a selector that saves energy at a small cost in time is left out. No rule that never runs a combination "
    "worse in both avoids every such case once combinations trade time against energy (energy first would move "
    "the violations to latency). On the default design 6 of 990 keep1 steps and 4 of 990 keep2 steps (0.001 "
    "apart) raise energy, up to 0.5%; 12 of 9,000 random pairs over random designs, up to 3.2%",
)
def test_heatvit_leaving_out_a_selector_that_costs_time_minimal_example():
    """deit-tiny, default design, keep1 0.571 → 0.570: selector 3's input falls from 58 to 57 tokens, so leaving
    it out (blocks 9–11 on 57 tokens) becomes faster than running it, though running it costs less energy. It is
    left out: selectors_run 3 → 2, tokens_final 41 → 57, latency 3.24973 → 3.24826 ms, energy 7.9715 →
    8.0104 mJ (+0.49%)."""
    heatvit = accelerators.get("heatvit")
    ev = heatvit.evaluate(build("deit-tiny"), {"keep1": np.array([0.571, 0.57])})
    energy = np.asarray(ev["energy_j"])
    assert energy[1] <= energy[0]


def test_vitcod_simulator_accounting_is_no_valid_design():
    """Regression (an acceptance review): with encoder_cycles=0 (the released simulator counts the Q/K encoder's
    MACs but gives them no cycles) this design ran at utilisation 1.00108 and was valid; with attn_rows above
    pe_rows the attention engines run on rows the area does not count. Both are the released simulator's
    accounting (preset vitcod:released-sim): shown with the reason, never valid."""
    vitcod = accelerators.get("vitcod")
    v = {"sparsity_attention": 0.369, "global_columns": 0.4256, "global_density": 0.748, "ae_ratio": 0.7257,
         "pe_rows": 1, "pe_cols": 7, "engine_split": 1, "attn_rows": 1, "clock_mhz": 724.5, "dram_gbps": 267.2,
         "precision": "fp16", "node_nm": 56.1, "encoder_cycles": np.array([0, 1])}  # fmt: skip
    ev = vitcod.evaluate(build("videomae-b", 112), v)
    assert list(np.asarray(ev["valid"])) == [0.0, 1.0]
    assert "encoder" in str(np.asarray(ev.reasons)[0])
    assert float(np.asarray(ev["utilization"])[1]) <= 1.0
    sim = vitcod.evaluate(build("deit-tiny"), vitcod.resolve({}) | {"attn_rows": 64, "encoder_cycles": 0})
    assert float(sim["valid"]) == 0.0 and "pe_rows" in str(sim.reasons)


def test_vitcod_residual_sparsity_step_minimal_example():
    """Regression: a mask too sparse to fill its global columns once kept ⌊kept / (ρ·Nq)⌋ of them and returned
    the rest to the sparser region, so more sparsity moved up to ρ·Nq entries to the slower sparser engine
    (here g 47 → 45, nnz 20 → 183: SpMM +265 cycles, +1.3e-4 latency); and the engine split was searched
    only next to the share rule's split, which moves with the sparsity. Masks are now nested (⌈·⌉ global
    columns, the last partly filled) and every split is tried."""
    vitcod = accelerators.get("vitcod")
    values = {"global_columns": 0.40498, "pe_cols": 41, "pe_rows": 13, "global_density": 0.94492,
              "sparsity_attention": np.array([0.774047, 0.779431])}  # fmt: skip
    ev = vitcod.evaluate(build("deit-tiny"), values)
    for k in ("latency_s", "energy_j", "attention_preload_cycles", "attention_compute_cycles"):
        v = np.asarray(ev[k])
        assert v[1] <= v[0], k


def test_vitcod_q_reloads_never_rise_with_sparsity_minimal_example():
    """Regression, the same mask step where Q does not fit its buffer: g 108 → 105 returned 161 entries to the
    sparser region, whose engine reloads Q per sparser non-zero, so Q loads rose 203 → 364 and a preload-bound
    design (2 GB/s) got 23% slower at 1% more sparsity."""
    vitcod = accelerators.get("vitcod")
    values = {"global_columns": 0.72, "global_density": 0.93, "q_buf_kib": 4, "dram_gbps": 2,
              "sparsity_attention": np.array([0.49, 0.50])}  # fmt: skip
    ev = vitcod.evaluate(build("deit-tiny"), values)
    for k in ("latency_s", "energy_j", "dram_bytes", "attention_preload_cycles", "attention_decoder_cycles"):
        v = np.asarray(ev[k])
        assert v[1] <= v[0], k


def test_vitcod_split_search_is_not_a_window_minimal_example():
    """Regression: with 1 attention row among 12 heads the split where SDDMM + SpMM finish first (25 of 49
    columns, spatial attention) lay 6 columns from the share rule's, outside the ±3 window once searched, so
    more sparsity raised SpMM by 10% (vivit-b-m2 at 112 px)."""
    vitcod = accelerators.get("vitcod")
    values = {"global_columns": 0.503129, "global_density": 0.506152, "ae_ratio": 0.97531, "pe_rows": 19,
              "pe_cols": 49, "encoder_cycles": 0, "attn_rows": 1,
              "sparsity_attention": np.array([0.288068, 0.472134])}  # fmt: skip
    ev = vitcod.evaluate(build("vivit-b-m2", 112), values)
    for k in ("latency_s", "energy_j", "attention_compute_cycles"):
        v = np.asarray(ev[k])
        assert v[1] <= v[0], k
