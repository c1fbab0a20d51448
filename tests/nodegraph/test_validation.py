"""Validation finds every problem at once and names node, field and fix."""

from __future__ import annotations

import pytest

from nodegraph import ValidationError, find_issues, validate

from .fakes import make_graph


def messages(graph, registry):
    return [str(issue) for issue in find_issues(graph, registry)]


def test_valid_graph_passes(registry):
    graph = make_graph([("n", "test.number", {"value": 3}), ("out", "test.sink", {})], [("n.value", "out.value")])
    validate(graph, registry)


def test_unknown_type_suggests_close_match(registry):
    graph = make_graph([("n", "test.numbr", {})])
    (msg,) = messages(graph, registry)
    assert "unknown node type 'test.numbr'" in msg and "did you mean 'test.number'" in msg
    assert msg.startswith("n.type:")


def test_missing_node_and_port_in_links(registry):
    graph = make_graph([("n", "test.number", {}), ("out", "test.sink", {})],
                       [("n.nope", "out.value"), ("ghost.value", "n.value")])
    text = "\n".join(messages(graph, registry))
    assert "test.number has no output 'nope'" in text
    assert "there is no node 'ghost'" in text


def test_link_to_missing_input(registry):
    graph = make_graph([("n", "test.number", {}), ("out", "test.sink", {})],
                       [("n.value", "out.value"), ("n.value", "out.missing")])
    assert any("has no input or param 'missing'" in m for m in messages(graph, registry))


def test_incompatible_types_name_both(registry):
    graph = make_graph([("f", "test.frames", {}), ("out", "test.sink", {})], [("f.video", "out.value")])
    (msg,) = messages(graph, registry)
    assert "VIDEO output cannot feed FLOAT input" in msg


def test_required_input_unconnected(registry):
    graph = make_graph([("out", "test.sink", {})])
    (msg,) = messages(graph, registry)
    assert msg.startswith("out.value:") and "required input 'value' (FLOAT) is not connected" in msg


def test_optional_input_may_stay_unconnected(registry):
    graph = make_graph([("n", "test.number", {}), ("a", "test.add", {})], [("n.value", "a.a")])
    assert messages(graph, registry) == []


@pytest.mark.parametrize("params, expected", [
    ({"factor": "3"}, "expected a whole number, got '3' (str)"),
    ({"factor": 2.5}, "expected a whole number, got 2.5"),
    ({"factor": 11}, "11 is above the maximum 10"),
    ({"factor": 0}, "0 is below the minimum 1"),
    ({"mode": "div"}, "'div' is not one of 'mul', 'neg'"),
    ({"factr": 3}, "unknown param 'factr'; did you mean 'factor'?"),
])
def test_param_problems(registry, params, expected):
    graph = make_graph([("n", "test.number", {}), ("s", "test.scale", params)], [("n.value", "s.a")])
    (msg,) = messages(graph, registry)
    assert expected in msg
    assert msg.startswith("s.")


def test_cycle_names_every_node(registry):
    graph = make_graph([("a", "test.add", {}), ("b", "test.add", {}), ("c", "test.add", {})],
                       [("a.value", "b.a"), ("b.value", "c.a"), ("c.value", "a.a")])
    graph.nodes["b"].title = "Middle"
    (msg,) = messages(graph, registry)
    assert "a cycle: Test Add (a) -> Middle (b) -> Test Add (c) -> Test Add (a)" in msg
    (issue,) = find_issues(graph, registry)
    assert issue.through == ("a", "b", "c")


def test_every_problem_reported_together(registry):
    graph = make_graph([
        ("a", "test.nope", {}), ("s", "test.scale", {"factor": 99}), ("out", "test.sink", {}),
    ])
    with pytest.raises(ValidationError) as info:
        validate(graph, registry)
    # unknown type, factor out of range, and two unconnected required inputs (s.a, out.value)
    assert len(info.value.issues) == 4
    assert "4 problems in the graph" in str(info.value)


def test_linked_param_accepts_matching_type_and_skips_value_check(registry):
    graph = make_graph([("k", "value.int", {"value": 3}), ("n", "test.number", {}),
                        ("s", "test.scale", {"factor": 999})], [("k.value", "s.factor"), ("n.value", "s.a")])
    assert messages(graph, registry) == []


def test_linked_param_of_wrong_type(registry):
    graph = make_graph([("t", "value.string", {}), ("n", "test.number", {}), ("s", "test.scale", {})],
                       [("t.value", "s.factor"), ("n.value", "s.a")])
    (msg,) = messages(graph, registry)
    assert "STRING output cannot feed INT input" in msg


def test_bad_mode_and_bypass_without_matching_input(registry):
    graph = make_graph([("n", "test.number", {}), ("out", "test.sink", {})], [("n.value", "out.value")])
    graph.nodes["n"].mode = "bypass"
    graph.nodes["out"].mode = "sideways"
    text = "\n".join(messages(graph, registry))
    assert "cannot bypass: no input of type FLOAT" in text
    assert "mode 'sideways' is not one of normal, mute, bypass" in text


def test_scope_limits_validation(registry):
    graph = make_graph([("n", "test.number", {}), ("out", "test.sink", {}), ("broken", "test.sink", {})],
                       [("n.value", "out.value")])
    validate(graph, registry, only={"n", "out"})
    with pytest.raises(ValidationError):
        validate(graph, registry)
