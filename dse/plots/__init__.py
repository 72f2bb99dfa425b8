"""Figures of a sweep's results: the Pareto figure with baselines, and the study report.

``load_results(dir)`` reads ``results/<study>/``; ``plot_pareto`` draws the front;
``write_report`` / ``write_default_figures`` write every figure and ``report.md``.
Matplotlib is used headless (Agg) with one style (:mod:`dse.plots.style`).
"""

from __future__ import annotations

from dse.plots.pareto import ParetoPlot, pareto_figure, plot_pareto
from dse.plots.report import Report, write_default_figures, write_report
from dse.plots.results import Results, load_results

__all__ = [
    "ParetoPlot", "Report", "Results", "load_results", "pareto_figure", "plot_pareto", "write_default_figures",
    "write_report",
]  # fmt: skip
