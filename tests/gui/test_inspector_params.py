"""The inspector shows what the workflow states and, for a file param, the file the run reads: the same value the
scheduler gives the node."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from nodegraph import Node, Param, Port, Scheduler, models_dir
from nodegraph.edits import SetParam
from nodegraph.types import STRING


class LoadLora(Node):
    """Names a LoRA file."""

    type_id = "test.read_lora_name"
    category = "Conditioning"
    is_output = True
    outputs = (Port("name", STRING),)
    params = (Param("source", str, default="", kind="path", models=("loras",)),)

    def run(self, ctx, *, source):
        return {"name": source}


def test_the_inspector_names_the_file_the_run_reads(window, registry, tmp_path, monkeypatch):
    monkeypatch.delenv(models_dir.ENV, raising=False)
    registry.register(LoadLora)
    folder = tmp_path / "models"
    (folder / "loras" / "wan").mkdir(parents=True)
    (folder / "loras" / "wan" / "fast.safetensors").write_bytes(b"0")
    models_dir.set_models_dirs([folder])
    try:
        node = window.add_node("test.read_lora_name", QPointF(0, 0))
        window.stack.push(SetParam(node, "source", "wan/fast.safetensors"))
        window.select_nodes([node])
        editor = window.inspector.editors["source"]
        assert editor.lineEdit().text() == "wan/fast.safetensors"  # what the file holds, as typed
        result = Scheduler(registry, output_dir=tmp_path / "out").run(window.graph, [node])
        read = result.outputs[node]["name"]
        assert read == str(folder / "loras" / "wan" / "fast.safetensors")
        assert editor.toolTip().endswith(f"Reads {read}")
    finally:
        models_dir.set_models_dirs([])
