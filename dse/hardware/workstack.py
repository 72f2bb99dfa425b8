"""Per-op work with the ops along an array axis: the form :func:`dse.hardware.cost.summarize` computes on.

A model that costs its ops one by one pays numpy's per-call overhead once per op and quantity; one design
point (as TPE or a worker on a shared storage asks for) is then dominated by that overhead, not by the
arithmetic. Here every per-op quantity is one array of shape ``points + (n_ops,)``: the equations run once
for all ops, stage totals are matrix products with a (stage × n_ops) table of repeat counts, and per-op
rows are sliced out only when someone reads them. The op axis leads (``(n_ops,) + points``): the design
points' arrays broadcast against it as they are, and sums over ops run over contiguous rows.

Two ways in:

* :meth:`WorkStack.of` stacks a list of per-op :class:`~dse.hardware.cost.OpWork` (any accelerator);
* :func:`op_groups` + :meth:`WorkStack.group` + :meth:`WorkStack.concat`: a model evaluates each group of
  ops that its cost functions treat alike (same operand types, kinds read per member) as one :class:`Op`
  whose shape fields carry a leading member axis (:func:`stack_ops`, :func:`at_ndim`), and the groups are
  joined (``rtsa``).

Execution modes are small integer codes into :data:`MODES` (a growing registry: a plugin's new mode gets
the next code), so the dense fallback's per-point choice is an int8 array, not an array of strings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from dse.workloads import STAGES, Op, Workload

#: execution modes by code (see the module docstring); codes are stable for the life of the process
MODES: list[str] = ["dense", "sfu", "delta", "subvector", "window", "kernel"]
#: the per-op quantities, each of shape ``(n_ops,) + points``
QUANTITIES = ("compute_cycles", "macs", "sram_bytes", "dram_bytes", "sfu_elems", "extra_cycles", "lane_ops")


def mode_code(name: str) -> int:
    """The code of execution mode ``name`` (registered on first use)."""
    try:
        return MODES.index(name)
    except ValueError:
        MODES.append(name)
        return len(MODES) - 1


def mode_names(codes: np.ndarray) -> str | np.ndarray:
    """Mode name(s) of ``codes``: one string where every point ran the op the same way, else an array."""
    codes = np.asarray(codes)
    first = codes.flat[0] if codes.size else 0
    if codes.ndim == 0 or np.all(codes == first):
        return MODES[int(first)]
    return np.asarray(MODES, dtype=object)[codes]


@dataclass(frozen=True)
class WorkStack:
    """What every op of a workload costs, per block instance, with the ops along the first axis.

    Each quantity of :data:`QUANTITIES` has shape ``(n_ops,) + points`` (point axes may be 1 or missing where
    it does not vary; a 0-d quantity is the same for every op and point): compute cycles, MACs performed,
    buffer bytes, DRAM bytes, SFU elements, stall cycles not hidden by overlap, element-wise lane ops (see
    :class:`~dse.hardware.cost.OpWork`). ``ops[i]`` is row ``i``, ``stages[i]`` the stage its cost is booked
    to, ``order[i]`` its place among the reported per-op rows, ``mode`` the execution-mode codes
    (:data:`MODES`) broadcastable to the quantities.
    """

    ops: tuple[Op, ...]
    stages: tuple[str, ...]
    order: tuple[int, ...]
    mode: np.ndarray
    compute_cycles: np.ndarray
    macs: np.ndarray
    sram_bytes: np.ndarray
    dram_bytes: np.ndarray
    sfu_elems: np.ndarray
    extra_cycles: np.ndarray
    lane_ops: np.ndarray

    @property
    def n_ops(self) -> int:
        return len(self.ops)

    @property
    def repeat(self) -> np.ndarray:
        """Block instances of each op, shape ``(n_ops,)``."""
        return _meta(self).repeat

    @property
    def stage_repeat(self) -> np.ndarray:
        """``(3, n_ops)`` matrix: op i's repeat count in the row of its stage (:data:`STAGES`), so that
        ``per_stage(x)`` gives the per-stage totals of a per-op quantity ``x``."""
        return _meta(self).stage_repeat

    @property
    def producers(self) -> np.ndarray:
        """Per op, the row of the GEMM whose output stream it consumes (SFU ops), else −1 (:func:`producers`)."""
        return _meta(self).producers

    @classmethod
    def of(cls, works: Sequence, first: int = 0) -> WorkStack:
        """Per-op :class:`~dse.hardware.cost.OpWork` (quantities of shape ``points``) stacked on a new first axis;
        they take places ``first``, ``first + 1`` … among the rows."""

        ndim = max((np.ndim(getattr(w, q)) for w in works for q in QUANTITIES), default=0)
        return cls(
            ops=tuple(w.op for w in works),
            stages=tuple(w.stage or w.op.stage for w in works),
            order=tuple(range(first, first + len(works))),
            mode=_stack([_codes(w.mode) for w in works], ndim, np.int8),
            **{q: _stack([getattr(w, q) for w in works], ndim) for q in QUANTITIES},
        )

    @classmethod
    def group(cls, work, members: Sequence[Op], order: Sequence[int], ndim: int) -> WorkStack:
        """An :class:`~dse.hardware.cost.OpWork` of a stacked op (:func:`op_groups` for design points of
        ``ndim`` axes: quantities of shape ``(n_members,) + points``) as a stack of its ``members``, which take
        places ``order`` in the rows. A quantity that does not depend on the op (0-d, or only design axes)
        applies to every member."""

        def col(v, dtype=np.float64) -> np.ndarray:
            v = np.asarray(v, dtype=dtype)
            return v[None] if 0 < v.ndim <= ndim else v

        return cls(
            ops=tuple(members),
            stages=tuple(work.stage or op.stage for op in members),
            order=tuple(order),
            mode=col(_codes(work.mode), np.int8),
            **{q: col(getattr(work, q)) for q in QUANTITIES},
        )

    @classmethod
    def concat(cls, parts: Sequence[WorkStack]) -> WorkStack:
        """Stacks of disjoint op sets joined along the op axis (rows keep their ``order``); every quantity of the
        result has the full op axis."""
        widths = [s.n_ops for s in parts]
        ends = np.cumsum(widths)
        ndim = max(np.ndim(getattr(s, q)) - 1 for s in parts for q in QUANTITIES)

        def cat(arrays: list[np.ndarray], dtype=np.float64) -> np.ndarray:
            arrays = [np.asarray(a) for a in arrays]
            out = np.empty((int(ends[-1]),) + _points(arrays, 1, ndim), dtype=dtype)
            for a, w, e in zip(arrays, widths, ends, strict=True):
                out[e - w : e] = a  # broadcasts a 0-d or point-independent part
            return out

        return cls(
            ops=tuple(op for s in parts for op in s.ops),
            stages=tuple(x for s in parts for x in s.stages),
            order=tuple(i for s in parts for i in s.order),
            mode=cat([np.asarray(s.mode) for s in parts], np.int8),
            **{q: cat([getattr(s, q) for s in parts]) for q in QUANTITIES},
        )

    def choose(self, use: np.ndarray, other: WorkStack) -> WorkStack:
        """Per op and point, ``other``'s work where ``use`` holds, else this stack's (same ops and order)."""

        def pick(a, b):
            return a if a is b else np.where(use, b, a)

        return replace(
            self,
            mode=np.where(use, other.mode, self.mode).astype(np.int8),
            **{q: pick(getattr(self, q), getattr(other, q)) for q in QUANTITIES},
        )

    def with_point_axes(self, ndim: int) -> WorkStack:
        """This stack with unit axes after the op axis where a quantity has fewer than ``ndim`` point axes, so
        that design-point arrays of ``ndim`` axes broadcast against every quantity (views, no copies); a
        quantity the same for every op (0-d, or a unit op axis, as :meth:`group` leaves them) gets the full
        op axis."""
        names = QUANTITIES + ("mode",)
        ndim = max(ndim, *(np.ndim(getattr(self, q)) - 1 for q in names))  # every quantity: the same axes

        def fit(v):
            v = np.asarray(v)
            v = v.reshape((1,) * (ndim + 1)) if v.ndim == 0 else v
            v = v.reshape(v.shape[:1] + (1,) * (ndim - v.ndim + 1) + v.shape[1:]) if v.ndim - 1 < ndim else v
            return v if v.shape[0] == self.n_ops else np.broadcast_to(v, (self.n_ops,) + v.shape[1:])

        if all(np.ndim(getattr(self, q)) == ndim + 1 and len(getattr(self, q)) == self.n_ops for q in names):
            return self
        return replace(self, **{q: fit(getattr(self, q)) for q in names})

    def per_op(self, value: Callable[[Op], object]) -> np.ndarray:
        """``value(op)`` for every op (a number or an array over the workload's points), stacked on the op
        axis and shaped to broadcast against the quantities (e.g. a mask of the ops a plugin changes)."""
        vals = [np.asarray(value(op), dtype=np.float64) for op in self.ops]
        ndim = max(np.ndim(getattr(self, q)) for q in QUANTITIES) - 1
        return _stack(vals, max(ndim, 0))

    def total(self, quantity: str) -> np.ndarray:
        """Σ over ops of ``quantity`` × repeat: the workload's total, over design points."""
        v = np.asarray(getattr(self, quantity))
        v = np.broadcast_to(v, (self.n_ops,) + v.shape[1:])
        return (self.repeat @ v.reshape(self.n_ops, -1)).reshape(v.shape[1:])


def _points(arrays: list[np.ndarray], skip: int, ndim: int) -> tuple[int, ...]:
    """The design points' shape of ``arrays`` (their shapes after ``skip`` leading axes, broadcast), with unit
    axes in front up to ``ndim`` axes, so that every quantity of a stack has the same number of axes."""
    shape = np.broadcast_shapes(*(a.shape[skip:] if a.ndim > skip else () for a in arrays))
    return (1,) * (ndim - len(shape)) + shape


def _stack(values: list, ndim: int, dtype=np.float64) -> np.ndarray:
    """Per-op arrays over design points (``ndim`` axes at most) stacked on a new first axis."""
    arrays = [np.asarray(v) for v in values]
    out = np.empty((len(arrays),) + _points(arrays, 0, ndim), dtype=dtype)
    for i, a in enumerate(arrays):
        out[i] = a
    return out


def _codes(mode) -> np.ndarray:
    if isinstance(mode, str):
        return np.asarray(mode_code(mode), dtype=np.int8)
    arr = np.asarray(mode)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int8)
    names, inv = np.unique(arr.astype(str), return_inverse=True)
    table = np.array([mode_code(str(n)) for n in names], dtype=np.int8)
    return table[inv].reshape(arr.shape)


