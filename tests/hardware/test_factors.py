"""Monte Carlo factors on the technology constants: 1 by default, exact where they apply, restored on exit."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.errors import InputError
from dse.hardware import factors as F
from dse.hardware import technology as tech
from dse.workloads import build


def test_default_is_one_and_context_restores():
    assert all(F.factor(n) == 1.0 for n in F.NAMES)
    with F.applied(F.make(mac_energy=2.0)):
        assert F.factor("mac_energy") == 2.0
        assert tech.mac_energy_pj("int8", 45) == pytest.approx(2 * 0.3)
    assert F.factor("mac_energy") == 1.0
    assert tech.mac_energy_pj("int8", 45) == pytest.approx(0.3)


def test_unknown_factor_is_an_input_error():
    with pytest.raises(InputError):
        F.make(mac_energi=2.0)


def test_dram_factor_scales_exactly_the_dram_energy():
    acc, wl = accelerators.get("systolic"), build("deit-tiny")
    ev0 = acc.evaluate(wl)
    with F.applied(F.make(dram_energy=np.array([1.0, 2.0]))):
        ev = acc.evaluate(wl)
    assert ev.energy["dram"] == pytest.approx(float(ev0.energy["dram"]) * np.array([1.0, 2.0]))
    assert ev["latency_s"] == pytest.approx(float(ev0["latency_s"]))  # energy only


def test_area_factors_scale_area():
    acc, wl = accelerators.get("rtsa"), build("deit-tiny")
    a0 = float(acc.evaluate(wl)["area_mm2"])
    with F.applied(F.make(pe_area=1.5, sram_area=1.5)):
        assert float(acc.evaluate(wl)["area_mm2"]) == pytest.approx(1.5 * a0)


@pytest.mark.parametrize("name,factor", [("cpu", "cpu_time"), ("gpu", "gpu_time")])
def test_fit_residual_factor_scales_every_kernel_time(name, factor):
    acc, wl = accelerators.get(name), build("videomae-b", 160, 16)
    ev0 = acc.evaluate(wl)
    f = np.array([0.8, 1.0, 1.3])
    with F.applied(F.make(**{factor: f})):
        ev = acc.evaluate(wl)
    assert ev["latency_s"] == pytest.approx(float(ev0["latency_s"]) * f, rel=1e-9)
    for s in ev.stages:
        assert ev.stages[s]["latency_s"] == pytest.approx(float(ev0.stages[s]["latency_s"]) * f, rel=1e-9)


def test_every_accelerator_takes_factor_arrays():
    wl = build("videomae-s", 112, 16)
    f = F.make(**{n: np.array([0.9, 1.1]) for n in F.NAMES})
    for name in accelerators.names():
        with F.applied(f):
            ev = accelerators.get(name).evaluate(wl)
        assert np.shape(ev["energy_j"]) == (2,), name
        assert np.all(np.isfinite(ev["energy_j"])) and np.all(ev["energy_j"] > 0), name
