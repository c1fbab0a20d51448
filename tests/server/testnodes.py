"""Cheap nodes for server tests: waits with progress and previews, file writers, a model-like resource."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from nodegraph.node import Node, Param, Port
from nodegraph.registry import NodeRegistry
from nodegraph.types import FLOAT, STRING

LOADS = {"count": 0}


class Wait(Node):
    """Waits `ms` milliseconds in steps (and until the `gate` file exists), with progress and previews."""

    type_id = "test.wait"
    deterministic = False
    outputs = (Port("value", FLOAT),)
    params = (Param("ms", int, default=0, min=0, max=60000), Param("steps", int, default=4, min=1, max=1000),
              Param("value", float, default=1.0), Param("gate", str, default=""))

    def run(self, ctx, *, ms, steps, value, gate):
        deadline = time.monotonic() + 60
        while gate and not Path(gate).exists() and time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(0.01)
        for i in range(steps):
            ctx.check_cancelled()
            time.sleep(ms / 1000 / steps)
            ctx.progress(i + 1, steps)
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[:, : (i + 1) * 64 // steps] = (255, 0, 0)
            ctx.preview(frame)
        return {"value": value}


class Model(Node):
    """Loads a fake model once per server (through the resource cache) and outputs how many loads happened."""

    type_id = "test.model"
    deterministic = False
    outputs = (Port("value", FLOAT),)
    params = (Param("name", str, default="tiny"),)

    def run(self, ctx, *, name):
        def load():
            LOADS["count"] += 1
            return object()

        ctx.resources.get_or_load(f"test-model:{name}", load)
        return {"value": float(LOADS["count"])}


class Write(Node):
    """Writes its input value (or its text) to a file in the output folder."""

    type_id = "test.write"
    is_output = True
    inputs = (Port("value", FLOAT, optional=True),)
    outputs = (Port("path", STRING),)
    params = (Param("filename", str, default="value.txt", kind="save_path"), Param("text", str, default=""))

    def run(self, ctx, *, value, filename, text):
        path = ctx.output_path(filename)
        path.write_text(text or repr(value), encoding="utf-8")
        ctx.record_output(path)
        return {"path": str(path)}


class Read(Node):
    """Reads a text file and outputs its length."""

    type_id = "test.read"
    outputs = (Port("value", FLOAT),)
    params = (Param("path", str, default="", kind="path"),)

    def run(self, ctx, *, path):
        return {"value": float(len(Path(path).read_text(encoding="utf-8")))}


class Boom(Node):
    """Always fails."""

    type_id = "test.boom"
    inputs = (Port("value", FLOAT, optional=True),)
    outputs = (Port("value", FLOAT),)

    def run(self, ctx, *, value):
        raise RuntimeError("the widget exploded")


def make_registry() -> NodeRegistry:
    from nodes import values

    registry = NodeRegistry()
    values.register(registry)
    registry.register_all((Wait, Model, Write, Read, Boom))
    return registry


def workflow(*nodes: dict, links: tuple = (), name: str = "test") -> dict:
    return {"format": "kinograph.workflow", "version": 1, "name": name, "nodes": list(nodes),
            "links": [{"from": a, "to": b} for a, b in links]}


def wait_write(ms: int = 0, steps: int = 2, value: float = 1.0, filename: str = "value.txt", gate: str = "") -> dict:
    """wait → write: a cheap job that writes one file (after the `gate` file appears, when one is named)."""
    params = {"ms": ms, "steps": steps, "value": value, "gate": gate}
    return workflow({"id": "wait", "type": "test.wait", "params": params},
                    {"id": "write", "type": "test.write", "params": {"filename": filename}},
                    links=(("wait.value", "write.value"),))
