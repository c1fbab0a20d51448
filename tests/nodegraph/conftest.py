"""Fixtures for engine tests."""

from __future__ import annotations

import pytest

from nodegraph import NodeRegistry, Scheduler

from .fakes import CALLS, TEST_NODES


@pytest.fixture
def registry() -> NodeRegistry:
    reg = NodeRegistry()
    reg.register_all(TEST_NODES)
    import nodes.values

    nodes.values.register(reg)
    return reg


@pytest.fixture
def calls():
    CALLS.clear()
    yield CALLS
    CALLS.clear()


@pytest.fixture
def scheduler(registry, tmp_path) -> Scheduler:
    return Scheduler(registry, output_dir=tmp_path / "out")


