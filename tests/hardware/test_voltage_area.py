"""Clock, supply voltage and idle power; per-PE logic area (dse/hardware/technology.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse import accelerators
from dse.hardware import technology as tech
from dse.workloads import build


def test_alpha_power_law_round_trip():
    """supply_voltage inverts f ∝ (V − V_t)^α / V between the supply floor and the overdrive supply."""
    node = 28.0
    vn = tech.nominal_voltage(node)
    vt = tech.VT_SHARE * vn
    v = np.array([0.7, 0.8, 0.9, 1.0, 1.05]) * 1.0
    f = tech.nominal_clock_mhz(node) * ((v - vt) ** tech.ALPHA / v) / ((vn - vt) ** tech.ALPHA / vn)
    assert tech.supply_voltage(f, node) == pytest.approx(v, abs=1e-6)
    assert float(tech.supply_voltage(tech.nominal_clock_mhz(node), node)) == pytest.approx(vn, abs=1e-6)
    assert float(tech.supply_voltage(1.0, node)) == pytest.approx(tech.V_MIN_SHARE * vn)  # the floor


@settings(max_examples=50, deadline=None)
@given(st.floats(10, 4000), st.floats(10, 4000), st.sampled_from([7.0, 16.0, 28.0, 45.0, 65.0]))
def test_voltage_rises_with_clock(f1, f2, node):
    lo, hi = sorted((f1, f2))
    assert tech.supply_voltage(lo, node) <= tech.supply_voltage(hi, node) + 1e-12


def test_max_clock_falls_with_older_nodes():
    fmax = tech.max_clock_mhz(np.array([7.0, 16.0, 28.0, 45.0, 65.0]))
    assert np.all(np.diff(fmax) < 0) and 1500 < tech.max_clock_mhz(28.0) < 2500


def test_energy_per_inference_rises_with_clock_at_28nm():
    """Acceptance: on a fixed design at 28 nm, 2,000 MHz costs more energy per inference than 500 MHz."""
    rtsa = accelerators.get("rtsa")
    wl = build("videomae-b", 160)
    e = rtsa.evaluate(wl, {"clock_mhz": np.array([500.0, 1000.0, 2000.0])})
    assert e["energy_j"][2] > e["energy_j"][0] and np.all(e["valid"] == 1)
    assert float(rtsa.evaluate(wl, {"clock_mhz": 2500.0})["valid"]) == 0.0  # above 28 nm's maximum


def test_eval_refuses_a_clock_above_the_node_maximum(run):
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--set", "clock_mhz=2500")
    assert r.code == 2 and r.err.startswith("error: clock_mhz:") and "maximum" in r.err


def test_pes_and_lanes_are_a_real_area_trade_off():
    """Equal MAC lanes (2,304), different PE counts: 144 wide PEs pay less per-PE logic than 576 narrow ones
    (48×12 and 36×16 have the same 576 PEs, so the same area)."""
    rtsa = accelerators.get("rtsa")
    wl = build("deit-tiny")
    a = rtsa.evaluate(wl, {"rows": np.array([36, 48, 36]), "cols": np.array([4, 12, 16]),
                           "lanes": np.array([16, 4, 4])})["area_mm2"]  # fmt: skip
    assert a[0] < a[1] and a[1] == pytest.approx(a[2], rel=1e-12)


def test_pe_area_split_reproduces_the_published_single_lane_pe():
    one = tech.array_pe_area_mm2(1, 1, "int8", 28.0)
    assert float(one) * 1e6 == pytest.approx(tech.PE_AREA_UM2_28_INT8)
    aug = tech.array_pe_area_mm2(1, 1, "int8", 28.0, augmented=True)
    assert float(aug - one) == pytest.approx(float(tech.pe_logic_area_mm2(28.0)) * tech.AUGMENTED_PE_EXTRA)
