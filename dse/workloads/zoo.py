"""The model zoo: published shapes of image and video transformers, and builders of their ops.

Shapes and published operation counts: [src:mmpretrain] [src:mmaction2] [src:videoswin-zoo] [src:vivit2021]
[src:timesformer2021]. "FLOPs" in those zoos are MACs. Every builder takes height, width and
frames as numpy arrays (one value per design point) and returns ops whose shapes are arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from dse.workloads import ops as O
from dse.workloads.ops import Op


def _cdiv(a, b):
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


@dataclass(frozen=True)
class ModelSpec:
    """A model's architecture hyper-parameters and published default input."""

    name: str
    family: str  # vit | videomae | timesformer | vivit | swin
    dim: int
    depth: int
    heads: int
    mlp_ratio: float = 4.0
    patch: int = 16
    tubelet: int = 1  # frames per token along time
    cls: bool = True
    resolution: int = 224
    frames: int = 1
    num_classes: int = 1000
    variant: str = ""  # timesformer: divided|joint|space; vivit: m1..m4
    temporal_depth: int = 4  # ViViT model 2 temporal encoder depth
    depths: tuple[int, ...] = ()  # swin stage depths
    window: tuple[int, int, int] = (8, 7, 7)  # swin window (t, h, w)
    #: frames between consecutive input frames in the model's sampling pipeline (1 for images): the
    #: delta between token slices spans tubelet × frame_interval source frames
    frame_interval: int = 1
    published_gmacs: float | None = None
    source: str = ""
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    def mlp_hidden(self, dim: int | None = None) -> int:
        """MLP hidden width of a block of width ``dim`` (default the model's): ``dim × mlp_ratio`` rounded (a
        ratio read back from a graph, e.g. 1000/384, then gives the graph's width exactly)."""
        return int(round((self.dim if dim is None else dim) * self.mlp_ratio))


_IMG = "mmpretrain DeiT/ViT configs [src:mmpretrain]"
_MAE = "mmaction2 VideoMAE K400 configs [src:mmaction2]"
_TSF = "mmaction2 TimeSformer configs [src:mmaction2]; 3-crop count of the TimeSformer paper [src:timesformer2021]"
_VIV = "ViViT paper (Arnab et al. 2021) [src:vivit2021]; [R] recalled, analytic within 1%"
_SWN = "Video-Swin repo model zoo (K400) [src:videoswin-zoo]"

