"""Monte Carlo evaluation: one vectorized call for N samples, nominal draws change nothing, design inputs leave
the user's values alone, data inputs shift with the value in use, intervals are ordered."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.hardware import factors as F
from dse.uncertainty import montecarlo as mc
from dse.workloads import build


@pytest.fixture(scope="module")
def rtsa():
    return accelerators.get("rtsa")


def test_n_samples_in_one_model_call(rtsa, monkeypatch):
    calls = []
    real = type(rtsa)._evaluate

    def counting(self, workload, p):
        calls.append(max(np.size(v) for v in p.values()))
        return real(self, workload, p)

    monkeypatch.setattr(type(rtsa), "_evaluate", counting)
    draws = mc.sample(mc.inputs_for([rtsa]), 64, seed=1)
    ev = mc.evaluate(rtsa, build("videomae-s", 112, 16), rtsa.resolve({}), draws)
    assert calls == [64]
    assert np.shape(ev["latency_s"]) == (64,)
    assert F.factor("mac_energy") == 1.0  # the factors are gone after the call


def test_nominal_draws_reproduce_the_plain_evaluation(rtsa):
    wl = build("timesformer-b", 112)
    ev = mc.evaluate(rtsa, wl, rtsa.resolve({}), mc.nominal(mc.inputs_for([rtsa])))
    plain = rtsa.evaluate(wl)
    for k in ("latency_s", "energy_j", "area_mm2", "computation_saving"):
        assert float(np.asarray(ev[k]).reshape(-1)[0]) == pytest.approx(float(plain[k]), rel=1e-12)


def test_seed_fixes_the_draws(rtsa):
    inputs = mc.inputs_for([rtsa])
    a, b, c = mc.sample(inputs, 16, 3), mc.sample(inputs, 16, 3), mc.sample(inputs, 16, 4)
    assert np.array_equal(a.unit, b.unit) and not np.array_equal(a.unit, c.unit)


def test_design_inputs_leave_user_values_and_data_inputs_shift(rtsa):
    draws = mc.sample(mc.inputs_for([rtsa]), 200, seed=0)
    values = rtsa.resolve({"clock_mhz": 800, "sparsity_linear": 0.5})
    out = mc.param_values(rtsa, values, {"clock_mhz", "sparsity_linear"}, draws)
    assert np.all(np.asarray(out["clock_mhz"]) == 800)  # the user's design choice
    s = draws.column("rtsa.sparsity_linear")
    assert out["sparsity_linear"] == pytest.approx(0.5 + s - 0.7)  # the measured spread, around 0.5
    cols = draws.column("rtsa.cols")
    assert np.array_equal(out["cols"], cols) and np.all(np.mod(cols, 1) == 0)  # unset design choice: sampled
    assert cols.min() >= 8 and cols.max() <= 32


def test_inputs_for_drops_design_inputs_the_user_fixed(rtsa):
    names = {u.name for u in mc.inputs_for([rtsa], explicit={"clock_mhz"})}
    assert "rtsa.clock_mhz" not in names and "rtsa.sparsity_linear" in names


def test_intervals_are_ordered(rtsa):
    wl = build("videomae-b", 160, 16)
    draws = mc.sample(mc.inputs_for([rtsa]), 64, seed=0)
    frame = mc.interval_frame(rtsa.evaluate(wl), mc.evaluate(rtsa, wl, rtsa.resolve({}), draws))
    assert {"latency_s", "energy_j", "area_mm2", "valid"} <= set(frame["metric"])
    assert (frame["p5"] <= frame["p50"] + 1e-15).all() and (frame["p50"] <= frame["p95"] + 1e-15).all()
    lat = frame.set_index("metric").loc["latency_s"]
    assert lat["p95"] > lat["p5"]  # the declared inputs move the latency


def test_resolution_axis_times_sample_axis(rtsa):
    res = np.array([112, 224])
    draws = mc.sample(mc.inputs_for([rtsa]), 8, seed=0)
    ev = mc.evaluate(rtsa, build("videomae-b", res[:, None], 16), rtsa.resolve({}), draws)
    assert np.shape(ev["latency_s"]) == (2, 8)
    assert np.all(ev["latency_s"][1] > ev["latency_s"][0])  # per sample, the larger input takes longer
