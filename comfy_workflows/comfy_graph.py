"""A ComfyUI workflow as one flat graph: the UI format (nodes and links arrays, positional widgets_values, groups,
notes, modes, subgraph definitions inlined with their inner nodes named by path, e.g. "12:5") or the API format
({id: {class_type, inputs}}). Reroutes are spliced out; PrimitiveNodes stay, as value sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ComfyImportError
from .table import CONTROL_VALUES, definition, name_widgets

MODES = {0: "normal", 1: "normal", 2: "mute", 4: "bypass"}  # 1 is "on event", which runs like always
SUBGRAPH_INPUT, SUBGRAPH_OUTPUT = -10, -20
MAX_DEPTH = 16
NOTE_TYPES = ("Note", "MarkdownNote")
REROUTE = "Reroute"


@dataclass
class CNode:
    """One ComfyUI node. inputs: linked input name -> (source node id, output slot)."""

    id: str
    type: str
    title: str = ""
    mode: str = "normal"
    pos: tuple[float, float] | None = None
    widgets: dict[str, Any] = field(default_factory=dict)
    controls: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, tuple[str, int]] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    subgraph: str = ""  # the subgraph it was inlined from, by name
    # Subgraph instances (paths) whose bypass it takes while mapping, so that folding rules see it bypassed; those
    # made Kinograph subgraphs are bypassed as a whole instead, and the node gets back `own_mode`.
    bypassed_by: list[str] = field(default_factory=list)
    own_mode: str = "normal"

    def label(self) -> str:
        return f"{self.id} {self.type}" + (f" \"{self.title}\"" if self.title and self.title != self.type else "")


@dataclass
class CGroup:
    title: str
    box: tuple[float, float, float, float]


@dataclass
class CNote:
    id: str
    text: str
    box: tuple[float, float, float, float]


@dataclass
class ComfyGraph:
    format: str  # "ui" or "api"
    nodes: dict[str, CNode] = field(default_factory=dict)
    groups: list[CGroup] = field(default_factory=list)
    notes: list[CNote] = field(default_factory=list)
    spliced: list[CNode] = field(default_factory=list)  # reroutes taken out
    subgraphs: list[str] = field(default_factory=list)  # names of the subgraphs inlined
    instances: list[tuple[str, str, str, str]] = field(default_factory=list)  # (path, subgraph name, title, mode)
    promoted: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # path -> (inner node, widget)

    def consumers(self, node_id: str) -> list[tuple[CNode, str]]:
        return [(n, name) for n in self.nodes.values() for name, (src, _) in n.inputs.items() if src == node_id]


def parse(data: Any, source: str | None = None) -> ComfyGraph:
    """A ComfyUI workflow (UI or API format, or either wrapped in {"workflow": ...} / {"prompt": ...})."""
    if isinstance(data, dict) and data.get("format") == "kinograph.workflow":
        raise ComfyImportError("this is a Kinograph workflow already; open or run it as it is", source=source)
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        return _parse_ui(data, source)
    if isinstance(data, dict):
        for key in ("workflow", "prompt", "output"):
            if isinstance(data.get(key), dict):
                return parse(data[key], source)
        if data and all(isinstance(v, dict) and "class_type" in v for v in data.values()):
            return _parse_api(data, source)
    raise ComfyImportError("not a ComfyUI workflow: expected the UI format (an object with 'nodes' and 'links') or "
                           "the API format ({\"id\": {\"class_type\": ..., \"inputs\": {...}}})", source=source)


# -- API format ---------------------------------------------------------------------------------------------------


def _parse_api(data: dict, source: str | None) -> ComfyGraph:
    graph = ComfyGraph("api")
    for raw_id, entry in data.items():
        node_id = str(raw_id)
        node_type = entry.get("class_type")
        inputs = entry.get("inputs", {})
        if not isinstance(node_type, str) or not node_type or not isinstance(inputs, dict):
            raise ComfyImportError(f"node {node_id}: needs 'class_type' (text) and 'inputs' (an object)",
                                   source=source)
        meta = entry.get("_meta")
        title = meta.get("title", "") if isinstance(meta, dict) else ""
        node = CNode(node_id, node_type, title if isinstance(title, str) else "")
        known = definition(node_type)
        node.outputs = list(known.outputs) if known else []
        for name, value in inputs.items():
            if _is_api_link(value):
                node.inputs[str(name)] = (str(value[0]), int(value[1]))
            else:
                node.widgets[str(name)] = value
        graph.nodes[node_id] = node
    for node in graph.nodes.values():
        for name, (src, _) in node.inputs.items():
            if src not in graph.nodes:
                raise ComfyImportError(f"node {node.id} input {name!r} is linked from node {src}, which is not in the "
                                       "prompt", source=source)
    return graph


def _is_api_link(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))
            and not isinstance(value[0], bool) and isinstance(value[1], int) and not isinstance(value[1], bool)
            and 0 <= value[1] < 1024)


# -- UI format ----------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) < 1e12:
        return float(value)
    return None


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict):
        value = [value.get("0"), value.get("1")]
    if isinstance(value, (list, tuple)) and len(value) >= 2:
        x, y = _number(value[0]), _number(value[1])
        if x is not None and y is not None:
            return x, y
    return None


def _links(raw: Any, source: str | None, where: str) -> dict[int, tuple[int, int, int, int]]:
    """link id -> (origin id, origin slot, target id, target slot), from arrays or objects."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ComfyImportError(f"{where}'links' must be an array", source=source)
    out = {}
    for entry in raw:
        if isinstance(entry, list) and len(entry) >= 5:
            parts = entry[:5]
        elif isinstance(entry, dict):
            parts = [entry.get(k) for k in ("id", "origin_id", "origin_slot", "target_id", "target_slot")]
        else:
            raise ComfyImportError(f"{where}a link must be [id, origin, slot, target, slot, type] or an object",
                                   source=source)
        if not all(isinstance(p, (int, str)) and not isinstance(p, bool) for p in parts):
            raise ComfyImportError(f"{where}link {parts[0]!r} has a missing or malformed end", source=source)
        try:
            link_id, origin, oslot, target, tslot = (int(p) for p in parts)
        except ValueError:
            raise ComfyImportError(f"{where}link {parts[0]!r} names its ends by non-numbers", source=source) from None
        out[link_id] = (origin, oslot, target, tslot)
    return out


