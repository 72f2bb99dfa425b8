"""Models outside the zoo: a model file (a new member of a zoo family) or an ONNX graph, loaded as one
:class:`Model` that builds workloads like a zoo model.

A **model file** is a TOML table::

    name = "videomae-s-8"          # required: how the model is called in tables and figures
    base = "videomae-s"            # a zoo model to start from (or: family = "videomae" with dim, depth, heads)
    depth = 8                      # architecture fields of ModelSpec (see MODEL_FILE_KEYS)
    attention = "divided"          # joint | divided | space | factorised-encoder | ... (video families)
    frames = 16
    frame_interval = 4             # frames between sampled input frames (the model card's sampling stride)
    description = "VideoMAE-S, 8 blocks"

An **ONNX graph** (``*.onnx``) is read by :mod:`dse.workloads.onnx_import`. Paths are relative to
``base_dir`` (a spec's folder; the working directory by default); a study's results folder keeps a copy of
each file in ``inputs/``, where :func:`resolve_path` looks when the original is gone. Every malformed field
raises :class:`~dse.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dse.errors import InputError, choice_error
from dse.workloads import Workload, apply_overrides, build_spec, get_spec, is_model_file
from dse.workloads.zoo import ALIASES, BUILDERS, SPECS, ModelSpec

#: keys of a model file; architecture keys go through the same validation as command-line overrides
MODEL_FILE_KEYS = (
    "name", "base", "family", "description", "source", "dim", "depth", "heads", "mlp_ratio", "patch", "tubelet",
    "window", "attention", "cls", "resolution", "frames", "frame_interval", "num_classes", "temporal_depth",
    "depths", "published_gmacs",
)  # fmt: skip
#: the folder of a study's results where copies of its model and sparsity files are kept
INPUTS_DIR = "inputs"
_ARCH = ("dim", "depth", "heads", "mlp_ratio", "patch", "tubelet", "window", "attention")
_INT_FIELDS = ("resolution", "frames", "frame_interval", "num_classes", "temporal_depth")
_DEFAULT_VARIANT = {"timesformer": "divided", "vivit": "m1"}


@dataclass(frozen=True)
class Model:
    """A model that builds workloads: from the zoo, a model file or an ONNX graph.

    ``spec``: architecture and default input (for ONNX, as recognised in the graph); ``origin``: ``zoo``,
    ``file`` or ``onnx``; ``path``: the resolved file (``""`` for the zoo); ``digest``: SHA-256 of the file.
    """

    spec: ModelSpec
    origin: str = "zoo"
    path: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ref(self) -> str:
        """What :func:`dse.workloads.build` takes to build this model again (zoo name or absolute path)."""
        return self.path or self.spec.name

    def build(self, resolution=None, frames=None) -> Workload:
        """The workload at ``resolution`` (R, (H, W) or arrays) and ``frames``; defaults: the model's input."""
        if self.origin == "onnx":
            from dse.workloads import onnx_import

            return onnx_import.build(self.path, resolution, frames)
        return build_spec(self.spec, resolution, frames)


