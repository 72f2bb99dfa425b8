"""The record of a sweep: the spec copy and report.md name the command-line overrides; the summary splits
search time from writing time; output files are readable by the group and others (0644)."""

from __future__ import annotations

import stat

import pytest
from test_sweep_support import TOY_SPEC, write_spec

from dse.search import read_spec
from dse.search.spec import OVERRIDES_HEADER

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(autouse=True)
def _toy(toy):
    """Every test here runs with the toy accelerator registered."""


def test_spec_copy_and_report_record_the_overrides(run, tmp_path):
    text = TOY_SPEC.format(study="rec", sampler="nsga2", trials=200).replace('sampler = "nsga2"\n', "")
    text = text.replace("[workload]", '[sampler]\nname = "nsga2"\npopulation_size = 20\n\n[workload]')
    spec = write_spec(tmp_path, "rec", text=text)  # the sampler as a table, with an option
    r = run("sweep", spec, "--results-dir", tmp_path, "--trials", "30", "--sampler", "random", "--study", "rec2",
            "--seed", "7")  # fmt: skip
    assert r.code == 0, r.err
    out = tmp_path / "rec2"
    copy = (out / "spec.toml").read_text()
    assert copy.startswith(f"{OVERRIDES_HEADER} --study rec2 --trials 30 --sampler random --seed 7")
    again = read_spec(out / "spec.toml")  # the copy reads back as the spec that ran
    assert (again.study, again.trials, again.sampler, again.seed) == ("rec2", 30, "random", 7)
    assert again.identity() == read_spec(spec).identity()
    md = (out / "report.md").read_text()
    assert "| command-line overrides | --study rec2 --trials 30 --sampler random --seed 7 |" in md
    # without overrides the copy is the spec as written
    r = run("sweep", spec, "--results-dir", tmp_path, "--trials", "200", "--no-figures")
    assert r.code == 0 and (tmp_path / "rec" / "spec.toml").read_text() == spec.read_text()


def test_summary_splits_search_from_writing(run, tmp_path):
    r = run("sweep", write_spec(tmp_path, "time", trials=40), "--results-dir", tmp_path)
    assert r.code == 0, r.err
    wall = next(line for line in r.out.splitlines() if line.startswith("wall "))
    assert ": search " in wall and ", writing " in wall
    search = float(wall.split(": search ")[1].split(" s")[0])
    writing = float(wall.split(", writing ")[1].split(" s")[0])
    total = float(wall.split()[1])
    assert 0 < search and 0 < writing and search + writing <= total + 0.05


def test_outputs_are_readable_by_the_group(run, tmp_path):
    old = __import__("os").umask(0o077)  # a strict umask must not make the tables private
    try:
        r = run("sweep", write_spec(tmp_path, "mode", trials=30), "--results-dir", tmp_path)
    finally:
        __import__("os").umask(old)
    assert r.code == 0, r.err
    out = tmp_path / "mode"
    files = [out / n for n in ("trials.csv", "pareto.csv", "spec.toml", "report.md", "pareto.png")]
    files += sorted((out / "figures").glob("*.png"))
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f
