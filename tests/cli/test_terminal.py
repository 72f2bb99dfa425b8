"""The terminal: default outputs fit 100 columns (``--wide`` for the full tables), every option has help text,
and ``rtsa-dse init`` writes a commented spec that runs as it is."""

from __future__ import annotations

import click
import pytest

from dse.cli import cli

WIDTH = 100

COMMANDS = [
    ("accelerators",),
    ("accelerators", "-a", "rtsa"),
    ("accelerators", "-a", "windowed", "-a", "gpu"),
    ("reproduce",),
    ("workloads",),
    ("workloads", "show", "videomae-b"),
    ("compare", "-w", "deit-tiny"),
    ("breakdown", "-w", "deit-tiny"),
    ("breakdown", "-a", "rtsa-split", "-w", "videomae-b"),
    ("eval", "-a", "rtsa", "-w", "deit-tiny"),
    ("sources",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_default_output_fits_100_columns(run, args):
    r = run(*args)
    assert r.code == 0, r.err
    wide = [line for line in r.out.splitlines() if len(line) > WIDTH]
    assert not wide, f"{len(wide)} lines over {WIDTH} columns, e.g. {wide[0]!r}"


def test_wide_prints_the_full_table(run):
    narrow, full = run("accelerators", "-a", "rtsa"), run("accelerators", "-a", "rtsa", "--wide")
    assert narrow.code == full.code == 0
    assert max(map(len, full.out.splitlines())) > WIDTH  # the sources in full
    assert "…" in narrow.out and "…" not in full.out.split("declared technology")[0]
    assert run("accelerators", "-a", "nope").code == 2


def test_accelerators_fits_and_names_what_it_cut(run):
    r = run("accelerators")
    assert r.code == 0 and max(map(len, r.out.splitlines())) <= WIDTH
    assert "--wide" in r.out  # it says how to see the rest


def _commands(cmd, path):
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, [*path, name])
    yield " ".join(path), cmd


def test_every_option_has_help_text():
    missing = [f"{path} {p.opts[0]}" for path, cmd in _commands(cli, ["rtsa-dse"]) for p in cmd.params
               if isinstance(p, click.Option) and not p.help and p.name != "help"]  # fmt: skip
    assert not missing, missing


def test_init_writes_a_commented_spec_that_runs(run, tmp_path):
    spec = tmp_path / "mine.toml"
    r = run("init", spec, "-a", "rtsa", "-w", "deit-tiny")
    assert r.code == 0 and spec.exists(), r.err
    text = spec.read_text()
    assert text.count("\n#") >= 10 and 'study = "mine"' in text and "[space]" in text and "[constraints]" in text
    r = run("sweep", spec, "--trials", "20", "--results-dir", tmp_path / "r", "--no-figures")
    assert r.code == 0, r.err
    assert run("init", spec).code == 2  # an existing file is kept
    assert run("init", spec, "--force", "-a", "systolic", "-w", "deit-tiny").code == 0
    assert 'accelerator = "systolic"' in spec.read_text()
    r = run("init", tmp_path / "bad.toml", "-a", "abacus")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and not (tmp_path / "bad.toml").exists()


@pytest.mark.parametrize("acc", ["systolic", "windowed", "heatvit", "vitcod", "rtsa-split"])
def test_init_validates_for_every_accelerator(run, tmp_path, acc):
    from dse.search import load_spec

    r = run("init", tmp_path / f"{acc}.toml", "-a", acc, "-w", "deit-tiny")
    assert r.code == 0, r.err
    assert load_spec(tmp_path / f"{acc}.toml").searched


def test_init_for_a_platform_preset_keeps_it_and_can_be_feasible(run, tmp_path):
    """Regression (a fresh-user trial): ``init -a gpu:h100`` searched both GPUs, kept an area ≤ 10 mm² bound
    no GPU meets and asked 500 trials of a 12-design space. The preset is now fixed, a bound the default design
    cannot meet is left commented out, and a small finite space is a grid of its own size."""
    spec = tmp_path / "gpu.toml"
    r = run("init", spec, "-a", "gpu:h100", "-w", "deit-tiny")
    assert r.code == 0 and "gpu:h100" in r.out, r.err
    text = spec.read_text()
    assert 'platform = "h100"' in text and "\narea_mm2 = { max" not in text
    assert 'sampler = "grid"' in text and "trials = 6 " in text
    r = run("sweep", spec, "--results-dir", tmp_path / "r", "--no-figures")
    assert r.code == 0 and "0 feasible" not in r.out, r.out + r.err
