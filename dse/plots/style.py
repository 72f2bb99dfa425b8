"""One figure style for every plot: headless (Agg), paper column widths, deterministic files.

Figures are built on :class:`matplotlib.figure.Figure` (no pyplot, no global state) inside
:func:`styled`, and written by :func:`save`, which strips dates and version strings from the file
metadata and fixes the SVG id salt, so the same data gives a byte-identical PNG, SVG or PDF.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)

from matplotlib.figure import Figure  # noqa: E402

from dse.errors import InputError  # noqa: E402

#: IEEE two-column layout, inches
COLUMN_W = 3.5
WIDE_W = 7.16
FORMATS = ("png", "svg", "pdf")
DPI = 300

RC = {
    "backend": "Agg",
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7.5,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "svg.hashsalt": "rtsa-dse",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "axes.prop_cycle": matplotlib.cycler(
        color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    ),
}

#: per-format metadata without dates or software versions (None removes a key)
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}
#: per-format writer options: PNG at zlib level 3, half the encoding time of the default 6 for these figures
#: (the same pixels; files about 6 % larger)
WRITER = {"png": {"pil_kwargs": {"compress_level": 3}}}

#: stage and energy-component colours, shared by every breakdown
STAGE_COLORS = {"linear": "#1f77b4", "attention": "#d62728", "other": "#bcbcbc"}
COMPONENT_COLORS = {
    "mac": "#2ca02c",
    "buffer": "#ff7f0e",
    "dram": "#9467bd",
    "sfu": "#17becf",
    "clock": "#bcbd22",
    "leakage": "#8c8c8c",
}
FRONT_COLOR = "#08306b"
CLOUD_COLOR = "#9ecae1"
BASELINE_MARKERS = ("*", "D", "s", "^", "v", "P", "X", "h")


LEGENDS = ("auto", "best", "outside", "none")
SHORT_LEGEND = 5
#: limits of ``--size`` (inches a side) and ``--font-size`` (points)
SIZE_RANGE = (1.0, 30.0)
FONT_RANGE = (4.0, 24.0)


@dataclass(frozen=True)
class FigureOptions:
    """How a figure is laid out for a paper: title or not, size (inches), base font size (points), legend.

    ``legend``: ``best`` (inside, where it hides least), ``outside`` (below the axes), ``none``, or
    ``auto``: inside when it is short (:data:`SHORT_LEGEND` entries at most), else outside.
    """

    title: bool = True
    size: tuple[float, float] | None = None
    font_size: float | None = None
    legend: str = "auto"

    def __post_init__(self) -> None:
        if self.legend not in LEGENDS:
            raise InputError("--legend", f"unknown value {self.legend!r}; allowed: {', '.join(LEGENDS)}")
        if self.font_size is not None and not FONT_RANGE[0] <= self.font_size <= FONT_RANGE[1]:
            raise InputError("--font-size", f"must be in [{FONT_RANGE[0]:g}, {FONT_RANGE[1]:g}] points, got "
                             f"{self.font_size:g}")  # fmt: skip

    def rc(self) -> dict:
        """rc settings: every font size scaled so that the base size is ``font_size``."""
        if self.font_size is None:
            return {}
        k = self.font_size / RC["font.size"]
        keys = ("font.size", "axes.titlesize", "axes.labelsize", "legend.fontsize", "xtick.labelsize",
                "ytick.labelsize")  # fmt: skip
        return {key: RC[key] * k for key in keys}


def parse_size(text: str | None, field: str = "--size") -> tuple[float, float] | None:
    """``3.5x2.6`` (width × height, inches) → (3.5, 2.6); None stays None."""
    if text is None:
        return None
    try:
        w, h = (float(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise InputError(field, f"expected WIDTHxHEIGHT in inches (e.g. 3.5x2.6), got {text!r}") from None
    lo, hi = SIZE_RANGE
    if not (lo <= w <= hi and lo <= h <= hi):
        raise InputError(field, f"each side must be in [{lo:g}, {hi:g}] inches, got {text!r}")
    return w, h


@contextlib.contextmanager
def styled(options: FigureOptions | None = None) -> Iterator[None]:
    """The rc settings of every rtsa-dse figure, for building and saving it (``options``: a paper's font size)."""
    with matplotlib.rc_context({**RC, **(options.rc() if options else {})}):
        yield


def figure(width: float = COLUMN_W, height: float | None = None) -> Figure:
    """A new figure (call inside :func:`styled`); height defaults to width / golden ratio."""
    return Figure(figsize=(width, height if height is not None else width / 1.618), layout="constrained")


def output_format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError("--output", f"unsupported file type {path.suffix or '(none)'!r}; allowed: .png, .svg, .pdf")
    return fmt


def save(fig: Figure, path: str | Path, options: FigureOptions | None = None) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix) deterministically; parents are created."""
    path = Path(path)
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from dse.search.export import atomic_path

    with styled(options), atomic_path(path) as tmp:  # a reader never sees a half-written figure
        fig.savefig(tmp, format=fmt, metadata=METADATA[fmt], **WRITER.get(fmt, {}))
    return path


# -- metric labels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricLabel:
    """How a metric is shown: axis name, display unit and the factor from its stored unit."""

    name: str
    unit: str = ""
    scale: float = 1.0

    def axis(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


def metric_label(metric: str, inputs: str | None = None) -> MetricLabel:
    """Display name, unit and scale of a metric from the schema (:mod:`dse.metrics`); ``latency_s@224`` →
    latency @224 in ms. A name the schema does not declare (a plug-in's) is shown as written.

    ``inputs``: what one input of the study is (``clips`` for a video model, ``images`` for an image model),
    so that ``inputs_per_s`` reads clips/s or images/s, never frames/s."""
    label = _metric_label(metric)
    if inputs and label.unit.startswith("inputs"):
        label = MetricLabel(label.name, inputs + label.unit[len("inputs") :], label.scale)
    return label


def _metric_label(metric: str) -> MetricLabel:
    from dse.metrics import is_declared
    from dse.metrics import metric as declared

    base, _, at = metric.partition("@")
    if is_declared(base):
        m = declared(base)
        unit = m.display_unit or (m.unit if m.unit != "1" else "")
        label = MetricLabel(m.label, unit, m.scale)
    else:
        label = MetricLabel(base.replace("_", " "))
    return MetricLabel(f"{label.name} @{at}", label.unit, label.scale) if at else label


def log_ticks(axis, values) -> None:
    """Readable log ticks on ``axis`` (an x or y Axis): plain numbers at 1, 2, 5 × 10^k when the
    values span up to two decades, at powers of ten beyond."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    vals = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    span = math.log10(max(vals) / min(vals)) if vals else 0.0
    subs = (1.0, 2.0, 5.0) if span <= 2 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def spans_decades(values, decades: float = 1.0) -> bool:
    """Positive values whose max/min exceeds 10**decades (→ a log axis)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals or min(vals) <= 0:
        return False
    return max(vals) / min(vals) > 10**decades
