"""A physical limit broken at every point of a spec's space (a fixed clock above the node's maximum) is an input
error when the spec is loaded, as ``rtsa-dse eval`` makes it for one design: one line naming the field and what is
allowed, exit 2, no results directory. A limit some designs of the space meet leaves them to the search, where the
others come out invalid."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_specs import spec_text
from test_sweep_support import TOY_SPEC, Toy, write_spec

from dse.accelerators import REGISTRY, names
from dse.accelerators.base import Limit
from dse.errors import InputError
from dse.search import load_spec

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

RTSA = spec_text("lim", "rtsa", "rows = {{ low = 4, high = 32, step = 4 }}\n{extra}")


def rtsa_spec(tmp_path, extra: str):
    return write_spec(tmp_path, "lim", text=RTSA.format(extra=extra))


def one_line(r) -> str:
    assert r.code == 2, (r.out, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.err, r.err
    return lines[0]


def test_fixed_clock_above_the_nodes_maximum_exits_2_and_writes_nothing(run, tmp_path):
    spec = rtsa_spec(tmp_path, "clock_mhz = 3000")  # 28 nm (the default node) tops out at 2,059 MHz
    line = one_line(run("sweep", spec, "--results-dir", tmp_path / "results"))
    assert line.startswith("error: space.clock_mhz: clock above the node's maximum (2059 MHz")
    assert line.endswith("got 3000")
    assert not (tmp_path / "results").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["lim.toml"]


@pytest.mark.parametrize(
    ("extra", "got"),
    [
        ("clock_mhz = { low = 2500, high = 3000 }", "got every value from 2500 to 3000"),
        ("clock_mhz = [2500, 3000]", "got every choice (2500, 3000)"),
        ("clock_mhz = 1500\nnode_nm = 65", "got 1500"),  # the fixed node brings the maximum down
    ],
)
def test_a_limit_broken_everywhere_names_the_field(tmp_path, extra, got):
    with pytest.raises(InputError) as err:
        load_spec(rtsa_spec(tmp_path, extra))
    assert err.value.field == "space.clock_mhz" and str(err.value).endswith(got)


@pytest.mark.parametrize(
    "extra",
    [
        "clock_mhz = { low = 1000, high = 3000 }",  # the low end is allowed
        "clock_mhz = [500, 3000]",
        "clock_mhz = 3000\nnode_nm = [7, 28]",  # 7 nm allows it
        "clock_mhz = 3000\nnode_nm = { low = 7, high = 28 }",
        "clock_mhz = 2000",
    ],
)
def test_a_limit_some_designs_meet_is_left_to_the_search(tmp_path, extra):
    load_spec(rtsa_spec(tmp_path, extra))


class Limited(Toy):
    """The toy with a limit that reads a searched parameter: clock_mhz ≤ 10 MHz per PE row."""

    name = "toy-limited"

    def limits(self, p):
        return [Limit("clock_mhz", np.asarray(p["clock_mhz"]) > 10 * np.asarray(p["rows"]), "clock above 10 MHz/row")]


@pytest.fixture
def limited():
    names()  # the built-in accelerators first, as test_sweep_support.register does
    REGISTRY["toy-limited"] = Limited()
    yield
    REGISTRY.pop("toy-limited", None)


def toy_text(clock: str | None) -> str:
    text = TOY_SPEC.format(study="toylim", sampler="random", trials=10).replace('accelerator = "toy"',
                                                                                'accelerator = "toy-limited"')  # fmt: skip
    return text if clock is None else text.replace("[constraints]", f"clock_mhz = {clock}\n\n[constraints]")


@pytest.mark.parametrize(
    ("clock", "error"),
    [
        ("2000", "got 2000"),  # above 10 × 128 rows, the most the space has
        ("1000", None),  # rows ≥ 104 allow it
        (None, None),  # the default 500 MHz: rows ≥ 56
        ("{ low = 1500, high = 2000 }", "got every value from 1500 to 2000"),
        ("{ low = 1000, high = 2000 }", None),
    ],
)
def test_a_limit_over_searched_parameters_is_checked_on_every_combination(tmp_path, limited, clock, error):
    spec = write_spec(tmp_path, "toylim", text=toy_text(clock))
    if error is None:
        load_spec(spec)
        return
    with pytest.raises(InputError) as err:
        load_spec(spec)
    assert err.value.field == "space.clock_mhz" and "clock above 10 MHz/row at every point" in str(err.value)
    assert str(err.value).endswith(error)


def test_a_default_that_breaks_a_limit_is_named_as_the_default(tmp_path, limited):
    text = toy_text(None).replace("rows = { low = 8, high = 128, step = 8 }", "rows = [8, 16, 32]")
    with pytest.raises(InputError) as err:
        load_spec(write_spec(tmp_path, "toylim", text=text))  # 500 MHz > 10 × 32
    assert err.value.field == "space.clock_mhz" and str(err.value).endswith("got 500 (its default; set it in [space])")


def test_a_large_space_is_checked_on_a_bounded_sample_that_keeps_the_ends(tmp_path, limited):
    problem = load_spec(write_spec(tmp_path, "toylim", text=toy_text("1000")))
    dims = [problem.dims[n] for n in ("rows", "cols", "glb_kib", "dram_gbps")]
    axes = problem._limit_axes(dims, budget=100)  # at most 3 values per dimension
    assert axes["rows"].shape == (3, 1, 1, 1) and axes["cols"].shape == (1, 3, 1, 1)
    assert axes["rows"].ravel().tolist() == [8, 72, 128] and axes["dram_gbps"].ravel().tolist() == [12.8, 25.6, 51.2]
