"""Nodes that pass an input on with a change (Node.forwards), and nodes whose cache key sees only part of such a
change (Node.narrows): checks look past the first, and the second is served from the cache when its part is the
same."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from nodegraph import Node, NodeRegistry, Param, Port, Scheduler, find_issues

from .fakes import make_graph

KIT = "KIT"


@dataclass(frozen=True)
class Kit:
    base: float
    extras: tuple[tuple[str, float], ...] = ()  # (what it changes, how much)


class MakeKit(Node):
    type_id = "fwd.make"
    outputs = (Port("kit", KIT),)
    params = (Param("base", float, default=1.0, min=0.0, max=100.0),)

    def run(self, ctx, *, base):
        return {"kit": Kit(base)}


class AddExtra(Node):
    """Passes the kit on with one extra: the `forwards` kind of node (as model.lora is)."""

    type_id = "fwd.extra"
    inputs = (Port("kit", KIT),)
    outputs = (Port("kit", KIT),)
    forwards = {"kit": "kit"}
    params = (Param("part", str, default="sampler", choices=("sampler", "text")),
              Param("amount", float, default=1.0))

    def run(self, ctx, *, kit, part, amount):
        return {"kit": replace(kit, extras=kit.extras + ((part, amount),))}


class UsesText(Node):
    """Depends on the base and on the "text" extras only (as text.encode on a model with LoRAs)."""

    type_id = "fwd.text"
    inputs = (Port("kit", KIT),)
    outputs = (Port("value", "FLOAT"),)
    narrows = ("kit",)
    runs = 0

    @classmethod
    def narrowed_key(cls, port, value):
        return [amount for part, amount in value.extras if part == "text"]

    @classmethod
    def check_inputs(cls, params, sources):
        kind, guesses = sources["kit"]
        return [f"fed by {kind} with base {guesses['base']}"] if guesses.get("base") == 13.0 else []

    def run(self, ctx, *, kit):
        UsesText.runs += 1
        return {"value": kit.base + sum(amount for part, amount in kit.extras if part == "text")}


@pytest.fixture
def kit_registry():
    registry = NodeRegistry()
    registry.register_all((MakeKit, AddExtra, UsesText))
    return registry


def kit_graph(*extras):
    nodes = [("make", "fwd.make", {"base": 2.0})]
    links = []
    last = "make"
    for i, (part, amount) in enumerate(extras):
        nodes.append((f"extra{i}", "fwd.extra", {"part": part, "amount": amount}))
        links.append((f"{last}.kit", f"extra{i}.kit"))
        last = f"extra{i}"
    nodes.append(("use", "fwd.text", {}))
    links.append((f"{last}.kit", "use.kit"))
    return make_graph(nodes, links)


def test_a_change_the_narrowing_node_does_not_see_is_served_from_the_cache(kit_registry, tmp_path):
    scheduler = Scheduler(kit_registry, output_dir=tmp_path)
    graph = kit_graph(("sampler", 1.0), ("text", 0.5))
    UsesText.runs = 0
    assert scheduler.run(graph, ["use"]).raise_for_status().outputs["use"]["value"] == 2.5

    graph.nodes["extra0"].params["amount"] = 3.0  # the sampler's part: not what `use` depends on
    result = scheduler.run(graph, ["use"]).raise_for_status()
    assert result.executed == ["extra0", "extra1"] and "use" in result.cached and UsesText.runs == 1

    graph.nodes["extra1"].params["amount"] = 0.25  # the text part: it is
    result = scheduler.run(graph, ["use"]).raise_for_status()
    assert result.outputs["use"]["value"] == 2.25 and UsesText.runs == 2

    graph.nodes["make"].params["base"] = 4.0  # behind the forwarding nodes: it is too
    result = scheduler.run(graph, ["use"]).raise_for_status()
    assert result.outputs["use"]["value"] == 4.25 and UsesText.runs == 3


def test_fed_directly_a_narrowing_node_keys_on_its_feeder_as_any_node_does(kit_registry, tmp_path):
    scheduler = Scheduler(kit_registry, output_dir=tmp_path)
    graph = kit_graph()
    UsesText.runs = 0
    scheduler.run(graph, ["use"]).raise_for_status()
    graph.nodes["make"].params["base"] = 5.0
    assert scheduler.run(graph, ["use"]).raise_for_status().outputs["use"]["value"] == 5.0 and UsesText.runs == 2


def test_checks_look_past_forwarding_nodes_to_the_node_that_makes_the_value(kit_registry):
    graph = kit_graph(("sampler", 1.0), ("text", 1.0))
    graph.nodes["make"].params["base"] = 13.0
    assert [str(issue) for issue in find_issues(graph, kit_registry)] == ["use: fed by fwd.make with base 13.0"]
    graph.nodes["extra1"].mode = "mute"  # a muted one passes nothing on: the walk stops there
    assert find_issues(graph, kit_registry) == []
