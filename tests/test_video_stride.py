"""profile-video at the gap a model sees: --stride, its default from --workload, and the spec knob's stride."""

from __future__ import annotations

import av
import numpy as np
import pytest

from dse.errors import InputError
from dse.video import delta_sparsity, measure_delta_sparsity


@pytest.fixture(scope="module")
def alternating(tmp_path_factory):
    """A lossless clip whose frames alternate between two random images: A B A B …"""
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2))
    path = tmp_path_factory.mktemp("clips") / "ab.mkv"
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.height = s.width = 64
        s.pix_fmt = "bgr0"
        for i in range(24):
            for pkt in s.encode(av.VideoFrame.from_ndarray(a if i % 2 == 0 else b, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return str(path)


def test_stride_compares_frames_that_far_apart(alternating):
    one = measure_delta_sparsity([alternating], [64], thresholds=[4.0], max_frames=16, stride=1)
    two = measure_delta_sparsity([alternating], [64], thresholds=[4.0], max_frames=16, stride=2)
    assert float(one["element_sparsity"].iloc[0]) < 0.2 and float(two["element_sparsity"].iloc[0]) == 1.0
    assert list(two["stride"]) == [2] and list(two["frames"]) == [17]  # max_frames + stride − 1 decoded
    with pytest.raises(InputError, match="stride"):
        measure_delta_sparsity([alternating], [64], max_frames=16, stride=0)
    with pytest.raises(InputError, match="a stride of 30 frames"):
        measure_delta_sparsity([alternating], [64], max_frames=None, stride=30)


def test_real_clip_sparsity_falls_with_the_gap():
    """facts: consecutive-frame deltas of the shipped clips are mostly near zero; at VideoMAE's gap far fewer."""
    near, far = (float(delta_sparsity(112, clip="bikes", stride=s, max_frames=24)) for s in (1, 8))
    assert 0 < far < near < 1


def test_cli_stride_defaults_to_the_workloads_gap(run, alternating):
    r = run("profile-video", alternating, "-r", "64", "-w", "videomae-b", "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["stride"] == 8 and r.json()["patch"] == 16  # tubelet 2 × sampling interval 4
    r = run("profile-video", alternating, "-r", "64", "-w", "timesformer-b", "--stride", "2", "--format", "json")
    assert r.json()["stride"] == 2 and r.json()["rows"][0]["element_sparsity"] == 1.0
    r = run("profile-video", alternating, "-r", "64", "--format", "json")
    assert r.json()["stride"] == 1