# fmt: off
SPECS: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec("deit-tiny", "vit", 192, 12, 3, published_gmacs=1.26, source=_IMG, description="DeiT-Tiny/16"),
        ModelSpec("deit-small", "vit", 384, 12, 6, published_gmacs=4.61, source=_IMG, description="DeiT-Small/16"),
        ModelSpec("deit-base", "vit", 768, 12, 12, published_gmacs=17.58, source=_IMG, description="DeiT-Base/16"),
        ModelSpec("vit-base", "vit", 768, 12, 12, published_gmacs=17.58, source=_IMG, description="ViT-B/16"),
        ModelSpec("vit-large", "vit", 1024, 24, 16, published_gmacs=None, source=_IMG, description="ViT-L/16"),
        ModelSpec("videomae-s", "videomae", 384, 12, 6, tubelet=2, cls=False, frames=16, num_classes=400,
                  published_gmacs=57, source=_MAE + " ([R] for ViT-S)", description="VideoMAE ViT-S, joint ST"),
        ModelSpec("videomae-b", "videomae", 768, 12, 12, tubelet=2, cls=False, frames=16, num_classes=400,
                  published_gmacs=180, source=_MAE, description="VideoMAE ViT-B, joint ST"),
        ModelSpec("videomae-l", "videomae", 1024, 24, 16, tubelet=2, cls=False, frames=16, num_classes=400,
                  published_gmacs=597, source=_MAE, description="VideoMAE ViT-L, joint ST"),
        ModelSpec("timesformer-b", "timesformer", 768, 12, 12, frames=8, num_classes=400, variant="divided",
                  published_gmacs=196, source=_TSF, description="TimeSformer-B, divided space-time"),
        ModelSpec("timesformer-b-joint", "timesformer", 768, 12, 12, frames=8, num_classes=400, variant="joint",
                  published_gmacs=180, source=_TSF, description="TimeSformer-B, joint space-time"),
        ModelSpec("timesformer-b-space", "timesformer", 768, 12, 12, frames=8, num_classes=400, variant="space",
                  published_gmacs=141, source=_TSF, description="TimeSformer-B, space-only"),
        ModelSpec("vivit-b-m1", "vivit", 768, 12, 12, tubelet=2, frames=32, num_classes=400, variant="m1",
                  published_gmacs=455.2, source=_VIV, description="ViViT-B/16x2 model 1, unfactorised"),
        ModelSpec("vivit-b-m2", "vivit", 768, 12, 12, tubelet=2, frames=32, num_classes=400, variant="m2",
                  published_gmacs=284.4, source=_VIV, description="ViViT-B/16x2 model 2, factorised encoder"),
        ModelSpec("vivit-b-m3", "vivit", 768, 12, 12, tubelet=2, frames=32, num_classes=400, variant="m3",
                  cls=False, published_gmacs=372.3, source=_VIV,
                  description="ViViT-B/16x2 model 3, factorised self-attention"),
        ModelSpec("vivit-b-m4", "vivit", 768, 12, 12, tubelet=2, frames=32, num_classes=400, variant="m4",
                  cls=False, published_gmacs=277.1, source=_VIV,
                  description="ViViT-B/16x2 model 4, factorised dot-product"),
        ModelSpec("video-swin-t", "swin", 96, 12, 3, patch=4, tubelet=2, cls=False, frames=32, num_classes=400,
                  depths=(2, 2, 6, 2), published_gmacs=87.9, source=_SWN, description="Video Swin-T"),
        ModelSpec("video-swin-s", "swin", 96, 24, 3, patch=4, tubelet=2, cls=False, frames=32, num_classes=400,
                  depths=(2, 2, 18, 2), published_gmacs=165.9, source=_SWN, description="Video Swin-S"),
        ModelSpec("video-swin-b", "swin", 128, 24, 4, patch=4, tubelet=2, cls=False, frames=32, num_classes=400,
                  depths=(2, 2, 18, 2), published_gmacs=281.6, source=_SWN, description="Video Swin-B"),
    ]
}
# fmt: on
#: frames between sampled input frames in each family's published test pipeline: the mmaction2 config names
#: ``16x4x1`` (VideoMAE), ``8x32x1`` (TimeSformer), ``32x2x1`` (Video Swin) are clip length × frame interval ×
#: clips [src:mmaction2] [src:videoswin-zoo]; ViViT samples 32 frames at stride 2 [src:vivit2021] [R]
FRAME_INTERVAL: dict[str, int] = {"vit": 1, "videomae": 4, "timesformer": 32, "vivit": 2, "swin": 2}
SPECS = {name: replace(s, frame_interval=FRAME_INTERVAL[s.family]) for name, s in SPECS.items()}
ALIASES: dict[str, str] = {
    "deit-t": "deit-tiny", "deit-s": "deit-small", "deit-b": "deit-base", "vit-b": "vit-base",
    "vit-l": "vit-large", "timesformer-b-divided": "timesformer-b", "video-swin-tiny": "video-swin-t",
}  # fmt: skip


def _patch_embed(spec: ModelSpec, tokens_per_frame, t_tok) -> Op:
    k = 3 * spec.patch * spec.patch * spec.tubelet
    return O.linear("embed", 1, "patch_embed", tokens_per_frame * t_tok, k, spec.dim, t_tok, kind="patch_embed")


def _head(spec: ModelSpec, dim: int, tokens) -> list[Op]:
    """Final LayerNorm and classifier. The reference implementations normalise every token the last block
    outputs, then pool (ViT/DeiT [src:mmpretrain], TimeSformer, ViViT, Video Swin [src:mmaction2]
    [src:videoswin-zoo]); VideoMAE pools first (mean of the tokens) and normalises the one pooled vector
    (``fc_norm``, [src:mmaction2]). The pooling itself is not a GEMM and is not counted."""
    norm_tokens = 1 if spec.family == "videomae" else tokens
    return [
        O.layernorm("head", 1, norm_tokens, dim, "norm_final"),
        Op("classifier", "pool_classifier", "head", 1, 1, 1, dim, spec.num_classes, role="classifier"),
    ]


