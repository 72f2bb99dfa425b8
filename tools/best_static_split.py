"""The best static PE split of ``rtsa-split`` for a resolution set: the ``split`` default's derivation.

For the default design (every other parameter at its default), evaluate every split that rounds to a
distinct number of rows, at each resolution of the set, and keep the split with the lowest mean period
(steady-state time per input: what a pipelined split design is built for). One vectorized call.

    python tools/best_static_split.py [--model videomae-b] [--resolutions 112,160,224,320,448]
"""

from __future__ import annotations

import argparse

import numpy as np

from dse import accelerators
from dse.workloads import build

DEFAULT_RESOLUTIONS = (112, 160, 224, 320, 448)


def best_static_split(model: str = "videomae-b", resolutions=DEFAULT_RESOLUTIONS, values=None) -> tuple[float, dict]:
    """(best split, {split: mean period s}) over the distinct whole-row splits of the design ``values``."""
    acc = accelerators.get("rtsa-split")
    p = acc.resolve(values or {})
    rows = int(p["rows"])
    splits = (np.arange(1, rows) / rows).reshape(-1, 1)
    wl = build(model, np.asarray(resolutions).reshape(1, -1))
    ev = acc.evaluate(wl, {**(values or {}), "split": splits})
    mean_period = np.asarray(ev["period_s"]).mean(axis=1)
    table = {float(s): float(m) for s, m in zip(splits[:, 0], mean_period, strict=True)}
    return float(splits[int(np.argmin(mean_period)), 0]), table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="videomae-b")
    ap.add_argument("--resolutions", default=",".join(map(str, DEFAULT_RESOLUTIONS)))
    args = ap.parse_args()
    best, table = best_static_split(args.model, [int(r) for r in args.resolutions.split(",")])
    for s, m in table.items():
        print(f"split {s:.4f}  mean period {m * 1e3:8.3f} ms{'  <- best' if s == best else ''}")


if __name__ == "__main__":
    main()
