"""Preparing a run is one function of the graph for the CLI and the server: plan, then validate, one set of errors."""

from __future__ import annotations

import pytest

from nodegraph import Scheduler
from nodegraph.errors import ValidationError
from nodegraph.planning import plan
from nodegraph.prepare import CLI_WORDING, NOTHING_TO_RUN, SERVER_WORDING, prepare_run

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


def test_a_prepared_run_holds_the_plan_and_validates_only_what_it_visits(registry, tmp_path):
    prepared = prepare_run(chain(), registry, ["out"], tmp_path)  # "spare" is invalid, but the run never visits it
    assert prepared.plan == ["n", "s", "out"] and prepared.targets == ["out"] and prepared.quality is None
    with pytest.raises(ValidationError, match=r"spare.factor: 99 is above the maximum 10"):
        prepare_run(chain(), registry, ["spare"], tmp_path)


@pytest.mark.parametrize(("wording", "named", "none_given"), [
    (CLI_WORDING, "--only 'nope': no such node; nodes are n, s, out, spare", "and no --only was given"),
    (SERVER_WORDING, "targets: 'nope': no such node; nodes are n, s, out, spare", "and no targets were given")])
def test_refusals_name_what_the_caller_was_given(registry, tmp_path, wording, named, none_given):
    with pytest.raises(ValidationError) as info:
        prepare_run(chain(), registry, ["nope"], tmp_path, wording=wording)
    assert str(info.value) == named
    no_outputs = make_graph([("n", "test.number", {})])
    with pytest.raises(ValidationError) as info:
        prepare_run(no_outputs, registry, None, tmp_path, wording=wording)
    assert str(info.value) == NOTHING_TO_RUN + none_given
