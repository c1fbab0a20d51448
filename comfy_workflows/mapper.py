"""The bookkeeping of a mapping: Kinograph nodes and links being built, which ComfyUI node went where, values taken
from widgets (and from primitives, folded switches and math), and the report of what was mapped, approximated and
dropped."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .comfy_graph import CNode, ComfyGraph
from .constants import MATH, PRIMITIVES, SWITCHES, NotConstant, evaluate

ID_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MISSING = object()
VALUE_TYPES = {int: "value.int", float: "value.float", str: "value.string", bool: "value.bool"}


class Refused(Exception):
    """A node the outputs need cannot be mapped (recorded; mapping goes on to find the others)."""


@dataclass
class Report:
    mapped: list[tuple[str, str]] = field(default_factory=list)  # (ComfyUI node, Kinograph node)
    approximated: list[tuple[str, str]] = field(default_factory=list)  # (ComfyUI node, what changed)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (ComfyUI node, why)
    refused: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, type, title, why)

    def lines(self) -> list[str]:
        out = [f"mapped {len(self.mapped)}, approximated {len(self.approximated)}, dropped {len(self.dropped)}"]
        out += [f"mapped: {c} -> {k}" for c, k in self.mapped]
        out += [f"approximated: {c}: {what}" for c, what in self.approximated]
        out += [f"dropped: {c}: {why}" for c, why in self.dropped]
        return out


class Mapper:
    def __init__(self, graph: ComfyGraph):
        self.cg = graph
        self.nodes: dict[str, dict] = {}
        self.links: list[tuple[str, str]] = []
        self.where: dict[str, str] = {}  # ComfyUI node id -> the Kinograph node it went into
        self.report = Report()
        self.memo: dict[Any, Any] = {}
        self.value_nodes: dict[str, str] = {}  # ComfyUI primitive id -> value.* node id
        self.refused: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        self.main: dict[str, str] = {}  # Kinograph node -> the ComfyUI node it stands for
        self.param_of: dict[tuple[str, str], tuple[str, str]] = {}  # (ComfyUI node, widget) -> (node, param)

    # -- Kinograph nodes ------------------------------------------------------------------------------------------

    def new_id(self, role: str, node: CNode) -> str:
        flat = node.id.replace(":", "_")
        segments = node.id.split("/")  # a flattened Kinograph subgraph's node, exported: instance/inner
        if all(ID_OK.match(part) for part in segments):
            base = "__".join(segments)
        else:
            base = f"{role}_{flat}"
        base = re.sub(r"[^A-Za-z0-9_-]", "_", base)
        candidate, n = base, 2
        while candidate in self.nodes:
            candidate, n = f"{base}_{n}", n + 1
        return candidate

    def add(self, role: str, type_id: str, main: CNode, params: dict | None = None) -> str:
        kid = self.new_id(role, main)
        entry: dict[str, Any] = {"id": kid, "type": type_id, "params": dict(params or {})}
        if main.mode != "normal":
            entry["mode"] = main.mode
        if main.title and main.title != main.type:
            entry["title"] = main.title
        if main.pos is not None:
            entry["ui"] = {"x": round(main.pos[0], 1), "y": round(main.pos[1], 1)}
        self.nodes[kid] = entry
        self.main[kid] = main.id
        self.mark(main, kid)
        return kid

    def mark(self, node: CNode, kid: str) -> None:
        if node.id not in self.where:
            self.where[node.id] = kid
            self.report.mapped.append((node.label(), kid))

    def approx(self, node: CNode, what: str) -> None:
        entry = (node.label(), what)
        if entry not in self.report.approximated:
            self.report.approximated.append(entry)

    def link(self, src: str, dst: str) -> None:
        if (src, dst) not in self.links and not any(d == dst for _, d in self.links):
            self.links.append((src, dst))

    def refuse(self, node: CNode, why: str) -> Refused:
        if node.id not in self.refused:
            self.refused[node.id] = why
            self.report.refused.append((node.id, node.type, node.title, why))
        return Refused(why)

    # -- ComfyUI inputs and widgets -------------------------------------------------------------------------------

    def source(self, node: CNode, name: str) -> tuple[CNode, int] | None:
        feed = node.inputs.get(name)
        if feed is None or feed[0] not in self.cg.nodes:
            return None
        return self.cg.nodes[feed[0]], feed[1]

    def need(self, node: CNode, name: str) -> tuple[CNode, int]:
        found = self.source(node, name)
        if found is None:
            raise self.refuse(node, f"its input {name!r} is not connected")
        return found

    def value(self, node: CNode, name: str, default: Any = MISSING) -> tuple[Any, CNode | None]:
        """A widget's value, and the primitive it came from (when one feeds it)."""
        found = self.source(node, name)
        if found is not None:
            return self.constant(found[0], node, name)
        if name in node.widgets:
            return node.widgets[name], None
        return default, None

    def constant(self, src: CNode, consumer: CNode, name: str, depth: int = 0) -> tuple[Any, CNode | None]:
        if depth > 32:
            raise self.refuse(consumer, f"{name!r} is fed through a loop of switches or math")
        if src.type in PRIMITIVES:
            if src.mode == "mute":
                raise self.refuse(consumer, f"{name!r} comes from a muted primitive ({src.label()})")
            self.fold(src, f"its value {src.widgets.get('value')!r} goes to {consumer.label()}")
            return src.widgets.get("value"), src
        try:
            if src.type in SWITCHES:
                on, _ = self.value(src, "switch", False)
                chosen = "on_true" if on else "on_false"
                feed = self.source(src, chosen)
                if feed is None:
                    raise NotConstant(f"its {chosen} input is not connected")
                value, _ = self.constant(feed[0], src, chosen, depth + 1)
                self.fold(src, f"switch {'on' if on else 'off'}: passes {chosen}")
                return value, None
            if src.type in MATH:
                widget, names = MATH[src.type]
                values = {}
                for letter in names:
                    if self.source(src, letter) is not None:
                        values[letter], _ = self.constant(self.source(src, letter)[0], src, letter, depth + 1)
                expression = src.widgets.get(widget, "")
                value = evaluate(expression, values)
                self.fold(src, f"{expression!r} folded to {value!r}")
                return value, None
        except NotConstant as exc:
            raise self.refuse(src, f"folds only on constants: {exc}") from None
        raise self.refuse(consumer, f"its {name!r} comes from {src.label()}, which is not a constant Kinograph can "
                                    "fold (a primitive, a switch or math on constants)")

    def fold(self, node: CNode, what: str) -> None:
        self.folded.setdefault(node.id, what)

    def param(self, kid: str, pname: str, node: CNode, wname: str, convert: Callable[[Any], Any] | None = None,
              *, default: Any = MISSING) -> Any:
        """Set Kinograph param `pname` from ComfyUI widget `wname`; a primitive feeding it becomes a value.* node
        linked to the param (when the value passes unchanged)."""
        value, primitive = self.value(node, wname, default)
        if value is MISSING:
            return MISSING
        try:
            converted = convert(value) if convert else value
        except (TypeError, ValueError, OverflowError):
            raise self.refuse(node, f"{wname} {value!r} is not a usable value") from None
        self.nodes[kid]["params"][pname] = converted
        if primitive is None and self.source(node, wname) is None:
            self.param_of.setdefault((node.id, wname), (kid, pname))
        if primitive is not None:
            if converted == value and type(converted) is type(value) and type(converted) in VALUE_TYPES:
                self.link(self.value_node(primitive, converted) + ".value", f"{kid}.{pname}")
            else:
                self.fold(primitive, f"its value {value!r} set on {kid}.{pname}")
        return converted

    def value_node(self, primitive: CNode, value: Any) -> str:
        if primitive.id not in self.value_nodes:
            self.value_nodes[primitive.id] = self.add("value", VALUE_TYPES[type(value)], primitive, {"value": value})
            if primitive.controls.get("value") not in (None, "fixed"):
                self.approx(primitive, f"control after generate {primitive.controls['value']!r} is not kept; the "
                                       f"value stays {value!r}")
        return self.value_nodes[primitive.id]

    def memoized(self, key: Any, make: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(value)
    return int(value)


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(value)
    return float(value)


def as_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value
