"""Planning is a function of the graph: the scheduler, the CLI and the server plan through it."""

from __future__ import annotations

from nodegraph import Scheduler
from nodegraph.planning import plan

from .fakes import make_graph
from .test_subgraphs import FUZZ_REGISTRY, TWO_INSTANCES, load


def chain():
    return make_graph([("n", "test.number", {"value": 2.0}), ("s", "test.scale", {}), ("out", "test.sink", {}),
                       ("spare", "test.scale", {"factor": 99})],
                      [("n.value", "s.a"), ("s.value", "out.value")])


def test_planning_is_a_function_of_the_graph(registry):
    graph = chain()
    assert plan(graph, registry) == Scheduler(registry).plan(graph) == ["n", "s", "out"]
    assert plan(graph, registry, ["s"]) == ["n", "s"]
    two = load(TWO_INSTANCES, FUZZ_REGISTRY)  # an instance's id stands for the nodes inside it
    assert plan(two, FUZZ_REGISTRY, ["a"]) == ["n", "a/scale", "a/add"]
