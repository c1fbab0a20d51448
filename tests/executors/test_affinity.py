"""Which worker gets which variant: one that already holds the variant's models first."""

from __future__ import annotations

from collections import deque

from executors.ray_pool import Slot
from executors.ray_sweep import affinity_keys, pick
from nodegraph.node import Node, Param, Port
from nodegraph.registry import NodeRegistry
from nodegraph.sweep import expand, parse_sweeps
from nodegraph.types import FLOAT, MODEL
from tests.nodegraph.fakes import TEST_NODES, make_graph


class Loader(Node):
    """Loads a model named by `name`."""

    type_id = "test.loader"
    outputs = (Port("model", MODEL),)
    params = (Param("name", str, default="a"),)


class Sampler(Node):
    """Uses a model."""

    type_id = "test.sampler"
    is_output = True
    inputs = (Port("model", MODEL),)
    outputs = (Port("value", FLOAT),)
    params = (Param("seed", int, default=0, min=0, max=100),)


def test_variants_that_share_a_model_go_to_the_worker_that_holds_it():
    registry = NodeRegistry()
    registry.register_all((*TEST_NODES, Loader, Sampler))
    graph = make_graph([("load", "test.loader", {}), ("sample", "test.sampler", {})], [("load.model", "sample.model")])
    variants = expand(parse_sweeps(["load.name=a,b", "sample.seed=1..3"], graph, registry))
    keys = affinity_keys(graph, registry, variants)
    assert {keys[v.index] for v in variants} == {(("load", "name", "'a'"),), (("load", "name", "'b'"),)}
    pending = deque(variants)
    holds_b = Slot(0, actor=None, held={(("load", "name", "'b'"),)})
    fresh = Slot(1, actor=None)
    first = pick(pending, holds_b, keys, busy_keys=set())
    assert first.settings[0][2] == "b"  # the worker that holds model b takes a b variant, not the first in line
    second = pick(pending, fresh, keys, busy_keys={keys[first.index]})
    assert second.settings[0][2] == "a"  # a fresh worker takes what nobody is loading
    assert len(pending) == 4
