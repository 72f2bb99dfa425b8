"""Generate reference DRAM traffic of single GEMMs from ZigZag -> tests/hardware/data/zigzag_dram.csv.

The CSV lets the test-suite check the model's DRAM-traffic equation (:func:`dse.hardware.memory.gemm_dram_bytes`,
the best of three tilings of a double-buffered global buffer) against a peer tool's mapping search, without
ZigZag being installed at test time. This script is NOT run by the tests or by CI; run it by hand::

    pip install 'zigzag-dse==3.9.1'          # or: pip install '.[zigzag]'
    python tools/zigzag_reference.py          # ~5-15 minutes on 2 cores
    python tools/zigzag_reference.py --only deit_t --buffers 64

What is simulated
-----------------
* Each case is one GEMM ``O[M,N] += I[M,K] · W[K,N]`` (M tokens, K input dim, N output dim; for attention,
  one head: QKᵀ with K = head dim, A·V with K = tokens), 8-bit operands, 32-bit partial sums, 8-bit final
  outputs.
* Hardware: ZigZag's own example ``inputs/hardware/gemm_l1_l3.yaml`` (a 32-bit output register per PE, one
  shared on-chip buffer ``l1`` holding I, W and O with ``force_double_buffering``, DRAM ``l3``) with the
  operational array set to 16 × 1 × 16 and ``l1`` to the case's buffer size. The spatial mapping is fixed
  (M over 16 rows, N over 16 columns); the temporal mapping is searched by LOMA (``lpf_limit`` 6) for the
  least energy, which DRAM accesses dominate (16,000 vs 118 per word in that file), so the mapping found is
  one of least DRAM traffic among those LOMA visits.
* DRAM bytes per operand: the ``l3`` level's word accesses (``outputs.memory.word_accesses``; reads out to
  the level below and writes into it, both directions) × the ``l3`` port width (512 bits). Word granularity
  rounds each operand up to 64 B.

The model's own figure for the same case is ``gemm_dram_bytes(1, M, K, N, 1, 4, buffer)`` with
``b_is_weight`` True for linear layers and False for the two attention GEMMs (the batch is 1 here, so the
flag does not change the number).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import logging
import pathlib
import sys
import tempfile
import time

CASES = [  # (name, M, K, N, b_is_weight): unique GEMMs of the zoo's models (one attention head)
    ("deit_t.qkv", 197, 192, 576, True),
    ("deit_t.proj", 197, 192, 192, True),
    ("deit_t.fc1", 197, 192, 768, True),
    ("deit_t.fc2", 197, 768, 192, True),
    ("deit_t.qk_head", 197, 64, 197, False),
    ("deit_t.av_head", 197, 197, 64, False),
    ("deit_s.qkv", 197, 384, 1152, True),
    ("deit_s.fc2", 197, 1536, 384, True),
    ("videomae_b.qkv", 1568, 768, 2304, True),
    ("videomae_b.fc1", 1568, 768, 3072, True),
    ("videomae_b.fc2", 1568, 3072, 768, True),
    ("videomae_b.qk_head", 1568, 64, 1568, False),
    ("videomae_b.av_head", 1568, 1568, 64, False),
]
BUFFERS_KIB = (32, 128, 512)
FIELDS = ["name", "m", "k", "n", "b_is_weight", "buffer_kib", "rows", "cols", "dram_bytes_i", "dram_bytes_w",
          "dram_bytes_o", "dram_bytes", "compute_cycles", "zigzag_version", "lpf_limit", "seconds"]  # fmt: skip
ROWS = COLS = 16
LPF_LIMIT = 6


def run_case(tmp: pathlib.Path, name: str, m: int, k: int, n: int, buffer_kib: int) -> dict:
    import yaml
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag

    root = pathlib.Path(zigzag.__file__).parent / "inputs"
    hw = yaml.safe_load((root / "hardware" / "gemm_l1_l3.yaml").read_text())
    hw["name"] = "zz_reference"
    hw["operational_array"]["sizes"] = [ROWS, 1, COLS]
    hw["memories"]["l1"]["size"] = buffer_kib * 1024 * 8  # bits
    word_bytes = hw["memories"]["l3"]["ports"][0]["bandwidth_max"] / 8
    mapping = yaml.safe_load((root / "mapping" / "gemm_l1_l3.yaml").read_text())
    mapping[0]["spatial_mapping"] = {"D1": [f"D0, {ROWS}"], "D2": ["D2, 1"], "D3": [f"D1, {COLS}"]}
    mapping[0].pop("temporal_ordering", None)  # searched by LOMA
    layer = {"id": 0, "name": name, "operator_type": "Gemm", "operand_precision": {"I": 8, "W": 8, "O": 32,
             "O_final": 8}, "equation": "O[d0][d1]+=I[d0][d2]*W[d2][d1]", "loop_dims": ["D0", "D1", "D2"],
             "loop_sizes": [m, n, k]}  # fmt: skip
    case = tmp / f"{name}_{buffer_kib}"
    case.mkdir(parents=True, exist_ok=True)
    for part, obj in (("wl", [layer]), ("hw", hw), ("map", mapping)):
        (case / f"{part}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
    t0 = time.perf_counter()
    get_hardware_performance_zigzag(str(case / "wl.yaml"), str(case / "hw.yaml"), str(case / "map.yaml"),
                                    opt="energy", dump_folder=str(case / "out"), lpf_limit=LPF_LIMIT,
                                    loma_show_progress_bar=False)  # fmt: skip
    seconds = time.perf_counter() - t0
    import json

    out = json.loads((case / "out" / f"{name}_complete.json").read_text())
    acc = out["outputs"]["memory"]["word_accesses"]
    dram = {op: sum(acc[op][-1].values()) * word_bytes for op in ("I", "W", "O")}  # the top level: DRAM
    return {"name": name, "m": m, "k": k, "n": n, "buffer_kib": buffer_kib, "rows": ROWS, "cols": COLS,
            "dram_bytes_i": dram["I"], "dram_bytes_w": dram["W"], "dram_bytes_o": dram["O"],
            "dram_bytes": sum(dram.values()), "compute_cycles": out["outputs"]["latency"]["computation"],
            "lpf_limit": LPF_LIMIT, "seconds": round(seconds, 2)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/hardware/data/zigzag_dram.csv")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--buffers", default=",".join(map(str, BUFFERS_KIB)), help="buffer sizes, KiB")
    args = ap.parse_args(argv)
    version = importlib.metadata.version("zigzag-dse")
    buffers = [int(b) for b in args.buffers.split(",")]
    logging.disable(logging.CRITICAL)  # ZigZag's api logs at INFO
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, m, k, n, weight in CASES:
            if args.only not in name:
                continue
            for buf in buffers:
                row = run_case(pathlib.Path(tmp), name, m, k, n, buf)
                row.update(b_is_weight=weight, zigzag_version=version)
                rows.append(row)
                print(f"{name:20s} {buf:5d} KiB  DRAM {row['dram_bytes']:>14,.0f} B  ({row['seconds']:.1f} s)",
                      flush=True)  # fmt: skip
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
