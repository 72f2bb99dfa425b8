"""--uncertainty on eval, compare, breakdown and reproduce; the sensitivity command; declared inputs listed."""

from __future__ import annotations

import pytest

Q = ("p5", "p50", "p95")


def _ordered(row: dict, key: str) -> bool:
    lo, mid, hi = (row[f"{key}_{q}"] for q in Q)
    return lo <= mid <= hi


def test_eval_uncertainty_json(run):
    r = run("eval", "-a", "rtsa", "-w", "videomae-s", "-r", "112", "--uncertainty", "32", "--format", "json")
    assert r.code == 0, r.err
    u = r.json()["uncertainty"]
    assert u["samples"] == 32 and u["quantiles"] == [0.05, 0.5, 0.95]
    assert "rtsa.clock_mhz" in {i["name"] for i in u["inputs"]}
    for name, m in u["metrics"].items():
        assert m["p5"] <= m["p50"] <= m["p95"], name
    assert u["metrics"]["latency_s"]["nominal"] == pytest.approx(r.json()["latency_s"])


def test_eval_uncertainty_flag_alone_and_user_values_kept(run):
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--set", "clock_mhz=800", "--uncertainty", "--format", "csv")
    assert r.code == 0, r.err
    header = r.out.splitlines()[0].split(",")
    assert header[:6] == ["metric", "unit", "nominal", "p5", "p50", "p95"]
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--set", "clock_mhz=800", "--uncertainty", "8", "--format", "json")
    assert "rtsa.clock_mhz" not in {i["name"] for i in r.json()["uncertainty"]["inputs"]}
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--uncertainty", "8")
    assert r.code == 0 and "Monte Carlo samples" in r.out and "p95" in r.out


