"""rtsa-split on shared resources, its default split, and the unified-vs-split argument."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dse import accelerators
from dse.accelerators.rtsa import SPLIT_DEFAULT, split_rows
from dse.split_argument import unified_vs_split
from dse.workloads import build

SPLIT = accelerators.get("rtsa-split")
RTSA = accelerators.get("rtsa")
ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("best_static_split", ROOT / "tools" / "best_static_split.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_default_split_is_the_best_static_split_for_the_default_resolutions():
    """No straw man: the default is the lowest mean period over 112–448² on videomae-b."""
    best, table = _tool().best_static_split()
    assert SPLIT_DEFAULT == best
    assert table[best] == min(table.values())


def test_split_rounds_to_whole_rows_with_one_row_each_at_least():
    rl, ra = split_rows(np.array([2, 16, 16, 16]), np.array([0.5, 0.0, 1.0, 0.74]))
    assert rl.tolist() == [1, 1, 15, 12] and ra.tolist() == [1, 15, 1, 4]
    ev = SPLIT.evaluate(build("deit-tiny"), {"rows": 16, "split": 0.74})
    assert float(ev["split_effective"]) == 12 / 16


def test_arrays_share_one_dram_interface_and_one_sfu_pool():
    """The period can never beat the DRAM bytes of both arrays over the one interface."""
    wl = build("videomae-b", 224)
    for bw in (0.5, 2.0, 25.6):
        ev = SPLIT.evaluate(wl, {"dram_gbps": bw})
        floor = float(ev["dram_bytes"]) / (bw * 1e9)
        assert float(ev["period_s"]) >= floor * (1 - 1e-9)
        assert float(ev["latency_s"]) >= float(ev["period_s"])


def test_arrays_share_one_global_buffer():
    """The two arrays run at once, each on its share of the one buffer (its share of the PE rows): where an op's
    tiles spill a share they move more DRAM bytes than on RTSA's whole buffer; with room for everything, the
    same bytes. Regression (review): each array was mapped on the whole buffer, counted once in the area."""
    wl = build("deit-tiny")
    dense = {"sparsity_linear": 0.0, "sparsity_attention": 0.0}  # the same (dense) mode on both designs
    rtsa, split = accelerators.get("rtsa"), accelerators.get("rtsa-split")
    for kib, more in ((64, True), (1 << 16, False)):
        one = float(rtsa.evaluate(wl, {**dense, "glb_kib": kib})["dram_bytes"])
        two = float(split.evaluate(wl, {**dense, "glb_kib": kib})["dram_bytes"])
        assert (two > one) if more else two == pytest.approx(one, rel=1e-12)


def test_latency_is_one_input_through_both_arrays_and_period_the_slower_side():
    wl = build("videomae-b", 160)
    ev = SPLIT.evaluate(wl, {"dram_gbps": 4096.0})  # DRAM no bound: period = the slower array
    lin = float(ev.stages["linear"].cycles + ev.stages["other"].cycles)
    att = float(ev.stages["attention"].cycles)
    clock = 500e6
    assert float(ev["latency_s"]) == pytest.approx((lin + att) / clock, rel=1e-12)
    assert float(ev["period_s"]) == pytest.approx(max(lin, att) / clock, rel=1e-12)
    assert float(ev["stall_cycles"]) == pytest.approx(max(lin, att) - min(lin, att), rel=1e-12)


def test_rtsa_has_one_period_equal_to_its_latency_and_no_stall():
    ev = RTSA.evaluate(build("videomae-b", np.array([112, 448])))
    assert np.array_equal(ev["latency_s"], ev["period_s"]) and np.all(ev["stall_cycles"] == 0)


def test_argument_table_compares_like_with_like():
    df, static = unified_vs_split("videomae-b", [112, 224, 448])
    assert static in {k / 16 for k in range(1, 16)}
    # the oracle is the best split at each resolution: never worse than the static one
    assert np.all(df["oracle_period_ms"] <= df["static_period_ms"] * (1 + 1e-12))
    assert np.all((df["static_stall_share"] >= 0) & (df["static_stall_share"] < 1))
    # a split design's single input passes through both arrays: its latency exceeds RTSA's
    assert np.all(df["rtsa_vs_static_latency"] > 1)


def test_breakdown_draws_the_argument(run, tmp_path):
    out = tmp_path / "split.png"
    r = run("breakdown", "-a", "rtsa-split", "-w", "videomae-b", "--resolutions", "112,224", "-o", out)
    assert r.code == 0, r.err
    assert out.stat().st_size > 10_000 and "static split" in r.out


def test_rows_one_is_an_input_error(run):
    r = run("eval", "-a", "rtsa-split", "-w", "deit-tiny", "--set", "rows=1")
    assert r.code == 2 and r.err.startswith("error: rows:") and r.err.count("\n") == 1
