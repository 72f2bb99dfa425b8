"""Workload zoo: MAC counts against published numbers, token counts, vectorization, errors."""

from __future__ import annotations

import numpy as np
import pytest

from dse.errors import InputError
from dse.workloads import SPECS, build

# Published GMACs per view at the default input [src:mmpretrain] [src:mmaction2] [src:vivit2021] [src:videoswin-zoo].
PUBLISHED_GMACS = {
    "deit-tiny": 1.26,  # mmpretrain deit-tiny_4xb256_in1k: 1.26 GFLOPs (=MACs)
    "deit-small": 4.61,  # mmpretrain deit-small: 4.61
    "deit-base": 17.58,  # mmpretrain deit-base: 17.58
    "vit-base": 17.58,  # mmpretrain vit-base-p16 224: 17.58
    "timesformer-b": 196,  # mmaction2 TimeSformer divST 8x32x1: 196 G (paper's 0.59 T is 3 crops)
    "timesformer-b-joint": 180,  # mmaction2 TimeSformer jointST: 180 G
    "timesformer-b-space": 141,  # mmaction2 TimeSformer spaceOnly: 141 G
    "videomae-s": 57,  # mmaction2 VideoMAE ViT-S 16x4x1: 57 G ([R] [src:mmaction2])
    "videomae-b": 180,  # mmaction2 VideoMAE ViT-B 16x4x1: 180 G
    "videomae-l": 597,  # mmaction2 VideoMAE ViT-L 16x4x1: 597 G
    "vivit-b-m1": 455.2,  # ViViT paper (Arnab et al. 2021) model 1, B/16x2 ([R])
    "vivit-b-m2": 284.4,  # ViViT paper model 2 ([R])
    "vivit-b-m3": 372.3,  # ViViT paper model 3 ([R])
    "vivit-b-m4": 277.1,  # ViViT paper model 4 ([R])
    "video-swin-t": 87.9,  # Video-Swin repo model zoo, Swin-T K400 32x224: 88 G
    "video-swin-s": 165.9,  # Video-Swin repo, Swin-S: 166 G
    "video-swin-b": 281.6,  # Video-Swin repo, Swin-B: 282 G
}


@pytest.mark.parametrize("model,gmacs", sorted(PUBLISHED_GMACS.items()))
def test_macs_match_published_within_1pct(model, gmacs):
    wl = build(model)
    assert abs(wl.macs / 1e9 / gmacs - 1) < 0.01


def test_every_model_with_a_published_count_is_tested():
    published = {n for n, s in SPECS.items() if s.published_gmacs is not None}
    assert published <= set(PUBLISHED_GMACS)


@pytest.mark.parametrize(
    "model,res,frames,tokens",
    [
        ("deit-tiny", 224, None, 197),
        ("deit-tiny", 112, None, 50),
        ("videomae-b", 224, 16, 1568),
        ("videomae-b", 448, 8, 3136),
        ("timesformer-b", 224, 8, 1569),
        ("vivit-b-m1", 224, 32, 3137),
        ("vivit-b-m3", 224, 32, 3136),
        ("video-swin-t", 224, 32, 16 * 56 * 56),
    ],
)
def test_token_counts(model, res, frames, tokens):
    assert int(build(model, res, frames).tokens) == tokens


def test_token_counts_match_measured_file_rows():
    """The measured CPU/GPU files list tokens per (model, res, frames): same numbers here."""
    for res, frames, tok in [(112, 8, 196), (160, 16, 800), (336, 16, 3528)]:
        assert int(build("videomae-b", res, frames).tokens) == tok


@pytest.mark.parametrize("model", ["deit-small", "videomae-b", "vivit-b-m1", "timesformer-b-joint"])
def test_attention_share_rises_with_resolution(model):
    res = np.array([112, 160, 224, 320, 448])
    wl = build(model, res)
    share = wl.attention_macs / wl.macs
    assert np.all(np.diff(share) > 0)


def test_vectorized_equals_pointwise():
    res = np.array([112, 224, 336, 448])
    frames = np.array([8, 16, 8, 16])
    wl = build("videomae-b", res, frames)
    for i in range(4):
        one = build("videomae-b", int(res[i]), int(frames[i]))
        assert wl.macs[i] == one.macs
        for op_v, op_1 in zip(wl.ops, one.ops, strict=False):
            assert np.broadcast_to(op_v.macs, res.shape)[i] == op_1.macs
            assert np.broadcast_to(op_v.in_elems, res.shape)[i] == op_1.in_elems