def _vit_family(spec: ModelSpec, h, w, t) -> tuple[list[Op], np.ndarray]:
    """ViT/DeiT, VideoMAE, TimeSformer and ViViT: isotropic encoders on a patch grid."""
    gh, gw = h // spec.patch, w // spec.patch
    s = gh * gw  # spatial tokens per (tubelet) frame
    tt = t // spec.tubelet  # temporal token slices
    c = int(spec.cls)
    D, H, dh, R = spec.dim, spec.heads, spec.head_dim, spec.depth
    hid = spec.mlp_hidden()
    ops: list[Op] = [_patch_embed(spec, s, tt)]
    v = spec.variant
    if spec.family in ("vit", "videomae") or v in ("joint", "m1"):
        tokens = s * tt + c
        ops += O.mhsa("block", R, 1, tokens, D, H, dh, tt, windowable=(spec.family == "vit"), prunable=True)
        ops += O.mlp("block", R, tokens, D, hid, tt, prunable=True)
    elif v == "divided":  # TimeSformer: temporal attention (+ temporal_fc), then spatial attention
        tokens = s * tt + c
        ops += O.mhsa("block", R, s, tt, D, H, dh, tt, prefix="t_", temporal=True, prunable=True)
        ops.append(O.linear("block", R, "t_fc", s * tt, D, D, tt, role="temporal_fc", prunable=True))
        ops += O.mhsa("block", R, tt, s + c, D, H, dh, tt, windowable=True, prefix="s_", prunable=True)
        ops += O.mlp("block", R, tokens, D, hid, tt, prunable=True)
    elif v == "space":  # TimeSformer space-only: attention inside each frame (CLS joins every frame)
        tokens = s * tt + c
        ops += O.mhsa("block", R, tt, s + c, D, H, dh, tt, windowable=True, proj_tokens=tokens, prunable=True)
        ops += O.mlp("block", R, tokens, D, hid, tt, prunable=True)
    elif v == "m2":  # ViViT factorised encoder: spatial ViT per time slice, then a temporal encoder
        ops += O.mhsa("spatial", R, tt, s + c, D, H, dh, tt, windowable=True, prunable=True)
        ops += O.mlp("spatial", R, tt * (s + c), D, hid, tt, prunable=True)
        # the spatial encoder ends in its own LayerNorm over every token (scenic Encoder, normalise_output); its
        # own block, as the head's norm: no op of the spatial blocks is taken for its producer
        ops.append(O.layernorm("spatial_head", 1, tt * (s + c), D, "norm_final_spatial"))
        Rt = spec.temporal_depth
        ops += O.mhsa("temporal", Rt, 1, tt + c, D, H, dh, temporal=True)
        ops += O.mlp("temporal", Rt, tt + c, D, hid)
        tokens = tt * (s + c)
    elif v == "m3":  # ViViT factorised self-attention: spatial MHSA, temporal MHSA, MLP
        tokens = s * tt
        ops += O.mhsa("block", R, tt, s, D, H, dh, tt, windowable=True, prefix="s_", prunable=True)
        ops += O.mhsa("block", R, s, tt, D, H, dh, tt, prefix="t_", temporal=True, prunable=True)
        ops += O.mlp("block", R, tokens, D, hid, tt, prunable=True)
    elif v == "m4":  # ViViT factorised dot-product: half the heads spatial, half temporal
        tokens = s * tt
        hs = H // 2
        att = O.mhsa("block", R, tt, s, D, hs, dh, tt, windowable=True, prunable=True)
        tmp = O.mhsa("block", R, s, tt, D, H - hs, dh, tt, prefix="t_", temporal=True, prunable=True)
        qkv = att[1].with_(n=3 * H * dh)
        proj = att[5].with_(k=H * dh)
        ops += [att[0], qkv, att[2], att[3], att[4], tmp[2], tmp[3], tmp[4], proj]
        ops += O.mlp("block", R, tokens, D, hid, tt, prunable=True)
    else:  # pragma: no cover - guarded by SPECS
        raise ValueError(spec.variant)
    # the tokens the final LayerNorm sees: the temporal encoder's (ViViT 2); TimeSformer space-only averages
    # its frames first (then s + CLS tokens) [src:mmaction2]; else every token the last block outputs
    last = tt + c if v == "m2" else s + c if v == "space" else tokens
    ops += _head(spec, D, last)
    return ops, np.asarray(tokens, dtype=np.int64)


