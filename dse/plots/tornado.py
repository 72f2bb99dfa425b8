"""The tornado figure of a sensitivity ranking (:mod:`dse.uncertainty.sensitivity`).

One horizontal bar per declared input, the most influential on top:

* ``oat``: from the nominal answer to the answer with the input at its 5th percentile (light) and at its
  95th percentile (dark), others nominal — the classic tornado;
* ``sobol``: total-effect index ST (light) with the first-order index S1 (dark) inside it;
* ``morris``: μ* (mean absolute elementary effect) relative to the nominal answer, σ as a whisker.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dse.plots import style

MAX_BARS = 15
LOW_COLOR, HIGH_COLOR = "#9ecae1", "#08519c"


def tornado_figure(sens, top: int = MAX_BARS) -> Figure:
    """Draw ``sens`` (a :class:`~dse.uncertainty.sensitivity.Sensitivity`), its ``top`` inputs."""
    t = sens.table.head(top).iloc[::-1]  # most influential at the top
    n = len(t)
    y = np.arange(n)
    label = style.metric_label(sens.metric)
    if sens.ratio:
        label = style.MetricLabel(f"{label.name} ratio")
    with style.styled():
        fig = style.figure(style.COLUMN_W, 0.9 + 0.22 * max(n, 3))
        ax = fig.add_subplot()
        if sens.method == "oat":
            base = sens.nominal * label.scale
            lo, hi = t["y_low"].to_numpy() * label.scale, t["y_high"].to_numpy() * label.scale
            ax.barh(y, lo - base, left=base, color=LOW_COLOR, label="input at its 5th percentile")
            ax.barh(y, hi - base, left=base, color=HIGH_COLOR, label="input at its 95th percentile", height=0.5)
            ax.axvline(base, color="black", linewidth=0.7)
            ax.set_xlabel(label.axis())
        elif sens.method == "sobol":
            ax.barh(y, t["ST"].clip(lower=0), color=LOW_COLOR, label="total effect ST",
                    xerr=t["ST_conf"], error_kw={"elinewidth": 0.5, "capsize": 1.5})  # fmt: skip
            ax.barh(y, t["S1"].clip(lower=0), color=HIGH_COLOR, height=0.5, label="first-order S1")
            ax.set_xlabel("Sobol' index (share of the output variance)")
            ax.set_xlim(0, max(1.0, float(t["ST"].max()) * 1.05))
        else:
            ax.barh(y, t["mu_star_rel"], color=HIGH_COLOR, label="μ* / |nominal|",
                    xerr=t["sigma"] / (abs(sens.nominal) or 1.0), error_kw={"elinewidth": 0.5, "capsize": 1.5})  # fmt: skip
            ax.set_xlabel("Morris μ* relative to the nominal answer (whisker: σ)")
        ax.set_yticks(y, [f"{name}\n{dist}" for name, dist in zip(t["input"], t["distribution"], strict=True)],
                      fontsize=5.5)  # fmt: skip
        ax.grid(axis="y", visible=False)
        ax.set_title(textwrap.fill(f"{sens.question} — {sens.method}, {sens.points:,} evaluations", 60))
        ax.legend(loc="lower right", fontsize=5.5)
    return fig


def plot_tornado(sens, out: str | Path) -> Path:
    """Draw and save (.png, .svg or .pdf)."""
    style.output_format(Path(out))
    return style.save(tornado_figure(sens), out)
