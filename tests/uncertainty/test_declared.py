"""The declared uncertain inputs: sound, sourced, within the parameters' ranges; user overrides from TOML."""

from __future__ import annotations

import pytest

from dse import accelerators
from dse import sources as S
from dse.errors import InputError
from dse.hardware import factors as F
from dse.uncertainty.declared import BUILTIN, DECLARED, KINDS, apply_overrides, fabrics, load_overrides


@pytest.mark.parametrize("u", DECLARED, ids=lambda u: u.name)
def test_every_input_is_sound_and_sourced(u):
    assert u.kind in KINDS
    u.distribution.check(u.name)
    assert u.source.strip() and u.what.strip()
    keys = S.CITATION.findall(u.source)
    assert keys or "[assumption]" in u.source or "[D]" in u.source, u.name
    for key in keys:
        assert key in S.catalogue().sources, key
    if u.target == "factor":
        assert u.key in F.NAMES and u.kind in ("technology", "calibration")
        assert u.distribution.low > 0  # a multiplicative factor
        assert u.distribution.low <= 1.0 <= u.distribution.high  # the cited constant is inside its own range
    else:
        for name in u.accelerators:
            p = accelerators.get(name).param(u.key)
            assert p.kind in ("int", "float")
            assert (p.low is None or u.distribution.low >= p.low) and (p.high is None or u.distribution.high <= p.high)
            if u.kind == "data":  # the spread is around the default
                assert u.distribution.low <= p.default <= u.distribution.high


def test_names_are_unique_and_every_accelerator_has_inputs():
    names = [u.name for u in DECLARED]
    assert len(names) == len(set(names))
    for e in accelerators.entries():
        if e.origin == accelerators.BUILTIN:
            assert BUILTIN.for_accelerators([e.accelerator]), e.name


def test_fabrics_pick_the_factors_a_model_reads():
    assert fabrics(accelerators.get("rtsa")) == ("asic",)
    assert fabrics(accelerators.get("heatvit")) == ("fpga",)
    assert fabrics(accelerators.get("gpu")) == ("gpu",)
    cpu_inputs = {u.name for u in BUILTIN.for_accelerators([accelerators.get("cpu")])}
    assert cpu_inputs == {"cpu.time", "cpu.power", "cpu.fixed_power"}


def test_override_file_changes_adds_and_removes(tmp_path):
    f = tmp_path / "u.toml"
    f.write_text(
        '[inputs."rtsa.clock_mhz"]\nlow = 500\nhigh = 800\n'
        '[inputs."tech.leakage"]\noff = true\n'
        '[inputs."vitcod.clock_mhz"]\ndistribution = "triangular"\nlow = 400\nmode = 500\nhigh = 600\n'
        '[inputs."gpu.power"]\ndistribution = "uniform"\nlow = 0.5\nhigh = 0.9\n'
    )
    d = load_overrides(f)
    clock = d.get("rtsa.clock_mhz")
    assert (clock.distribution.kind, clock.distribution.low, clock.distribution.high) == ("uniform", 500, 800)
    assert "tech.leakage" not in [u.name for u in d]
    new = d.get("vitcod.clock_mhz")
    assert new.target == "param" and new.kind == "design" and new.accelerators == ("vitcod",)
    assert d.get("gpu.power").distribution.high == 0.9
    assert d.origin == str(f)


@pytest.mark.parametrize(
    "table,field",
    [
        ({"inputs": {"rtsa.clock_mhz": {"low": 900, "high": 800}}}, "inputs.rtsa.clock_mhz"),
        ({"inputs": {"rtsa.clock_mhz": {"lowest": 1}}}, "inputs.rtsa.clock_mhz.lowest"),
        ({"inputs": {"tpu.clock_mhz": {"distribution": "uniform", "low": 1, "high": 2}}}, "inputs.tpu.clock_mhz"),
        ({"inputs": {"rtsa.dataflow": {"distribution": "uniform", "low": 1, "high": 2}}}, "inputs.rtsa.dataflow"),
        ({"inputs": {"tech.nothing": {"off": True}}}, "inputs.tech.nothing"),
        ({"bounds": {}}, "bounds"),
        # a fresh-user trial: a misspelt name without a distribution was reported as a missing distribution
        ({"inputs": {"rtsa.clokc_mhz": {"low": 500, "high": 800}}}, "inputs.rtsa.clokc_mhz"),
        ({"inputs": {"foo.clock_mhz": {"low": 500, "high": 800}}}, "inputs.foo.clock_mhz"),
        ({"inputs": {"rtsa.dataflow": {"low": 1, "high": 2}}}, "inputs.rtsa.dataflow"),
        ({"inputs": {"tech.leakage": {"off": "yes"}}}, "inputs.tech.leakage.off"),  # was ignored
        # a range outside the parameter's (clipped without a word, where --set refuses the value)
        ({"inputs": {"rtsa.clock_mhz": {"low": 500, "high": 90000}}}, "inputs.rtsa.clock_mhz.high"),
        (
            {"inputs": {"rtsa.sparsity_linear": {"distribution": "triangular", "low": 1.2, "mode": 1.3, "high": 1.5}}},
            "inputs.rtsa.sparsity_linear.low",
        ),
        (
            {"inputs": {"vitcod.clock_mhz": {"distribution": "uniform", "low": 0.01, "high": 2}}},
            "inputs.vitcod.clock_mhz.low",
        ),
        # a second fresh-user trial: a negative factor gave 0 J energies with exit 0; a normal's mode was ignored
        (
            {"inputs": {"tech.mac_energy": {"distribution": "uniform", "low": -2, "high": -1}}},
            "inputs.tech.mac_energy.low",
        ),
        ({"inputs": {"gpu.time": {"low": 0, "high": 1.2}}}, "inputs.gpu.time.low"),
        (
            {
                "inputs": {
                    "rtsa.clock_mhz": {
                        "distribution": "normal",
                        "low": 500,
                        "high": 900,
                        "mean": 700,
                        "sd": 50,
                        "mode": 3,
                    }
                }
            },
            "inputs.rtsa.clock_mhz.mode",
        ),  # fmt: skip
    ],
)
def test_bad_override_names_the_field(table, field):
    with pytest.raises(InputError) as err:
        apply_overrides(BUILTIN, table)
    assert err.value.field == field


def test_a_normal_without_bounds_says_it_is_truncated():
    """Regression (a fresh-user trial): mean and sd alone gave 'low: missing' without saying why."""
    with pytest.raises(InputError, match="truncated at low and high") as err:
        apply_overrides(BUILTIN, {"inputs": {"rtsa.clock_mhz": {"distribution": "normal", "mean": 700, "sd": 50}}})
    assert err.value.field == "inputs.rtsa.clock_mhz.low"


def test_unreadable_or_invalid_file_is_one_line(tmp_path):
    with pytest.raises(InputError) as err:
        load_overrides(tmp_path / "missing.toml")
    assert "No such file or directory" in str(err.value)  # the system's reason, not FileNotFoundError
    bad = tmp_path / "bad.toml"
    bad.write_text("[inputs\n")
    with pytest.raises(InputError) as err:
        load_overrides(bad)
    assert "\n" not in str(err.value)
