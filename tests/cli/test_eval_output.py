"""`rtsa-dse eval` output that explains itself: the design, what bounds it, the dense fallback, CSV context."""

from __future__ import annotations

import io

import pandas as pd
import pytest


def test_text_names_the_design_and_what_bounds_it(run):
    r = run("eval", "-a", "rtsa", "-w", "videomae-b", "-r", "160")
    assert r.code == 0, r.err
    out = r.out.replace("\n  ", " ")  # lines wrapped at the terminal width
    assert "design: rows=16  cols=16  lanes=4" in out and "power " in out and "utilisation " in out
    assert "bottleneck stage: linear" in out
    gpu = run("eval", "-a", "gpu", "-w", "deit-tiny")  # a small model on a GPU: its kernel launches bound it
    assert gpu.code == 0, gpu.err
    out = gpu.out.replace("\n  ", " ")
    assert "launch-bound" in out and "bottleneck stage: launch" not in out


def test_a_dense_fallback_is_noted(run):
    """At 2% delta sparsity, delta mode's Δ compares cost more than it saves on the output projection: the op runs
    dense, and the output says so (it used to show only in the --ops mode column)."""
    r = run("eval", "-a", "rtsa", "-w", "videomae-b", "--set", "sparsity_linear=0.02")
    assert r.code == 0, r.err
    assert "note: dense fallback: patch_embed, proj, fc2 ran dense" in r.out.replace("\n  ", " ")
    plain = run("eval", "-a", "rtsa", "-w", "videomae-b")
    assert "dense fallback" not in plain.out  # at the defaults every op with pruned work runs sparse


def test_csv_row_says_which_input_and_design(run):
    r = run("eval", "-a", "rtsa", "-w", "videomae-b", "-r", "160", "--format", "csv")
    assert r.code == 0, r.err
    row = pd.read_csv(io.StringIO(r.out)).iloc[0]
    assert (row["height"], row["width"], row["frames"]) == (160, 160, 16)
    assert row["rows"] == 16 and row["glb_kib"] == 512 and row["latency_s"] > 0


def test_a_non_integer_for_an_integer_parameter_echoes_it(run):
    r = run("eval", "-a", "rtsa", "-w", "videomae-b", "--set", "lanes=3.5")
    assert r.code == 2 and r.err.strip() == "error: lanes: must be an integer in [1, 64], got 3.5"


def test_an_override_set_to_zero_says_the_preset_ran(run):
    """Regression (a fresh-user trial): launch_us=0 on a GPU silently ran the preset's 18.56 µs (0 means "the
    preset"); the output now says so and how to model next to none."""
    r = run("eval", "-a", "gpu:h100", "-w", "deit-tiny", "--set", "launch_us=0", "--format", "json")
    assert r.code == 0, r.err
    assert any("launch_us=0 means the preset's value (18.56 µs)" in n for n in r.json()["notes"])
    plain = run("eval", "-a", "gpu:h100", "-w", "deit-tiny", "--set", "launch_us=1", "--format", "json")
    assert not any("means the preset" in n for n in plain.json()["notes"])


def test_an_uncertainty_file_without_uncertainty_is_refused(run, tmp_path):
    """Regression (a fresh-user trial): --uncertainty-file without --uncertainty was ignored without a word."""
    f = tmp_path / "ranges.toml"
    f.write_text('[inputs."tech.leakage"]\noff = true\n')
    for cmd in (("eval", "-a", "rtsa"), ("compare",), ("breakdown", "-a", "rtsa")):
        r = run(*cmd, "-w", "deit-tiny", "--uncertainty-file", f)
        assert r.code == 2 and "--uncertainty-file" in r.err and "--uncertainty" in r.err, (cmd, r.err)


def test_a_seed_without_uncertainty_is_refused(run):
    """Regression (a fresh-user trial): --seed without --uncertainty was ignored without a word."""
    for cmd in (("eval", "-a", "rtsa"), ("compare",), ("breakdown", "-a", "rtsa")):
        r = run(*cmd, "-w", "deit-tiny", "--seed", "5")
        assert r.code == 2 and r.err.strip() == "error: --seed: seeds the Monte Carlo samples: add --uncertainty [N]"
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--seed", "5", "--uncertainty", "8", "--format", "json")
    assert r.code == 0, r.err


@pytest.mark.parametrize(
    "cmd",
    [("eval", "-a", "rtsa", "--uncertainty", "4"), ("sensitivity", "-a", "rtsa", "-m", "latency_s", "--method", "sobol", "-n", "4",
                                                    "--no-figure")],
)  # fmt: skip
def test_a_negative_seed_is_one_line(run, cmd):
    """Regression (a fresh-user trial): numpy's traceback 'expected non-negative integer'."""
    r = run(*cmd, "-w", "deit-tiny", "--seed", "-1")
    assert r.code == 2 and r.err.strip() == "error: --seed: must be an integer in [0, 4294967295], got -1"


@pytest.mark.parametrize("n", ["0", "1", "-5", "1000001"])
def test_uncertainty_out_of_range_is_worded_alike(run, n):
    """Regression (a fresh-user trial): 0 and -5 gave differently worded messages (click's range text)."""
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--uncertainty", n)
    assert r.code == 2
    assert r.err.strip() == f"error: --uncertainty: expected Monte Carlo samples, an integer in [2, 1,000,000], got {n}"
