"""Constant value nodes: one value that can drive params of several nodes."""

from __future__ import annotations

from nodegraph.api import BOOL, FLOAT, INT, STRING, Node, NodeContext, Param, Port


class IntValue(Node):
    """A whole number, for example one seed that drives several nodes."""

    type_id = "value.int"
    widgets = ("value",)
    category = "Utility"
    title = "Integer"
    outputs = (Port("value", INT),)
    params = (Param("value", int, default=0, tooltip="The number this node outputs."),)

    def run(self, ctx: NodeContext, *, value: int) -> dict:
        return {"value": value}


class FloatValue(Node):
    """A decimal number that can drive float params of other nodes."""

    type_id = "value.float"
    widgets = ("value",)
    category = "Utility"
    title = "Float"
    outputs = (Port("value", FLOAT),)
    params = (Param("value", float, default=0.0, tooltip="The number this node outputs."),)

    def run(self, ctx: NodeContext, *, value: float) -> dict:
        return {"value": value}


class StringValue(Node):
    """A piece of text, such as a prompt shared by several nodes."""

    type_id = "value.string"
    widgets = ("value",)
    category = "Utility"
    title = "Text"
    outputs = (Port("value", STRING),)
    params = (Param("value", str, default="", kind="multiline", tooltip="The text this node outputs."),)

    def run(self, ctx: NodeContext, *, value: str) -> dict:
        return {"value": value}


class BoolValue(Node):
    """A true/false switch that can drive boolean params of other nodes."""

    type_id = "value.bool"
    widgets = ("value",)
    category = "Utility"
    title = "Boolean"
    outputs = (Port("value", BOOL),)
    params = (Param("value", bool, default=False, tooltip="The switch this node outputs."),)

    def run(self, ctx: NodeContext, *, value: bool) -> dict:
        return {"value": value}


NODES = (IntValue, FloatValue, StringValue, BoolValue)


def register(registry) -> None:
    registry.register_all(NODES)
