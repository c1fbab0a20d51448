"""Run one node class directly, as the scheduler would: defaults for absent params, None for absent inputs."""

from __future__ import annotations

from nodegraph.node import NodeContext


def run_node(cls, **kwargs) -> dict:
    """`cls().run(...)` with `kwargs` split into params and inputs; the context runs on the CPU."""
    params = cls.defaults()
    params.update({k: v for k, v in kwargs.items() if k in params})
    inputs = {p.name: None for p in cls.inputs}
    inputs.update({k: v for k, v in kwargs.items() if k not in params})
    return cls().run(NodeContext("n", cls.type_id, device="cpu"), **inputs, **params)