def test_compare_uncertainty_ratios(run):
    r = run("compare", "-w", "videomae-s", "-r", "112", "--accelerators", "rtsa,vitcod,cpu", "--uncertainty", "16",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    rows = r.json()["rows"]
    assert {x["accelerator"].split(":")[0] for x in rows} == {"rtsa", "vitcod", "cpu"}
    for x in rows:
        for key in ("latency_s", "energy_j", "rtsa_speedup", "rtsa_energy_ratio"):
            assert _ordered(x, key), (x["accelerator"], key)
    ref = next(x for x in rows if x["accelerator"] == "rtsa")
    assert ref["rtsa_speedup_p5"] == ref["rtsa_speedup_p95"] == 1.0  # per sample, RTSA over itself


def test_breakdown_uncertainty(run):
    r = run("breakdown", "-a", "rtsa", "-w", "videomae-s", "--resolutions", "112,224", "--uncertainty", "16",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    rows = r.json()["rows"]
    assert [x["resolution"] for x in rows] == [112, 224]
    for x in rows:
        for key in ("latency_ms", "linear_ms", "attention_ms", "attention_share"):
            assert _ordered(x, key)
        assert 0.0 <= x["p_attention_bound"] <= 1.0
    r = run("breakdown", "-w", "videomae-s", "--sub-len", "4,16", "--uncertainty", "8")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1


def test_reproduce_uncertainty_json_rows(run):
    """Issue 13 acceptance: every row has low ≤ median ≤ high and a list of top inputs."""
    r = run("reproduce", "--uncertainty", "256", "--format", "json")
    assert r.code == 0, r.err
    claims = r.json()["claims"]
    assert len(claims) >= 13
    for c in claims:
        assert c["p5"] <= c["p50"] <= c["p95"], c["claim"]
        assert isinstance(c["top_inputs"], list) and len(c["top_inputs"]) <= 3
        assert isinstance(c["inside"], bool)
    by = {c["claim"]: c for c in claims}
    assert set(by["ideal computation saving, low end"]["top_inputs"][:2]) == {"rtsa.key_interval",
                                                                             "rtsa.sparsity_linear"}  # fmt: skip
    assert by["speedup over vitcod"]["top_inputs"]  # the unpublished array size and clock move it
    assert by["attention pruned in a windowed block"]["top_inputs"] == []  # counted exactly: nothing moves it
    assert by["attention pruned in a windowed block"]["inside"]  # 94.857 vs the published 94.86


def test_reproduce_uncertainty_table(run):
    r = run("reproduce", "--uncertainty", "32")
    assert r.code == 0 and "top_inputs" in r.out and "claims inside" in r.out


def test_sensitivity_acceptance_command(run, tmp_path):
    fig = tmp_path / "t.png"
    r = run("sensitivity", "-a", "rtsa", "-w", "timesformer-b", "-r", "112", "--metric", "computation_saving",
            "-n", "64", "-o", fig, "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    ranking = [row["input"] for row in r.json()["ranking"]]
    assert set(ranking[:2]) == {"rtsa.key_interval", "rtsa.sparsity_linear"}
    assert fig.stat().st_size > 0 and r.json()["figure"] == str(fig)


def test_sensitivity_ratio_oat_table(run, tmp_path):
    r = run("sensitivity", "-a", "rtsa", "--over", "vitcod", "-w", "videomae-s", "-r", "112", "--metric", "latency",
            "--method", "oat", "-o", tmp_path / "r.svg")  # fmt: skip
    assert r.code == 0, r.err
    assert "vitcod latency_s / rtsa latency_s" in r.out and "swing" in r.out and (tmp_path / "r.svg").exists()


@pytest.mark.parametrize(
    "args,field",
    [
        (["--metric", "dsp"], "--metric"),
        (["--metric", "latency", "--method", "sobol", "-n", "100"], "--samples"),
        (["--metric", "latency", "--over-set", "clock_mhz=1"], "--over-set"),
    ],
)
def test_sensitivity_errors_are_one_line(run, args, field):
    r = run("sensitivity", "-a", "rtsa", "-w", "deit-tiny", "--no-figure", *args)
    assert r.code == 2 and field in r.err and len(r.err.strip().splitlines()) == 1


def test_uncertainty_file_applies_and_errors(run, tmp_path):
    f = tmp_path / "u.toml"
    f.write_text('[inputs."rtsa.clock_mhz"]\ndistribution = "uniform"\nlow = 900\nhigh = 1000\n')
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--uncertainty", "8", "--uncertainty-file", f, "--format", "json")
    clock = next(i for i in r.json()["uncertainty"]["inputs"] if i["name"] == "rtsa.clock_mhz")
    assert (clock["low"], clock["high"]) == (900, 1000)
    f.write_text('[inputs."rtsa.clock_mhz"]\nlow = 2000\nhigh = 1000\n')
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--uncertainty", "8", "--uncertainty-file", f)
    assert r.code == 2 and "rtsa.clock_mhz" in r.err and len(r.err.strip().splitlines()) == 1


def test_accelerators_lists_the_declared_uncertainty(run):
    r = run("accelerators", "--format", "json")
    rtsa = r.json()["rtsa"]
    clock = next(p for p in rtsa["params"] if p["param"] == "clock_mhz")
    assert clock["uncertainty"].startswith("design: uniform(")
    assert "tech.mac_energy" in {u["name"] for u in rtsa["uncertainty"]}
    r = run("accelerators")
    assert "declared technology and calibration factors" in r.out and "cpu.time" in r.out


@pytest.mark.parametrize("args", [("--uncertainty", "-3"), ("--uncertainty=-3",)])
def test_negative_sample_count_names_the_option(run, args):
    """click takes a negative number after an option with an optional value for an unknown option ``-3``."""
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", *args)
    assert r.code == 2 and r.out == ""
    assert r.err.strip().splitlines() == ["error: --uncertainty: expected Monte Carlo samples, an integer in "
                                          "[2, 1,000,000], got -3"]  # fmt: skip


def test_a_declared_range_with_no_valid_sample_says_so(run, tmp_path):
    """A user's range beyond the node's maximum clock makes every sample invalid: the output says the intervals
    are of designs that cannot be built, and the nominal default is 'outside' the range, not 'at its low end'."""
    f = tmp_path / "u.toml"
    f.write_text('[inputs."rtsa.clock_mhz"]\nlow = 3000\nhigh = 4000\n')
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--uncertainty", "8", "--uncertainty-file", str(f))
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "no sample is a valid design" in text and "rtsa.clock_mhz = 500 outside uniform(3000, 4000)" in text


def test_sensitivity_refuses_a_ratio_of_a_design_to_itself_and_a_flag_metric(run):
    r = run("sensitivity", "-w", "deit-tiny", "-a", "rtsa", "--over", "rtsa", "--metric", "latency")
    assert r.code == 2 and "--over" in r.err and len(r.err.strip().splitlines()) == 1
    r = run("sensitivity", "-w", "deit-tiny", "-a", "rtsa", "--metric", "valid")
    assert r.code == 2 and "flag" in r.err and len(r.err.strip().splitlines()) == 1
