"""Per-layer sparsity tables: validation, lookup and interpolation, and how RTSA uses the values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse import accelerators
from dse.errors import InputError
from dse.sparsity.table import OpSparsity, SparsityRef, read_table
from dse.workloads import build

HEADER = "layer,resolution,frames,threshold,delta_sparsity,delta_p10,delta_p90,sub_len,keep,mass_lost\n"


def _table(tmp_path, body: str, name: str = "t.csv", header: str = HEADER):
    p = tmp_path / name
    p.write_text(header + body)
    return p


def test_role_rows_set_every_op_of_the_role_and_interpolate_between_resolutions(tmp_path):
    p = _table(tmp_path, "qkv,112,16,4,0.4,0.3,0.5,,,\nqkv,224,16,4,0.6,0.5,0.7,,,\n")
    wl = build("videomae-s", np.array([112, 176, 224, 448]), sparsity=str(p))
    qkv = next(op for op in wl.ops if op.name == "qkv")
    np.testing.assert_allclose(
        qkv.sparsity.delta, [0.4, 0.4 + 0.2 * 64 / 112, 0.6, 0.6]
    )  # linear in R, flat beyond the table
    np.testing.assert_allclose(qkv.sparsity.delta_p90, [0.5, 0.5 + 0.2 * 64 / 112, 0.7, 0.7])
    assert all(op.sparsity is None for op in wl.ops if op.name != "qkv")
    assert read_table(p).threshold == 4.0


def test_layer_rows_are_averaged_over_a_repeated_block_and_the_most_specific_wins(tmp_path):
    rows = "".join(f"block.{i}.fc1,224,,,{0.1 * (i % 3)},,,,,\n" for i in range(12))
    p = _table(tmp_path, rows + "fc1,224,,,0.9,,,,,\nblock.fc2,224,,,0.5,,,,,\nfc2,224,,,0.2,,,,,\n")
    wl = build("videomae-s", sparsity=str(p))
    by = {op.name: op for op in wl.ops}
    assert float(by["fc1"].sparsity.delta) == pytest.approx(0.1)  # mean of 0, .1, .2 repeated; the role row loses
    assert float(by["fc2"].sparsity.delta) == pytest.approx(0.5)  # block row beats the role row


def test_attention_keep_per_sub_len_is_interpolated_in_log_length(tmp_path):
    p = _table(tmp_path, "attention,224,,,,,,4,0.2,0.01\nattention,224,,,,,,64,0.6,0.05\n")
    wl = build("deit-tiny", sparsity=str(p))
    qk = next(op for op in wl.ops if op.kind == "attn_score")
    sm = next(op for op in wl.ops if op.kind == "softmax")
    np.testing.assert_array_equal(sm.sparsity.keep, qk.sparsity.keep)
    np.testing.assert_allclose(qk.sparsity.keep_at(np.array([1, 4, 16, 64, 256])), [0.2, 0.2, 0.4, 0.6, 0.6])
    np.testing.assert_allclose(qk.sparsity.mass_lost_at(16), 0.03)
    np.testing.assert_allclose(qk.sparsity.attention_sparsity(0.9, np.array([4, 64])), [0.8, 0.4])


def test_frames_pick_the_nearest_rows(tmp_path):
    p = _table(tmp_path, "qkv,224,8,,0.3,,,,,\nqkv,224,16,,0.7,,,,,\n")
    wl = build("videomae-s", 224, np.array([8, 12, 16, 32]), sparsity=str(p))
    qkv = next(op for op in wl.ops if op.name == "qkv")
    np.testing.assert_allclose(qkv.sparsity.delta, [0.3, 0.3, 0.7, 0.7])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("qkv,224,,,1.5,,,,,\n", "row 2: delta_sparsity = '1.5' must be in [0, 1]"),
        ("qkv,224,,,0.5,,,4,0.5,\n", "row 2: give delta_sparsity"),
        ("qkv,,,,0.5,,,,,\n", "row 2: empty resolution"),
        ("qkv,22x,,,0.5,,,,,\n", "row 2: resolution"),
        ("attention,224,,,,,,4,,\n", "row 2: an attention row needs both sub_len and keep"),
        ("qkv,224,,,0.5,0.6,0.4,,,\n", "row 2: p10 = 0.6 > p90 = 0.4"),
        ("qkv,224,,,0.5,,,,,\nqkv,224,,,0.6,,,,,\n", "row 3: duplicate of row 2"),
        ("qkv,224,,4,0.5,,,,,\nfc1,224,,16,0.5,,,,,\n", "threshold takes 2 values"),
        ("block.3.qvk,224,,,0.5,,,,,\n", "row 2: layer 'block.3.qvk' matches no delta layer of deit-tiny; e.g."),
        ("block.12.qkv,224,,,0.5,,,,,\n", "matches no delta layer"),
        ("attention,224,,,0.5,,,,,\n", "row 2: layer 'attention' is an attention layer of deit-tiny"),
        ("block.0.qkv,224,,,0.5,,,,,\n", "rows cover 1 of the 12 layers of block.qkv"),
    ],
)
def test_malformed_rows_and_unknown_layers_are_one_line_errors(tmp_path, body, words):
    p = _table(tmp_path, body)
    with pytest.raises(InputError) as err:
        build("deit-tiny", sparsity=str(p))
    assert err.value.field == "sparsity" and words in str(err.value) and "\n" not in str(err.value)


def test_unreadable_tables(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(InputError, match="unknown column 'delta'"):
        read_table(_table(tmp_path, "qkv,224,0.5\n", header="layer,resolution,delta\n"))
    with pytest.raises(InputError, match="missing column 'resolution'"):
        read_table(_table(tmp_path, "qkv,0.5\n", header="layer,delta_sparsity\n", name="u.csv"))


def _rtsa(wl, **values):
    return accelerators.get("rtsa").evaluate(wl, values)


def test_rtsa_uses_the_table_like_the_knob_it_replaces(tmp_path):
    """Table values equal to a knob give the knob's result; the explicit knob overrides the table."""
    body = "".join(f"{r},224,,,0.55,,,,,\n" for r in ("patch_embed", "qkv", "proj", "fc1", "fc2"))
    body += "attention,224,,,,,,16,0.25,\n"
    p = _table(tmp_path, body)
    with_table = _rtsa(build("videomae-s", sparsity=str(p)))
    knobs = _rtsa(build("videomae-s"), sparsity_linear=0.55, sparsity_attention=0.75)
    assert float(with_table["latency_s"]) == pytest.approx(float(knobs["latency_s"]))
    assert float(with_table["energy_j"]) == pytest.approx(float(knobs["energy_j"]))
    ref = SparsityRef(str(p), delta=False)  # `--set sparsity_linear=0.3` overrides the table's delta values
    over = _rtsa(build("videomae-s", sparsity=ref), sparsity_linear=0.3)
    knob = _rtsa(build("videomae-s"), sparsity_linear=0.3, sparsity_attention=0.75)
    assert float(over["latency_s"]) == pytest.approx(float(knob["latency_s"]))


