"""The example plugin (examples/rtsa-scratchpad) end to end, in fresh processes: installed (entry point
``rtsa_dse.accelerators``) and loaded with ``--plugin FILE.py``; each runs accelerators, eval, a small
NSGA-II sweep, report and export. The ``--plugin`` study is read back without ``--plugin``: the study
records its plugin file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rtsa-scratchpad"
PLUGIN_FILE = EXAMPLE / "rtsa_scratchpad.py"
NAME = "rtsa-spad"

SPEC = """
study = "spad"
accelerator = "rtsa-spad"
sampler = {{ name = "nsga2", population_size = 6 }}
trials = 12
seed = 1
results_dir = "{results}"
baselines = ["rtsa"]

[workload]
model = "deit-tiny"

[objectives]
energy_j = "minimize"
area_mm2 = "minimize"

[space]
spad_kib = [0.5, 1, 2, 4, 8]
rows = [8, 16]
"""

pytestmark = pytest.mark.slow


#: runs several command lines through the CLI's ``main`` in one fresh interpreter (one import, not one per
#: command); each command's stdout follows a marker line; stops at the first non-zero exit code
DRIVER = """
import json, sys
from dse.cli import main
for args in json.loads(sys.argv[1]):
    print("@@@ command", flush=True)
    code = main(args)
    sys.stdout.flush()
    if code:
        sys.exit(code)
"""


def cli(tmp_path: Path, *commands: list[str], pythonpath: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    """Each of ``commands`` (``rtsa-dse`` argument lists) in one fresh interpreter (cwd ``tmp_path``), with
    ``pythonpath`` before the checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (*pythonpath, ROOT))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps([[str(a) for a in c] for c in commands])],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def ok(r: subprocess.CompletedProcess) -> list[str]:
    """The commands' outputs, one string each."""
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.split("@@@ command\n")[1:]


def run_all(tmp_path: Path, pre: list[str], origin: str, pythonpath: tuple[Path, ...] = ()) -> Path:
    """accelerators, eval and a sweep with the plugin (``pre``: global options); returns the results directory."""
    spec = tmp_path / "spad.toml"
    spec.write_text(SPEC.format(results=(tmp_path / "results").as_posix()), encoding="utf-8")
    listed, ev, out = ok(
        cli(
            tmp_path,
            [*pre, "accelerators", "--format", "json"],
            [*pre, "eval", "-a", NAME, "-w", "deit-tiny", "--format", "json"],
            [*pre, "sweep", spec, "--no-figures"],
            pythonpath=pythonpath,
        )
    )
    listed, ev = json.loads(listed), json.loads(ev)
    assert listed[NAME]["origin"] == origin and listed["rtsa"]["origin"] == "built-in"
    assert "spad_kib" in [p["param"] for p in listed[NAME]["params"]]
    assert ev["accelerator"] == NAME
    assert ev["breakdown"]["area_mm2"]["scratchpad"] > 0
    assert ev["energy_j"] == pytest.approx(sum(ev["breakdown"]["energy_j"].values()), rel=1e-9)
    assert "12 trials complete of 12" in out
    return tmp_path / "results" / "spad"


def read_back(tmp_path: Path, results: Path, pythonpath: tuple[Path, ...] = ()) -> None:
    """report and export of the study, in a fresh interpreter, without --plugin."""
    report, _ = ok(
        cli(tmp_path, ["report", results], ["export", results, "-o", tmp_path / "export"], pythonpath=pythonpath)
    )
    assert (results / "report.md").is_file() and "report.md" in report
    assert NAME in (results / "report.md").read_text(encoding="utf-8")
    trials = pd.read_csv(tmp_path / "export" / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 12
    assert set(trials["spad_kib"]) <= {0.5, 1, 2, 4, 8}


def test_installed_plugin_runs_through_every_command(tmp_path):
    src, site = tmp_path / "src", tmp_path / "site"
    shutil.copytree(EXAMPLE, src)  # pip builds in the source tree: keep the checkout clean
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(site),
         str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-2000:]
    assert list(site.glob("rtsa_scratchpad-*.dist-info/entry_points.txt"))

    results = run_all(tmp_path, [], "entry point rtsa-spad (rtsa-scratchpad 0.1.0)", pythonpath=(site,))
    read_back(tmp_path, results, pythonpath=(site,))
    # without the package the accelerator is gone, and the error says how to bring it back
    r = cli(tmp_path, ["eval", "-a", NAME, "-w", "deit-tiny"])
    assert r.returncode == 2 and "--plugin" in r.stderr and "Traceback" not in r.stderr


def test_plugin_file_runs_through_every_command(tmp_path):
    results = run_all(tmp_path, ["--plugin", PLUGIN_FILE], f"plugin {PLUGIN_FILE.resolve()}")
    # the study recorded the file: report and export load it again without --plugin
    assert str(PLUGIN_FILE.resolve()) in (results / "study.journal").read_text(encoding="utf-8")
    read_back(tmp_path, results)


def test_the_readme_examples_work(tmp_path):
    """The accelerator and the sampler of the README's "Extending rtsa-dse" section, as plugin files."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    acc, sampler = re.findall(r"```python\n(.*?)```", text[text.index("## Extending rtsa-dse") :], re.S)[:2]
    (tmp_path / "my_array.py").write_text(acc, encoding="utf-8")
    (tmp_path / "tpe_batch.py").write_text(sampler, encoding="utf-8")
    spec = tmp_path / "mine.toml"
    spec.write_text(
        'study = "mine"\naccelerator = "my-array"\nsampler = { name = "tpe-batch", batch = 4 }\ntrials = 8\n'
        '[workload]\nmodel = "deit-tiny"\n[objectives]\nlatency_s = "minimize"\n'
        "[space]\nattn_pruned = [0.0, 0.5, 0.9]\nglb_kib = [32, 512]\n",
        encoding="utf-8",
    )
    pre = ["--plugin", tmp_path / "my_array.py", "--plugin", tmp_path / "tpe_batch.py"]
    small, big, out = ok(
        cli(
            tmp_path,
            [*pre, "eval", "-a", "my-array", "-w", "deit-tiny", "--set", "glb_kib=32", "--format", "json"],
            [*pre, "eval", "-a", "my-array", "-w", "deit-tiny", "--format", "json"],
            [*pre, "sweep", spec, "--no-figures"],
        )
    )
    assert json.loads(small)["metrics"]["valid"] == 0 and json.loads(big)["metrics"]["valid"] == 1
    assert "8 trials complete of 8" in out and "sampler tpe-batch" in out
