"""Import a vision or video transformer exported to ONNX as a workload (ops with roles, groups and blocks).

The graph's shapes come from the ``onnx`` package's shape inference (``strict_mode``, ``data_prop``) run
at the requested input size, so resolution and frames can change wherever the graph's axes allow it
(a graph exported with fixed reshapes or a fixed position embedding refuses other sizes, in one line).
The walk over the nodes (in the graph's topological order) recognises:

* **linear layers**: ``MatMul`` / ``Gemm`` with a constant (weight) operand: ``M×K · K×N``, ``M`` every
  leading axis of the activation; a ``Conv`` with kernel = stride and no padding on the input is the
  **patch embedding** (``M`` = output positions, ``K`` = C·kernel volume, ``N`` = output channels);
* **attention**: a ``MatMul`` of two activations feeding (through element-wise ops: scale, mask, bias)
  a ``Softmax`` (Q·Kᵀ), and the ``MatMul`` that multiplies the softmax output with a third activation
  (A·V). The linear layers producing Q, K and V are its ``qkv`` (separate Q, K, V projections of one
  input are merged into one ``qkv`` GEMM of the same MACs, as the zoo counts them), the LayerNorm
  before it its ``norm1``, the linear layer reading A·V its ``proj``: one attention group;
* **MLP**: a linear layer feeding an activation (``Gelu``; the ``Erf`` and ``Tanh`` GELU patterns;
  ``Sigmoid``/``Relu`` family) whose output feeds another linear layer: ``fc1``, ``gelu``, ``fc2``, with
  the LayerNorm before ``fc1`` as ``norm2``;
* **norms**: ``LayerNormalization`` (and RMS norms), or the ReduceMean–Sub–Pow–ReduceMean pattern;
* shape and element-wise ops (Reshape, Transpose, Concat, Gather, Add, Mul, …) cost no MACs and are
  passed through, as the zoo counts no residual additions or biases.

A block ends with an MLP's ``fc2``; consecutive blocks of identical shapes become one block with a
repeat count (``block``, or ``block0``, ``block1``… for several distinct runs). Within a block an
attention along time (its sequence is the token slices of one spatial position) gets the prefix ``t_``
and a spatial one ``s_`` when a block has both, as in the zoo. The flags follow the zoo's builders:
``temporal`` for attention along time, ``windowable`` for attention over one frame's patch grid,
``prunable`` for every op of a block that holds all the patch tokens, ``t_slices`` (the temporal token
slices, inputs of RTSA's delta sparsity) for its linear layers and the patch embedding.

Anything else that computes (a non-patch ``Conv``, ``Einsum``, fused ``Attention`` contrib ops, a
product of two activations outside Q·Kᵀ → softmax → A·V, an op type the importer does not know) is an
:class:`~dse.errors.InputError` in one line naming the node and its op type.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np

from dse.errors import InputError
from dse.workloads import Workload
from dse.workloads.ops import Op, layernorm
from dse.workloads.zoo import ModelSpec

#: ops that compute no MACs: shapes, indexing, element-wise arithmetic (passed through)
PASS_OPS = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Sin", "Cos",
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather", "GatherElements",
    "GatherND", "Split", "Shape", "Size", "Constant", "ConstantOfShape", "Cast", "CastLike", "Expand", "Identity",
    "Dropout", "Range", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor",
    "Where", "Tile", "Pad", "Min", "Max", "Clip", "Sign", "Floor", "Ceil", "Round", "Mod", "Trilu", "ScatterND",
    "ScatterElements", "CumSum", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2",
    "ReduceSumSquare", "ArgMax", "ArgMin", "GlobalAveragePool", "AveragePool", "Resize", "DepthToSpace",
    "SpaceToDepth", "OneHot", "IsNaN", "IsInf", "BatchNormalization", "InstanceNormalization", "TopK", "NonZero",
})  # fmt: skip
ACTIVATIONS = frozenset({
    "Gelu", "Erf", "Tanh", "Relu", "Sigmoid", "FastGelu", "BiasGelu", "QuickGelu", "HardSigmoid", "HardSwish",
    "Mish", "Softplus", "Elu", "LeakyRelu", "Selu", "Celu",
})  # fmt: skip
NORMS = frozenset({"LayerNormalization", "RMSNormalization", "SimplifiedLayerNormalization", "SkipLayerNormalization"})
SUPPORTED = "MatMul, Gemm, a patch-embedding Conv, Softmax, LayerNormalization, Gelu/Erf/Tanh activations, " \
    "shape and element-wise ops"  # fmt: skip
#: input size read when the graph's axes are symbolic and the command gives none: the zoo's default 224²
#: [src:mmpretrain] and VideoMAE's 16 frames [src:mmaction2] (an assumption about the user's model)
SYMBOLIC_RESOLUTION, SYMBOLIC_FRAMES = 224, 16
_BIG = 1024  # initializers with more elements are weights: shape inference needs only their shapes


class _Unsupported(InputError):
    pass


@dataclass(frozen=True)
class LayerRef:
    """Where one layer instance of the workload lives in the graph (for ``profile-model``).

    ``key``: ``block.index.name`` (``name``: the op name, or the attention group's ``attn``/``t_attn``/…);
    ``kind``: ``delta`` (a linear layer: ``tensor`` is its activation input) or ``attention`` (``tensor`` is
    the softmax output, ``… × queries × keys``); ``role``: the op role (``attention`` for a group).
    """

    key: str
    block: str
    index: int
    name: str
    role: str
    kind: str
    tensor: str
    node: str


@dataclass(frozen=True)
class Imported:
    """A graph parsed at one input size: ops (blocks merged), the layer instances, and the model's facts."""

    spec: ModelSpec
    ops: tuple[Op, ...]
    layers: tuple[LayerRef, ...]
    tokens: int
    t_slices: int
    height: int
    width: int
    frames: int


@dataclass
class _Graph:
    """A loaded graph without its weight data (shapes kept), and its input's layout."""

    path: str
    model: object  # onnx.ModelProto skeleton
    input_name: str
    layout: str  # nchw | ncthw | ntchw
    default_hw: tuple[int | None, int | None]
    default_frames: int | None
    consts: frozenset[str]


@dataclass
class _Raw:
    kind: str  # linear | patch_embed | matmul | softmax | norm | activation
    node: str
    op_type: str
    batch: int
    m: int
    k: int
    n: int
    srcs: tuple[int, ...]  # latest emitted op feeding each activation input (-1: none)
    tensor: str  # the activation input (linear, norm, activation, softmax) or output (softmax: see out)
    out: str
    patch: tuple[int, ...] = ()
    role: str = ""
    name: str = ""
    group: int = -1  # index of the attention group
    merged: list[int] = field(default_factory=list)
    drop: bool = False


def _err(path: str, node: str, op_type: str, msg: str) -> InputError:
    return _Unsupported("workload", f"{os.path.basename(path)}: node {node!r} ({op_type}): {msg}")


def _onnx():
    try:
        import onnx
    except ImportError:  # pragma: no cover - onnx is a declared dependency
        raise InputError("workload", "reading ONNX graphs needs the onnx package: pip install onnx") from None
    return onnx


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> _Graph:
    onnx = _onnx()
    name = os.path.basename(path)
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as err:  # protobuf DecodeError and friends
        raise InputError("workload", f"{name}: not a readable ONNX model ({type(err).__name__})") from None
    g = model.graph
    if not len(g.node):  # an empty file parses as an empty model
        raise InputError("workload", f"{name}: not a readable ONNX model (no graph nodes)")
    init_names = {t.name for t in g.initializer}
    consts = set(init_names)
    keep, moved = [], []
    for t in g.initializer:
        n_el = math.prod(t.dims)
        if n_el > _BIG and t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16,
                                           onnx.TensorProto.DOUBLE):  # fmt: skip
            moved.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        else:
            keep.append(t)
    del g.initializer[:]
    g.initializer.extend(keep)
    inputs = [i for i in g.input if i.name not in init_names]
    g.input.extend(m for m in moved if m.name not in {i.name for i in g.input})
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise InputError("workload", f"{name}: expected one graph input (the image or video tensor), got {names}")
    inp = inputs[0]
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inp.type.tensor_type.shape.dim]
    if len(dims) == 4:
        layout = "nchw"
    elif len(dims) == 5 and dims[1] == 3:
        layout = "ncthw"
    elif len(dims) == 5 and dims[2] == 3:
        layout = "ntchw"
    elif len(dims) == 5:
        raise InputError("workload", f"{name}: input {inp.name!r} {dims}: cannot tell the channel axis (3 channels "
                         "at axis 1 or 2)")  # fmt: skip
    else:
        raise InputError("workload", f"{name}: input {inp.name!r} has rank {len(dims)}; expected N×C×H×W or a "
                         "5-D video tensor")  # fmt: skip
    t_default = None if layout == "nchw" else dims[2 if layout == "ncthw" else 1]
    return _Graph(path, model, inp.name, layout, (dims[-2], dims[-1]), 1 if layout == "nchw" else t_default,
                  frozenset(consts))  # fmt: skip


