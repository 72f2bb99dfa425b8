"""profile-model: the mechanics on random-weight ONNX models and real or synthetic clips."""

from __future__ import annotations

import av
import numpy as np
import pandas as pd
import pytest
from onnx_graphs import transformer_graph

from dse.errors import InputError
from dse.profile_model import attention_keep, profile_model
from dse.sparsity.table import read_table

pytest.importorskip("onnxruntime")


def _clip(path, frames: list[np.ndarray]) -> str:
    """A lossless (FFV1) clip of the given RGB frames."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = "bgr0"
        for f in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("profile")
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    q = np.arange(16)
    mask = np.where((q[:, None] < 8) == (q[None, :] < 8), 0.0, -1e4)  # two 8-query halves see only themselves
    return {
        "video": transformer_graph(
            d / "vid.onnx",
            dim=32,
            depth=2,
            heads=2,
            resolution=64,
            frames=8,
            tubelet=2,
            cls=False,
            num_classes=10,
            dynamic=True,
        ),  # fmt: skip
        "ntchw": transformer_graph(
            d / "ntchw.onnx",
            dim=32,
            depth=1,
            heads=2,
            resolution=64,
            frames=4,
            tubelet=2,
            cls=False,
            num_classes=10,
            input_layout="ntchw",
            pos_embed=False,
        ),  # fmt: skip
        "image": transformer_graph(d / "img.onnx", dim=32, depth=2, heads=2, resolution=64, num_classes=10),
        "masked": transformer_graph(
            d / "masked.onnx",
            dim=32,
            depth=1,
            heads=2,
            resolution=64,
            num_classes=10,
            cls=False,
            zero_qk=True,
            mask=mask,
        ),  # fmt: skip
        "static": _clip(d / "static.mkv", [img] * 20),
        "dir": d,
    }


def test_a_static_clip_gives_delta_sparsity_one(models):
    for name in ("video", "ntchw", "image"):
        df = profile_model(str(models[name]), [models["static"]], thresholds=[0.5], sub_lens=[4], max_samples=2)
        delta = df.dropna(subset=["delta_sparsity"])
        assert len(delta) >= 5 and np.allclose(delta["delta_sparsity"], 1.0), name
        assert set(delta["layer"]) >= {"embed.0.patch_embed", "block.0.qkv", "block.0.fc2"}


def test_a_known_attention_mask_gives_its_keep_share(models):
    """Zero Q/K weights: uniform attention within each half; sub-vectors inside a half are kept, the others
    (zero mass) pruned — keep 0.5 while L divides the half, 1.0 once a sub-vector spans both halves."""
    df = profile_model(str(models["masked"]), ["bikes"], sub_lens=[1, 4, 8, 16], max_samples=1)
    att = df.dropna(subset=["keep"]).set_index("sub_len")
    assert list(att["layer"].unique()) == ["block.0.attn"]
    np.testing.assert_allclose(att.loc[[1, 4, 8], "keep"], 0.5)
    assert att.loc[16, "keep"] == 1.0 and np.allclose(att["mass_lost"], 0.0, atol=1e-6)


def test_attention_keep_counts_mass_against_uniform():
    a = np.full((1, 4, 4), 0.25)
    a[0, :2] = [[0.97, 0.01, 0.01, 0.01]] * 2  # queries 0-1 attend to key 0 only
    keep = attention_keep(a, [2], threshold=0.5)  # a pruned sub-vector holds < 0.5 × 2/4 of mass
    assert keep[2][0] == pytest.approx(5 / 8)  # of 8 sub-vectors, the three near-zero ones of queries 0-1 go
    assert keep[2][1] == pytest.approx(0.06 / 4)


def test_real_clip_distributions_and_a_table_that_eval_accepts(run, models, tmp_path):
    """Acceptance: profile-model on a random-weight model and a shipped clip writes a table eval accepts."""
    out = tmp_path / "vid.csv"
    r = run("profile-model", models["video"], "--video", "bikes", "-r", "64", "96", "-f", "8", "--stride", "2",
            "--sub-len", "1", "4", "--max-samples", "2", "-o", out)  # fmt: skip
    assert r.code == 0, r.err
    assert "wrote" in r.out and out.is_file()
    df = pd.read_csv(out)
    assert set(df["resolution"]) == {64, 96}
    d = df.dropna(subset=["delta_sparsity"])
    assert ((d["delta_p10"] <= d["delta_p90"]) & (d["delta_sparsity"] >= 0) & (d["delta_sparsity"] <= 1)).all()
    assert read_table(out).threshold == 4.0
    ev = run("eval", "-a", "rtsa", "-w", models["video"], "-r", "80", "-f", "8", "--sparsity", out, "--format", "json")
    assert ev.code == 0, ev.err
    plain = run("eval", "-a", "rtsa", "-w", models["video"], "-r", "80", "-f", "8", "--format", "json")
    assert ev.json()["latency_s"] != plain.json()["latency_s"]


def test_several_thresholds_write_one_table_each(run, models, tmp_path):
    out = tmp_path / "img.csv"
    r = run("profile-model", models["image"], "--video", "bikes", "-t", "2", "8", "--sub-len", "4",
            "--max-samples", "2", "-o", out)  # fmt: skip
    assert r.code == 0, r.err
    low, high = (read_table(tmp_path / f"img-t{t}.csv") for t in (2, 8))
    assert (low.threshold, high.threshold) == (2.0, 8.0)
    lo = {x.layer: x.value for x in low.rows if x.kind == "delta"}
    hi = {x.layer: x.value for x in high.rows if x.kind == "delta"}
    assert all(hi[k] >= lo[k] for k in lo)  # a higher threshold skips at least as many deltas


def test_errors_are_one_line(run, models):
    r = run("profile-model", models["video"], "--video", "no-such-clip.mp4")
    assert r.code == 2 and "no-such-clip" in r.err and len(r.err.strip().splitlines()) == 1
    r = run("profile-model", "model.toml", "--video", "bikes")
    assert r.code == 2 and "ONNX" in r.err
    with pytest.raises(InputError, match="--stride"):
        profile_model(str(models["video"]), ["bikes"], stride=0)
    with pytest.raises(InputError, match="a window of 16 frames at stride 64"):
        profile_model(str(models["video"]), [models["static"]], stride=64)
