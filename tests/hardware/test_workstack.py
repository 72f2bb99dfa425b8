"""The op-axis form of per-op work (dse/hardware/workstack.py): stacking, grouping and summarizing.

The stacked path must give the same numbers as costing the ops one by one; these tests check it against
the per-op equations, on one design and on batches, and the bookkeeping (row order, modes, producers).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dse import accelerators
from dse.accelerators import rtsa as R
from dse.hardware import cost
from dse.hardware.workstack import MODES, WorkStack, mode_code, mode_names, op_groups, producers, stack_ops
from dse.workloads import build


@pytest.fixture(scope="module")
def wl():
    return build("videomae-s", resolution=112, frames=8)


def _per_op(wl, p, ctx):
    """RTSA's work costed op by op with the per-op equations (the reference for the stacked path)."""
    works = []
    for op in wl.ops:
        d = R.dense_work(op, p, p["rows"], p["cols"])
        s = R.sparse_work(op, p, p["rows"], p["cols"], d.dram_bytes if op.is_gemm else None)
        if s is None:
            works.append(d)
            continue
        works.append(cost.cheaper_op(d, s, ctx))
    return works


@pytest.mark.parametrize("n", [None, 7])
def test_stacked_rtsa_equals_the_per_op_equations(wl, n):
    acc = accelerators.get("rtsa")
    rng = np.random.default_rng(3)
    values = {} if n is None else {
        "rows": rng.integers(2, 40, n), "cols": rng.integers(2, 40, n), "glb_kib": rng.choice([32, 256, 2048], n),
        "sparsity_linear": rng.uniform(0, 0.95, n), "sparsity_attention": rng.uniform(0, 0.95, n),
    }  # fmt: skip
    p = acc.resolve(values)
    ctx = cost.asic_context(p, cost.array_area_mm2(p, augmented=True), p["rows"] * p["cols"] * p["lanes"])
    stacked = cost.summarize(wl, R.rtsa_work(wl, p, ctx).work, ctx)
    reference = cost.summarize(wl, _per_op(wl, p, ctx), ctx)
    for k, v in reference.metrics.items():
        np.testing.assert_allclose(stacked.metrics[k], v, rtol=1e-12, err_msg=k)
    for s, st in reference.stages.items():
        for f, v in st.as_dict().items():
            np.testing.assert_allclose(stacked.stages[s][f], v, rtol=1e-12, err_msg=f"{s}.{f}")
    assert [r.op for r in stacked.ops] == [op.name for op in wl.ops]  # rows in the workload's order
    for a, b in zip(stacked.ops, reference.ops, strict=True):
        np.testing.assert_allclose(a.energy_j, b.energy_j, rtol=1e-12)
        np.testing.assert_array_equal(np.asarray(a.mode), np.asarray(b.mode))


def test_groups_stack_alike_ops_with_a_leading_member_axis(wl):
    groups = op_groups(wl, R._group_key, ndim=1)
    assert sorted(i for idx, _, _ in groups for i in idx) == list(range(len(wl.ops)))
    for idx, members, op in groups:
        assert op.m.shape == (len(members), 1)  # members, then one point axis
        assert [wl.ops[i] for i in idx] == list(members)
    attention = next(op for _, members, op in groups if op.kind == "attn_score")
    np.testing.assert_array_equal(attention.kind_is("attn_score").ravel(), [True, False])  # QKᵀ, A·V
    assert op_groups(wl, R._group_key, ndim=1) is groups  # cached on the workload


def test_stack_ops_keeps_each_members_shape(wl):
    linear = [op for op in wl.ops if op.kind == "linear"]
    op = stack_ops(linear)
    np.testing.assert_array_equal(op.k, [o.k for o in linear])
    np.testing.assert_array_equal(op.macs, [o.macs for o in linear])
    assert op.member_kinds == ()  # all linear: no per-member kinds needed


def test_of_and_concat_keep_the_row_order_and_modes(wl):
    acc = accelerators.get("systolic")
    p = acc.resolve({})
    geom = cost.ArrayGeometry.of(p)
    works = [cost.dense_work(op, geom, p["sfu_lanes"]) for op in wl.ops]
    st = WorkStack.of(works)
    assert st.order == tuple(range(len(works)))
    assert [MODES[c] for c in st.mode] == [w.mode for w in works]
    half = len(works) // 2
    joined = WorkStack.concat([WorkStack.of(works[half:]), WorkStack.of(works[:half])])
    assert joined.ops == tuple(w.op for w in works[half:] + works[:half]) and sum(joined.stage_repeat.ravel()) == sum(
        op.repeat for op in wl.ops
    )


def test_producers_are_the_nearest_gemm_before_in_the_block(wl):
    prod = producers(wl.ops)
    for i, op in enumerate(wl.ops):
        if op.is_gemm:
            assert prod[i] is None
        elif prod[i] is not None:
            assert wl.ops[prod[i]].is_gemm and wl.ops[prod[i]].block == op.block
            assert wl.ops[prod[i]].repeat == op.repeat  # as many instances: one stream feeds each