@dataclass(frozen=True)
class _Meta:
    repeat: np.ndarray
    stage_repeat: np.ndarray
    producers: np.ndarray


#: per-column constants by (op identities, stages, order); the ops are kept to make the identities safe
_META_CACHE: dict[tuple, tuple[tuple[Op, ...], _Meta]] = {}


def _meta(st: WorkStack) -> _Meta:
    """Per-column constants of a stack: computed once per op set (a model builds a new stack per call)."""
    cached = st.__dict__.get("_meta")
    if cached is not None:
        return cached
    key = (tuple(map(id, st.ops)), st.stages, st.order)
    hit = _META_CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], st.ops, strict=True)):
        cached = hit[1]
    else:
        rep = np.array([float(op.repeat) for op in st.ops])
        sr = np.zeros((len(STAGES), len(st.ops)))
        sr[[STAGES.index(s) for s in st.stages], np.arange(len(st.ops))] = rep
        # producers are found in row order (the workload's), then mapped to columns
        rank = np.argsort(st.order, kind="stable")
        in_rows = producers([st.ops[i] for i in rank])
        col_of_row = {row: int(col) for row, col in enumerate(rank)}
        prod = np.full(len(st.ops), -1)
        for row, j in enumerate(in_rows):
            if j is not None:
                prod[col_of_row[row]] = col_of_row[j]
        cached = _Meta(rep, sr, prod)
        if len(_META_CACHE) > 256:
            _META_CACHE.clear()
        _META_CACHE[key] = (st.ops, cached)
    object.__setattr__(st, "_meta", cached)  # frozen: a derived cache, never part of the value
    return cached


