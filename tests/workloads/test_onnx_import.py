"""ONNX import: graphs written with onnx.helper (random weights) give the zoo's ops, MACs, roles and flags."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx_graphs import transformer_graph

from dse.errors import InputError
from dse.workloads import build, get_spec, onnx_import
from dse.workloads.models import load_model

FIELDS = ("name", "kind", "block", "repeat", "role", "group", "b_is_weight", "windowable", "temporal", "prunable")


def _rows(wl) -> list[tuple]:
    out = []
    for op in wl.ops:
        shape = tuple(np.asarray(getattr(op, f)).tolist() for f in ("batch", "m", "k", "n", "t_slices"))
        out.append(tuple(getattr(op, f) for f in FIELDS) + shape)
    return out


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    return {
        "deit": transformer_graph(d / "deit_tiny.onnx"),  # DeiT-Tiny: 192 wide, 12 blocks, 3 heads, 224²
        "mae": transformer_graph(
            d / "mae.onnx", dim=384, depth=2, heads=6, frames=16, tubelet=2, cls=False, num_classes=400
        ),  # fmt: skip
        "tsf": transformer_graph(
            d / "tsf.onnx", dim=96, depth=2, heads=4, frames=8, resolution=112, num_classes=400, attention="divided"
        ),  # fmt: skip
        "variant": transformer_graph(
            d / "variant.onnx",
            dim=64,
            depth=3,
            heads=2,
            resolution=96,
            num_classes=10,
            separate_qkv=True,
            decomposed_ln=True,
            gelu="gelu",
        ),  # fmt: skip
        "dynamic": transformer_graph(
            d / "dyn.onnx", dim=64, depth=2, heads=2, resolution=64, num_classes=10, dynamic=True
        ),  # fmt: skip
        "dynamic_video": transformer_graph(
            d / "dynvid.onnx",
            dim=64,
            depth=2,
            heads=2,
            resolution=64,
            frames=4,
            tubelet=2,
            cls=False,
            num_classes=10,
            dynamic=True,
        ),  # fmt: skip
    }


def test_deit_tiny_graph_equals_the_zoo(graphs):
    wl = build(str(graphs["deit"]))
    zoo = build("deit-tiny")
    assert _rows(wl) == _rows(zoo)
    assert int(wl.macs) == int(zoo.macs)
    s = wl.spec
    assert (s.family, s.dim, s.depth, s.heads, s.patch, s.cls, s.num_classes, s.mlp_ratio) == (
        "vit", 192, 12, 3, 16, True, 1000, 4.0)  # fmt: skip
    assert int(wl.tokens) == 197


def test_videomae_graph_equals_the_zoo(graphs):
    wl = build(str(graphs["mae"]))
    zoo = build("videomae-s", depth=2)
    assert _rows(wl) == _rows(zoo)
    assert wl.spec.family == "videomae" and wl.spec.tubelet == 2 and not wl.spec.cls and wl.spec.frames == 16


def test_divided_space_time_graph_equals_the_zoo(graphs):
    """TimeSformer-style blocks: temporal attention (t_), temporal fc, spatial attention (s_) with CLS per frame."""
    wl = build(str(graphs["tsf"]))
    zoo = build("timesformer-b", 112, depth=2, dim=96, heads=4)
    assert _rows(wl) == _rows(zoo)
    t_qk = next(op for op in wl.ops if op.name == "t_qk")
    s_qk = next(op for op in wl.ops if op.name == "s_qk")
    assert t_qk.temporal and not t_qk.windowable and s_qk.windowable and not s_qk.temporal
    assert (wl.spec.family, wl.spec.variant) == ("timesformer", "divided")


def test_separate_qkv_decomposed_layernorm_and_gelu_op(graphs):
    """HF-style separate Q/K/V projections merge into one qkv GEMM (same MACs); decomposed LN is a norm."""
    wl = build(str(graphs["variant"]))
    zoo = build("deit-tiny", 96, dim=64, depth=3, heads=2)
    rows = {r[0]: r for r in _rows(wl)}
    assert int(wl.macs) == int(zoo.macs) - 64 * 1000 + 64 * 10  # the zoo head has 1000 classes, the graph 10
    assert rows["qkv"][4] == "qkv" and rows["qkv"][-2] == 3 * 64
    assert [op.name for op in wl.ops if op.kind == "layernorm"] == ["norm1", "norm2", "norm_final"]


def test_sizes_change_where_the_axes_allow(graphs):
    """A graph with size-following reshapes runs at other sizes, vectorized over design points."""
    res = np.array([64, 96, 128, 224])
    wl = build(str(graphs["dynamic"]), res)
    zoo = build("deit-tiny", res, dim=64, depth=2, heads=2)
    np.testing.assert_array_equal(wl.macs, zoo.macs - 64 * 1000 + 64 * 10)
    np.testing.assert_array_equal(wl.tokens, zoo.tokens)


@pytest.mark.parametrize(
    ("graph", "size", "field"),
    [
        ("dynamic", {"resolution": 8}, "resolution"),  # smaller than one patch: no token (onnxruntime refuses)
        ("dynamic", {"resolution": 100}, "resolution"),  # the zoo refuses it too: pixels past a patch dropped
        ("dynamic_video", {"frames": 1}, "frames"),  # less than one tubelet
        ("dynamic_video", {"frames": 3}, "frames"),  # a frame dropped silently before
    ],
)
def test_a_free_size_graph_refuses_sizes_its_embedding_cannot_tile(graphs, graph, size, field):
    """As the zoo does (fresh-user trial: these gave made-up workloads with exit 0)."""
    with pytest.raises(InputError) as err:
        build(str(graphs[graph]), **size)
    assert err.value.field == field and "\n" not in str(err.value)


def test_a_free_size_graph_read_at_the_default_says_so(graphs, run):
    path = str(graphs["dynamic_video"])
    assert "224" in onnx_import.free_size(path) and "16 frames" in onnx_import.free_size(path)
    assert onnx_import.free_size(path, 64, 4) is None and onnx_import.free_size(str(graphs["deit"])) is None
    r = run("workloads", "show", path)
    assert r.code == 0 and "note: dynvid.onnx leaves its input size free" in r.err
    r = run("workloads", "show", path, "-r", "64", "-f", "4")
    assert r.code == 0 and "note:" not in r.err


def test_a_fixed_graph_refuses_another_size_in_one_line(graphs):
    with pytest.raises(InputError) as err:
        build(str(graphs["deit"]), 320)
    assert err.value.field == "resolution" and "\n" not in str(err.value) and "320x320" in str(err.value)
    with pytest.raises(InputError, match="image model"):
        build(str(graphs["deit"]), frames=8)


def test_model_spec_and_no_overrides(graphs):
    assert get_spec(str(graphs["mae"])).dim == 384
    with pytest.raises(InputError) as err:
        load_model(str(graphs["mae"]), depth=4)
    assert err.value.field == "depth" and "ONNX" in str(err.value)


def _save(tmp_path, nodes, inits, x_shape=(1, 3, 32, 32), out_shape=None, name="bad.onnx"):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
                              inits)  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    path = tmp_path / name
    onnx.save(model, path)
    return str(path)


def test_unsupported_nodes_name_the_node_and_op_type(tmp_path):
    w = onnx.numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="stem_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    path = _save(tmp_path, [conv], [w])
    with pytest.raises(InputError) as err:
        build(path)
    msg = str(err.value)
    assert "'stem_conv'" in msg and "(Conv)" in msg and "\n" not in msg
    lstm = helper.make_node("Hardmax", ["x"], ["y"], name="odd_node")
    with pytest.raises(InputError) as err:
        build(_save(tmp_path, [lstm], [], name="odd.onnx"))
    assert "'odd_node'" in str(err.value) and "(Hardmax)" in str(err.value)


def test_unreadable_file_and_no_transformer(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(InputError, match="junk.onnx"):
        build(str(junk))
    with pytest.raises(InputError, match="file not found"):
        build(str(tmp_path / "missing.onnx"))
    (tmp_path / "empty.onnx").write_bytes(b"")  # parses as an empty model (a fresh-user trial)
    with pytest.raises(InputError, match="empty.onnx: not a readable ONNX model"):
        build(str(tmp_path / "empty.onnx"))
    relu = helper.make_node("Relu", ["x"], ["y"], name="r")
    with pytest.raises(InputError, match="no attention"):
        build(_save(tmp_path, [relu], [], out_shape=[1, 3, 32, 32], name="relu.onnx"))


def test_eval_on_an_onnx_deit_tiny_matches_workloads_show_within_one_percent(run, graphs):
    """Acceptance: a DeiT-Tiny-shaped ONNX graph through `eval --workload model.onnx`."""
    shown = run("workloads", "show", "deit-tiny", "--format", "json")
    dense = run("eval", "-a", "systolic", "-w", str(graphs["deit"]), "--format", "json")
    assert dense.code == 0, dense.err
    assert dense.json()["metrics"]["macs"] == pytest.approx(shown.json()["macs"], rel=0.01)
    a = run("eval", "-a", "rtsa", "-w", str(graphs["deit"]), "--format", "json").json()
    b = run("eval", "-a", "rtsa", "-w", "deit-tiny", "--format", "json").json()
    assert a["latency_s"] == pytest.approx(b["latency_s"]) and a["energy_j"] == pytest.approx(b["energy_j"])


def test_a_fixed_size_graph_at_another_size_names_the_first_failing_node(tmp_path):
    """Regression (a fresh-user trial): onnx's nested shape-inference text was printed raw (300 characters of
    it); the error names the first node that fails and the usual cause."""
    path = transformer_graph(tmp_path / "tiny.onnx", depth=2, resolution=64)  # a fixed position embedding
    with pytest.raises(InputError) as err:
        build(str(path), 128)
    text = str(err.value)
    assert err.value.field == "resolution" and "\n" not in text
    assert "fails first at node 'Add_" in text and "position embedding" in text
