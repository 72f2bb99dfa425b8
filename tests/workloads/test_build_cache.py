"""``build`` shares the workload of scalar inputs and builds array inputs every time."""

from __future__ import annotations

import numpy as np
import pytest

from dse.errors import InputError
from dse.workloads import build


def test_scalar_inputs_are_built_once():
    a = build("videomae-b", 224, 16)
    assert build("videomae-b", np.int64(224), 16) is a
    assert build("videomae-b", (224, 224), 16) is not a  # another key, the same workload
    assert build("videomae-b", (224, 224), 16).macs == a.macs
    assert build("deit-tiny", depth=6) is build("deit-tiny", depth=6) is not build("deit-tiny")


def test_arrays_are_not_cached_and_agree_with_scalars():
    res = np.array([160, 224])
    wl = build("videomae-b", res, 16)
    assert wl is not build("videomae-b", res, 16)
    assert np.array_equal(wl.macs, [build("videomae-b", 160, 16).macs, build("videomae-b", 224, 16).macs])


def test_errors_are_raised_every_time():
    for _ in range(2):
        with pytest.raises(InputError, match="resolution"):
            build("videomae-b", 225, 16)