def producers(ops: Sequence[Op]) -> list[int | None]:
    """For each SFU op, the index of the GEMM whose output stream it consumes: the nearest GEMM before it in
    its block among the ops repeated as often, or (for ops repeated more than once) the last such GEMM, the
    previous instance's; ``None`` for GEMMs. Ops repeated a different number of times run a different number
    of instances and never hide each other (a Swin stage's patch merge, once, before its blocks, six times)."""
    out: list[int | None] = []
    last_in_block: dict[tuple[str, int], int] = {}
    for i, op in enumerate(ops):
        if op.is_gemm:
            last_in_block[op.block, op.repeat] = i
    seen: dict[tuple[str, int], int] = {}
    for i, op in enumerate(ops):
        key = (op.block, op.repeat)
        if op.is_gemm:
            seen[key] = i
            out.append(None)
        elif key in seen:
            out.append(seen[key])
        else:
            out.append(last_in_block.get(key) if op.repeat > 1 else None)
    return out


def stack_ops(ops: Sequence[Op]) -> Op:
    """One :class:`Op` standing for ``ops`` (operand types alike; kinds may differ where the cost functions
    read them per member through :meth:`Op.kind_is`): each shape field gains a leading member axis
    (``(len(ops),) + shape``), ``member_kinds`` lists the kinds where they differ. Fields the members disagree
    on that no cost function reads (name, block, role) are joined or left empty; ``repeat`` is 1 (the stack's
    own :attr:`WorkStack.repeat` counts)."""
    first = ops[0]
    roles, kinds = {op.role for op in ops}, tuple(op.kind for op in ops)
    return replace(
        first,
        name="+".join(op.name for op in ops),
        block="" if len({op.block for op in ops}) > 1 else first.block,
        repeat=1,
        role=first.role if len(roles) == 1 else "",
        group="",
        member_kinds=kinds if len(set(kinds)) > 1 else (),
        **{f: _stack([getattr(op, f) for op in ops], 0, np.int64) for f in ("batch", "m", "k", "n", "t_slices")},
    )