def test_rectangular_and_overrides():
    wl = build("deit-tiny", (224, 320))
    assert int(wl.tokens) == 14 * 20 + 1
    deeper = build("deit-tiny", depth=24)
    assert abs(deeper.linear_macs / build("deit-tiny").linear_macs - 2) < 1e-9
    assert int(build("videomae-b", tubelet=4).tokens) == 4 * 196


def test_stage_macs_add_up():
    for name in SPECS:
        wl = build(name)
        assert wl.total("macs", "linear") + wl.attention_macs + wl.total("macs", "other") == wl.macs


def test_unique_blocks_have_repeat_counts():
    wl = build("deit-tiny")
    qkv = [op for op in wl.ops if op.name == "qkv"]
    assert len(qkv) == 1 and qkv[0].repeat == 12


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(model="nope"), "model"),
        (dict(model="deit-tiny", resolution=225), "resolution"),
        (dict(model="videomae-b", frames=7), "frames"),
        (dict(model="videomae-b", frames=0), "frames"),
        (dict(model="videomae-b", resolution=-16), "resolution"),
        (dict(model="deit-tiny", frames=4), "frames"),
        (dict(model="deit-tiny", heads=5), "heads"),
        (dict(model="deit-tiny", depth=0), "depth"),
        (dict(model="video-swin-t", window=0), "window"),
        (dict(model="deit-tiny", mlp_ratio=0.001), "mlp_ratio"),  # hidden width 0: NaN results before
        (dict(model="video-swin-t", mlp_ratio=0.001), "mlp_ratio"),
        (dict(model="deit-tiny", mlp_ratio=float("inf")), "mlp_ratio"),  # an overflow traceback before
        (dict(model="deit-tiny", mlp_ratio=1e30), "mlp_ratio"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(InputError) as err:
        build(**kwargs)
    assert err.value.field == field


def test_cli_json_totals(run):
    for model, gmacs in [("deit-tiny", 1.26), ("videomae-b", 180), ("timesformer-b", 196),
                         ("video-swin-t", 87.9), ("vivit-b-m2", 284.4)]:  # fmt: skip
        r = run("workloads", "show", model, "--format", "json")
        assert r.code == 0
        d = r.json()
        assert {"model", "resolution", "frames", "tokens", "macs", "linear_macs", "attention_macs", "ops"} <= set(d)
        assert abs(d["macs"] / 1e9 / gmacs - 1) < 0.01


def test_cli_list_and_table_and_csv(run):
    r = run("workloads")
    assert r.code == 0 and "video-swin-b" in r.out
    r = run("workloads", "show", "videomae-b", "--resolution", "112", "--frames", "8")
    assert r.code == 0 and "tokens=196" in r.out
    r = run("workloads", "show", "deit-tiny", "--format", "csv")
    assert r.code == 0 and r.out.splitlines()[0].startswith("block,op,kind,stage")


@pytest.mark.parametrize(
    "args,word",
    [
        (["no-such-model"], "deit-tiny"),
        (["deit-tiny", "--resolution", "225"], "resolution"),
        (["videomae-b", "--frames", "7"], "frames"),
        (["videomae-b", "--frames", "0"], "frames"),
        (["videomae-b", "--resolution", "0"], "resolution"),
        (["videomae-b", "--resolution", "abc"], "resolution"),
        (["videomae-b", "--format", "xml"], "format"),
    ],
)
def test_cli_errors_one_line_exit_2(run, args, word):
    r = run("workloads", "show", *args)
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 1 and word in r.err and "Traceback" not in r.err


def test_mlp_hidden_width_rounds_alike_in_every_family():
    """The hidden width is dim × mlp_ratio rounded in the isotropic and the Swin builders alike (a ratio read
    back from a graph, 1000/384, gives 1000 and not 999)."""
    for model, dim in (("deit-small", 384), ("video-swin-t", 96)):
        ratio = 1000 / 384 if dim == 384 else 250 / 96
        fc1 = next(o for o in build(model, mlp_ratio=ratio).ops if o.name == "fc1")
        assert fc1.n == (1000 if dim == 384 else 250)
