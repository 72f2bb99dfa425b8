"""Why a study's designs are infeasible: each constraint's violation share and the designs closest to feasibility.

Works on a trials table (``trials.csv``): the ``constraint_<name>`` columns hold each design's relative
violation (:meth:`dse.search.spec.Constraint.violation`: ``(value − bound) / |bound|`` for a maximum,
≤ 0 feasible); a missing value counts as violated. The sweep summary and ``report.md`` quote both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dse.search.results_schema import COLUMNS, COMPLETE, constraint_column

#: designs listed as closest to feasibility
CLOSEST = 3


@dataclass(frozen=True)
class ConstraintShare:
    """One constraint: how many completed designs violate it, and the share of them."""

    name: str
    violated: int
    total: int

    @property
    def share(self) -> float:
        return self.violated / self.total if self.total else 0.0


def _violations(trials: pd.DataFrame, names: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    done = trials[trials[COLUMNS.state] == COMPLETE] if COLUMNS.state in trials.columns else trials
    cols = [constraint_column(n) for n in names if constraint_column(n) in done.columns]
    v = done[cols].apply(pd.to_numeric, errors="coerce").fillna(np.inf)  # a missing value violates
    return v, cols


def violation_shares(trials: pd.DataFrame, names: Sequence[str]) -> list[ConstraintShare]:
    """Per constraint (in ``names`` order, those with a column), the completed designs violating it."""
    v, cols = _violations(trials, names)
    by_col = {constraint_column(n): n for n in names}
    return [ConstraintShare(by_col[c], int((v[c] > 0).sum()), len(v)) for c in cols]


def closest_to_feasible(trials: pd.DataFrame, names: Sequence[str], k: int = CLOSEST) -> pd.DataFrame:
    """The ``k`` completed infeasible designs with the smallest total violation (sum of the positive
    relative violations), with that total in ``total_violation``; ties by trial number."""
    v, cols = _violations(trials, names)
    if not cols:
        return trials.iloc[0:0].assign(total_violation=[])
    total = v.clip(lower=0).sum(axis=1)
    bad = total[total > 0]
    order = bad.sort_values(kind="stable").index[:k]
    return trials.loc[order].assign(total_violation=bad.loc[order].to_numpy())


def violated_text(row: pd.Series, names: Sequence[str], reason: str | None = None) -> str:
    """``area_mm2_max +12 %, valid`` — the constraints a design violates, by how much (relative to the bound);
    given ``reason``, why the design breaks its accelerator's own rules: ``…, invalid: REASON``."""
    parts = []
    for n in names:
        col = constraint_column(n)
        if col not in row.index:
            continue
        x = pd.to_numeric(row[col], errors="coerce")
        if not np.isfinite(x) or x >= 1e299:
            parts.append(f"{n} (no value)")
        elif x > 0:
            if n != "valid":
                parts.append(f"{n} +{x * 100:.3g} %")
            else:
                parts.append(n if reason is None else f"invalid: {reason}" if reason else "invalid")
    return ", ".join(parts)