def resolve_path(ref: str | os.PathLike, base_dir: str | os.PathLike | None = None, field: str = "model") -> Path:
    """A file reference → an existing absolute path: ``base_dir/ref`` (or ``ref`` if absolute), else the copy
    a study keeps in ``base_dir/inputs/``; InputError naming ``field`` if neither exists."""
    p = Path(ref).expanduser()
    base = Path(base_dir) if base_dir else Path.cwd()
    cand = p if p.is_absolute() else base / p
    if cand.is_file():
        return cand.resolve()
    copy = base / INPUTS_DIR / p.name
    if copy.is_file():
        return copy.resolve()
    raise InputError(field, f"file not found: {cand}")


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex), for a study's identity."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(ref: str, base_dir: str | os.PathLike | None = None, field: str = "model", **overrides) -> Model:
    """A zoo name, model file or ONNX graph → :class:`Model` with ``overrides`` (architecture options) applied.

    ONNX graphs take no architecture overrides (their architecture is the graph's).
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if not is_model_file(ref):
        return Model(apply_overrides(get_spec(ref), **overrides))
    path = resolve_path(ref, base_dir, field)
    stat = path.stat()
    if path.suffix.lower() == ".onnx":
        if overrides:
            raise InputError(
                sorted(overrides)[0], "an ONNX graph's architecture is the graph's own: overrides do not apply"
            )
        from dse.workloads import onnx_import

        spec = onnx_import.read(str(path)).spec
        return Model(spec, "onnx", str(path), _digest(str(path), stat.st_mtime_ns, stat.st_size))
    spec = _model_file(str(path), stat.st_mtime_ns, stat.st_size)
    return Model(
        apply_overrides(spec, **overrides), "file", str(path), _digest(str(path), stat.st_mtime_ns, stat.st_size)
    )


@functools.lru_cache(maxsize=64)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return file_digest(path)


@functools.lru_cache(maxsize=64)
def _model_file(path: str, mtime_ns: int, size: int) -> ModelSpec:
    """Parse and validate a model file (cached per file version)."""
    name = Path(path).name
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("model", f"cannot read {name}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError("model", f"{name}: invalid TOML: {err}") from None
    return parse_model_file(data, name)


def parse_model_file(data: dict[str, Any], where: str = "model file") -> ModelSpec:
    """A model file's table → validated :class:`ModelSpec` (see the module docstring)."""

    def err(key: str, msg: str) -> InputError:
        return InputError(f"{where}: {key}", msg)

    for key in data:
        if key not in MODEL_FILE_KEYS:
            raise err(key, f"unknown key; allowed: {', '.join(MODEL_FILE_KEYS)}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise err("name", "missing or not a string; name the model")
    if data["name"] in SPECS or data["name"] in ALIASES:
        raise err("name", f"{data['name']!r} is a zoo model's name; give your model its own (outputs are labelled "
                  "by it)")  # fmt: skip
    if ("base" in data) == ("family" in data):
        raise err("base", "give exactly one of base (a zoo model to start from) or family")
    if "base" in data:
        if not isinstance(data["base"], str):
            raise err("base", f"expected a zoo model name, got {data['base']!r}")
        try:
            spec = get_spec(data["base"])
        except InputError as e:
            raise err("base", str(e).split(": ", 1)[1]) from None
        if is_model_file(data["base"]):
            raise err("base", "must be a zoo model (`rtsa-dse workloads`), not a file")
    else:
        family = data["family"]
        if family not in BUILDERS:
            raise err("family", choice_error("family", family, tuple(BUILDERS)).args[0].split(": ", 1)[1])
        for key in ("dim", "depth", "heads"):
            if key not in data:
                raise err(key, "missing; a model defined by family needs dim, depth and heads")
        if family == "swin" and "depths" not in data:
            raise err("depths", "missing; a Video Swin model needs its per-stage depths")
        spec = ModelSpec(data["name"], family, int(_int(data["dim"], err, "dim")), _int(data["depth"], err, "depth"),
                         _int(data["heads"], err, "heads"), variant=_DEFAULT_VARIANT.get(family, ""),
                         cls=family != "videomae" and family != "swin")  # fmt: skip
        if family != "vit":
            spec = replace(spec, frames=16 if family == "videomae" else 8, tubelet=2 if family == "videomae" else 1)
    plain: dict[str, Any] = {"name": data["name"]}
    for key in ("description", "source"):
        if key in data:
            if not isinstance(data[key], str):
                raise err(key, f"expected a string, got {data[key]!r}")
            plain[key] = data[key]
    if "source" not in data:
        plain["source"] = f"model file {where}" + (f" (from {spec.name}: {spec.source})" if "base" in data else "")
    if "description" not in data:
        plain["description"] = f"{data['name']} (model file)"
    for key in _INT_FIELDS:
        if key in data:
            plain[key] = _int(data[key], err, key)
    if "cls" in data:
        if not isinstance(data["cls"], bool):
            raise err("cls", f"expected true or false, got {data['cls']!r}")
        plain["cls"] = data["cls"]
    if "depths" in data:
        d = data["depths"]
        if not isinstance(d, list) or not d:
            raise err("depths", f"expected a list of positive integers, got {d!r}")
        plain["depths"] = tuple(_int(x, err, "depths") for x in d)
        plain["depth"] = sum(plain["depths"])
    if "published_gmacs" in data:
        v = data["published_gmacs"]
        if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise err("published_gmacs", f"expected a positive number, got {v!r}")
        plain["published_gmacs"] = float(v)
    else:
        plain["published_gmacs"] = None
    plain["aliases"] = ()
    spec = replace(spec, **plain)
    arch = {k: data[k] for k in _ARCH if k in data and not (k == "depth" and "family" in data)}
    if "window" in arch and isinstance(arch["window"], list):
        arch["window"] = tuple(arch["window"])
    for key in ("dim", "depth", "heads", "patch", "tubelet"):
        if key in arch:
            arch[key] = _int(arch[key], err, key)
    if "mlp_ratio" in arch and (isinstance(arch["mlp_ratio"], bool) or not isinstance(arch["mlp_ratio"], int | float)):
        raise err("mlp_ratio", f"expected a number, got {arch['mlp_ratio']!r}")
    try:
        spec = apply_overrides(spec, **arch)
        build_spec(spec)  # the default input must build
    except InputError as e:
        raise err(e.field, str(e).split(": ", 1)[1]) from None
    if "temporal_depth" in data and not (spec.family == "vivit" and spec.variant == "m2"):
        raise err("temporal_depth", "applies to a ViViT factorised encoder (model 2) only")
    return spec


def _int(value: Any, err, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise err(key, f"expected a positive integer, got {value!r}")
    return value
