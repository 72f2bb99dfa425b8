"""Platforms named by preset everywhere (issue 11, item 10): compare, compare --match, sweep-spec baselines, reproduce."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dse import accelerators
from dse.errors import InputError
from dse.search import load_spec
from dse.workloads import build

SPEC = """
study = "presets"
accelerator = "systolic"
sampler = "random"
trials = 4
baselines = {baselines}

[workload]
model = "deit-tiny"

[objectives]
latency_s = "minimize"
energy_j = "minimize"

[space]
rows = [16, 32]
"""


def test_compare_accepts_presets_and_labels_rows_by_them(run):
    r = run("compare", "-w", "deit-tiny", "--accelerators", "gpu:jetson-tx2,cpu:cortex-a57,vitcod:released-sim,gpu",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    rows = {x["accelerator"]: x for x in r.json()["rows"]}
    assert set(rows) == {"rtsa", "gpu:jetson-tx2", "cpu:cortex-a57", "vitcod:released-sim", "gpu:h100"}
    wl = build("deit-tiny")
    tx2 = accelerators.get("gpu").evaluate(wl, {"platform": "jetson-tx2"})
    assert rows["gpu:jetson-tx2"]["latency_s"] == pytest.approx(float(tx2["latency_s"]))
    assert rows["gpu:h100"]["latency_s"] == pytest.approx(float(accelerators.get("gpu").evaluate(wl)["latency_s"]))


def test_compare_unknown_preset_is_one_line_exit_2(run):
    r = run("compare", "-w", "deit-tiny", "--accelerators", "rtsa,gpu:tpu")
    assert r.code == 2 and "accelerators" in r.err and "gpu:h100" in r.err and len(r.err.strip().splitlines()) == 1


def test_compare_match_shows_each_baseline_published_and_matched(run):
    r = run(
        "compare", "-w", "videomae-b", "-r", "160", "-f", "8", "--match", "macs,buffer,bandwidth", "--format", "json"
    )
    assert r.code == 0, r.err
    rows = r.json()["rows"]
    ref = next(x for x in rows if x["accelerator"] == "rtsa")
    for name in ("vitcod", "heatvit", "cpu:xeon16", "gpu:h100"):
        settings = {x["setting"] for x in rows if x["accelerator"] == name}
        assert settings == {"default", "matched"}, name
    for name in ("cpu:xeon16", "gpu:h100"):  # a CPU/GPU takes the design's MAC rate (MACs × clock) and bandwidth
        m = next(x for x in rows if x["accelerator"] == name and x["setting"] == "matched")
        d = next(x for x in rows if x["accelerator"] == name and x["setting"] == "default")
        assert m["peak_gmacs_per_s"] == pytest.approx(ref["peak_macs_per_cycle"] * ref["clock_mhz"] / 1e3)
        assert m["dram_gbps"] == pytest.approx(ref["dram_gbps"]) and d["dram_gbps"] > ref["dram_gbps"]
    cpu = next(x for x in rows if x["accelerator"] == "cpu:xeon16" and x["setting"] == "matched")
    gpu = next(x for x in rows if x["accelerator"] == "gpu:h100" and x["setting"] == "matched")
    assert cpu["buffer_kib"] == pytest.approx(ref["buffer_kib"])  # the CPU's last-level cache
    assert gpu["buffer_kib"] is None or math.isnan(gpu["buffer_kib"])  # the GPU model has no cache level


def test_sweep_spec_baselines_take_presets(tmp_path):
    path = tmp_path / "presets.toml"
    path.write_text(SPEC.format(baselines='["gpu", "gpu:jetson-tx2", { accelerator = "cpu", params = { '
                                          'platform = "cortex-a57" } }, { name = "edge", accelerator = "cpu:cortex-a57", '
                                          'params = { precision = "fp16" } }]'))  # fmt: skip
    problem = load_spec(path)
    assert [b.label for b in problem.spec.baselines] == ["gpu:h100", "gpu:jetson-tx2", "cpu:cortex-a57", "edge"]
    rows = {r["baseline"]: r for r in problem.evaluate_baselines()}
    assert rows["gpu:jetson-tx2"]["accelerator"] == "gpu:jetson-tx2" and rows["edge"]["accelerator"] == "cpu:cortex-a57"
    wl = build("deit-tiny")
    want = accelerators.get("gpu").evaluate(wl, {"platform": "jetson-tx2"})["latency_s"]
    assert rows["gpu:jetson-tx2"]["latency_s"] == pytest.approx(float(np.asarray(want)))
    edge = accelerators.get("cpu").evaluate(wl, {"platform": "cortex-a57", "precision": "fp16"})["latency_s"]
    assert rows["edge"]["latency_s"] == pytest.approx(float(np.asarray(edge)))


def test_sweep_spec_unknown_preset_names_the_baseline(tmp_path):
    path = tmp_path / "presets.toml"
    path.write_text(SPEC.format(baselines='["vitcod", "gpu:a100"]'))
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == "baselines[1].accelerator" and "gpu:jetson-tx2" in str(err.value)


def test_reproduce_names_the_edge_platforms(run):
    r = run("reproduce", "--format", "json")
    assert r.code == 0, r.err
    out = r.json()
    claims = {c["claim"] for c in out["claims"]}
    assert {"speedup over gpu:jetson-tx2", "speedup over cpu:cortex-a57"} <= claims
    assert not {"speedup over gpu", "speedup over cpu"} & claims
    assert {"gpu:jetson-tx2", "cpu:cortex-a57"} <= set(out["assumptions"])


def test_eval_shows_the_preset_values_used_not_the_zero_stand_ins(run):
    """A preset's overrides left at 0 mean "the preset's own value": eval shows the values the model used."""
    h100 = run("eval", "-a", "gpu:h100", "-w", "deit-tiny", "--format", "json").json()["params"]
    assert h100["mem_gbps"] == 3350 and h100["power_w"] == 700 and h100["area_mm2"] == 814
    assert h100["peak_tflops"] > 500 and h100["launch_us"] > 0 and h100["cache_mb"] == 0  # the GPU models no cache
    fp32 = run("eval", "-a", "gpu:h100", "-w", "deit-tiny", "--set", "precision=fp32", "--format", "json").json()
    assert fp32["params"]["peak_tflops"] < h100["peak_tflops"]  # peak per precision
    xeon = run("eval", "-a", "cpu:xeon16", "-w", "deit-tiny", "--set", "mem_gbps=50", "--format", "json").json()
    assert xeon["params"]["mem_gbps"] == 50 and xeon["params"]["cache_mb"] > 0  # a user's value stays
    text = run("eval", "-a", "gpu:h100", "-w", "deit-tiny").out
    assert "mem_gbps=3350" in text and "power_w=700" in text


def test_accelerators_lists_a_preset_with_the_values_it_uses(run):
    """``accelerators -a gpu:jetson-tx2`` lists that preset (platform jetson-tx2), and a 0 that stands for the
    preset's own value with the value used (a fresh-user trial saw h100 and zeros)."""
    r = run("accelerators", "-a", "gpu:jetson-tx2", "--format", "json")
    assert r.code == 0, r.err
    rows = {x["param"]: x for x in r.json()["gpu:jetson-tx2"]["params"]}
    assert rows["platform"]["default"] == "jetson-tx2"
    assert rows["mem_gbps"]["default"] == 0 and rows["mem_gbps"]["used"] == pytest.approx(59.7)
    text = run("accelerators", "-a", "gpu:jetson-tx2").out
    assert "gpu:jetson-tx2" in text and "(used: 59.7)" in text
