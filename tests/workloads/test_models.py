"""Models outside the zoo: model files (a new family member), architecture overrides, attention types."""

from __future__ import annotations

import numpy as np
import pytest

from dse.errors import InputError
from dse.workloads import build, get_spec
from dse.workloads.models import load_model, resolve_path
from dse.workloads.zoo import ATTENTION_TYPES, SPECS, attention_type


def _write(tmp_path, text: str, name: str = "model.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_model_file_from_a_zoo_base_equals_the_overrides(tmp_path):
    p = _write(tmp_path, 'name = "videomae-s-8"\nbase = "videomae-s"\ndepth = 8\nframes = 8\n')
    wl = build(str(p), 192)
    ref = build("videomae-s", 192, 8, depth=8)
    np.testing.assert_array_equal(wl.macs, ref.macs)
    assert wl.model == "videomae-s-8" and wl.spec.frame_interval == 4  # inherited from the base
    # command-line overrides apply on top of the file
    assert int(build(str(p), 192, heads=4, dim=256).macs) == int(build("videomae-s", 192, 8, depth=8, heads=4,
                                                                      dim=256).macs)  # fmt: skip


def test_model_file_from_a_family(tmp_path):
    p = _write(tmp_path, 'name = "tiny-tsf"\nfamily = "timesformer"\ndim = 96\ndepth = 4\nheads = 4\nframes = 8\n'
               'attention = "divided"\nframe_interval = 16\nnum_classes = 400\n')  # fmt: skip
    spec = get_spec(str(p))
    assert (spec.family, spec.variant, spec.frame_interval, spec.depth) == ("timesformer", "divided", 16, 4)
    assert int(build(str(p)).macs) == int(build("timesformer-b", depth=4, dim=96, heads=4).macs)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('name = "x"\nbase = "deit-tiny"\ndepht = 3\n', "depht", "unknown key"),
        # a fresh-user trial: a zoo name on another model, and a field the model does not read, passed silently
        ('name = "deit-tiny"\nbase = "videomae-s"\n', "name", "zoo model's name"),
        ('name = "x"\nbase = "deit-tiny"\ntemporal_depth = 4\n', "temporal_depth", "model 2"),
        ('name = "x"\nbase = "videomae-s"\nwindow = 7\n', "window", "no window attention"),
        ('base = "deit-tiny"\n', "name", "missing"),
        ('name = "x"\nbase = "deit-tiny"\nfamily = "vit"\n', "base", "exactly one"),
        ('name = "x"\nbase = "no-such"\n', "base", "unknown value"),
        ('name = "x"\nfamily = "vit"\ndim = 64\n', "depth", "missing"),
        ('name = "x"\nbase = "deit-tiny"\nheads = 5\n', "heads", "must divide"),
        ('name = "x"\nbase = "deit-tiny"\ndepth = 0\n', "depth", "positive integer"),
        ('name = "x"\nbase = "deit-tiny"\nattention = "divided"\n', "attention", "image"),
        ('name = "x"\nbase = "videomae-s"\nresolution = 100\n', "resolution", "multiple of the patch"),
        ('name = "x"\nbase = "deit-tiny"\ndim = 64 64\n', "model", "invalid TOML"),
    ],
)
def test_model_file_errors_name_the_file_and_key(tmp_path, text, field, words):
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        build(str(p))
    msg = str(err.value)
    assert field in msg and words in msg and "\n" not in msg


def test_attention_type_override_builds_the_family_that_has_it():
    for name, (family, variant) in ATTENTION_TYPES.items():
        wl = build("videomae-s", 112, attention=name)
        assert (wl.spec.family, wl.spec.variant) == (family, variant) and attention_type(wl.spec) == name
    div = build("videomae-s", 112, attention="divided")
    assert any(op.temporal for op in div.ops) and not any(op.temporal for op in build("videomae-s", 112).ops)
    # the same attention type keeps the model as it is
    assert build("timesformer-b", attention="divided").spec == SPECS["timesformer-b"]
    with pytest.raises(InputError, match="image attention"):
        build("deit-tiny", attention="joint")
    with pytest.raises(InputError, match="unknown value 'axial'"):
        build("videomae-s", attention="axial")


def test_zoo_frame_intervals_and_path_resolution(tmp_path):
    assert SPECS["videomae-b"].frame_interval == 4 and SPECS["timesformer-b"].frame_interval == 32
    assert SPECS["video-swin-t"].frame_interval == 2 and SPECS["deit-tiny"].frame_interval == 1
    p = _write(tmp_path, 'name = "m"\nbase = "deit-tiny"\n')
    assert resolve_path("model.toml", tmp_path) == p.resolve()
    (tmp_path / "results" / "inputs").mkdir(parents=True)
    (tmp_path / "results" / "inputs" / "model.toml").write_text(p.read_text())
    assert resolve_path("../gone/model.toml", tmp_path / "results").name == "model.toml"  # a study's copy
    with pytest.raises(InputError, match="file not found"):
        resolve_path("nowhere.toml", tmp_path)
    assert load_model("deit-tiny", depth=6).spec.depth == 6
