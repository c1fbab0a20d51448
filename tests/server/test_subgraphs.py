"""The server takes workflows with subgraphs unchanged: the same files as the same graph flattened by hand."""

from __future__ import annotations

import json

import pytest

from server.client import ServerError
from tests.server.conftest import wait_for
from tests.server.testnodes import workflow

# read a file's length, add nothing, write it: the writer's name is promoted
READ_WRITE = {
    "nodes": [{"id": "read", "type": "test.read", "params": {"path": "hello.txt"}},
              {"id": "write", "type": "test.write", "params": {}}],
    "links": [{"from": "read.value", "to": "write.value"}],
    "params": [{"name": "filename", "title": "File name", "to": ["write.filename"]}],
}


def _outputs(client, job: dict) -> dict[str, str]:
    done = wait_for(client, job["id"])
    assert done["status"] == "succeeded", done.get("error")
    return {o["path"]: client.http.get(o["url"]).text for o in done["outputs"]}


def test_a_subgraph_job_writes_what_the_graph_flattened_by_hand_writes(client, inputs):
    doc = {**workflow({"id": "a", "type": "subgraph:pair", "params": {"filename": "a.txt"}},
                      {"id": "b", "type": "subgraph:pair", "params": {"filename": "b.txt"}}),
           "subgraphs": {"pair": READ_WRITE}}
    by_hand = workflow({"id": "read", "type": "test.read", "params": {"path": "hello.txt"}},
                       {"id": "wa", "type": "test.write", "params": {"filename": "a.txt"}},
                       {"id": "wb", "type": "test.write", "params": {"filename": "b.txt", "text": "set"}},
                       links=(("read.value", "wa.value"), ("read.value", "wb.value")))
    got = _outputs(client, client.submit(doc, base_dir=str(inputs), overrides=["b/write.text=set"]))
    assert got == _outputs(client, client.submit(by_hand, base_dir=str(inputs))) == {"a.txt": "11.0", "b.txt": "set"}


def test_a_subgraph_file_is_read_only_from_the_input_folders(client, inputs, tmp_path):
    (inputs / "pair.kgsub.json").write_text(json.dumps({"format": "kinograph.subgraph", "version": 1, **READ_WRITE}))
    doc = {**workflow({"id": "a", "type": "subgraph:pair", "params": {"filename": "f.txt"}}),
           "subgraphs": {"pair": {"path": "pair.kgsub.json"}}}
    assert _outputs(client, client.submit(doc, base_dir=str(inputs))) == {"f.txt": "11.0"}
    (tmp_path / "pair.kgsub.json").write_text((inputs / "pair.kgsub.json").read_text())
    doc["subgraphs"]["pair"]["path"] = str(tmp_path / "pair.kgsub.json")
    with pytest.raises(ServerError, match="outside the folders this may read") as info:
        client.submit(doc, base_dir=str(inputs))
    assert info.value.status_code == 422


def test_a_relative_path_set_inside_an_instance_is_the_jobs_not_the_servers_working_folder(client, inputs):
    (inputs / "other.txt").write_text("hello")
    doc = {**workflow({"id": "a", "type": "subgraph:pair", "params": {"filename": "a.txt"}}),
           "subgraphs": {"pair": READ_WRITE}}
    got = _outputs(client, client.submit(doc, base_dir=str(inputs), overrides=["a/read.path=other.txt"]))
    assert got == {"a.txt": "5.0"}  # inputs/other.txt, as a path set on a node outside a subgraph is taken
