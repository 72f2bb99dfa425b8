"""Custom workloads everywhere: architecture options, model files, sparsity tables on eval, breakdown, compare
and in sweep specs, and the commands that read a study (report, pareto, export) on such studies."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from dse import accelerators
from dse.search.spec import read_spec
from dse.workloads import build

MODEL = 'name = "videomae-s-8"\nbase = "videomae-s"\ndepth = 8\nframes = 8\n'
TABLE = "layer,resolution,sub_len,keep,delta_sparsity\n" + "".join(
    f"attention,{r},{L},{k},\n" for r in (112, 160) for L, k in ((4, 0.15), (16, 0.3), (64, 0.5))
) + "qkv,112,,,0.6\nqkv,160,,,0.5\n"  # fmt: skip


def test_eval_takes_the_architecture_options(run):
    r = run("eval", "-a", "rtsa", "-w", "videomae-s", "--depth", "8", "--dim", "384", "--heads", "6", "-f", "8",
            "-r", "192", "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    ev = accelerators.get("rtsa").evaluate(build("videomae-s", 192, 8, depth=8, dim=384, heads=6))
    assert r.json()["latency_s"] == pytest.approx(float(ev["latency_s"]))
    r = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--attention", "divided")
    assert r.code == 2 and r.err.startswith("error: attention:") and len(r.err.strip().splitlines()) == 1


def test_breakdown_and_compare_take_model_files_and_options(run, tmp_path):
    model = tmp_path / "mae8.toml"
    model.write_text(MODEL)
    r = run("breakdown", "-w", model, "--resolutions", "112,160", "--format", "json")
    assert r.code == 0, r.err
    rows = r.json()["rows"]
    assert [x["resolution"] for x in rows] == [112, 160] and r.json()["workload"] == str(model)
    r = run("compare", "-w", "videomae-s", "--depth", "4", "--attention", "divided", "-r", "112", "--format", "json")
    assert r.code == 0, r.err
    names = {x["accelerator"] for x in r.json()["rows"]}
    assert "rtsa" in names and len(names) > 2


def test_breakdown_sub_len_shows_the_granularity_trade_off(run, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(TABLE)
    plain = run("breakdown", "-w", "videomae-s", "--resolutions", "112,160", "--sub-len", "1,4,16,64", "--format",
                "csv")  # fmt: skip
    assert plain.code == 0, plain.err
    df = pd.read_csv(__import__("io").StringIO(plain.out))
    assert len(df) == 8 and set(df["sub_len"]) == {1, 4, 16, 64}
    assert np.allclose(df["attention_keep"], 0.1)  # the knob: 1 - sparsity_attention at every length
    r = run("breakdown", "-w", "videomae-s", "--resolutions", "112,160", "--sub-len", "4,16,64", "--sparsity", table,
            "--format", "csv")  # fmt: skip
    assert r.code == 0, r.err
    df = pd.read_csv(__import__("io").StringIO(r.out))
    np.testing.assert_allclose(df["attention_keep"], [0.15, 0.3, 0.5] * 2)
    assert df.groupby("resolution")["attention_ms"].apply(lambda s: s.is_monotonic_increasing).all()
    bad = run("breakdown", "-w", "videomae-s", "--sub-len", "4", "--set", "sub_len=8")
    assert bad.code == 2 and "--sub-len" in bad.err
    bad = run("breakdown", "-a", "systolic", "-w", "videomae-s", "--sub-len", "4")
    assert bad.code == 2 and "no sub_len parameter" in bad.err


def test_eval_sparsity_table_and_its_errors(run, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(TABLE)
    a = run("eval", "-a", "rtsa", "-w", "videomae-s", "-r", "112", "--sparsity", table, "--format", "json").json()
    b = run("eval", "-a", "rtsa", "-w", "videomae-s", "-r", "112", "--format", "json").json()
    assert a["latency_s"] > b["latency_s"]  # measured keep 0.3 at L = 16 instead of the 0.1 knob
    bad = tmp_path / "bad.csv"
    bad.write_text("layer,resolution,delta_sparsity\nblock.0.qkvv,112,0.5\n")
    r = run("eval", "-a", "rtsa", "-w", "videomae-s", "--sparsity", bad)
    assert r.code == 2 and "bad.csv row 2" in r.err and "block.0.qkvv" in r.err
    # the note says who reads the table (a fresh-user trial: ViTCoD was told its knob "apply only to the ops it
    # leaves out", though it reads no table)
    text = run("eval", "-a", "vitcod", "-w", "videomae-s", "-r", "112", "--sparsity", table).out.replace("\n  ", " ")
    assert "vitcod does not read the sparsity table" in text
    text = run("eval", "-a", "rtsa", "-w", "videomae-s", "-r", "112", "--sparsity", table).out.replace("\n  ", " ")
    assert "sparsity_linear and sparsity_attention apply only to the ops it leaves out" in text


SPEC = """
study = "custom"
accelerator = "rtsa"
sampler = "random"
trials = 24
seed = 1
baselines = ["gpu"]

[workload]
model = "{model}"
{extra}

[objectives]
latency_s = "minimize"
energy_j = "minimize"

