"""Operations of a transformer workload, as shapes that may be arrays over design points.

An :class:`Op` is one operation of one block instance: a (batched) GEMM ``batch × (M×K · K×N)`` or an
element-wise operation over ``batch × M × N`` elements (``K = 0``). ``repeat`` says how many
identical blocks contain it, so cost models evaluate each unique shape once and multiply.
All shape fields are numpy int64 arrays broadcastable against each other (scalars for one point).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dse.sparsity.table import OpSparsity

# kind -> stage (the two stages RTSA is about, "other" for the rest)
KINDS: dict[str, str] = {
    "patch_embed": "other",
    "linear": "linear",
    "attn_score": "attention",  # Q·Kᵀ
    "softmax": "attention",
    "attn_context": "attention",  # A·V
    "layernorm": "other",
    "activation": "other",
    "pool_classifier": "other",
}
STAGES = ("linear", "attention", "other")
#: what an op does in the model, set by the workload builders (no accelerator matches on op names)
ROLES = (
    "patch_embed", "norm", "qkv", "q", "k", "v", "qk", "softmax", "av", "proj", "fc1", "activation", "fc2",
    "temporal_fc", "merge", "classifier", "selector", "gemm",
)  # fmt: skip
GEMM_KINDS = ("patch_embed", "linear", "attn_score", "attn_context", "pool_classifier")


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


@dataclass(frozen=True)
class Op:
    """One operation; MACs and element counts are per block instance (multiply by ``repeat``)."""

    name: str
    kind: str
    block: str
    repeat: int
    batch: np.ndarray
    m: np.ndarray
    k: np.ndarray
    n: np.ndarray
    #: True when the K×N operand is a weight matrix (linear layers); False for activation×activation
    b_is_weight: bool = True
    #: number of temporal token slices inside M (for inter-frame delta sparsity); 1 for images
    t_slices: np.ndarray = field(default_factory=lambda: _arr(1))
    #: the attention op is windowable on a 2-D patch grid (ViT-style spatial attention)
    windowable: bool = False
    #: what the op does (one of :data:`ROLES`)
    role: str = ""
    #: attention-group id tying one attention's QKᵀ, softmax and A·V (and its qkv/proj) together; "" if none
    group: str = ""
    #: the op attends along time (temporal attention: its sequences are the frames of one spatial position)
    temporal: bool = False
    #: the op runs on a plain token sequence that token pruning (e.g. HeatViT's selectors) may shrink
    prunable: bool = False
    #: measured sparsity of this op from a per-layer table (:mod:`dse.sparsity.table`); None: the knobs apply
    sparsity: OpSparsity | None = field(default=None, compare=False)
    #: for an op standing for several (:func:`dse.hardware.workstack.stack_ops`, shape fields with a trailing
    #: member axis): each member's kind; empty for a single op
    member_kinds: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown op kind {self.kind!r}")
        if self.role and self.role not in ROLES:
            raise ValueError(f"unknown op role {self.role!r}")
        for f in ("batch", "m", "k", "n", "t_slices"):
            object.__setattr__(self, f, _arr(getattr(self, f)))

    @property
    def stage(self) -> str:
        return KINDS[self.kind]

    def kind_is(self, *kinds: str) -> bool | np.ndarray:
        """Whether the op is of one of ``kinds``: a bool, or per member of a stacked op (``member_kinds``),
        shaped to broadcast against its fields (members on the leading axis)."""
        if not self.member_kinds:
            return self.kind in kinds
        return np.array([k in kinds for k in self.member_kinds]).reshape((-1,) + (1,) * (self.m.ndim - 1))

    @property
    def is_gemm(self) -> bool:
        return self.kind in GEMM_KINDS

    @cached_property
    def macs(self) -> np.ndarray:
        return self.batch * self.m * self.k * self.n

    @cached_property
    def in_elems(self) -> np.ndarray:
        """Activation input elements (A, plus B when B is an activation)."""
        if not self.is_gemm:
            return self.batch * self.m * self.n
        a = self.batch * self.m * self.k
        return a if self.b_is_weight else a + self.batch * self.k * self.n

    @property
    def weight_elems(self) -> np.ndarray:
        return self.k * self.n if (self.is_gemm and self.b_is_weight) else _arr(0)

    @cached_property
    def out_elems(self) -> np.ndarray:
        return self.batch * self.m * self.n

    def with_(self, **changes) -> Op:
        return replace(self, **changes)


def layernorm(block: str, repeat: int, tokens, dim, name: str = "norm", **flags) -> Op:
    return Op(name, "layernorm", block, repeat, 1, tokens, 0, dim, role="norm", **flags)


def linear(block, repeat, name, tokens, k, n, t_slices=1, kind: str = "linear", role: str = "", **flags) -> Op:
    role = role or ("patch_embed" if kind == "patch_embed" else name if name in ROLES else "")
    return Op(name, kind, block, repeat, 1, tokens, k, n, t_slices=t_slices, role=role, **flags)


def mhsa(
    block: str,
    repeat: int,
    n_seq,
    seq,
    dim,
    heads,
    head_dim,
    t_slices=1,
    windowable: bool = False,
    prefix: str = "",
    proj_tokens=None,
    temporal: bool = False,
    prunable: bool = False,
) -> list[Op]:
    """LayerNorm, QKV, QKᵀ, softmax, A·V, output projection of multi-head self-attention.

    ``n_seq`` independent sequences of ``seq`` tokens (frames, windows or spatial positions). All six ops
    share the attention-group id ``{block}/{prefix}attn``; ``temporal``: the sequences run along time.
    """
    tokens = _arr(n_seq) * _arr(seq)
    hb = _arr(n_seq) * _arr(heads)
    inner = _arr(heads) * _arr(head_dim)
    p = prefix
    g = {"group": f"{block}/{p}attn", "prunable": prunable}
    a = {"windowable": windowable, "temporal": temporal, **g}
    return [
        layernorm(block, repeat, tokens, dim, f"{p}norm1", **g),
        linear(block, repeat, f"{p}qkv", tokens, dim, 3 * inner, t_slices, role="qkv", **g),
        Op(f"{p}qk", "attn_score", block, repeat, hb, seq, head_dim, seq, False, role="qk", **a),
        Op(f"{p}softmax", "softmax", block, repeat, hb, seq, 0, seq, role="softmax", **a),
        Op(f"{p}av", "attn_context", block, repeat, hb, seq, seq, head_dim, False, role="av", **a),
        linear(block, repeat, f"{p}proj", tokens if proj_tokens is None else proj_tokens, inner, dim, t_slices,
               role="proj", **g),
    ]  # fmt: skip


def mlp(block: str, repeat: int, tokens, dim, hidden, t_slices=1, prunable: bool = False) -> list[Op]:
    """LayerNorm, fc1, GELU, fc2."""
    f = {"prunable": prunable}
    return [
        layernorm(block, repeat, tokens, dim, "norm2", **f),
        linear(block, repeat, "fc1", tokens, dim, hidden, t_slices, role="fc1", **f),
        Op("gelu", "activation", block, repeat, 1, tokens, 0, hidden, role="activation", **f),
        linear(block, repeat, "fc2", tokens, hidden, dim, t_slices, role="fc2", **f),
    ]
