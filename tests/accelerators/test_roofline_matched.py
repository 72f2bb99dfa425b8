"""Power of a CPU/GPU copy matched to a design's resources (``Roofline.matched``): the power of the SMs / cores
and DRAM interface it keeps plus the fixed share of its rating, never the full rating of the preset."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.accelerators.roofline import PLATFORMS, PRECISIONS
from dse.workloads import build

PRESETS = ("gpu:h100", "gpu:jetson-tx2", "cpu:xeon16", "cpu:cortex-a57")
DESIGN = {"macs": 1024.0, "clock": 500.0, "buffer": 512.0, "bandwidth": 25.6}  # rtsa's defaults


@pytest.mark.parametrize("name", PLATFORMS)
def test_power_split_is_physical_and_a_copy_matched_to_itself_keeps_its_rating(name):
    pf = PLATFORMS[name]
    dram_w = pf.dram_pj_per_bit * 1e-12 * pf.mem_gbps * 8e9
    assert 0 <= pf.fixed_power_share < 1
    assert pf.power_w * (1 - pf.fixed_power_share) - dram_w > 0  # something is left for the SMs / cores
    for i, prec in enumerate(PRECISIONS):
        peak = pf.peak_tmacs[i] * 1e12
        assert pf.matched_power_w(prec, peak, pf.mem_gbps) == pytest.approx(pf.power_w)
        assert pf.matched_power_w(prec, None, None) == pytest.approx(pf.power_w)
        # less compute or less bandwidth never draws more; none of either leaves the fixed share
        assert pf.matched_power_w(prec, peak / 4, None) < pf.power_w
        assert pf.matched_power_w(prec, None, pf.mem_gbps / 4) <= pf.power_w
        assert pf.matched_power_w(prec, 0.0, 0.0) == pytest.approx(pf.power_w * pf.fixed_power_share)


def test_h100_matched_to_a_small_design_draws_the_power_of_what_it_keeps():
    h100 = PLATFORMS["h100"]
    over = accelerators.get("gpu:h100").matched({**DESIGN, "mac_rate": 1024 * 500e6})
    kept = 1024 * 500e6 / (h100.peak_tmacs[PRECISIONS.index("fp16")] * 1e12)  # ≈ 0.1% of the SMs
    assert kept < 0.01
    # fixed share + HBM power at 25.6 of 3,350 GB/s + the SMs' share at 0.1% of the peak: about 71 W, not 700
    dram_w = h100.dram_pj_per_bit * 1e-12 * h100.mem_gbps * 8e9
    want = 700 * h100.fixed_power_share + dram_w * 25.6 / h100.mem_gbps + (700 * 0.9 - dram_w) * kept
    assert over["power_w"] == pytest.approx(want)
    assert 700 * h100.fixed_power_share < over["power_w"] < 0.2 * 700


@pytest.mark.parametrize("name", PRESETS)
def test_matched_energy_is_latency_times_the_matched_power(name):
    acc = accelerators.get(name)
    over = acc.matched({**DESIGN, "mac_rate": 1024 * 500e6})
    wl = build("deit-tiny")
    ev = acc.evaluate(wl, over)
    pf = PLATFORMS[acc.preset["platform"]]
    drawn = over["power_w"] * pf.active_power_share  # the matched rating, at the share batch-1 inference draws
    assert float(ev["power_w"]) == pytest.approx(drawn)
    assert float(ev["energy_j"]) == pytest.approx(float(ev["latency_s"]) * drawn)
    rate = 1024 * 500e6
    peak = pf.peak_tmacs[PRECISIONS.index(str(acc.param("precision").default))] * 1e12
    assert (over["power_w"] < pf.power_w) == (rate < peak)  # a copy bigger than the preset draws more


def test_compare_match_row_uses_the_matched_power(run):
    r = run("compare", "-w", "deit-tiny", "--accelerators", "gpu:h100,cpu:xeon16", "--match", "macs,bandwidth",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    rows = r.json()["rows"]
    for name in ("gpu:h100", "cpu:xeon16"):
        d = next(x for x in rows if x["accelerator"] == name and x["setting"] == "default")
        m = next(x for x in rows if x["accelerator"] == name and x["setting"] == "matched")
        pf = PLATFORMS[name.split(":")[1]]
        assert d["energy_j"] / d["latency_s"] == pytest.approx(pf.power_w * pf.active_power_share)
        assert m["energy_j"] / m["latency_s"] < d["energy_j"] / d["latency_s"]
        assert "power_w=" in m["overrides"]
    gpu = next(x for x in rows if x["accelerator"] == "gpu:h100" and x["setting"] == "matched")
    assert gpu["energy_j"] / gpu["latency_s"] < 0.2 * 700 * PLATFORMS["h100"].active_power_share
    assert np.isfinite(gpu["rtsa_energy_ratio"])


@pytest.mark.parametrize("name", PRESETS)
def test_the_fixed_share_is_a_declared_factor_moving_only_a_smaller_copy(name):
    """``cpu.fixed_power`` / ``gpu.fixed_power`` scale the share a matched copy keeps: a copy smaller than the
    preset draws more with a larger share, the preset's own size draws its rating whatever the share."""
    from dse.hardware import factors as F

    pf = PLATFORMS[accelerators.get(name).preset["platform"]]
    peak = pf.peak_tmacs[PRECISIONS.index("fp16")] * 1e12
    f = np.array([0.5, 1.0, 2.0])
    with F.applied(F.make(**{f"{pf.kind}_fixed_power": f})):
        small = np.asarray(pf.matched_power_w("fp16", peak / 100, pf.mem_gbps / 10))
        whole = np.asarray(pf.matched_power_w("fp16", peak, pf.mem_gbps))
    assert np.all(np.diff(small) > 0) and small[1] == pytest.approx(
        pf.matched_power_w("fp16", peak / 100, pf.mem_gbps / 10)
    )
    assert whole == pytest.approx(np.full(3, pf.power_w))
    assert np.all(small >= pf.power_w * pf.fixed_power_share * f - 1e-9)  # the share itself is kept


@pytest.mark.parametrize("name", PRESETS)
def test_nominal_power_is_the_middle_of_its_declared_range(name):
    """Regression (a fresh-user trial): the nominal CPU/GPU power was the full rating, the top of the declared
    range of cpu.power / gpu.power (30–100% of a GPU's TDP), so every nominal energy ratio favoured RTSA (GPU
    energy ratio 34.9 at nominal vs 17.8 median). The nominal is now the middle of that range."""
    from dse.uncertainty.declared import BUILTIN

    acc = accelerators.get(name)
    pf = PLATFORMS[acc.preset["platform"]]
    u = next(u for u in BUILTIN.inputs if u.name == f"{pf.kind}.power")
    lo, hi = u.distribution.low, u.distribution.high
    assert lo < 1 < hi and (lo + hi) / 2 == pytest.approx(1.0)  # the nominal factor 1 is the range's middle
    ev = acc.evaluate(build("deit-tiny"), {})
    assert float(ev["power_w"]) == pytest.approx(pf.power_w * pf.active_power_share)
