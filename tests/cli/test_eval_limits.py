"""``rtsa-dse eval`` refuses physically impossible designs (issue 11): exit 2, one line naming the field.

A clock above the node's maximum (ASIC: :func:`dse.hardware.technology.max_clock_mhz`; FPGA: the device's DSP
limit) and ``rtsa-split`` with one PE row (two arrays need a row each) are input errors for one evaluation;
in a search the same points are infeasible outputs (tests/accelerators/test_physics.py).
"""

from __future__ import annotations

import pytest

from dse import accelerators
from dse.hardware import technology as tech

CLOCKED = [
    e.name
    for e in accelerators.entries()
    if e.origin == accelerators.BUILTIN and "clock_mhz" in {p.name for p in e.accelerator.params}
]


def one_line_error(r, field: str) -> None:
    assert r.code == 2, (r.code, r.out, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert field in lines[0] and "Traceback" not in r.err
    assert r.out == ""


def test_rtsa_split_with_one_row_exits_2_naming_rows(run):
    one_line_error(run("eval", "-a", "rtsa-split", "-w", "deit-tiny", "--set", "rows=1"), "rows")


def test_rtsa_split_with_two_rows_runs(run):
    r = run("eval", "-a", "rtsa-split", "-w", "deit-tiny", "--set", "rows=2", "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["metrics"]["split_effective"] == 0.5  # one row each


@pytest.mark.parametrize("name", CLOCKED)
def test_clock_above_the_maximum_exits_2_naming_clock_mhz(run, name):
    top = accelerators.get(name).param("clock_mhz").high  # above every node's and device's maximum
    one_line_error(run("eval", "-a", name, "-w", "deit-tiny", "--set", f"clock_mhz={top:g}"), "clock_mhz")


def test_the_maximum_clock_depends_on_the_node(run):
    """2,500 MHz is beyond 28 nm's maximum but within 7 nm's."""
    assert float(tech.max_clock_mhz(28.0)) < 2500 < float(tech.max_clock_mhz(7.0))
    one_line_error(run("eval", "-a", "rtsa", "-w", "deit-tiny", "--set", "clock_mhz=2500"), "clock_mhz")
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--set", "clock_mhz=2500", "--set", "node_nm=7")
    assert r.code == 0, r.err


@pytest.mark.parametrize(
    "args",
    [
        ("breakdown", "-a", "rtsa", "-w", "deit-tiny", "--resolutions", "112"),
        ("breakdown", "-a", "rtsa-split", "-w", "deit-tiny", "--resolutions", "112,160"),  # the split argument
        ("compare", "-w", "deit-tiny", "--accelerators", "systolic"),  # --set gives RTSA's design
    ],
)
def test_breakdown_and_compare_refuse_an_impossible_design_as_eval_does(run, args):
    """Regression (a fresh-user trial): breakdown printed numbers and compare ratios for a clock above the
    node's maximum that eval refuses."""
    one_line_error(run(*args, "--set", "clock_mhz=3000"), "clock_mhz")


def test_breakdown_output_applies_to_the_split_argument_only(run, tmp_path):
    """Regression (a fresh-user trial): -o was ignored without a word unless the split figure was drawn."""
    out = tmp_path / "b.png"
    one_line_error(run("breakdown", "-a", "rtsa", "-w", "deit-tiny", "-o", out), "--output")
    one_line_error(run("breakdown", "-a", "rtsa-split", "-w", "deit-tiny", "-o", tmp_path / "b.bmp"), "--output")
    assert not out.exists() and not (tmp_path / "b.bmp").exists()
