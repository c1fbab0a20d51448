"""Undoable graph edits: every sequence undoes back to the same model and redoes forward again."""

from __future__ import annotations

import random

import pytest

from nodegraph import Graph, Group, Link, NodeInstance, NodeRegistry
from nodegraph.edits import (
    AddGroup,
    AddNode,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    Paste,
    RemoveGroup,
    RemoveNodes,
    SetGroup,
    SetMode,
    SetParam,
    SetTitle,
    SetUi,
    UndoStack,
)
from nodegraph.workflow import dumps_workflow
from nodes import values


@pytest.fixture
def registry():
    reg = NodeRegistry()
    values.register(reg)
    return reg


def make_graph() -> Graph:
    g = Graph("t")
    g.add_node(NodeInstance("a", "value.int", {"value": 1}, ui={"x": 0, "y": 0}))
    g.add_node(NodeInstance("b", "value.float", {}, ui={"x": 200, "y": 0}))
    g.add_node(NodeInstance("c", "value.float", {}, ui={"x": 400, "y": 0}))
    g.connect(Link("a", "value", "b", "value"))
    g.groups.append(Group("G", ["a", "b"], {"x": -20, "y": -40, "w": 500, "h": 200}))
    return g


def snap(g: Graph, registry) -> str:
    return dumps_workflow(g, registry)


def random_edit(g: Graph, rnd: random.Random):
    ids = list(g.nodes)
    choice = rnd.randrange(11)
    if choice == 0 or not ids:
        return AddNode(NodeInstance(g.unique_id("n"), "value.int", {"value": rnd.randint(0, 9)},
                                    ui={"x": rnd.random() * 500, "y": 0.0}))
    if choice == 1:
        return RemoveNodes(rnd.sample(ids, k=min(len(ids), rnd.randint(1, 2))))
    if choice == 2 and len(ids) >= 2:
        a, b = rnd.sample(ids, 2)
        return Connect(Link(a, "value", b, "value"))
    if choice == 3 and g.links:
        return Disconnect(rnd.choice(g.links))
    if choice == 4:
        return SetParam(rnd.choice(ids), "value", rnd.randint(0, 99))
    if choice == 5:
        return SetMode([rnd.choice(ids)], rnd.choice(["normal", "mute", "bypass"]))
    if choice == 6:
        return MoveNodes({n: (rnd.random() * 900, rnd.random() * 900) for n in rnd.sample(ids, 1)})
    if choice == 7:
        return Paste(g.subgraph(rnd.sample(ids, 1)), 30, 30)
    if choice == 8:
        return SetUi([rnd.choice(ids)], "collapsed", rnd.choice([True, None]))
    if choice == 9:
        return AddGroup(Group("H", [rnd.choice(ids)], {"x": 0, "y": 0, "w": 100, "h": 100}))
    if choice == 10 and g.groups:
        return RemoveGroup(rnd.randrange(len(g.groups)))
    return SetTitle(rnd.choice(ids), f"title {rnd.randint(0, 9)}")


@pytest.mark.parametrize("seed", range(12))
def test_random_sequences_undo_to_the_start_and_redo_to_the_end(seed, registry):
    rnd = random.Random(seed)
    g = make_graph()
    stack = UndoStack(g)
    states = [snap(g, registry)]
    for _ in range(40):
        stack.push(random_edit(g, rnd))
        states.append(snap(g, registry))
    for expected in reversed(states[:-1]):
        stack.undo()
        assert snap(g, registry) == expected
    assert not stack.can_undo
    for expected in states[1:]:
        stack.redo()
        assert snap(g, registry) == expected


def test_merged_moves_are_one_step(registry):
    g = make_graph()
    stack = UndoStack(g)
    for i in range(10):
        stack.push(MoveNodes({"a": (i, i * 2)}, merge_key="drag"))
    assert g.nodes["a"].ui == {"x": 9.0, "y": 18.0}
    assert stack.index == 1
    stack.undo()
    assert g.nodes["a"].ui == {"x": 0, "y": 0}
    stack.push(MoveNodes({"a": (5, 5)}, merge_key="drag"))
    stack.push(MoveNodes({"b": (5, 5)}, merge_key="drag"))  # other nodes: a new step
    assert stack.index == 2