def test_sub_len_moves_the_kept_work_only_through_a_table(tmp_path):
    """Without a table the keep share does not depend on L; with one, longer sub-vectors keep more."""
    lens = np.array([1, 4, 16, 64])
    plain = _rtsa(build("videomae-s"), sub_len=lens)
    assert np.allclose(plain.stages["attention"].macs, plain.stages["attention"].macs[0])
    p = _table(tmp_path, "".join(f"attention,224,,,,,,{L},{k},\n" for L, k in zip(lens, (0.1, 0.2, 0.35, 0.6),
                                                                                    strict=True)))  # fmt: skip
    ev = _rtsa(build("videomae-s", sparsity=str(p)), sub_len=lens)
    macs = np.asarray(ev.stages["attention"].macs)
    assert np.all(np.diff(macs) > 0)
    wl = build("videomae-s")
    np.testing.assert_allclose(macs / wl.attention_macs, [0.1, 0.2, 0.35, 0.6])
    assert np.all(np.diff(np.asarray(ev["accuracy_drop"])) <= 0)  # more kept work, smaller estimated drop


@settings(max_examples=25, deadline=None)
@given(lo=st.floats(0.0, 0.95), step=st.floats(0.0, 0.04))
def test_more_measured_delta_sparsity_is_never_slower(lo, step):
    wl = build("videomae-s", 160)
    hi = lo + step

    def with_delta(v):
        ops = tuple(op.with_(sparsity=OpSparsity(delta=np.asarray(v))) if op.kind in ("linear", "patch_embed") else op
                    for op in wl.ops)  # fmt: skip
        from dataclasses import replace

        return _rtsa(replace(wl, ops=ops))

    assert float(with_delta(hi)["latency_s"]) <= float(with_delta(lo)["latency_s"]) * (1 + 1e-12)