class _UIReader:
    def __init__(self, data: dict, source: str | None):
        self.source = source
        self.graph = ComfyGraph("ui")
        definitions = data.get("definitions")
        subgraphs = definitions.get("subgraphs", []) if isinstance(definitions, dict) else []
        if not isinstance(subgraphs, list):
            subgraphs = []
        self.subgraphs = {sg["id"]: sg for sg in subgraphs if isinstance(sg, dict) and isinstance(sg.get("id"), str)}

    def fail(self, message: str):
        raise ComfyImportError(message, source=self.source)

    def read_level(self, nodes: Any, links: Any, prefix: str, boundary: list, stack: tuple[str, ...],
                   offset: tuple[float, float]) -> list:
        """Add one level's nodes (the top, or a subgraph's inside); returns the sources of its outputs."""
        where = f"subgraph {stack[-1]}: " if stack else ""
        if not isinstance(nodes, list):
            self.fail(f"{where}'nodes' must be an array")
        link_map = _links(links, self.source, where)
        raw_nodes: dict[int, dict] = {}
        for entry in nodes:
            if not isinstance(entry, dict) or isinstance(entry.get("id"), bool) or \
                    not isinstance(entry.get("id"), (int, str)) or not isinstance(entry.get("type"), str):
                self.fail(f"{where}every node needs an 'id' and a 'type'")
            try:
                raw_nodes[int(entry["id"])] = entry
            except ValueError:
                self.fail(f"{where}node id {entry['id']!r} is not a number")
        instances: dict[int, list] = {}  # instance id -> its output sources, once expanded

        def source_of(origin: int, slot: int):
            if origin == SUBGRAPH_INPUT:
                return boundary[slot] if 0 <= slot < len(boundary) else None
            raw = raw_nodes.get(origin)
            if raw is None:
                return None
            if raw["type"] in self.subgraphs:
                outs = expand(origin)
                return outs[slot] if 0 <= slot < len(outs) else None
            return ("link", f"{prefix}{origin}", slot)

        def linked(raw: dict) -> list[tuple[int, str, Any, dict]]:
            """(slot, input name, source, input entry) of a raw node's inputs."""
            out = []
            inputs = raw.get("inputs") or []
            if not isinstance(inputs, list):
                self.fail(f"{where}node {raw['id']}: 'inputs' must be an array")
            for slot, item in enumerate(inputs):
                if not isinstance(item, dict):
                    continue
                name = item.get("name") if isinstance(item.get("name"), str) else str(slot)
                link = item.get("link")
                src = None
                if isinstance(link, int) and not isinstance(link, bool) and link in link_map:
                    origin, oslot, _, _ = link_map[link]
                    src = source_of(origin, oslot)
                out.append((slot, name, src, item))
            return out

        def expand(instance_id: int) -> list:
            if instance_id in instances:
                return instances[instance_id]
            raw = raw_nodes[instance_id]
            definition_ = self.subgraphs[raw["type"]]
            name = definition_.get("name") if isinstance(definition_.get("name"), str) else raw["type"]
            if raw["type"] in stack or len(stack) >= MAX_DEPTH:
                self.fail(f"subgraph {name!r} contains itself (or nests deeper than {MAX_DEPTH} levels)")
            instances[instance_id] = []  # a link cycle through the instance resolves to nothing
            values = raw.get("widgets_values") if isinstance(raw.get("widgets_values"), list) else []
            inner_boundary = []
            widget_index = 0
            for _slot, _name, src, item in linked(raw):
                if src is None and isinstance(item.get("widget"), dict):  # a promoted widget: its value, if saved
                    src = ("value", values[widget_index]) if widget_index < len(values) else ("widget", None)
                if isinstance(item.get("widget"), dict):
                    widget_index += 1
                inner_boundary.append(src)
            pos = _pair(raw.get("pos")) or (0.0, 0.0)
            inner_prefix = f"{prefix}{instance_id}:"
            mode = MODES.get(raw.get("mode", 0), "normal")
            first = len(self.graph.nodes)
            outs = self.read_level(definition_.get("nodes", []), definition_.get("links", []), inner_prefix,
                                   inner_boundary, stack + (raw["type"],), (offset[0] + pos[0], offset[1] + pos[1]))
            inner = list(self.graph.nodes.values())[first:]
            for node in inner:
                node.subgraph = node.subgraph or name
                if mode == "bypass":
                    node.bypassed_by.append(f"{prefix}{instance_id}")
                if mode != "normal":
                    node.mode = mode
            proxies = (raw.get("properties") or {}).get("proxyWidgets") if isinstance(raw.get("properties"),
                                                                                       dict) else None
            if isinstance(proxies, list):
                for index, proxy in enumerate(proxies):
                    if isinstance(proxy, list) and len(proxy) == 2 and index < len(values):
                        target = self.graph.nodes.get(f"{inner_prefix}{proxy[0]}")
                        if target is not None and isinstance(proxy[1], str):
                            target.widgets[proxy[1]] = values[index]
                    if isinstance(proxy, list) and len(proxy) == 2 and isinstance(proxy[1], str):
                        self.graph.promoted.setdefault(f"{prefix}{instance_id}", []).append(
                            (f"{inner_prefix}{proxy[0]}", proxy[1]))
            self.graph.subgraphs.append(name)
            title = raw.get("title") if isinstance(raw.get("title"), str) else ""
            self.graph.instances.append((f"{prefix}{instance_id}", name, title, mode))
            instances[instance_id] = outs
            return outs

        for raw_id, raw in raw_nodes.items():
            if raw["type"] in self.subgraphs:
                expand(raw_id)
                continue
            node = self.node(raw, f"{prefix}{raw_id}", offset)
            if node is None:
                continue
            for _slot, name, src, _item in linked(raw):
                if src is None:
                    continue
                if src[0] in ("value", "widget"):  # a promoted widget (its value, when the instance saved one)
                    if src[0] == "value":
                        node.widgets[name] = src[1]
                    self.graph.promoted.setdefault(prefix.rstrip(":"), []).append((node.id, name))
                else:
                    node.inputs[name] = (src[1], src[2])
            self.graph.nodes[node.id] = node
        outputs = []
        for _link_id, (origin, oslot, target, tslot) in sorted(link_map.items()):
            if target == SUBGRAPH_OUTPUT and 0 <= tslot < 256:
                while len(outputs) <= tslot:
                    outputs.append(None)
                outputs[tslot] = source_of(origin, oslot)
        return outputs

    def node(self, raw: dict, node_id: str, offset: tuple[float, float]) -> CNode | None:
        node_type = raw["type"]
        title = raw.get("title") if isinstance(raw.get("title"), str) else ""
        pos = _pair(raw.get("pos"))
        if pos is not None:
            pos = (pos[0] + offset[0], pos[1] + offset[1])
        values = raw.get("widgets_values")
        if node_type in NOTE_TYPES:
            text = values[0] if isinstance(values, list) and values and isinstance(values[0], str) else ""
            size = _pair(raw.get("size")) or (300.0, 120.0)
            x, y = pos or (0.0, 0.0)
            self.graph.notes.append(CNote(node_id, text, (x, y, size[0], size[1])))
            return None
        mode = raw.get("mode", 0)
        node = CNode(node_id, node_type, title, MODES.get(mode, "normal") if isinstance(mode, int) else "normal", pos)
        node.own_mode = node.mode
        outputs = raw.get("outputs") if isinstance(raw.get("outputs"), list) else []
        node.outputs = [str(o.get("type", "")) if isinstance(o, dict) else "" for o in outputs]
        known = definition(node_type)
        if isinstance(values, dict):  # some node packs save their widgets by name
            node.widgets = {str(k): v for k, v in values.items()}
        elif isinstance(values, list):
            if node_type == "PrimitiveNode":
                node.widgets = {"value": values[0]} if values else {}
                if len(values) > 1 and values[1] in CONTROL_VALUES:
                    node.controls["value"] = values[1]
            elif known is not None:
                node.widgets, node.controls = name_widgets(values, known.widgets)
            else:
                node.widgets, node.controls = name_widgets(values, _widgets_from_inputs(raw))
        if known is not None and not node.outputs:
            node.outputs = list(known.outputs)
        return node


