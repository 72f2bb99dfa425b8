"""NAME:PRESET names (dse/accelerators/__init__.py: with_preset, label): platforms of the CPU/GPU roofline and any
accelerator that declares ``presets``; the roofline's resource budget and matching (issue 11, item 10)."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.accelerators import Accelerator, Param
from dse.accelerators.roofline import CPU, GPU, PLATFORMS
from dse.errors import InputError
from dse.workloads import build

PLATFORM_PRESETS = ("gpu:h100", "gpu:jetson-tx2", "cpu:xeon16", "cpu:cortex-a57")


@pytest.mark.parametrize("text", PLATFORM_PRESETS)
def test_platform_preset_is_the_accelerator_at_that_platform(text):
    name, _, platform = text.partition(":")
    acc = accelerators.get(text)
    assert isinstance(acc, CPU if name == "cpu" else GPU) and acc.name == name
    assert acc.label == text and acc.preset == {"platform": platform}
    assert acc.param("platform").default == platform
    wl = build("videomae-b", np.array([112, 224]), 16)
    direct = accelerators.get(name).evaluate(wl, {"platform": platform})
    via = acc.evaluate(wl)
    for key in ("latency_s", "energy_j", "area_mm2", "period_s", "frames_per_s", "inputs_per_s"):
        np.testing.assert_array_equal(via[key], direct[key])
    assert accelerators.label(acc) == text
    assert accelerators.get(name).param("platform").default != platform or text in ("gpu:h100", "cpu:xeon16")


def test_bare_names_are_labelled_by_their_preset_so_one_word_names_one_machine():
    assert accelerators.canonical("gpu") == "gpu:h100"
    assert accelerators.canonical("cpu") == "cpu:xeon16"
    assert accelerators.label("gpu", {"platform": "jetson-tx2", "precision": "fp32"}) == "gpu:jetson-tx2"
    assert accelerators.label("cpu", {"platform": "cortex-a57"}) == "cpu:cortex-a57"
    assert accelerators.canonical("rtsa") == "rtsa"  # no presets
    assert accelerators.canonical("not-an-accelerator") == "not-an-accelerator"
    assert set(PLATFORM_PRESETS) <= set(accelerators.preset_names())


def test_vitcod_released_simulator_preset():
    acc = accelerators.get("vitcod:released-sim")
    assert acc.label == "vitcod:released-sim" and acc.preset == accelerators.presets("vitcod")["released-sim"]
    for k, v in acc.preset.items():
        assert acc.param(k).default == v
    assert accelerators.canonical("vitcod") == "vitcod"  # the default is the physical engine, not the quirk


@pytest.mark.parametrize(
    "text,words",
    [("gpu:tpu", ("gpu:h100", "gpu:jetson-tx2")), ("rtsa:fast", ("declares no presets",)), ("nope:x", ("nope",))],
)
def test_unknown_preset_names_the_field_and_the_allowed_ones(text, words):
    with pytest.raises(InputError) as err:
        accelerators.get(text)
    assert err.value.field == "accelerator" and all(w in str(err.value) for w in words)
    assert "\n" not in str(err.value)


class _Knob(Accelerator):
    name = "knob-test"
    description = "test accelerator with presets"
    params = (Param("size", 4.0, "", "test", "float", 1, 64),)
    presets = {"big": {"size": 32.0}, "bad": {"colour": "red"}}


def test_any_accelerator_can_declare_presets():
    accelerators.register(_Knob())
    try:
        acc = accelerators.get("knob-test:big")
        assert isinstance(acc, _Knob) and acc.param("size").default == 32.0 and acc.label == "knob-test:big"
        assert accelerators.get("knob-test").param("size").default == 4.0  # the registered object is untouched
        assert accelerators.label("knob-test", {"size": 32.0}) == "knob-test:big"
        assert accelerators.label("knob-test") == "knob-test"
        with pytest.raises(InputError, match="colour"):
            accelerators.get("knob-test:bad")  # a preset must set declared parameters
    finally:
        accelerators.unregister("knob-test")


def test_roofline_budget_reports_the_platform():
    for text in PLATFORM_PRESETS:
        acc = accelerators.get(text)
        pf = PLATFORMS[acc.preset["platform"]]
        b = acc.budget(acc.resolve())
        precision = acc.param("precision").default
        rate = pf.peak_tmacs[("fp32", "fp16", "int8").index(precision)] * 1e12
        assert b["mac_rate"] == pytest.approx(rate) and b["macs"] == pytest.approx(rate / (pf.clock_mhz * 1e6))
        assert b["bandwidth"] == pf.mem_gbps and b["clock"] == pf.clock_mhz
        assert ("buffer" in b) == (pf.cache_gbps > 0)  # GPUs model no cache level


def test_roofline_matched_to_a_design():
    design = {"macs": 1024.0, "clock": 500.0, "buffer": 512.0, "bandwidth": 25.6}
    for text in PLATFORM_PRESETS:
        acc = accelerators.get(text)
        over = acc.matched({**design, "mac_rate": 1024 * 500e6})
        assert over["peak_tflops"] == pytest.approx(2 * 1024 * 500e6 / 1e12)
        assert over["mem_gbps"] == 25.6
        has_cache = PLATFORMS[acc.preset["platform"]].cache_gbps > 0
        assert ("cache_mb" in over) == has_cache
        b = acc.budget(acc.resolve(over))
        assert b["mac_rate"] == pytest.approx(1024 * 500e6) and b["bandwidth"] == 25.6
        if has_cache:
            assert b["buffer"] == pytest.approx(512.0)
    # macs × clock without an explicit rate gives the same rate
    over = accelerators.get("gpu").matched({"macs": 1024.0, "clock": 500.0})
    assert over.keys() == {"peak_tflops", "power_w"} and over["peak_tflops"] == pytest.approx(1.024)


def test_cache_override_never_creates_a_free_cache_on_a_gpu():
    wl = build("videomae-b", 224, 16)
    base = GPU().evaluate(wl)
    with_cache = GPU().evaluate(wl, {"cache_mb": 100.0})
    assert float(with_cache["latency_s"]) == float(base["latency_s"])
    small = CPU().evaluate(wl, {"cache_mb": 0.5})
    assert float(small["latency_s"]) > float(CPU().evaluate(wl)["latency_s"])  # less cache, more DRAM time