def _swin(spec: ModelSpec, h, w, t) -> tuple[list[Op], np.ndarray]:
    """Video Swin: 3-D patch embedding, four stages of (shifted) 3-D window attention, patch merging.

    Windows are clipped to the feature size and the feature map is padded to whole windows, as the
    reference implementation does; the shift does not change operation counts.
    """
    gt, gh, gw = t // spec.tubelet, h // spec.patch, w // spec.patch
    ops: list[Op] = [_patch_embed(spec, gh * gw, gt)]
    D = spec.dim
    tokens0 = gt * gh * gw
    for i, depth in enumerate(spec.depths):
        if i > 0:  # patch merging: 2×2 spatial neighbours concatenated (4C), LN, linear 4C→2C
            gh, gw = _cdiv(gh, 2), _cdiv(gw, 2)
            ops.append(O.layernorm(f"stage{i}", 1, gt * gh * gw, 4 * D, "merge_norm"))
            ops.append(O.linear(f"stage{i}", 1, "merge", gt * gh * gw, 4 * D, 2 * D, gt, role="merge"))
            D *= 2
        heads = spec.heads * 2**i
        wt, wh, ww = (np.minimum(wi, g) for wi, g in zip(spec.window, (gt, gh, gw), strict=False))
        n_win = _cdiv(gt, wt) * _cdiv(gh, wh) * _cdiv(gw, ww)
        win = wt * wh * ww
        tok = gt * gh * gw
        blk = f"stage{i}"
        att = O.mhsa(blk, depth, n_win, win, D, heads, D // heads, gt)
        # LN/QKV/proj run on the real tokens; attention on padded whole windows
        att[0] = att[0].with_(m=tok)
        att[1] = att[1].with_(m=tok)
        att[5] = att[5].with_(m=tok)
        ops += att
        ops += O.mlp(blk, depth, tok, D, spec.mlp_hidden(D), gt)
    ops += _head(spec, D, tok)
    return ops, np.asarray(tokens0, dtype=np.int64)


BUILDERS = {"vit": _vit_family, "videomae": _vit_family, "timesformer": _vit_family, "vivit": _vit_family,
            "swin": _swin}  # fmt: skip


#: attention types of the isotropic video families (the ``attention`` override) → (family, variant) that builds it
ATTENTION_TYPES: dict[str, tuple[str, str]] = {
    "joint": ("videomae", ""),  # one attention over all space-time tokens (VideoMAE, TimeSformer-joint, ViViT m1)
    "divided": ("timesformer", "divided"),  # temporal then spatial attention in each block
    "space": ("timesformer", "space"),  # attention inside each frame only
    "factorised-encoder": ("vivit", "m2"),  # a spatial encoder per time slice, then a temporal encoder
    "factorised-self-attention": ("vivit", "m3"),  # spatial then temporal attention in each block
    "factorised-dot-product": ("vivit", "m4"),  # half the heads spatial, half temporal
}


def attention_type(spec: ModelSpec) -> str:
    """The attention type of ``spec``: a key of :data:`ATTENTION_TYPES`, ``window`` (Video Swin) or ``image``."""
    if spec.family == "vit":
        return "image"
    if spec.family == "swin":
        return "window"
    for name, (family, variant) in ATTENTION_TYPES.items():
        if (spec.family, spec.variant) == (family, variant):
            return name
    return "joint"  # videomae, timesformer joint, vivit m1


def with_overrides(spec: ModelSpec, **overrides) -> ModelSpec:
    """Return ``spec`` with architecture overrides (depth, dim, heads, mlp_ratio, patch, tubelet, window,
    attention: a key of :data:`ATTENTION_TYPES`, which moves the model to the family that builds it)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    if "window" in clean and isinstance(clean["window"], int):
        clean["window"] = (spec.window[0], clean["window"], clean["window"])
    attention = clean.pop("attention", None)
    if attention is not None and attention != attention_type(spec):
        clean["family"], clean["variant"] = ATTENTION_TYPES[attention]
    return replace(spec, **clean)