def _widgets_from_inputs(raw: dict) -> tuple[tuple[str, str], ...]:
    """A node type missing from the table: its widget names as the newer UI lists them among its inputs."""
    names = []
    for item in raw.get("inputs") or []:
        if isinstance(item, dict) and isinstance(item.get("widget"), dict) and isinstance(item["widget"].get("name"),
                                                                                            str):
            name = item["widget"]["name"]
            names.append((name, "seed" if "seed" in name else ""))
    return tuple(names)


def _parse_ui(data: dict, source: str | None) -> ComfyGraph:
    reader = _UIReader(data, source)
    reader.read_level(data["nodes"], data.get("links", []), "", [], (), (0.0, 0.0))
    graph = reader.graph
    groups = data.get("groups")
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, dict) and isinstance(group.get("bounding"), list) and len(group["bounding"]) == 4:
            box = [_number(v) for v in group["bounding"]]
            if all(v is not None for v in box):
                title = group.get("title") if isinstance(group.get("title"), str) else "Group"
                graph.groups.append(CGroup(title, tuple(box)))
    _splice_reroutes(graph)
    return graph


def _splice_reroutes(graph: ComfyGraph) -> None:
    """A Reroute passes its one input on: every consumer is linked to what feeds it."""
    reroutes = {nid: n for nid, n in graph.nodes.items() if n.type == REROUTE}
    for node in graph.nodes.values():
        for name, (src, slot) in list(node.inputs.items()):
            seen = set()
            while src in reroutes and src not in seen:
                seen.add(src)
                feed = next(iter(reroutes[src].inputs.values()), None)
                if feed is None:
                    break
                src, slot = feed
            if src in reroutes:
                del node.inputs[name]
            else:
                node.inputs[name] = (src, slot)
    for nid in reroutes:
        graph.spliced.append(graph.nodes.pop(nid))