def test_a_swin_stages_blocks_are_not_hidden_under_its_patch_merge_regression():
    """Regression (found by a random audit): a Swin stage's ``norm1`` (6 instances) took the stage's patch
    merge (1 instance) as its producer, so six layernorms streamed under one GEMM; on a 1-lane SFU a faster
    merge then made the clip slower. Now each instance streams on the previous block's fc2."""
    wl = build("video-swin-t")
    prod = producers(wl.ops)
    norm1 = next(i for i, op in enumerate(wl.ops) if op.block == "stage2" and op.name == "norm1")
    assert wl.ops[prod[norm1]].name == "fc2" and wl.ops[prod[norm1]].block == "stage2"
    # the audit's case: delta sparsity sped up the merge, and the six hidden layernorms made the clip slower
    values = {"rows": 753, "cols": 205, "glb_kib": 2197.92, "dram_gbps": 4096, "precision": "int16",
              "sparsity_linear": np.array([0.0, 0.649])}  # fmt: skip
    lat = np.asarray(accelerators.get("rtsa").evaluate(wl, values)["latency_s"])
    assert lat[1] <= lat[0]


def test_modes_register_once_and_name_back():
    code = mode_code("my-plugin-mode")
    assert mode_code("my-plugin-mode") == code and MODES[code] == "my-plugin-mode"
    assert mode_names(np.array([code, code])) == "my-plugin-mode"
    assert list(mode_names(np.array([0, code]))) == ["dense", "my-plugin-mode"]


def test_op_rows_are_lazy_and_pickle_as_rows(wl):
    ev = accelerators.get("rtsa").evaluate(wl)
    rows = pickle.loads(pickle.dumps(ev.ops))
    assert isinstance(rows, tuple) and [r.op for r in rows] == [r.op for r in ev.ops]


@pytest.mark.parametrize("values", [{}, {"rows": np.array([[8], [16]]), "cols": np.array([4, 8, 16])}])
def test_one_group_summarizes_like_its_ops_one_by_one(wl, values):
    """A stack straight from :meth:`WorkStack.group` (quantities the same for every member left 0-d or with a
    unit op axis, e.g. an SFU group's MACs and DRAM bytes) summarizes like its members costed one by one."""
    from dataclasses import replace

    acc = accelerators.get("systolic")
    p = acc.resolve(values)
    geom = cost.ArrayGeometry.of(p)
    ctx = cost.asic_context(p, cost.array_area_mm2(p), p["rows"] * p["cols"] * p["lanes"])
    ndim = max(np.ndim(v) for v in p.values())
    for _, members, op in op_groups(wl, cost._dense_key, ndim):
        sub = replace(wl, ops=members)
        st = WorkStack.group(cost.dense_work(op, geom, p["sfu_lanes"]), members, range(len(members)), ndim)
        got = cost.summarize(sub, st, ctx)
        ref = cost.summarize(sub, [cost.dense_work(m, geom, p["sfu_lanes"]) for m in members], ctx)
        for k, v in ref.metrics.items():
            np.testing.assert_allclose(got.metrics[k], v, rtol=1e-12, err_msg=k)
        for a, b in zip(got.ops, ref.ops, strict=True):
            np.testing.assert_allclose(a.cycles, b.cycles, rtol=1e-12)
            np.testing.assert_allclose(a.energy_j, b.energy_j, rtol=1e-12)
            assert a.mode == b.mode


def test_dense_fallback_on_a_pipelined_split_refuses_more_dram_bytes(wl):
    """cost.cheaper: a sparse mode faster and cheaper than dense but moving more DRAM bytes runs on one array
    (its op's time covers its traffic) and not on a pipelined split, whose period includes the shared DRAM
    interface's total over both arrays (one op's own time cannot see it)."""
    p = accelerators.get("rtsa").resolve({})
    ctx = cost.asic_context(p, cost.array_area_mm2(p, augmented=True), p["rows"] * p["cols"] * p["lanes"])
    op = next(o for o in wl.ops if o.kind == "linear")
    dense = cost.OpWork(op, 1000.0, 1e6, 1e5, 1e4)
    sparse = cost.OpWork(op, 500.0, 4e5, 4e4, 1.2e4, mode="delta")  # half the cycles, 20% more DRAM bytes
    one = cost.cheaper(WorkStack.of([dense]), WorkStack.of([sparse]), ctx)
    split = cost.cheaper(WorkStack.of([dense]), WorkStack.of([sparse]), cost.with_pipelining(ctx, 0.5, 0.5))
    assert mode_names(one.mode[0]) == "delta" and float(one.dram_bytes[0]) == 1.2e4
    assert mode_names(split.mode[0]) == "dense" and float(split.dram_bytes[0]) == 1e4
    fewer = cost.OpWork(op, 500.0, 4e5, 4e4, 1e4, mode="delta")  # no more DRAM bytes: taken on the split too
    split = cost.cheaper(WorkStack.of([dense]), WorkStack.of([fewer]), cost.with_pipelining(ctx, 0.5, 0.5))
    assert mode_names(split.mode[0]) == "delta"
