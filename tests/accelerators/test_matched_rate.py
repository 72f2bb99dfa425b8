"""``--match macs`` is RTSA's peak MAC rate for every baseline (``dse.compare.matched_values``): an accelerator
at its own clock gets the MACs/cycle that give the rate, one matched on ``clock`` too RTSA's clock and
MACs/cycle; budgets and matched values are arrays over points (Monte Carlo samples)."""

from __future__ import annotations

import numpy as np
import pytest

from dse import accelerators
from dse.compare import matched_values
from dse.workloads import build

RTSA = accelerators.get("rtsa")


def _budget(values=None):
    return RTSA.budget(RTSA.resolve(values or {}))


def _rate(name: str, over: dict) -> float:
    """Peak MAC/s of baseline ``name`` at overrides ``over``."""
    acc = accelerators.get(name)
    b = acc.budget(acc.resolve(over))
    return b["mac_rate"] if "mac_rate" in b else b["macs"] * b["clock"] * 1e6


@pytest.mark.parametrize("name", ["vitcod", "heatvit", "systolic", "cpu:xeon16", "gpu:h100", "gpu:jetson-tx2"])
@pytest.mark.parametrize("clock", [500.0, 1000.0])
def test_macs_matches_the_peak_mac_rate_for_every_baseline(name, clock):
    design = _budget({"clock_mhz": clock})
    rate = design["macs"] * design["clock"] * 1e6
    over = matched_values(accelerators.get(name), design, ("macs",))
    acc = accelerators.get(name)
    if "mac_rate" not in acc.BUDGET_PARAMS:  # an accelerator keeps its own clock, rounded to whole columns
        assert "clock_mhz" not in over
        own = acc.budget(acc.resolve())["clock"]
        rows = acc.budget(acc.resolve(over))["macs"] / next(v for k, v in over.items() if k in ("cols", "pe_cols"))
        assert abs(_rate(name, over) - rate) <= rows * own * 1e6 / 2 + 1e-6 * rate  # within half a column
    else:
        assert _rate(name, over) == pytest.approx(rate)


def test_heatvit_at_its_own_clock_gets_the_macs_per_cycle_of_rtsas_rate():
    """RTSA 1,024 MACs × 500 MHz = 512 GMAC/s; HeatViT at 200 MHz needs 2,560 MACs/cycle (80 × 32 rows), not
    RTSA's 1,024 MACs/cycle (40% of the rate, what ``macs`` meant before)."""
    heatvit = accelerators.get("heatvit")
    over = matched_values(heatvit, _budget(), ("macs",))
    assert over == {"cols": 80}
    b = heatvit.budget(heatvit.resolve(over))
    assert b["macs"] == 2560 and b["clock"] == 200
    both = matched_values(heatvit, _budget(), ("macs", "clock"))
    assert both == {"cols": 32, "clock_mhz": 500.0}


def test_vitcod_follows_rtsas_clock_through_the_rate():
    vitcod = accelerators.get("vitcod")
    # RTSA at 1 GHz: 1,024 GMAC/s = 2,048 MACs/cycle at ViTCoD's 500 MHz = 256 columns of 8 rows
    assert matched_values(vitcod, _budget({"clock_mhz": 1000}), ("macs",)) == {"pe_cols": 256}
    assert matched_values(vitcod, _budget({"clock_mhz": 1000}), ("macs", "clock")) == {"pe_cols": 128,
                                                                                      "clock_mhz": 1000.0}  # fmt: skip


def test_matched_build_over_the_fpga_budget_is_an_invalid_point_not_an_error():
    heatvit = accelerators.get("heatvit")
    over = matched_values(heatvit, _budget(), ("macs",))  # 2,560 lanes × 1.11 > 2,520 DSPs
    ev = heatvit.evaluate(build("deit-tiny"), over)
    assert float(ev["valid"]) == 0.0 and "DSP" in str(ev.reasons)
    assert np.isfinite(float(ev["latency_s"]))


def test_budget_and_match_are_vectorized_over_points():
    """Arrays of RTSA designs (columns, clocks) → arrays of matched values, equal to matching one by one."""
    cols = np.array([8.0, 16.0, 24.0, 32.0])
    clock = np.array([500.0, 650.0, 800.0, 1000.0])
    design = _budget({"cols": cols, "clock_mhz": clock, "dram_gbps": np.array([12.8, 25.6, 30.0, 51.2])})
    assert np.shape(design["macs"]) == (4,) and np.shape(design["clock"]) == (4,)
    for name in ("vitcod", "heatvit", "systolic", "gpu:h100", "cpu:xeon16"):
        acc = accelerators.get(name)
        for match in (("macs",), ("macs", "clock", "bandwidth", "buffer")):
            vec = matched_values(acc, design, match)
            for i in range(4):
                one = matched_values(acc, {k: float(np.broadcast_to(v, (4,))[i]) for k, v in design.items()}, match)
                assert one.keys() == vec.keys(), name
                for k, v in one.items():
                    assert np.broadcast_to(vec[k], (4,))[i] == pytest.approx(v), (name, match, k, i)
            acc.evaluate(build("deit-tiny"), vec)  # the arrays are valid parameter values


def test_own_sampled_clock_sets_the_macs_per_cycle():
    """A baseline whose own clock is an array (its sampled clock) gets MACs/cycle per point from it."""
    heatvit = accelerators.get("heatvit")
    own = heatvit.resolve({"clock_mhz": np.array([160.0, 200.0, 256.0])})
    over = matched_values(heatvit, _budget(), ("macs",), own=own)
    np.testing.assert_array_equal(over["cols"], [100, 80, 62])  # 512 GMAC/s / (32 rows × clock), rounded


def test_a_match_beyond_a_parameters_range_is_clipped_and_marked_invalid_not_an_error():
    """RTSA with 256 columns: 16,384 MACs × 500 MHz = 8.19 TMAC/s → HeatViT at 200 MHz would need 1,280 columns
    of 32 rows, beyond its declared [1, 1024]: the row is evaluated at 1,024 and marked invalid, with why."""
    from dse.compare import clip_matched, compare

    heatvit = accelerators.get("heatvit")
    over = matched_values(heatvit, _budget({"cols": 256}), ("macs",))
    assert over == {"cols": 1280}
    clipped, beyond = clip_matched(heatvit, over)
    assert clipped == {"cols": 1024} and len(beyond) == 1
    assert beyond[0][1] == "matched cols 1,280 beyond heatvit's range [1, 1024]"
    df = compare(build("deit-tiny"), ("heatvit",), ("macs",), ref_values={"cols": 256})
    row = df[(df["accelerator"] == "heatvit") & (df["setting"] == "matched")].iloc[0]
    assert not row["valid"] and "matched cols 1,280 beyond heatvit's range [1, 1024]" in row["invalid_reason"]
    assert "cols=1024" in row["overrides"] and np.isfinite(row["latency_s"])
    # arrays over points: only the points beyond the range are marked, the reason gives the farthest value
    cols = np.array([64.0, 1280.0, 2000.0])
    clipped, beyond = clip_matched(heatvit, {"cols": cols})
    np.testing.assert_array_equal(clipped["cols"], [64, 1024, 1024])
    ((mask, reason),) = beyond
    np.testing.assert_array_equal(mask, [False, True, True])
    assert reason == "matched cols up to 2,000 beyond heatvit's range [1, 1024]"
    assert clip_matched(heatvit, {"cols": 64}) == ({"cols": 64}, [])