[space]
rows = [8, 16]
cols = {{ low = 4, high = 32, step = 4 }}
{space}
"""


def test_spec_with_architecture_overrides_runs_sweep_report_and_export(run, tmp_path):
    """Acceptance: `[workload]` architecture overrides through sweep, report and export."""
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.format(model="videomae-s", extra="depth = 6\nheads = 4\ndim = 256\nresolution = 112",
                                space=""))  # fmt: skip
    out = tmp_path / "res"
    r = run("sweep", spec, "--results-dir", out, "--no-figures")
    assert r.code == 0, r.err
    trials = pd.read_csv(out / "custom" / "trials.csv")
    ev = accelerators.get("rtsa").evaluate(
        build("videomae-s", 112, depth=6, heads=4, dim=256),
        {"rows": trials["rows"].to_numpy(), "cols": trials["cols"].to_numpy()},
    )
    np.testing.assert_allclose(trials["latency_s"], ev["latency_s"])
    r = run("report", out / "custom")
    assert r.code == 0, r.err
    assert "videomae-s" in (out / "custom" / "report.md").read_text()
    r = run("export", out / "custom", "-o", tmp_path / "all.csv")
    assert r.code == 0, r.err and (tmp_path / "all.csv").is_file()


def test_spec_with_model_file_sparsity_table_and_per_resolution_video_knob(run, tmp_path):
    src = tmp_path / "project"
    (src / "models").mkdir(parents=True)
    (src / "models" / "mae8.toml").write_text(MODEL)
    (src / "sparsity.csv").write_text(TABLE)
    spec = src / "s.toml"
    spec.write_text(SPEC.format(model="models/mae8.toml", extra='sparsity = "sparsity.csv"\nresolutions = [112, 160]',
                                space='sparsity_linear = { video = "bikes", max_frames = 16 }'))  # fmt: skip
    parsed = read_spec(spec)
    knob = next(d for d in parsed.space if d.name == "sparsity_linear")
    assert len(knob.per_point) == 2 and knob.per_point[0] != knob.per_point[1]
    out = tmp_path / "res"
    r = run("sweep", spec, "--results-dir", out, "--no-figures")
    assert r.code == 0, r.err
    assert (out / "custom" / "inputs" / "mae8.toml").is_file() and (
        out / "custom" / "inputs" / "sparsity.csv"
    ).is_file()
    shutil.rmtree(src)  # the study stays readable without the spec's folder
    r = run("pareto", out / "custom")
    assert r.code == 0, r.err
    r = run("report", out / "custom")
    assert r.code == 0, r.err
    assert "videomae-s-8" in (out / "custom" / "report.md").read_text()


@pytest.mark.parametrize(
    ("extra", "model", "words"),
    [
        ("depht = 3", "videomae-s", "workload.depht: unknown key"),
        ('sparsity = "none.csv"', "videomae-s", "workload.sparsity: file not found"),
        ("heads = 5", "videomae-s", "workload.heads: must divide"),
        ('attention = "axial"', "videomae-s", "workload.attention: unknown value 'axial'"),
        ("", "missing.toml", "workload.model: file not found"),
    ],
)
def test_spec_workload_errors_are_one_line(run, tmp_path, extra, model, words):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.format(model=model, extra=extra, space=""))
    r = run("sweep", spec, "--results-dir", tmp_path / "res")
    assert r.code == 2 and words in r.err and len(r.err.strip().splitlines()) == 1


def test_spec_with_an_onnx_graph_fixed_at_its_size(run, tmp_path):
    """`model = "x.onnx"` (static axes: only its own size runs) through sweep and report; no overrides."""
    from onnx_graphs import transformer_graph

    transformer_graph(tmp_path / "mine.onnx", dim=64, depth=2, heads=2, resolution=64, frames=8, tubelet=2,
                      cls=False, num_classes=10)  # fmt: skip
    (tmp_path / "t.csv").write_text("layer,resolution,delta_sparsity\nblock.qkv,64,0.4\nfc1,64,0.5\n")
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.format(model="mine.onnx", extra='sparsity = "t.csv"', space=""))
    r = run("sweep", spec, "--results-dir", tmp_path / "res")
    assert r.code == 0, r.err
    report = (tmp_path / "res" / "custom" / "report.md").read_text()
    assert "mine, 8×64²" in report
    spec.write_text(SPEC.format(model="mine.onnx", extra="depth = 4", space=""))
    r = run("sweep", spec, "--results-dir", tmp_path / "res2")
    assert r.code == 2 and "ONNX" in r.err


def test_a_mix_evaluates_each_resolution_at_its_own_measured_delta_sparsity(tmp_path):
    from dse.search.spec import load_spec

    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.format(model="videomae-s", extra="resolutions = [112, 224]",
                                space='sparsity_linear = { video = "bikes", max_frames = 16 }'))  # fmt: skip
    problem = load_spec(spec)
    knob = problem.spec.dimension("sparsity_linear")
    batch = problem.evaluate({"rows": np.array([16]), "cols": np.array([16])})
    rtsa = accelerators.get("rtsa")
    for r, s in zip((112, 224), knob.per_point, strict=True):
        ev = rtsa.evaluate(build("videomae-s", r), {"rows": 16, "cols": 16, "sparsity_linear": s})
        assert float(batch.metrics[f"latency_s@{r}"][0]) == pytest.approx(float(ev["latency_s"]))


def test_eval_csv_names_the_architecture_options(run):
    """Regression (a fresh-user trial): a CSV row of --depth 4 could not be told from one of the full model."""
    import io

    import pandas as pd

    row = pd.read_csv(io.StringIO(run("eval", "-a", "rtsa", "-w", "videomae-s", "--depth", "4", "--format", "csv").out))
    assert row.loc[0, "arch_depth"] == 4 and row.loc[0, "workload"] == "videomae-s"
