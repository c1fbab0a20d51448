"""The server and `kinograph run` prepare a job one way: the same workflow is refused with the same message."""

from __future__ import annotations

import json

import pytest

from nodegraph import cli
from nodegraph.errors import ValidationError
from server.prepare import prepare_job
from server.schemas import JobRequest
from tests.server.testnodes import make_registry

DOC = {"format": "kinograph.workflow", "version": 1, "name": "t",
       "nodes": [{"id": "wait", "type": "test.wait", "params": {"steps": 0}},
                 {"id": "write", "type": "test.write", "params": {"filename": "../out.txt"}}],
       "links": [{"from": "wait.value", "to": "write.value"}]}


@pytest.mark.parametrize("targets", [[], ["write"]])
def test_the_server_and_the_command_line_refuse_a_workflow_alike(tmp_path, monkeypatch, capsys, targets):
    registry = make_registry()
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(DOC))
    only = [arg for node_id in targets for arg in ("--only", node_id)]
    assert cli.main(["run", str(path), "--output-dir", str(tmp_path / "out"), *only]) == 2
    said = capsys.readouterr().err.strip()
    with pytest.raises(ValidationError) as refused:
        prepare_job(JobRequest(workflow=DOC, targets=targets), registry, [tmp_path], tmp_path / "out")
    assert said == f"error: {refused.value}"
    assert "wait.steps: 0 is below the minimum 1" in said and "'../out.txt' climbs out of the output folder" in said