def test_param_typing_merges_but_not_across_a_save(registry):
    g = make_graph()
    stack = UndoStack(g)
    stack.push(SetParam("a", "value", 5, merge_key="typing"))
    stack.push(SetParam("a", "value", 55, merge_key="typing"))
    assert stack.index == 1 and g.nodes["a"].params["value"] == 55
    stack.set_clean()
    stack.push(SetParam("a", "value", 555, merge_key="typing"))
    assert stack.index == 2 and not stack.is_clean()
    stack.undo()
    assert stack.is_clean() and g.nodes["a"].params["value"] == 55
    stack.undo()
    assert g.nodes["a"].params["value"] == 1


def test_reset_param_removes_it_and_undo_restores(registry):
    g = make_graph()
    stack = UndoStack(g)
    stack.push(SetParam("a", "value", None, reset=True))
    assert "value" not in g.nodes["a"].params
    stack.undo()
    assert g.nodes["a"].params["value"] == 1


def test_connect_replaces_the_link_into_the_same_input_and_undo_restores_it(registry):
    g = make_graph()
    stack = UndoStack(g)
    stack.push(Connect(Link("c", "value", "b", "value")))
    assert g.links == [Link("c", "value", "b", "value")]
    stack.undo()
    assert g.links == [Link("a", "value", "b", "value")]


def test_paste_uses_fresh_ids_and_keeps_internal_links(registry):
    g = make_graph()
    stack = UndoStack(g)
    edit = stack.push(Paste(g.subgraph(["a", "b"]), 50, 10))
    assert set(edit.mapping) == {"a", "b"} and not set(edit.mapping.values()) & {"a", "b", "c"}
    new_a, new_b = edit.mapping["a"], edit.mapping["b"]
    assert Link(new_a, "value", new_b, "value") in g.links
    assert g.nodes[new_b].ui == {"x": 250.0, "y": 10.0}
    assert g.groups[-1].nodes == [new_a, new_b]
    stack.undo()
    assert set(g.nodes) == {"a", "b", "c"} and len(g.groups) == 1


def test_macro_is_one_step_and_listeners_hear_every_change(registry):
    g = make_graph()
    stack = UndoStack(g)
    heard = []
    stack.subscribe(lambda edit, how: heard.append(how))
    with stack.macro("Insert"):
        stack.push(Disconnect(g.links[0]))
        stack.push(Connect(Link("a", "value", "c", "value")))
    assert stack.index == 1 and stack.undo_text == "Insert"
    stack.undo()
    assert g.links == [Link("a", "value", "b", "value")]
    assert heard == ["apply", "apply", "record", "undo"]  # "record": the undo history gained the step
    assert isinstance(Macro("x").touched(), set)


def test_group_move_and_resize_undo(registry):
    g = make_graph()
    stack = UndoStack(g)
    stack.push(MoveNodes({"a": (10, 10), "b": (210, 10)}, {0: (-10, -30)}))
    assert g.groups[0].ui["x"] == -10.0
    stack.push(SetGroup(0, title="Renamed", ui={"w": 900}))
    assert g.groups[0].title == "Renamed" and g.groups[0].ui["w"] == 900
    stack.undo()
    stack.undo()
    assert g.groups[0].ui == {"x": -20, "y": -40, "w": 500, "h": 200} and g.groups[0].title == "G"


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mute"):
        SetMode(["a"], "sleep")


@pytest.mark.parametrize("removal", ["disconnect", "delete source", "replace"])
def test_a_removed_wire_takes_its_reroute_points_with_it_and_undo_brings_them_back(removal, registry):
    g = make_graph()
    g.nodes["b"].ui["reroutes"] = {"value": [[100, 50], [150, 60]]}
    stack = UndoStack(g)
    before = snap(g, registry)
    edit = {"disconnect": lambda: Disconnect(Link("a", "value", "b", "value")),
            "delete source": lambda: RemoveNodes(["a"]),
            "replace": lambda: Connect(Link("c", "value", "b", "value"))}[removal]()
    stack.push(edit)
    assert "reroutes" not in g.nodes["b"].ui  # a new wire into b.value starts straight
    stack.undo()
    assert g.nodes["b"].ui["reroutes"] == {"value": [[100, 50], [150, 60]]} and snap(g, registry) == before
    stack.redo()
    assert "reroutes" not in g.nodes["b"].ui


def test_reconnecting_the_same_wire_keeps_its_reroute_points():
    g = make_graph()
    g.nodes["b"].ui["reroutes"] = {"value": [[100, 50]]}
    UndoStack(g).push(Connect(Link("a", "value", "b", "value")))
    assert g.nodes["b"].ui["reroutes"] == {"value": [[100, 50]]}
