"""On the server the models folders are readable like the --input-dir folders, by the one confinement rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodegraph import cli, models_dir
from nodegraph.errors import ValidationError
from nodegraph.node import Node, Param, Port
from nodegraph.types import FLOAT
from server.prepare import prepare_job
from server.schemas import JobRequest
from tests.server.testnodes import make_registry


class ReadLora(Node):
    """Reads a LoRA-like text file and outputs its length."""

    type_id = "test.read_lora"
    outputs = (Port("value", FLOAT),)
    params = (Param("source", str, default="", kind="path_or_id", models=("loras",)),)

    def run(self, ctx, *, source):
        return {"value": float(len(Path(source).read_text()))}


@pytest.fixture
def registry():
    reg = make_registry()
    reg.register(ReadLora)
    return reg


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.delenv(models_dir.ENV, raising=False)
    inputs, models, elsewhere = tmp_path / "inputs", tmp_path / "models", tmp_path / "elsewhere"
    for folder in (inputs, models / "loras", elsewhere):
        folder.mkdir(parents=True)
    (models / "loras" / "fast.safetensors").write_text("lora")
    (elsewhere / "secret.safetensors").write_text("secret")
    (models / "loras" / "link.safetensors").symlink_to(elsewhere / "secret.safetensors")
    models_dir.set_models_dirs([models])
    yield inputs, models, elsewhere
    models_dir.set_models_dirs([])


def job(source: str, overrides=(), base_dir: str | None = None) -> JobRequest:
    return JobRequest(workflow={
        "format": "kinograph.workflow", "version": 1, "name": "t",
        "nodes": [{"id": "read", "type": "test.read_lora", "params": {"source": source}},
                  {"id": "write", "type": "test.write"}],
        "links": [{"from": "read.value", "to": "write.value"}]}, overrides=list(overrides), base_dir=base_dir)


def test_a_models_name_passes_and_the_job_reads_it_from_the_models_folder(registry, folders):
    inputs, models, _ = folders
    for request in (job("fast.safetensors"), job("", ["read.source=fast.safetensors"])):
        _, text = prepare_job(request, registry, [inputs])
        source = json.loads(text)["nodes"][0]["params"]["source"]
        assert source == str(models / "loras" / "fast.safetensors")


def test_the_models_folders_are_the_only_extra_readable_place(registry, folders):
    inputs, models, elsewhere = folders
    for source in (str(elsewhere / "secret.safetensors"), "link.safetensors"):  # a link out is refused too
        with pytest.raises(ValidationError, match="outside the server's input folders") as info:
            prepare_job(job(source), registry, [inputs])
        assert str(models) in str(info.value)
    models_dir.set_models_dirs([])
    with pytest.raises(ValidationError, match="outside the server's input folders"):
        prepare_job(job(str(models / "loras" / "fast.safetensors")), registry, [inputs])
    with pytest.raises(ValidationError, match="neither beside the workflow"):
        prepare_job(job("fast.safetensors"), registry, [inputs])


def test_a_name_beside_a_folder_outside_is_refused_whether_a_file_is_there_or_not(registry, folders):
    inputs, _, elsewhere = folders
    answers = []
    for present in (False, True):  # the models folder holds the name either way: the answer must not tell
        if present:
            (elsewhere / "fast.safetensors").write_text("a file the server may not read")
        with pytest.raises(ValidationError) as info:
            prepare_job(job("fast.safetensors", base_dir=str(elsewhere)), registry, [inputs])
        answers.append(str(info.value))
    assert answers[0] == answers[1] and "outside the server's input folders" in answers[0]


def test_serve_refuses_a_models_dir_that_is_not_a_folder(tmp_path, capsys):
    assert cli.main(["serve", "--models-dir", str(tmp_path / "nope"), "--db", str(tmp_path / "db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--models-dir" in err[0] and "is not a folder" in err[0]
    assert not (tmp_path / "db").exists()
