"""One set of effective params: a node's check() and run() see the same values, and so do confinement and notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodegraph import NodeRegistry, Scheduler
from nodegraph.confine import confinement_issues
from nodegraph.node import Node, Param, Port
from nodegraph.params import resolve_params
from nodegraph.types import FLOAT, STRING
from nodegraph.validate import find_notices, validate

from .fakes import TEST_NODES, make_graph

SEEN: dict[str, dict] = {}


class ReadText(Node):
    """Reads a text file; records the params each of its hooks got."""

    type_id = "test.read_text"
    is_output = True
    inputs = (Port("gain", FLOAT, optional=True),)
    outputs = (Port("text", STRING),)
    params = (Param("source", str, default="", kind="path"), Param("gain", float, default=1.0),
              Param("weight", float, default=0.5))

    @classmethod
    def check(cls, params):
        SEEN["check"] = dict(params)
        return []

    @classmethod
    def notices(cls, params):
        SEEN["notices"] = dict(params)
        return []

    def run(self, ctx, *, source, weight, gain=None):
        SEEN["run"] = {"source": source, "weight": weight}
        return {"text": Path(source).read_text()}


@pytest.fixture
def registry() -> NodeRegistry:
    reg = NodeRegistry()
    reg.register_all((*TEST_NODES, ReadText))
    return reg


@pytest.fixture
def workflow(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "words.txt").write_text("hello")
    graph = make_graph([("gain", "test.number", {"value": 2.0}),
                        ("read", "test.read_text", {"source": "words.txt", "weight": 3})],
                       [("gain.value", "read.gain")])
    graph.base_dir = folder
    return graph


def test_check_and_run_see_the_same_resolved_values(registry, workflow, tmp_path):
    SEEN.clear()
    validate(workflow, registry)
    result = Scheduler(registry, output_dir=tmp_path / "out").run(workflow, validate_first=False)
    assert result.ok, result.error
    beside = str(workflow.base_dir / "words.txt")
    assert SEEN["check"]["source"] == SEEN["run"]["source"] == beside  # not "words.txt" in one and a path in the other
    assert SEEN["check"]["weight"] == SEEN["run"]["weight"] == 3.0 and isinstance(SEEN["check"]["weight"], float)
    assert "gain" not in SEEN["check"]  # fed by a link: its value comes as an input when the node runs
    find_notices(workflow, registry)
    assert SEEN["notices"] == SEEN["check"]


def test_effective_params_hold_what_the_file_states_and_what_the_run_gets(registry, workflow):
    effective = resolve_params(workflow, "read", registry.get("test.read_text"))
    assert effective.stated == {"source": "words.txt", "gain": 1.0, "weight": 3}  # defaults filled, as written
    assert list(effective.linked) == ["gain"] and effective.linked["gain"].from_ref == "gain.value"
    assert effective.values == {"source": str(workflow.base_dir / "words.txt"), "weight": 3.0}
    assert effective.resolved("source") == effective.values["source"]


def test_confinement_judges_the_file_the_run_reads(registry, workflow, tmp_path):
    SEEN.clear()
    inside = confinement_issues(workflow, registry, ["read"], input_dirs=[workflow.base_dir])
    outside = confinement_issues(workflow, registry, ["read"], input_dirs=[tmp_path / "elsewhere"])
    assert inside == []  # "words.txt" is judged where the run reads it: beside the workflow
    assert "outside the server's input folders" in str(next(i for i in outside if i.field == "source"))
    Scheduler(registry).run(workflow, validate_first=False)
    assert Path(SEEN["run"]["source"]).parent == workflow.base_dir
