"""ComfyUI's node definitions as Kinograph keeps them (data/comfyui_nodes.json): widget names in the order of a UI
workflow's widgets_values, linkable inputs and outputs."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

TABLE_PATH = Path(__file__).parent / "data" / "comfyui_nodes.json"
CONTROL_VALUES = ("fixed", "increment", "decrement", "randomize")  # a seed's "control after generate"


@dataclass(frozen=True)
class NodeDef:
    type: str
    widgets: tuple[tuple[str, str], ...]  # (name, kind): kind "" plain, "seed" (a control value follows), "upload"
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def widget_names(self) -> tuple[str, ...]:
        return tuple(name for name, kind in self.widgets if kind != "upload")


@functools.cache
def _table() -> dict:
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


def source_version() -> dict:
    return dict(_table()["source"])


@functools.cache
def definition(node_type: str) -> NodeDef | None:
    entry = _table()["nodes"].get(node_type)
    if entry is None:
        return None
    widgets = tuple((w[0], w[1] if len(w) > 1 else "") for w in entry["widgets"])
    return NodeDef(node_type, widgets, tuple(entry["inputs"]), tuple(entry["outputs"]))


def known_types() -> list[str]:
    return sorted(_table()["nodes"])


def name_widgets(values: list, widgets: tuple[tuple[str, str], ...]) -> tuple[dict, dict]:
    """Positional widgets_values -> ({name: value}, {name: control after generate}). A seed widget's control value
    and an upload button's value are consumed when present, so values saved without them still line up."""
    named: dict = {}
    controls: dict = {}
    index = 0
    for name, kind in widgets:
        if index >= len(values):
            break
        if kind == "upload":
            if isinstance(values[index], str) and values[index] in ("image", "video", "audio", "upload"):
                index += 1
            continue
        named[name] = values[index]
        index += 1
        if kind == "seed" and index < len(values) and values[index] in CONTROL_VALUES:
            controls[name] = values[index]
            index += 1
    return named, controls
