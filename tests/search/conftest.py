"""Shared fixtures of the search tests."""

from __future__ import annotations

import pytest
from test_sweep_support import register, unregister


@pytest.fixture
def toy():
    """The toy accelerator of test_sweep_support registered for one test."""
    register()
    yield
    unregister()