def _graph(path: str) -> _Graph:
    try:
        st = os.stat(path)
    except OSError:
        raise InputError("workload", f"file not found: {path}") from None
    return _load(os.path.abspath(path), st.st_mtime_ns, st.st_size)


def _first_failure(msg: str) -> str:
    """The first node onnx's shape inference failed on, and why, from its (long, nested) message; with the
    usual cause of a graph that runs at its export size only."""
    m = re.search(r"\(op_type:(\w+), node name: ([^)]*)\): \[(\w+)\] ([^(\[]*)", msg)
    if m is None:
        return f"shape inference: {msg[:200]}"
    op, node, _kind, why = m.groups()
    return (f"shape inference fails first at node {node!r} ({op}: {why.strip().rstrip(':')}); a fixed-size position "
            "embedding or reshape? Export with dynamic axes and size-following reshapes")  # fmt: skip


def _infer(g: _Graph, h: int, w: int, t: int) -> dict[str, tuple]:
    """Shapes of every tensor at input size (h, w, t), by onnx shape inference."""
    onnx = _onnx()
    m = onnx.ModelProto()
    m.CopyFrom(g.model)
    gr = m.graph
    inp = next(i for i in gr.input if i.name == g.input_name)
    dims = inp.type.tensor_type.shape.dim
    if g.layout == "nchw":
        values = [1, dims[1].dim_value or 3, h, w]
    elif g.layout == "ncthw":
        values = [1, dims[1].dim_value or 3, t, h, w]
    else:
        values = [1, t, dims[2].dim_value or 3, h, w]
    for d, v in zip(dims, values, strict=True):
        d.Clear()
        d.dim_value = v
    del gr.value_info[:]
    for o in gr.output:
        o.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(m, check_type=False, strict_mode=True, data_prop=True)
    except Exception as err:  # onnx.shape_inference.InferenceError, onnx.checker errors
        msg = " ".join(str(err).split())
        size = f"{h}x{w}" + (f", {t} frames" if g.layout != "nchw" else "")
        is_default = (h, w) == g.default_hw and (g.layout == "nchw" or t == g.default_frames)
        field_ = "workload" if is_default else "resolution"
        raise InputError(field_, f"{os.path.basename(g.path)} does not run at {size}: {_first_failure(msg)}"
                         ) from None  # fmt: skip
    shapes: dict[str, tuple] = {}
    gi = inferred.graph
    for vi in (*gi.input, *gi.value_info, *gi.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
    for init in gi.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def _attr(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            from onnx import helper

            return helper.get_attribute_value(a)
    return default


def _walk(g: _Graph, shapes: dict[str, tuple]) -> list[_Raw]:
    """One pass over the nodes: emitted ops with the latest emitted op feeding each of their inputs."""
    nodes = list(g.model.graph.node)
    consts = set(g.consts)
    latest: dict[str, int] = {}
    from_input = {g.input_name}
    raws: list[_Raw] = []
    consumers: dict[str, list] = {}
    for node in nodes:
        for x in node.input:
            consumers.setdefault(x, []).append(node)

    def shape(name: str, node, what: str) -> tuple[int, ...]:
        s = shapes.get(name)
        if s is None or any(d is None for d in s):
            raise _err(g.path, node.name, node.op_type, f"shape of {what} {name!r} unknown after shape inference")
        return s

    def src(x: str) -> int:
        return latest.get(x, -1)

    def emit(r: _Raw, outputs) -> None:
        raws.append(r)
        for o in outputs:
            latest[o] = len(raws) - 1

    for idx, node in enumerate(nodes):
        name = node.name or f"{node.op_type}_{idx}"
        node.name = name
        ins = [x for x in node.input if x]
        op = node.op_type
        if node.domain not in ("", "ai.onnx", "com.microsoft") and op not in ACTIVATIONS:
            raise _err(g.path, name, op, f"custom-domain op ({node.domain}) not supported; supported: {SUPPORTED}")
        if op == "Constant" or (ins and all(x in consts for x in ins) and op in PASS_OPS | {"MatMul", "Gemm"}):
            consts.update(node.output)
            continue
        if op in ("MatMul", "Gemm"):
            a, b = ins[0], ins[1]
            if op == "Gemm" and _attr(node, "transA", 0):
                raise _err(g.path, name, op, "Gemm with transA is not supported")
            if b in consts:
                sa, sb = shape(a, node, "input"), shape(b, node, "weight")
                if len(sb) != 2:
                    raise _err(g.path, name, op, f"a weight of rank {len(sb)}; expected a K×N matrix")
                k, n = (sb[1], sb[0]) if (op == "Gemm" and _attr(node, "transB", 0)) else (sb[0], sb[1])
                m = math.prod(sa[:-1])
                kind = "patch_embed" if a in from_input else "linear"
                emit(_Raw(kind, name, op, 1, m, k, n, (src(a),), a, node.output[0]), node.output)
                continue
            if a in consts:
                raise _err(g.path, name, op, "a constant left operand (W·x) is not supported")
            if op == "Gemm":
                raise _err(g.path, name, op, "Gemm of two activations is not supported")
            sa, sb = shape(a, node, "input"), shape(b, node, "input")
            if len(sa) < 2 or len(sb) < 2:
                raise _err(g.path, name, op, "a product of two activations needs rank ≥ 2 operands")
            lead = np.broadcast_shapes(sa[:-2], sb[:-2])
            emit(_Raw("matmul", name, op, math.prod(lead), sa[-2], sa[-1], sb[-1], (src(a), src(b)), a,
                      node.output[0]), node.output)  # fmt: skip
            continue
        if op == "Conv":
            x, wname = ins[0], ins[1]
            sw = shape(wname, node, "weight")
            kernel = tuple(sw[2:])
            strides = tuple(_attr(node, "strides", [1] * len(kernel)))
            pads = tuple(_attr(node, "pads", [0] * 2 * len(kernel)))
            group = _attr(node, "group", 1)
            if x not in from_input or kernel != strides or any(pads) or group != 1 or wname not in consts:
                raise _err(g.path, name, op, "only a patch-embedding Conv on the input (kernel = stride, no padding, "
                           "one group) is supported")  # fmt: skip
            so = shape(node.output[0], node, "output")
            m = so[0] * math.prod(so[2:])
            emit(_Raw("patch_embed", name, op, 1, m, sw[1] * math.prod(kernel), sw[0], (-1,), x, node.output[0],
                      patch=kernel), node.output)  # fmt: skip
            continue
        if op == "Softmax":
            s = shape(ins[0], node, "input")
            axis = _attr(node, "axis", -1)
            if axis not in (-1, len(s) - 1):
                raise _err(g.path, name, op, f"softmax over axis {axis}; attention normalises the last axis")
            if len(s) < 2:
                continue  # a class-probability softmax on a vector: no cost worth a row
            emit(_Raw("softmax", name, op, math.prod(s[:-2]), s[-2], 0, s[-1], (src(ins[0]),), ins[0],
                      node.output[0]), node.output)  # fmt: skip
            continue
        if op in NORMS:
            s = shape(ins[0], node, "input")
            axis = _attr(node, "axis", -1)
            axis = axis % len(s)
            emit(_Raw("norm", name, op, 1, math.prod(s[:axis]), 0, math.prod(s[axis:]), (src(ins[0]),), ins[0],
                      node.output[0]), node.output)  # fmt: skip
            continue
        if op == "ReduceMean" and _is_layernorm_start(node, consumers):
            s = shape(ins[0], node, "input")
            emit(_Raw("norm", name, op, 1, math.prod(s[:-1]), 0, s[-1], (src(ins[0]),), ins[0], node.output[0]),
                 node.output)  # fmt: skip
            continue
        if op in ACTIVATIONS:
            x = ins[0]
            i = src(x)
            if i >= 0 and raws[i].kind == "linear":
                s = shape(x, node, "input")
                emit(_Raw("activation", name, op, 1, math.prod(s[:-1]), 0, s[-1], (i,), x, node.output[0]),
                     node.output)  # fmt: skip
                continue
            op = "Identity"  # an activation not after a linear layer (e.g. inside GELU's tanh pattern): no row
        if op in PASS_OPS or op in ACTIVATIONS or op == "Identity":
            s = max((src(x) for x in ins), default=-1)
            for o in node.output:
                if s >= 0:
                    latest[o] = s
                if any(x in from_input for x in ins) and s < 0:
                    from_input.add(o)
            continue
        raise _err(g.path, name, op, f"not supported by the ONNX importer; supported: {SUPPORTED}")
    return raws


def _is_layernorm_start(node, consumers) -> bool:
    """ReduceMean(x) → Sub(x, mean) → Pow/Mul → ReduceMean: the decomposed LayerNorm of older opsets."""
    x, mean = node.input[0], node.output[0]
    for sub in consumers.get(mean, []):
        if sub.op_type != "Sub" or x not in sub.input:
            continue
        for sq in consumers.get(sub.output[0], []):
            if sq.op_type in ("Pow", "Mul") and any(r.op_type == "ReduceMean" for r in consumers.get(sq.output[0], [])):
                return True
    return False


def _recognise(path: str, raws: list[_Raw]) -> list[dict]:
    """Attention groups and MLPs → roles; returns the groups (their raw indices)."""
    groups: list[dict] = []
    for si, s in enumerate(raws):
        if s.kind != "softmax":
            continue
        qk = s.srcs[0]
        av = next((i for i, r in enumerate(raws) if r.kind == "matmul" and si in r.srcs), -1)
        if qk < 0 or raws[qk].kind != "matmul" or av < 0:
            if not any(si in r.srcs for r in raws):
                s.drop = True  # an output softmax: probabilities of the classes
                continue
            raise _err(path, s.node, s.op_type, "a softmax outside a Q·Kᵀ → softmax → A·V attention pattern")
        q_src, k_src = raws[qk].srcs
        v_src = next(x for x in raws[av].srcs if x != si) if len(set(raws[av].srcs)) > 1 else -1
        lin = [x for x in (q_src, k_src, v_src) if x >= 0 and raws[x].kind == "linear"]
        if len(lin) != 3 or any(x < 0 for x in (q_src, k_src, v_src)):
            raise _err(path, raws[qk].node, raws[qk].op_type, "attention inputs Q, K, V do not come from linear layers")
        g = {"qk": qk, "softmax": si, "av": av, "index": len(groups)}
        uniq = list(dict.fromkeys(lin))
        head = uniq[0]
        same_input = all(raws[u].tensor == raws[head].tensor and raws[u].m == raws[head].m for u in uniq)
        if len(uniq) == 1:
            raws[head].role = "qkv"
        elif same_input:
            raws[head].role = "qkv"
            for u in uniq[1:]:
                raws[head].n += raws[u].n
                raws[head].merged.append(u)
                raws[u].drop = True
        else:
            for u, role in zip((q_src, k_src, v_src), ("q", "k", "v"), strict=True):
                raws[u].role = role
        g["qkv"] = uniq if not same_input or len(uniq) == 1 else [head]
        norm = raws[head].srcs[0]
        g["norm"] = norm if norm >= 0 and raws[norm].kind == "norm" and not raws[norm].role else -1
        proj = next((i for i, r in enumerate(raws) if r.kind == "linear" and r.srcs[0] == av and not r.role), -1)
        g["proj"] = proj
        for i in (g["norm"], qk, si, av, proj, *g["qkv"]):
            if i >= 0:
                raws[i].group = g["index"]
        if g["norm"] >= 0:
            raws[g["norm"]].role = "norm"
        raws[qk].role, raws[si].role, raws[av].role = "qk", "softmax", "av"
        if proj >= 0:
            raws[proj].role = "proj"
        groups.append(g)
    for r in raws:
        if r.kind == "matmul" and not r.role:
            raise _err(path, r.node, r.op_type, "a product of two activations outside a Q·Kᵀ → softmax → A·V pattern")
    for ai, a in enumerate(raws):
        if a.kind != "activation":
            continue
        fc1 = a.srcs[0]
        fc2 = next((i for i, r in enumerate(raws) if r.kind == "linear" and r.srcs[0] == ai and not r.role), -1)
        if fc1 >= 0 and not raws[fc1].role and fc2 >= 0:
            raws[fc1].role, a.role, raws[fc2].role = "fc1", "activation", "fc2"
            norm = raws[fc1].srcs[0]
            if norm >= 0 and raws[norm].kind == "norm" and not raws[norm].role:
                raws[norm].role = "norm2"
    return groups


def _linear_patch(k: int, video: bool) -> tuple[int, ...]:
    """Kernel of a patch embedding done as reshape + linear layer: K = 3·p² (images) or 3·tubelet·p²."""
    for tubelet in (1, 2, 4) if video else (1,):
        p = math.isqrt(k // (3 * tubelet))
        if 3 * tubelet * p * p == k:
            return (tubelet, p, p) if video else (p, p)
    return (1,)


def _parse(g: _Graph, h: int, w: int, t: int) -> Imported:
    shapes = _infer(g, h, w, t)
    raws = _walk(g, shapes)
    groups = _recognise(g.path, raws)
    base = os.path.basename(g.path)
    if not groups:
        raise InputError("workload", f"{base}: no attention (MatMul → Softmax → MatMul) found: not a transformer")
    live = [i for i, r in enumerate(raws) if not r.drop]
    pe = [i for i in live if raws[i].kind == "patch_embed"]
    if len(pe) != 1:
        raise InputError("workload", f"{base}: expected one patch embedding on the input, found {len(pe)}")
    pe_raw = raws[pe[0]]
    kernel = pe_raw.patch or _linear_patch(pe_raw.k, g.layout != "nchw")
    tubelet = kernel[0] if len(kernel) == 3 else 1
    patch = kernel[-1]
    is_video = g.layout != "nchw"
    own = (h, w) == g.default_hw and (not is_video or t == g.default_frames)  # the size the graph was made for
    if not own and (h % patch or w % patch):  # as the zoo: the convolution would drop the pixels past a patch
        why = "smaller than one patch" if min(h, w) < patch else "the pixels past the last whole patch would be dropped"
        raise InputError("resolution", f"must be a multiple of the patch size {patch} for {base} (got {h}x{w}: "
                         f"{why})")  # fmt: skip
    if is_video and not own and t % tubelet:
        raise InputError("frames", f"must be a multiple of the tubelet depth {tubelet} for {base} (got {t})")
    tt = t // tubelet if is_video else 1
    s = (h // patch) * (w // patch)
    # block boundaries: each MLP's fc2 closes a block; the first attention group opens the first
    first = min(min(i for i in (gr["norm"], *gr["qkv"], gr["qk"]) if i >= 0) for gr in groups)
    ends = [i for i in live if raws[i].role == "fc2"]
    if not ends:
        ends = [max(gr["proj"], gr["av"]) for gr in groups]
    segments, start = [], first
    for e in ends:
        if e >= start:
            segments.append([i for i in live if start <= i <= e])
            start = e + 1
    embed = [i for i in live if i < first]
    head = [i for i in live if i >= start]
    if any(raws[i].group >= 0 for i in head):
        raise InputError("workload", f"{base}: attention after the last MLP; blocks must end with an MLP")
    bad = [i for i in embed if i not in pe]
    if bad:
        r = raws[bad[0]]
        raise _err(g.path, r.node, r.op_type, "an op before the first block other than the patch embedding")
    # names within each segment
    seg_ops = []
    for seg in segments:
        gids = list(dict.fromkeys(raws[i].group for i in seg if raws[i].group >= 0))
        kinds = {}
        for gid in gids:
            gr = groups[gid]
            seq = raws[gr["qk"]].m
            temporal = is_video and tt > 1 and seq in (tt, tt + 1) and seq not in (s, s + 1)
            kinds[gid] = (temporal, (not temporal) and seq in (s, s + 1))
        if len(gids) == 1:
            prefixes = {gids[0]: ""}
        elif len(gids) == 2 and {kinds[x][0] for x in gids} == {True, False}:
            prefixes = {x: "t_" if kinds[x][0] else "s_" for x in gids}
        else:
            prefixes = {x: f"a{j}_" for j, x in enumerate(gids)}
        names: dict[int, str] = {}
        extra = 0
        for i in seg:
            r = raws[i]
            if r.group >= 0:
                p = prefixes[r.group]
                names[i] = p + {"norm": "norm1", "qk": "qk", "softmax": "softmax", "av": "av", "proj": "proj",
                                "qkv": "qkv", "q": "q", "k": "k", "v": "v"}[r.role]  # fmt: skip
            elif r.role == "norm2":
                names[i] = "norm2"
            elif r.role in ("fc1", "fc2"):
                names[i] = r.role
            elif r.role == "activation":
                names[i] = "gelu"
            elif r.kind == "linear" and r.srcs[0] >= 0 and raws[r.srcs[0]].role == "proj" and \
                    kinds.get(raws[r.srcs[0]].group, (False,))[0]:  # fmt: skip
                r.role = "temporal_fc"
                names[i] = "t_fc"
            else:
                extra += 1
                names[i] = f"{ {'linear': 'gemm', 'norm': 'norm', 'activation': 'act'}.get(r.kind, r.kind) }{extra}"
                r.role = {"linear": "gemm", "norm": "norm", "activation": "activation"}.get(r.kind, "")
                if not r.role:
                    raise _err(g.path, r.node, r.op_type, "an op of a block outside its attention and MLP")
        seg_ops.append((seg, names, prefixes, kinds))

    # runs of identical blocks
    def signature(item) -> tuple:
        seg, names, _, _ = item
        return tuple((names[i], raws[i].kind, raws[i].role, raws[i].batch, raws[i].m, raws[i].k, raws[i].n)
                     for i in seg)  # fmt: skip

    runs: list[list] = []
    for item in seg_ops:
        if runs and signature(runs[-1][0]) == signature(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    ops: list[Op] = [Op("patch_embed", "patch_embed", "embed", 1, 1, pe_raw.m, pe_raw.k, pe_raw.n, t_slices=tt,
                        role="patch_embed")]  # fmt: skip
    layers: list[LayerRef] = [LayerRef("embed.0.patch_embed", "embed", 0, "patch_embed", "patch_embed", "delta",
                                       pe_raw.tensor, pe_raw.node)]  # fmt: skip
    tokens_all = tt * s
    for ri, run in enumerate(runs):
        block = "block" if len(runs) == 1 else f"block{ri}"
        seg, names, prefixes, kinds = run[0]
        repeat = len(run)
        run_tokens = max(raws[i].m for i in seg if raws[i].kind in ("linear", "norm"))
        prunable = run_tokens >= tokens_all
        for i in seg:
            r = raws[i]
            gid = r.group
            grp = f"{block}/{prefixes[gid]}attn" if gid >= 0 else ""
            temporal, windowable = kinds.get(gid, (False, False))
            flags = {"group": grp, "prunable": prunable}
            nm = names[i]
            if r.kind == "norm":
                ops.append(layernorm(block, repeat, r.m, r.n, nm, **flags))
            elif r.kind == "linear":
                ops.append(Op(nm, "linear", block, repeat, 1, r.m, r.k, r.n, t_slices=tt if prunable else 1,
                              role=r.role, **flags))  # fmt: skip
            elif r.kind == "matmul":
                kind = "attn_score" if r.role == "qk" else "attn_context"
                ops.append(Op(nm, kind, block, repeat, r.batch, r.m, r.k, r.n, False, role=r.role,
                              windowable=windowable, temporal=temporal, **flags))  # fmt: skip
            elif r.kind == "softmax":
                ops.append(Op(nm, "softmax", block, repeat, r.batch, r.m, 0, r.n, role="softmax",
                              windowable=windowable, temporal=temporal, **flags))  # fmt: skip
            elif r.kind == "activation":
                ops.append(Op(nm, "activation", block, repeat, 1, r.m, 0, r.n, role=r.role, **flags))
        for li, (seg_i, names_i, prefixes_i, _) in enumerate(run):
            for i in seg_i:
                r = raws[i]
                if r.kind == "linear":
                    layers.append(LayerRef(f"{block}.{li}.{names_i[i]}", block, li, names_i[i], r.role, "delta",
                                           r.tensor, r.node))  # fmt: skip
                elif r.kind == "softmax":
                    gname = f"{prefixes_i[r.group]}attn"
                    layers.append(LayerRef(f"{block}.{li}.{gname}", block, li, gname, "attention", "attention",
                                           r.out, r.node))  # fmt: skip
    n_final = 0
    classifier = [i for i in head if raws[i].kind == "linear"]
    for i in head:
        r = raws[i]
        if r.kind == "norm":
            n_final += 1
            ops.append(layernorm("head", 1, r.m, r.n, "norm_final" if n_final == 1 else f"norm_final{n_final}"))
        elif r.kind == "linear":
            last = i == classifier[-1]
            nm = "classifier" if last else f"head_fc{classifier.index(i) + 1}"
            ops.append(Op(nm, "pool_classifier" if last else "linear", "head", 1, 1, r.m, r.k, r.n,
                          role="classifier" if last else "gemm"))  # fmt: skip
            if not last:  # the classifier runs dense on one pooled token: no delta to measure
                layers.append(LayerRef(f"head.0.{nm}", "head", 0, nm, ops[-1].role, "delta", r.tensor, r.node))
        elif r.kind == "activation":
            ops.append(Op(f"head_act{i}", "activation", "head", 1, 1, r.m, 0, r.n, role="activation"))
    # the model's facts, as a ModelSpec
    seg0, names0, prefixes0, kinds0 = runs[0][0]
    g0 = groups[next(raws[i].group for i in seg0 if raws[i].group >= 0)]
    qkv0 = raws[g0["qkv"][0]]
    seq0 = raws[g0["qk"]].m
    heads = max(raws[g0["qk"]].batch // max(qkv0.m // seq0, 1), 1)
    dim = qkv0.k
    fc1 = next((raws[i] for i in seg0 if raws[i].role == "fc1"), None)
    tokens = fc1.m if fc1 is not None else qkv0.m
    cls = tokens - tokens_all in (1, tt) and tokens > tokens_all
    gkinds = [kinds0[x] for x in prefixes0]
    if not is_video:
        family, variant = "vit", ""
    elif len(gkinds) == 1 and not gkinds[0][0] and not gkinds[0][1]:
        family, variant = "videomae", ""
    elif [k[0] for k in gkinds] == [True, False]:
        family, variant = "timesformer", "divided"
    elif [k[0] for k in gkinds] == [False, True]:
        family, variant = "vivit", "m3"
    elif len(gkinds) == 1 and gkinds[0][1]:
        family, variant = ("vivit", "m2") if len(runs) > 1 else ("timesformer", "space")
    else:
        family, variant = "onnx", ""
    depth = sum(len(run) for run in runs)
    cls_op = next((o for o in reversed(ops) if o.role == "classifier"), None)
    stem = re.sub(r"\.onnx$", "", os.path.basename(g.path), flags=re.IGNORECASE)
    spec = ModelSpec(
        stem, family, int(dim), depth, int(heads),
        mlp_ratio=float(fc1.n / dim) if fc1 is not None else 4.0, patch=int(patch), tubelet=int(tubelet),
        cls=bool(cls), resolution=int(h), frames=int(t), num_classes=int(cls_op.n) if cls_op is not None else 0,
        variant=variant, temporal_depth=len(runs[1]) if len(runs) > 1 else 4, source=f"ONNX graph {g.path}",
        description=f"{stem} (ONNX import: {depth} blocks, {family}{' ' + variant if variant else ''})",
    )  # fmt: skip
    return Imported(spec, tuple(ops), tuple(layers), int(tokens), int(tt), int(h), int(w), int(t))


@functools.lru_cache(maxsize=64)
def _parse_cached(path: str, mtime_ns: int, size: int, h: int, w: int, t: int) -> Imported:
    return _parse(_load(path, mtime_ns, size), h, w, t)


def _defaults(g: _Graph, resolution, frames) -> tuple:
    if resolution is None:
        dh, dw = g.default_hw
        resolution = (dh or SYMBOLIC_RESOLUTION, dw or SYMBOLIC_RESOLUTION)
    if frames is None:
        frames = 1 if g.layout == "nchw" else (g.default_frames or SYMBOLIC_FRAMES)
    return resolution, frames


def free_size(path: str, resolution=None, frames=None) -> str | None:
    """A note when ``path``'s graph leaves its input size free (symbolic axes) and the caller gives none: the
    size then read is :data:`SYMBOLIC_RESOLUTION` / :data:`SYMBOLIC_FRAMES`, an assumption about the model."""
    g = _graph(path)
    free = []
    if resolution is None and None in g.default_hw:
        free.append(f"resolution {SYMBOLIC_RESOLUTION}² (-r)")
    if frames is None and g.layout != "nchw" and g.default_frames is None:
        free.append(f"{SYMBOLIC_FRAMES} frames (-f)")
    if not free:
        return None
    return (f"{os.path.basename(path)} leaves its input size free; read at the default " + " and ".join(free)
            + ": give the size the model runs at")  # fmt: skip


def read(path: str, resolution=None, frames=None) -> Imported:
    """The graph parsed at one size (default: its own input size): ops, layer instances, :class:`ModelSpec`."""
    g = _graph(path)
    resolution, frames = _defaults(g, resolution, frames)
    h, w = resolution if isinstance(resolution, tuple | list) else (resolution, resolution)
    if g.layout == "nchw" and int(frames) != 1:
        raise InputError("frames", f"{os.path.basename(path)} is an image model: frames must be 1")
    st = os.stat(g.path)
    return _parse_cached(g.path, st.st_mtime_ns, st.st_size, int(h), int(w), int(frames))


def build(path: str, resolution=None, frames=None) -> Workload:
    """The workload of an ONNX graph at ``resolution`` (R, (H, W) or arrays) and ``frames`` (arrays allowed).

    Each distinct (H, W, frames) is parsed once (cached); shapes become arrays over the design points.
    """
    from dse.workloads import _positive_int_array

    g = _graph(path)
    resolution, frames = _defaults(g, resolution, frames)
    if isinstance(resolution, tuple | list) and len(resolution) == 2:
        h, w = (_positive_int_array("resolution", r) for r in resolution)
    else:
        h = w = _positive_int_array("resolution", resolution)
    t = _positive_int_array("frames", frames)
    if g.layout == "nchw" and np.any(t != 1):
        raise InputError("frames", f"{os.path.basename(path)} is an image model: frames must be 1")
    h, w, t = np.broadcast_arrays(h, w, t)
    triples = np.stack([h.ravel(), w.ravel(), t.ravel()], axis=1)
    uniq, inv = np.unique(triples, axis=0, return_inverse=True)
    parsed = [read(path, (int(a), int(b)), int(c)) for a, b, c in uniq]
    first = parsed[0]
    for p in parsed[1:]:
        if [(o.name, o.kind, o.block, o.repeat) for o in p.ops] != [(o.name, o.kind, o.block, o.repeat)
                                                                      for o in first.ops]:  # fmt: skip
            raise InputError("resolution", f"{os.path.basename(path)}: the graph's blocks differ between "
                             f"{first.height}x{first.width} and {p.height}x{p.width}")  # fmt: skip
    inv = inv.reshape(-1)

    def field_(values: list[int]) -> np.ndarray:
        arr = np.asarray(values, dtype=np.int64)
        if np.all(arr == arr[0]):
            return arr[0]
        return arr[inv].reshape(h.shape)

    ops = []
    for j, op in enumerate(first.ops):
        changes = {f: field_([int(getattr(p.ops[j], f)) for p in parsed]) for f in ("batch", "m", "k", "n", "t_slices")}
        ops.append(op.with_(**changes))
    tokens = np.broadcast_to(field_([p.tokens for p in parsed]), h.shape)
    spec = first.spec if len(parsed) == 1 else _default_spec(path, first.spec)
    return Workload(spec, h, w, t, tokens, tuple(ops))


def _default_spec(path: str, fallback: ModelSpec) -> ModelSpec:
    try:
        return read(path).spec
    except InputError:  # the graph's own size does not parse (e.g. symbolic axes read at a guess)
        return fallback