def at_ndim(op: Op, ndim: int) -> Op:
    """A stacked op (:func:`stack_ops`) whose fields broadcast against design points of ``ndim`` axes: unit
    axes inserted after the member axis (``(g,) + (1,) * (ndim − len(shape)) + shape``)."""
    fields = {}
    for f in ("batch", "m", "k", "n", "t_slices"):
        v = getattr(op, f)
        fields[f] = v.reshape(v.shape[:1] + (1,) * max(ndim - (v.ndim - 1), 0) + v.shape[1:])
    return replace(op, **fields)


GroupKey = Callable[[Op], Hashable]


def op_groups(workload: Workload, key: GroupKey, ndim: int = 0) -> list[tuple[tuple[int, ...], tuple[Op, ...], Op]]:
    """``workload.ops`` grouped by ``key(op)`` (everything a model's cost functions branch on): per group the
    ops' places in the workload, the ops, and one :func:`stack_ops` op for them all, its fields shaped for
    design points of ``ndim`` axes (:func:`at_ndim`). Cached on the workload per ``key`` and ``ndim``."""
    cache = workload.__dict__.setdefault("_op_groups", {})  # frozen dataclass: a derived cache only
    if (key, ndim) not in cache:
        cache[key, ndim] = group_ops(workload.ops, key, ndim)
    return cache[key, ndim]


def group_ops(ops: Sequence[Op], key: GroupKey, ndim: int = 0) -> list[tuple[tuple[int, ...], tuple[Op, ...], Op]]:
    """:func:`op_groups` of any op list (not cached: for ops a model builds per call)."""
    groups: dict[Hashable, list[int]] = {}
    for i, op in enumerate(ops):
        groups.setdefault(key(op), []).append(i)
    return [
        (tuple(idx), tuple(ops[i] for i in idx), at_ndim(stack_ops([ops[i] for i in idx]), ndim))
        for idx in groups.values()
    ]
