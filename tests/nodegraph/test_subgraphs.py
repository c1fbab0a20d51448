"""Subgraphs: definitions and instances in workflow files, flattened before planning, named by path."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodegraph import NodeRegistry, ValidationError, WorkflowError, find_issues, load_workflow, loads_workflow
from nodegraph.cli import apply_overrides, main
from nodegraph.flatten import flatten, instance_class
from nodegraph.workflow import dumps_workflow, save_workflow, workflow_to_dict

from .fakes import TEST_NODES

FUZZ_REGISTRY = NodeRegistry()
FUZZ_REGISTRY.register_all(TEST_NODES)

# x -> scale (factor promoted) -> add (offset 1) -> y
TRIPLE = {
    "title": "Scale and add",
    "nodes": [{"id": "scale", "type": "test.scale", "params": {"factor": 3}},
              {"id": "add", "type": "test.add", "params": {"offset": 1.0}}],
    "links": [{"from": "scale.value", "to": "add.a"}],
    "inputs": [{"name": "x", "to": ["scale.a"]}],
    "outputs": [{"name": "y", "from": "add.value"}],
    "params": [{"name": "factor", "title": "Factor", "default": 2, "to": ["scale.factor"]}],
}


def doc_with(subgraphs: dict, nodes: list, links: list) -> dict:
    return {"format": "kinograph.workflow", "version": 1, "name": "subgraphs", "nodes": nodes,
            "links": [{"from": a, "to": b} for a, b in links], "groups": [], "meta": {}, "subgraphs": subgraphs}


TWO_INSTANCES = doc_with(
    {"triple": TRIPLE},
    [{"id": "n", "type": "test.number", "params": {"value": 2.0}},
     {"id": "a", "type": "subgraph:triple", "params": {"factor": 3}},
     {"id": "b", "type": "subgraph:triple", "params": {}},
     {"id": "outa", "type": "test.sink", "params": {}},
     {"id": "outb", "type": "test.sink", "params": {}}],
    [("n.value", "a.x"), ("n.value", "b.x"), ("a.y", "outa.value"), ("b.y", "outb.value")])

BY_HAND = doc_with(
    {},
    [{"id": "n", "type": "test.number", "params": {"value": 2.0}},
     {"id": "a_scale", "type": "test.scale", "params": {"factor": 3}},
     {"id": "a_add", "type": "test.add", "params": {"offset": 1.0}},
     {"id": "b_scale", "type": "test.scale", "params": {"factor": 2}},
     {"id": "b_add", "type": "test.add", "params": {"offset": 1.0}},
     {"id": "outa", "type": "test.sink", "params": {}},
     {"id": "outb", "type": "test.sink", "params": {}}],
    [("n.value", "a_scale.a"), ("a_scale.value", "a_add.a"), ("n.value", "b_scale.a"),
     ("b_scale.value", "b_add.a"), ("a_add.value", "outa.value"), ("b_add.value", "outb.value")])
del BY_HAND["subgraphs"]


def load(doc, registry, **kwargs):
    return loads_workflow(json.dumps(doc), registry, **kwargs)


def sinks(result) -> dict:
    return {k: v["text"] for k, v in result.outputs.items() if k.startswith("out")}


def test_a_file_with_subgraphs_round_trips_and_one_without_is_written_as_before(registry):
    graph = load(TWO_INSTANCES, registry)
    assert graph.nodes["a"].type == "subgraph:triple" and set(graph.subgraphs) == {"triple"}
    assert workflow_to_dict(graph, registry) == TWO_INSTANCES
    plain = load(BY_HAND, registry)
    assert "subgraphs" not in workflow_to_dict(plain, registry)  # format v1 files are unchanged
    assert workflow_to_dict(plain, registry) == BY_HAND


def test_two_instances_with_different_promoted_params_give_the_flattened_by_hand_results(registry, scheduler, calls):
    result = scheduler.run(load(TWO_INSTANCES, registry)).raise_for_status()
    assert sinks(result) == {"outa": "out=7.0", "outb": "out=5.0"}
    assert {"a/scale", "a/add", "b/scale", "b/add"} <= set(calls)
    by_hand = scheduler.run(load(BY_HAND, registry)).raise_for_status()
    assert sinks(by_hand) == sinks(result)


def test_instances_share_only_cache_hits_on_identical_inputs(registry, scheduler, calls):
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["nodes"][1]["params"] = {}  # both instances now compute the same thing
    result = scheduler.run(load(doc, registry)).raise_for_status()
    assert sorted(result.executed + result.cached).count("a/scale") == 1
    assert "b/scale" in result.cached and "a/scale" in result.executed


def test_a_change_inside_a_definition_reruns_only_what_depends_on_it(registry, scheduler, calls):
    graph = load(TWO_INSTANCES, registry)
    scheduler.run(graph).raise_for_status()
    graph.subgraphs["triple"].graph.nodes["add"].params["offset"] = 10.0
    result = scheduler.run(graph).raise_for_status()
    assert sorted(result.executed) == ["a/add", "b/add", "outa", "outb"]
    assert sinks(result) == {"outa": "out=16.0", "outb": "out=14.0"}


def test_nesting_three_deep_passes_ports_and_promoted_params_through(registry, scheduler, calls):
    middle = {"nodes": [{"id": "inner", "type": "subgraph:triple", "params": {}}], "links": [],
              "inputs": [{"name": "x", "to": ["inner.x"]}], "outputs": [{"name": "y", "from": "inner.y"}],
              "params": [{"name": "k", "to": ["inner.factor"]}]}
    outer = {"nodes": [{"id": "mid", "type": "subgraph:middle", "params": {}},
                       {"id": "add", "type": "test.add", "params": {"offset": 100.0}}],
             "links": [{"from": "mid.y", "to": "add.a"}],
             "inputs": [{"name": "x", "to": ["mid.x"]}], "outputs": [{"name": "y", "from": "add.value"}],
             "params": [{"name": "k", "default": 4, "to": ["mid.k"]}]}
    doc = doc_with({"triple": TRIPLE, "middle": middle, "outer": outer},
                   [{"id": "n", "type": "test.number", "params": {"value": 1.0}},
                    {"id": "o", "type": "subgraph:outer", "params": {"k": 5}},
                    {"id": "out", "type": "test.sink", "params": {}}],
                   [("n.value", "o.x"), ("o.y", "out.value")])
    graph = load(doc, registry)
    flat = flatten(graph, registry)
    assert set(flat.nodes) == {"n", "o/mid/inner/scale", "o/mid/inner/add", "o/add", "out"}
    assert flat.instances["o/mid"] == ["o/mid/inner/scale", "o/mid/inner/add"]
    result = scheduler.run(graph).raise_for_status()
    assert result.outputs["out"]["text"] == "out=106.0"  # 1 * 5 + 1 + 100
    assert workflow_to_dict(graph, registry) == doc


def test_an_error_inside_a_subgraph_is_named_by_its_path(registry, scheduler, calls):
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["subgraphs"]["triple"]["nodes"][1] = {"id": "add", "type": "test.boom", "params": {}}
    doc["subgraphs"]["triple"]["links"] = [{"from": "scale.value", "to": "add.a"}]
    result = scheduler.run(load(doc, registry))
    assert result.status == "failed" and result.error.node_id == "a/add"
    assert "node 'a/add' (test.boom) failed: RuntimeError: the widget exploded" in str(result.error)


def test_every_problem_in_definitions_and_instances_is_listed_by_path(registry):
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["nodes"][1]["params"] = {"factor": 99, "colour": 1}
    doc["nodes"].append({"id": "c", "type": "subgraph:nope", "params": {}})
    doc["links"].append({"from": "n.value", "to": "b.nothing"})
    doc["subgraphs"]["triple"]["nodes"].append({"id": "ghost", "type": "test.ghost", "params": {}})
    texts = [str(issue) for issue in find_issues(load(doc, registry), registry)]
    for fragment in ("a/scale.factor: 99 is above the maximum 10",
                     "a.colour: subgraph 'triple' has no param 'colour' (its params: factor)",
                     "c.type: no subgraph named 'nope'; defined here: triple",
                     "b.nothing: subgraph 'triple' has no input or param 'nothing'",
                     "a/ghost.type: unknown node type 'test.ghost'", "b/ghost.type: unknown node type"):
        assert any(fragment in text for text in texts), (fragment, texts)


def test_malformed_definitions_are_one_workflow_error_naming_each_place(registry):
    doc = copy.deepcopy(TWO_INSTANCES)
    sub = doc["subgraphs"]["triple"]
    sub["inputs"] = [{"name": "x", "to": ["nowhere.a"]}]
    sub["outputs"] = [{"name": "y"}, {"name": "y", "from": "add.value"}]
    sub["params"] = [{"name": "factor", "to": "scale.factor"}]
    sub["nodes"][0]["id"] = 5
    doc["subgraphs"]["bad name"] = {}
    with pytest.raises(WorkflowError) as info:
        load(doc, registry)
    text = str(info.value)
    for fragment in ("subgraphs.triple.nodes[0]: 'id' must be non-empty text",
                     "subgraphs.triple.inputs[0].to: 'nowhere.a' names no node of this subgraph",
                     "subgraphs.triple.outputs[0].from: must be 'node_id.port', got None",
                     "subgraphs.triple.outputs[1]: port name 'y' must be unique",
                     "subgraphs.bad name: a subgraph name must start with a letter"):
        assert fragment in text, (fragment, text)


def test_a_subgraph_that_contains_itself_is_refused(registry):
    loop = {"nodes": [{"id": "me", "type": "subgraph:loop", "params": {}}]}
    doc = doc_with({"loop": loop}, [{"id": "x", "type": "subgraph:loop", "params": {}}], [])
    texts = [str(i) for i in find_issues(load(doc, registry), registry)]
    assert any("x/me.type: subgraph 'loop' contains itself" in t for t in texts), texts


def test_a_subgraph_file_is_read_by_path_kept_as_a_reference_and_its_content_is_in_the_cache_key(
        registry, scheduler, tmp_path, calls):
    sub = tmp_path / "lib" / "triple.kgsub.json"
    sub.parent.mkdir()
    sub.write_text(json.dumps({"format": "kinograph.subgraph", "version": 1, "name": "triple", **TRIPLE}))
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["subgraphs"] = {"triple": {"path": "lib/triple.kgsub.json"}}
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc))
    result = scheduler.run(load_workflow(path, registry)).raise_for_status()
    assert sinks(result) == {"outa": "out=7.0", "outb": "out=5.0"}
    save_workflow(load_workflow(path, registry), tmp_path / "moved" / "wf.json", registry)
    moved = json.loads((tmp_path / "moved" / "wf.json").read_text())
    assert moved["subgraphs"] == {"triple": {"path": "../lib/triple.kgsub.json"}}
    assert "scale" in dumps_workflow(load_workflow(path, registry), registry, absolute_paths=True)  # a run's record

    changed = json.loads(sub.read_text())
    changed["nodes"][1]["params"]["offset"] = 0.0
    sub.write_text(json.dumps(changed))
    again = scheduler.run(load_workflow(path, registry)).raise_for_status()
    assert sorted(again.executed) == ["a/add", "b/add", "outa", "outb"]


def test_a_workflow_marked_as_a_subgraph_can_be_used_as_one(registry, scheduler, tmp_path, calls):
    part = {"format": "kinograph.workflow", "version": 1, "name": "triple", "nodes": TRIPLE["nodes"],
            "links": TRIPLE["links"], "groups": [], "meta": {},
            "subgraph": {k: TRIPLE[k] for k in ("inputs", "outputs", "params")}}
    (tmp_path / "triple.json").write_text(json.dumps(part))
    assert load_workflow(tmp_path / "triple.json", registry).interface is not None
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["subgraphs"] = {"triple": {"path": "triple.json"}}
    (tmp_path / "wf.json").write_text(json.dumps(doc))
    result = scheduler.run(load_workflow(tmp_path / "wf.json", registry)).raise_for_status()
    assert sinks(result) == {"outa": "out=7.0", "outb": "out=5.0"}
    (tmp_path / "plain.json").write_text(json.dumps(BY_HAND))
    doc["subgraphs"] = {"triple": {"path": "plain.json"}}
    with pytest.raises(WorkflowError, match="'plain.json' is not a subgraph"):
        load(doc, registry, base_dir=tmp_path)


def test_subgraph_files_outside_the_readable_folders_are_not_read(registry, tmp_path):
    (tmp_path / "secret.json").write_text("{}")
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["subgraphs"] = {"triple": {"path": str(tmp_path / "secret.json")}}
    with pytest.raises(WorkflowError, match="outside the folders this may read"):
        load(doc, registry, read_dirs=[tmp_path / "inputs"])


def test_set_reaches_promoted_and_inner_params(registry, scheduler, calls):
    graph = load(TWO_INSTANCES, registry)
    apply_overrides(graph, ["a.factor=4", "b/add.offset=10"], registry)
    result = scheduler.run(graph).raise_for_status()
    assert sinks(result) == {"outa": "out=9.0", "outb": "out=14.0"}
    with pytest.raises(ValidationError, match="subgraph:triple has no param 'offset'"):
        apply_overrides(load(TWO_INSTANCES, registry), ["a.offset=1"], registry)


def test_cli_validate_and_run_take_subgraph_files(tmp_path, capsys, monkeypatch):
    import nodegraph.cli as cli

    monkeypatch.setattr(cli, "default_registry", lambda: FUZZ_REGISTRY)
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(TWO_INSTANCES))
    assert main(["validate", str(path)]) == 0
    assert "valid (7 nodes, 6 links)" in capsys.readouterr().out
    assert main(["run", str(path), "--set", "a/scale.factor=11", "--output-dir", str(tmp_path / "o")]) == 2
    assert "a/scale.factor=11': 11 is above the maximum 10" in capsys.readouterr().err


def test_a_sweep_takes_an_instance_for_only_as_a_run_does(tmp_path, capsys, monkeypatch):
    import nodegraph.cli as cli

    monkeypatch.setattr(cli, "default_registry", lambda: FUZZ_REGISTRY)
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(TWO_INSTANCES))
    assert main(["run", str(path), "--sweep", "n.value=1,2", "--only", "a", "--output-dir", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "[2_value-2] a/add (test.add): done" in err and "b/add" not in err


def test_an_instance_describes_itself_as_a_node(registry):
    graph = load(TWO_INSTANCES, registry)
    cls = instance_class(graph.subgraphs["triple"], registry)
    assert [(p.name, p.type) for p in cls.inputs] == [("x", "FLOAT")]
    assert [(p.name, p.type) for p in cls.outputs] == [("y", "FLOAT")]
    assert [(p.name, p.label, p.default, p.max) for p in cls.params] == [("factor", "Factor", 2, 10)]


refs = st.sampled_from(["scale.a", "add.a", "scale.factor", "add.value", "x.y", "nope", 3])
definitions = st.fixed_dictionaries({}, optional={
    "nodes": st.lists(st.fixed_dictionaries({"id": st.sampled_from(["scale", "add", "inner", "x"]),
                                             "type": st.sampled_from(["test.scale", "test.add", "subgraph:s",
                                                                      "subgraph:t", "test.nope"])}), max_size=3),
    "links": st.lists(st.fixed_dictionaries({"from": refs, "to": refs}), max_size=2),
    "inputs": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["x", "y"]), "to": st.lists(refs)}),
                       max_size=2),
    "outputs": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["y", "z"]), "from": refs}), max_size=2),
    "params": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["factor", "k"]), "to": st.lists(refs)},
                                             optional={"default": st.integers(-5, 20) | st.text(max_size=2)}),
                       max_size=2),
})
fuzz_docs = st.fixed_dictionaries({
    "format": st.just("kinograph.workflow"), "version": st.just(1),
    "nodes": st.lists(st.fixed_dictionaries({"id": st.sampled_from(["a", "b", "c"]),
                                             "type": st.sampled_from(["subgraph:s", "subgraph:t", "test.number"]),
                                             "params": st.dictionaries(st.sampled_from(["factor", "k"]),
                                                                       st.integers(-3, 30))}), max_size=3),
    "links": st.lists(st.fixed_dictionaries({"from": st.sampled_from(["a.y", "b.z", "c.value"]),
                                             "to": st.sampled_from(["a.x", "b.y", "c.k"])}), max_size=3),
    "subgraphs": st.dictionaries(st.sampled_from(["s", "t", "1"]), definitions | st.integers(), max_size=2),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuzz_docs)
def test_fuzz_files_with_subgraphs_load_or_raise_workflow_error(doc):
    try:
        graph = loads_workflow(json.dumps(doc), FUZZ_REGISTRY)
    except WorkflowError:
        return
    find_issues(graph, FUZZ_REGISTRY)  # flattening and validating whatever loaded must not crash
    loads_workflow(dumps_workflow(graph, FUZZ_REGISTRY), FUZZ_REGISTRY)


def test_make_subgraph_then_unpack_keep_the_results_and_undo_restores_each_step(registry, scheduler, calls):
    from nodegraph.edits import SetParam, UndoStack
    from nodegraph.subgraph_edits import InSubgraph, MakeSubgraph, Unpack

    graph = load(BY_HAND, registry)
    original = workflow_to_dict(graph, registry)
    expected = sinks(scheduler.run(graph).raise_for_status())
    stack = UndoStack(graph)
    make = stack.push(MakeSubgraph(["a_scale", "a_add"], "triple", promote=[("a_scale", "factor")]))
    assert set(graph.nodes) == {"n", "triple", "b_scale", "b_add", "outa", "outb"}
    defn = graph.subgraphs["triple"]
    assert [(p.name, p.refs) for p in defn.inputs] == [("a", [("a_scale", "a")])]
    assert [(p.name, p.refs) for p in defn.outputs] == [("value", [("a_add", "value")])]
    assert [p.name for p in defn.params] == ["factor"] and make.instance_id == "triple"
    assert sinks(scheduler.run(graph).raise_for_status()) == expected
    made = workflow_to_dict(graph, registry)
    assert loads_workflow(json.dumps(made), registry) is not None

    stack.push(InSubgraph(["triple"], SetParam("a_add", "offset", 5.0)))  # edited inside, one undo step
    assert sinks(scheduler.run(graph))["outa"] == "out=11.0"
    stack.undo()
    assert workflow_to_dict(graph, registry) == made

    stack.push(SetParam("triple", "factor", 4))
    unpack = stack.push(Unpack("triple"))
    assert graph.subgraphs == {} and graph.nodes[unpack.mapping["a_scale"]].params["factor"] == 4
    assert sinks(scheduler.run(graph))["outa"] == "out=9.0"
    stack.undo()
    stack.undo()
    assert workflow_to_dict(graph, registry) == made
    stack.undo()
    assert workflow_to_dict(graph, registry) == original


def test_the_documented_example_loads_flattens_and_takes_set(tmp_path):
    import re
    from pathlib import Path

    from nodegraph.registry import default_registry

    text = (Path(__file__).resolve().parents[2] / "docs" / "subgraphs.md").read_text(encoding="utf-8")
    doc = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    (tmp_path / "lib").mkdir()
    grade = {"format": "kinograph.subgraph", "version": 1, "name": "grade",
             "nodes": [{"id": "resize", "type": "video.resize", "params": {}}],
             "inputs": [{"name": "video", "to": ["resize.video"]}],
             "outputs": [{"name": "video", "from": "resize.video"}]}
    (tmp_path / "lib" / "grade.kgsub.json").write_text(json.dumps(grade))
    (tmp_path / "wf.json").write_text(json.dumps(doc))
    registry = default_registry()
    graph = load_workflow(tmp_path / "wf.json", registry)
    apply_overrides(graph, ["big.scale=2.5", "big/resize.method=area"], registry)
    assert set(graph.nodes) == {"load", "small/resize", "small/smooth", "big/resize", "big/smooth", "save_small",
                                "save_big"}
    assert graph.nodes["big/resize"].params == {"scale": 2.5, "method": "area"}
    assert graph.nodes["small/resize"].params == {"scale": 1.5, "method": "lanczos"}


def test_nodes_lists_a_workflows_subgraphs_as_node_types(tmp_path, capsys, monkeypatch):
    import nodegraph.cli as cli

    monkeypatch.setattr(cli, "default_registry", lambda: FUZZ_REGISTRY)
    (tmp_path / "wf.json").write_text(json.dumps(TWO_INSTANCES))
    assert main(["nodes", str(tmp_path / "wf.json"), "--json"]) == 0
    listed = {entry["type"]: entry for entry in json.loads(capsys.readouterr().out)}
    triple = listed["subgraph:triple"]
    assert triple["category"] == "Subgraphs" and triple["title"] == "Scale and add"
    assert [(p["name"], p["type"]) for p in triple["inputs"]] == [("x", "FLOAT")]
    assert [(p["name"], p["default"], p["max"]) for p in triple["params"]] == [("factor", 2, 10)]


def test_a_definition_no_node_uses_is_checked_too(registry):
    doc = copy.deepcopy(TWO_INSTANCES)
    spare = copy.deepcopy(TRIPLE)
    spare["nodes"][0]["params"]["mode"] = "sideways"
    doc["subgraphs"]["spare"] = spare
    texts = [str(issue) for issue in find_issues(load(doc, registry), registry)]
    assert texts == ["spare/scale.mode: 'sideways' is not one of 'mul', 'neg'"], texts


def test_each_flattening_follows_the_edits_made_since_the_last_inside_and_outside_the_definitions(
        registry, scheduler, calls):
    graph = load(TWO_INSTANCES, registry)
    before = flatten(graph, registry)
    assert flatten(graph, registry) is before  # nothing changed: the same flat graph
    graph.nodes["a"].params["factor"] = 5
    after = flatten(graph, registry)
    assert after is not before and after.nodes["b/scale"].params["factor"] == 2
    assert after.nodes["a/scale"].params["factor"] == 5 and before.nodes["a/scale"].params["factor"] == 3
    after.nodes["b/add"].params["offset"] = 7  # a flat node's params are its own, not the definition's
    graph.nodes["b"].mode = "mute"
    muted = flatten(graph, registry)
    assert {n.id for n in muted.nodes.values() if n.mode == "mute"} == {"b/scale", "b/add"}
    assert muted.nodes["b/add"].params["offset"] == 1.0
    graph.nodes["b"].mode = "normal"
    graph.subgraphs["triple"].graph.nodes["add"].params["offset"] = 0.0  # inside: everything is made again
    assert sinks(scheduler.run(graph).raise_for_status()) == {"outa": "out=10.0", "outb": "out=4.0"}


def _follows_every_link(graph) -> bool:
    order = graph.run_order()
    place = {node_id: i for i, node_id in enumerate(order)}
    return sorted(order) == sorted(graph.nodes) and all(place[lk.src] < place[lk.dst] for lk in graph.links)


def test_a_flattened_workflow_runs_its_nodes_in_an_order_that_follows_every_link(registry, scheduler, calls):
    # Two instances side by side, one nested three deep: each instance's nodes run after what feeds them.
    middle = {"nodes": [{"id": "inner", "type": "subgraph:triple", "params": {}}], "links": [],
              "inputs": [{"name": "x", "to": ["inner.x"]}], "outputs": [{"name": "y", "from": "inner.y"}]}
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["subgraphs"]["middle"] = middle
    doc["nodes"].append({"id": "m", "type": "subgraph:middle", "params": {}})
    doc["nodes"].append({"id": "outm", "type": "test.sink", "params": {}})
    doc["links"] += [{"from": "b.y", "to": "m.x"}, {"from": "m.y", "to": "outm.value"}]
    flat = flatten(load(doc, registry), registry)
    assert _follows_every_link(flat)
    result = scheduler.run(load(doc, registry)).raise_for_status()
    assert sinks(result) == {"outa": "out=7.0", "outb": "out=5.0", "outm": "out=11.0"}
    executed = result.executed
    assert executed.index("b/add") < executed.index("m/inner/scale") < executed.index("m/inner/add")


def test_an_instance_feeding_itself_through_ports_that_do_not_meet_inside_runs(registry, scheduler, calls):
    # pair: x -> scale -> y and z -> add -> w, two separate ways through; y feeding z is no cycle inside.
    pair = {"nodes": [{"id": "scale", "type": "test.scale", "params": {"factor": 3}},
                      {"id": "add", "type": "test.add", "params": {"offset": 1.0}}],
            "links": [], "inputs": [{"name": "x", "to": ["scale.a"]}, {"name": "z", "to": ["add.a"]}],
            "outputs": [{"name": "y", "from": "scale.value"}, {"name": "w", "from": "add.value"}]}
    doc = doc_with({"pair": pair},
                   [{"id": "n", "type": "test.number", "params": {"value": 2.0}},
                    {"id": "p", "type": "subgraph:pair", "params": {}},
                    {"id": "out", "type": "test.sink", "params": {}}],
                   [("n.value", "p.x"), ("p.y", "p.z"), ("p.w", "out.value")])
    graph = load(doc, registry)
    assert find_issues(graph, registry) == []
    assert _follows_every_link(flatten(graph, registry))
    assert sinks(scheduler.run(graph).raise_for_status()) == {"out": "out=7.0"}  # 2 * 3 + 1


def test_a_cycle_through_two_instances_is_named_by_the_inner_nodes_it_runs_through(registry):
    doc = doc_with({"triple": TRIPLE},
                   [{"id": "a", "type": "subgraph:triple", "params": {}},
                    {"id": "b", "type": "subgraph:triple", "params": {}}],
                   [("a.y", "b.x"), ("b.y", "a.x")])
    issues = find_issues(load(doc, registry), registry)
    cycles = [issue for issue in issues if issue.message.startswith("a cycle")]
    assert len(cycles) == 1 and set(cycles[0].through) == {"a/scale", "a/add", "b/scale", "b/add"}


def test_a_relative_path_is_read_against_the_folder_of_the_file_that_gives_it(tmp_path):
    from nodegraph import Node, Param

    class ReadFile(Node):
        type_id = "test.read_file"
        params = (Param("file", str, default="", kind="path"), Param("notes", str, default="", kind="path"))

        def process(self, ctx, inputs, params):
            return {}

    registry = NodeRegistry()
    registry.register(ReadFile)
    pick = {"format": "kinograph.subgraph", "version": 1, "name": "pick",
            "nodes": [{"id": "read", "type": "test.read_file", "params": {"notes": "notes.txt"}}], "links": [],
            "params": [{"name": "file", "default": "clip.txt", "to": ["read.file"]}]}
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "pick.kgsub.json").write_text(json.dumps(pick))
    doc = doc_with({"pick": {"path": "lib/pick.kgsub.json"}},
                   [{"id": "own", "type": "subgraph:pick", "params": {}},
                    {"id": "given", "type": "subgraph:pick", "params": {"file": "mine.txt"}}], [])
    (tmp_path / "wf.json").write_text(json.dumps(doc))
    flat = flatten(load_workflow(tmp_path / "wf.json", registry), registry)
    lib = tmp_path / "lib"
    assert flat.nodes["own/read"].params == {"notes": str(lib / "notes.txt"), "file": str(lib / "clip.txt")}
    # Set on the instance, in the workflow: beside the workflow, as every other path it holds.
    assert flat.nodes["given/read"].params == {"notes": str(lib / "notes.txt"), "file": "mine.txt"}
    assert flat.base_dir == tmp_path


def test_a_bypassed_instance_passes_its_input_on_and_leaves_the_definition_and_other_instances_alone(
        registry, scheduler, calls):
    doc = copy.deepcopy(TWO_INSTANCES)
    doc["nodes"][2]["mode"] = "bypass"  # b
    graph = load(doc, registry)
    assert find_issues(graph, registry) == []
    flat = flatten(graph, registry)
    assert set(flat.nodes) == {"n", "a/scale", "a/add", "outa", "outb"} and flat.instances["b"] == []
    result = scheduler.run(graph).raise_for_status()
    assert sinks(result) == {"outa": "out=7.0", "outb": "out=2.0"}  # b passes n's 2.0 on; a still scales and adds
    assert all(node.mode == "normal" for node in graph.subgraphs["triple"].graph.nodes.values())
    assert workflow_to_dict(graph, registry)["nodes"][2]["mode"] == "bypass"


def test_bypassed_instances_in_a_row_pass_on_what_feeds_the_first(registry, scheduler, calls):
    doc = doc_with({"triple": TRIPLE},
                   [{"id": "n", "type": "test.number", "params": {"value": 3.0}},
                    {"id": "a", "type": "subgraph:triple", "params": {}, "mode": "bypass"},
                    {"id": "b", "type": "subgraph:triple", "params": {}, "mode": "bypass"},
                    {"id": "c", "type": "subgraph:triple", "params": {}},
                    {"id": "out", "type": "test.sink", "params": {}}],
                   [("n.value", "a.x"), ("a.y", "b.x"), ("b.y", "c.x"), ("c.y", "out.value")])
    result = scheduler.run(load(doc, registry)).raise_for_status()
    assert sinks(result) == {"out": "out=7.0"} and sorted(result.executed) == ["c/add", "c/scale", "n", "out"]


def test_a_bypassed_instance_that_cannot_pass_anything_on_says_why(registry):
    # pick: an output fed from inside (a number), no input to pass on in its place.
    pick = {"nodes": [{"id": "num", "type": "test.number", "params": {"value": 5.0}}], "links": [],
            "outputs": [{"name": "v", "from": "num.value"}]}
    doc = doc_with({"triple": TRIPLE, "pick": pick},
                   [{"id": "p", "type": "subgraph:pick", "params": {}, "mode": "bypass"},
                    {"id": "t", "type": "subgraph:triple", "params": {}, "mode": "bypass"},
                    {"id": "out", "type": "test.sink", "params": {}},
                    {"id": "out2", "type": "test.sink", "params": {}}],
                   [("p.v", "out.value"), ("t.y", "out2.value")])
    texts = [str(issue) for issue in find_issues(load(doc, registry), registry)]
    assert "p.mode: cannot bypass: no input of type FLOAT to pass through to output 'v'; mute the subgraph " \
           "instead" in texts
    assert "t.x: bypassed, so output 'y' passes on input 'x', which nothing feeds; connect it, or stop bypassing " \
           "the subgraph" in texts
