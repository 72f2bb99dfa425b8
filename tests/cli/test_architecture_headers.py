"""Architecture overrides (--depth, --dim, …) appear in the header line that names the workload and in the JSON of
``eval``, ``compare`` and ``breakdown``, so a saved output says which architecture was run."""

from __future__ import annotations

import pytest

from dse.commands.workload_options import workload_title


def test_workload_title_lists_the_overrides_given():
    assert workload_title("videomae-s", {}) == "videomae-s"
    assert workload_title("videomae-s", {"depth": 4, "mlp_ratio": 2.5, "attention": "divided"}) == (
        "videomae-s [depth=4 mlp_ratio=2.5 attention=divided]"
    )


def test_eval_header_and_json_name_the_overrides(run):
    r = run("eval", "-a", "gpu", "-w", "videomae-s", "--depth", "4", "--mlp-ratio", "2.5", "-r", "112")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].startswith("gpu:h100 on videomae-s [depth=4 mlp_ratio=2.5] 112x112")
    r = run("eval", "-a", "gpu", "-w", "videomae-s", "--depth", "4", "-r", "112", "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["architecture"] == {"depth": 4}
    plain = run("eval", "-a", "gpu", "-w", "videomae-s", "-r", "112")
    assert plain.out.splitlines()[0].startswith("gpu:h100 on videomae-s 112x112")
    assert run("eval", "-a", "gpu", "-w", "videomae-s", "-r", "112", "--format", "json").json()["architecture"] == {}


def test_eval_uncertainty_header_names_the_overrides(run):
    r = run("eval", "-a", "gpu", "-w", "videomae-s", "--heads", "3", "-r", "112", "--uncertainty", "4")
    assert r.code == 0, r.err
    assert "videomae-s [heads=3] 112x112" in r.out.splitlines()[0]


def test_compare_header_and_json_name_the_overrides(run):
    args = ("compare", "-w", "videomae-s", "--depth", "4", "--attention", "divided", "-r", "112",
            "--accelerators", "gpu:h100")  # fmt: skip
    r = run(*args)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "videomae-s [depth=4 attention=divided] 112x112 frames=16"
    r = run(*args, "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["architecture"] == {"depth": 4, "attention": "divided"}


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_breakdown_header_and_json_name_the_overrides(run, fmt):
    r = run("breakdown", "-a", "gpu", "-w", "videomae-s", "--dim", "192", "--heads", "3", "--resolutions", "112",
            "--format", fmt)  # fmt: skip
    assert r.code == 0, r.err
    if fmt == "json":
        assert r.json()["architecture"] == {"dim": 192, "heads": 3}
    else:
        assert r.out.splitlines()[0] == "gpu on videomae-s [dim=192 heads=3]: stage latency by resolution"
