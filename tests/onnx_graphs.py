"""Small vision and video transformers written as ONNX graphs with ``onnx.helper`` (random weights), the way
PyTorch exports them (fused QKV, reshape/transpose into heads, Erf GELU, LayerNormalization, Gemm head).

Used by the importer and profiler tests; nothing here is part of the package.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _G:
    def __init__(self, seed: int):
        self.nodes: list = []
        self.inits: list = []
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base: str, arr) -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weight(self, base: str, shape, zero: bool = False) -> str:
        arr = np.zeros(shape, np.float32) if zero else (self.rng.standard_normal(shape) * 0.02).astype(np.float32)
        return self.const(base, arr)

    def op(self, op_type: str, inputs: list[str], base: str | None = None, **attrs) -> str:
        out = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=self.name(op_type), **attrs))
        return out

    def ints(self, values) -> str:
        return self.const("shape", np.asarray(values, dtype=np.int64))

    def linear(self, x: str, k: int, n: int, base: str, zero: bool = False) -> str:
        y = self.op("MatMul", [x, self.weight(f"{base}_w", (k, n), zero)], base)
        return self.op("Add", [y, self.weight(f"{base}_b", (n,), zero)])

    def layernorm(self, x: str, dim: int, decomposed: bool = False) -> str:
        gamma, beta = self.const("ln_g", np.ones(dim, np.float32)), self.const("ln_b", np.zeros(dim, np.float32))
        if not decomposed:
            return self.op("LayerNormalization", [x, gamma, beta], "ln", axis=-1, epsilon=1e-6)
        mean = self.op("ReduceMean", [x, self.ints([-1])], keepdims=1)
        d = self.op("Sub", [x, mean])
        var = self.op("ReduceMean", [self.op("Pow", [d, self.const("two", np.float32(2.0))]), self.ints([-1])],
                      keepdims=1)  # fmt: skip
        std = self.op("Sqrt", [self.op("Add", [var, self.const("eps", np.float32(1e-6))])])
        return self.op("Add", [self.op("Mul", [self.op("Div", [d, std]), gamma]), beta])

    def gelu(self, x: str, kind: str = "erf") -> str:
        if kind == "gelu":
            return self.op("Gelu", [x])
        e = self.op("Erf", [self.op("Div", [x, self.const("sqrt2", np.float32(math.sqrt(2.0)))])])
        y = self.op("Mul", [x, self.op("Add", [e, self.const("one", np.float32(1.0))])])
        return self.op("Mul", [y, self.const("half", np.float32(0.5))])

    def attention(self, x: str, n_seq: int, seq: int, dim: int, heads: int, *, zero_qk: bool = False,
                  mask: np.ndarray | None = None, separate_qkv: bool = False) -> tuple[str, str]:  # fmt: skip
        """x: (n_seq, seq, dim) → (output (n_seq, seq, dim), softmax output name)."""
        dh = dim // heads
        ln = self.layernorm(x, dim)
        if separate_qkv:
            q, k, v = (self.op("Transpose", [self.op("Reshape", [self.linear(ln, dim, dim, nm, zero_qk and nm != "v"),
                                                                 self.ints([n_seq, seq, heads, dh])])],
                               perm=[0, 2, 1, 3]) for nm in ("q", "k", "v"))  # fmt: skip
        else:
            qkv = self.linear(ln, dim, 3 * dim, "qkv")
            if zero_qk:  # Q and K of zero weights: uniform attention logits
                w = np.concatenate(
                    [
                        np.zeros((dim, 2 * dim), np.float32),
                        (self.rng.standard_normal((dim, dim)) * 0.02).astype(np.float32),
                    ],
                    axis=1,
                )
                self.inits[-2] = numpy_helper.from_array(w, self.inits[-2].name)
                self.inits[-1] = numpy_helper.from_array(np.zeros(3 * dim, np.float32), self.inits[-1].name)
            r = self.op("Reshape", [qkv, self.ints([n_seq, seq, 3, heads, dh])])
            t = self.op("Transpose", [r], perm=[2, 0, 3, 1, 4])
            q, k, v = (self.op("Gather", [t, self.const("i", np.int64(i))], axis=0) for i in range(3))
        kt = self.op("Transpose", [k], perm=[0, 1, 3, 2])
        s = self.op("Mul", [self.op("MatMul", [q, kt], "qk"), self.const("scale", np.float32(dh**-0.5))])
        if mask is not None:
            s = self.op("Add", [s, self.const("mask", mask.astype(np.float32))])
        a = self.op("Softmax", [s], "attn", axis=-1)
        o = self.op("MatMul", [a, v], "av")
        o = self.op("Reshape", [self.op("Transpose", [o], perm=[0, 2, 1, 3]), self.ints([n_seq, seq, dim])])
        return self.linear(o, dim, dim, "proj"), a

    def mlp(self, x: str, tokens_shape: list[int], dim: int, hidden: int, gelu: str = "erf") -> str:
        ln = self.layernorm(x, dim)
        return self.linear(self.gelu(self.linear(ln, dim, hidden, "fc1"), gelu), hidden, dim, "fc2")


def transformer_graph(
    path: str | Path,
    *,
    dim: int = 192,
    depth: int = 12,
    heads: int = 3,
    mlp_ratio: float = 4.0,
    patch: int = 16,
    resolution: int = 224,
    frames: int | None = None,
    tubelet: int = 1,
    cls: bool = True,
    num_classes: int = 1000,
    attention: str = "joint",
    pos_embed: bool = True,
    dynamic: bool = False,
    zero_qk: bool = False,
    mask: np.ndarray | None = None,
    separate_qkv: bool = False,
    decomposed_ln: bool = False,
    gelu: str = "erf",
    input_layout: str = "ncthw",
    seed: int = 0,
) -> Path:
    """Write a transformer as ONNX: ``frames=None`` an image ViT/DeiT; else a video transformer with a
    ``tubelet``×patch×patch Conv3d embedding and ``attention`` joint (VideoMAE) or divided (TimeSformer:
    temporal attention + temporal fc, then spatial attention with the CLS token in every frame).
    ``dynamic``: reshapes that follow the input size (and no position embedding), so other sizes run;
    ``input_layout="ntchw"``: a video input of frames × channels (HF VideoMAE), permuted before the Conv3d."""
    g = _G(seed)
    D, H = dim, heads
    hid = int(round(D * mlp_ratio))
    video = frames is not None
    T = frames or 1
    tt = T // tubelet if video else 1
    gh = gw = resolution // patch
    s = gh * gw
    c = int(cls)
    if video:
        x_shape = [1, 3, "T" if dynamic else T, "H" if dynamic else resolution, "W" if dynamic else resolution]
        x = "x"
        if input_layout == "ntchw":
            x_shape[1], x_shape[2] = x_shape[2], x_shape[1]
            x = g.op("Transpose", ["x"], perm=[0, 2, 1, 3, 4])
        w = g.weight("pe_w", (D, 3, tubelet, patch, patch))
        pe = g.op("Conv", [x, w, g.weight("pe_b", (D,))], "patch_embed", kernel_shape=[tubelet, patch, patch],
                  strides=[tubelet, patch, patch])  # fmt: skip
    else:
        x_shape = [1, 3, "H" if dynamic else resolution, "W" if dynamic else resolution]
        pe = g.op("Conv", ["x", g.weight("pe_w", (D, 3, patch, patch)), g.weight("pe_b", (D,))], "patch_embed",
                  kernel_shape=[patch, patch], strides=[patch, patch])  # fmt: skip
    tok = g.op("Transpose", [g.op("Reshape", [pe, g.ints([1, D, -1])])], perm=[0, 2, 1])  # (1, tt·s, D)
    n_tok = tt * s
    if cls:
        tok = g.op("Concat", [g.weight("cls", (1, 1, D)), tok], axis=1)
    if pos_embed and not dynamic:
        tok = g.op("Add", [tok, g.weight("pos", (1, n_tok + c, D))])
    softmaxes = []
    for _ in range(depth):
        if attention == "joint" or not video:
            n_all = -1 if dynamic else n_tok + c
            x3 = g.op("Reshape", [tok, g.ints([1, n_all, D])])
            a, sm = g.attention(x3, 1, n_all, D, H, zero_qk=zero_qk, mask=mask, separate_qkv=separate_qkv)
            softmaxes.append(sm)
            tok = g.op("Add", [tok, a])
        elif attention == "divided":
            # temporal: (1, tt·s, D) patch tokens → (s, tt, D)
            patches = g.op("Slice", [tok, g.ints([c]), g.ints([c + n_tok]), g.ints([1])]) if cls else tok
            xt = g.op("Transpose", [g.op("Reshape", [patches, g.ints([1, tt, s, D])])], perm=[0, 2, 1, 3])
            xt = g.op("Reshape", [xt, g.ints([s, tt, D])])
            a, sm = g.attention(xt, s, tt, D, H)
            softmaxes.append(sm)
            a = g.linear(a, D, D, "t_fc")
            a = g.op("Transpose", [g.op("Reshape", [a, g.ints([1, s, tt, D])])], perm=[0, 2, 1, 3])
            a = g.op("Reshape", [a, g.ints([1, n_tok, D])])
            patches = g.op("Add", [patches, a])
            # spatial: each frame's patches with the CLS token → (tt, s + c, D)
            xs = g.op("Reshape", [patches, g.ints([tt, s, D])])
            if cls:
                cls_tok = g.op("Slice", [tok, g.ints([0]), g.ints([1]), g.ints([1])])
                xs = g.op("Concat", [g.op("Expand", [cls_tok, g.ints([tt, 1, D])]), xs], axis=1)
            a, sm = g.attention(xs, tt, s + c, D, H)
            softmaxes.append(sm)
            if cls:
                cls_out = g.op("ReduceMean", [g.op("Slice", [a, g.ints([0]), g.ints([1]), g.ints([1])]),
                                              g.ints([0])], keepdims=1)  # fmt: skip
                rest = g.op("Slice", [a, g.ints([1]), g.ints([s + 1]), g.ints([1])])
                a = g.op("Concat", [cls_out, g.op("Reshape", [rest, g.ints([1, n_tok, D])])], axis=1)
                tok = g.op("Concat", [cls_tok, patches], axis=1)
            else:
                a = g.op("Reshape", [a, g.ints([1, n_tok, D])])
                tok = patches
            tok = g.op("Add", [tok, a])
        else:
            raise ValueError(attention)
        tok = g.op("Add", [tok, g.mlp(tok, [1, -1, D], D, hid, gelu)])
    if cls:  # timm / mmpretrain: the final LayerNorm on every token, then the CLS token
        pooled = g.op("Gather", [g.layernorm(tok, D, decomposed_ln), g.const("zero", np.int64(0))], axis=1)
    else:  # VideoMAE: the tokens' mean, then its LayerNorm (fc_norm)
        pooled = g.layernorm(g.op("ReduceMean", [tok, g.ints([1])], keepdims=0), D, decomposed_ln)
    w = g.weight("head_w", (num_classes, D))
    logits = g.op("Gemm", [pooled, w, g.weight("head_b", (num_classes,))], "logits", transB=1)
    graph = helper.make_graph(
        g.nodes, "transformer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(logits, TensorProto.FLOAT, [1, num_classes])], g.inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], producer_name="tests")
    model.ir_version = 9
    path = Path(path)
    onnx.save(model, path)
    transformer_graph.softmaxes = softmaxes  # the attention probabilities' tensor names, in order
    return path
