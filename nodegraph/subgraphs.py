"""Subgraph definitions in workflow files: named graphs with input/output ports and promoted params.

A workflow's `"subgraphs"` object maps a name to a definition (inline, or `{"path": "x.kgsub.json"}`); a node
of type `"subgraph:<name>"` instances it. Definitions nest. `flatten.py` turns instances into plain nodes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .confine import is_inside
from .errors import Issue
from .graph import NODE_ID, Graph

if TYPE_CHECKING:
    from .registry import NodeRegistry

PREFIX = "subgraph:"
FILE_FORMAT = "kinograph.subgraph"
FILE_SUFFIX = ".kgsub.json"
MAX_FILE_BYTES = 16 * 1024 * 1024
_DEF_KEYS = {"title", "description", "nodes", "links", "inputs", "outputs", "params", "subgraphs", "ui"}
_FILE_KEYS = _DEF_KEYS | {"format", "version", "name", "meta", "groups", "notes"}


@dataclass
class PortSpec:
    """An input (feeding `refs`, inner "node.port"s) or output (fed from `refs[0]`) of a subgraph."""

    name: str
    refs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PromotedParam:
    """An inner param shown on the instance: its name there, display title, default, and the inner params it sets."""

    name: str
    refs: list[tuple[str, str]] = field(default_factory=list)
    title: str = ""
    default: Any = None  # None: the first inner param's value in the definition


@dataclass
class SubgraphDef:
    """A named graph that nodes of type `subgraph:<name>` instance. `graph.subgraphs` holds nested definitions."""

    name: str
    graph: Graph
    inputs: list[PortSpec] = field(default_factory=list)
    outputs: list[PortSpec] = field(default_factory=list)
    params: list[PromotedParam] = field(default_factory=list)
    title: str = ""
    description: str = ""
    ui: dict[str, Any] = field(default_factory=dict)
    path: str | None = None  # the file it was read from, as the workflow names it (saved as a reference)
    file: Path | None = None  # that file, absolute

    def port(self, kind: str, name: str) -> PortSpec | None:
        return next((p for p in (self.inputs if kind == "in" else self.outputs) if p.name == name), None)

    def param(self, name: str) -> PromotedParam | None:
        return next((p for p in self.params if p.name == name), None)

    def display_name(self) -> str:
        return self.title or self.name


def is_instance(type_id: str) -> bool:
    return type_id.startswith(PREFIX)


def definition_name(type_id: str) -> str:
    return type_id[len(PREFIX):]


def has_instances(graph: Graph) -> bool:
    return any(node.type.startswith(PREFIX) for node in graph.nodes.values())


def lookup(name: str, scopes: tuple[dict[str, SubgraphDef], ...]) -> SubgraphDef | None:
    """The definition `name` as seen from the innermost scope outwards."""
    for scope in reversed(scopes):
        if name in scope:
            return scope[name]
    return None


# -- reading -----------------------------------------------------------------------------


def parse_definitions(data: Any, registry: NodeRegistry, base_dir: Path | None, issues: list[Issue], *,
                      where: str = "subgraphs", read_dirs: list[Path] | None = None,
                      reading: tuple[str, ...] = ()) -> dict[str, SubgraphDef]:
    """The `"subgraphs"` object of a workflow or definition; problems go to `issues`, named by path."""
    out: dict[str, SubgraphDef] = {}
    if not isinstance(data, dict):
        issues.append(Issue("must be an object mapping names to subgraph definitions", field=where))
        return out
    for name, entry in data.items():
        here = f"{where}.{name}"
        if not NODE_ID.match(name):
            issues.append(Issue("a subgraph name must start with a letter and hold only letters, digits, '_' or '-'",
                                field=here))
            continue
        if isinstance(entry, dict) and "path" in entry:
            defn = _read_file_definition(name, entry, registry, base_dir, issues, here, read_dirs, reading)
        else:
            defn = parse_definition(name, entry, registry, base_dir, issues, where=here, read_dirs=read_dirs,
                                    reading=reading)
        if defn is not None:
            out[name] = defn
    return out


def parse_definition(name: str, data: Any, registry: NodeRegistry, base_dir: Path | None, issues: list[Issue], *,
                     where: str, allowed: set[str] = _DEF_KEYS, read_dirs: list[Path] | None = None,
                     reading: tuple[str, ...] = ()) -> SubgraphDef | None:
    from .workflow import _json_type, _parse_link, _parse_node

    if not isinstance(data, dict):
        issues.append(Issue(f"must be an object (a subgraph definition), got {_json_type(data)}", field=where))
        return None
    for key in sorted(set(data) - allowed):
        issues.append(Issue(f"unknown key; a subgraph has {', '.join(sorted(_DEF_KEYS))}", field=f"{where}.{key}"))
    local: list[Issue] = []
    graph = Graph(name, base_dir)
    nodes = data.get("nodes", [])
    if not isinstance(nodes, list):
        local.append(Issue(f"must be a JSON array, got {_json_type(nodes)}", field="nodes"))
        nodes = []
    for index, entry in enumerate(nodes):
        node = _parse_node(entry, index, registry, local)
        if node is None:
            continue
        if node.id in graph.nodes:
            local.append(Issue("duplicate node id; give each node its own id", node.id, "id"))
            continue
        graph.nodes[node.id] = node
    links = data.get("links", [])
    if not isinstance(links, list):
        local.append(Issue(f"must be a JSON array, got {_json_type(links)}", field="links"))
        links = []
    fed: set[tuple[str, str]] = set()
    for index, entry in enumerate(links):
        link = _parse_link(entry, index, local)
        if link is None:
            continue
        if (link.dst, link.dst_port) in fed:
            local.append(Issue(f"more than one link into {link.to_ref}; an input takes one link", link.dst,
                               link.dst_port))
            continue
        fed.add((link.dst, link.dst_port))
        graph.links.append(link)
    inputs = _parse_ports(data.get("inputs", []), "inputs", "to", graph, local, many=True)
    outputs = _parse_ports(data.get("outputs", []), "outputs", "from", graph, local, many=False)
    params = _parse_params(data.get("params", []), graph, local)
    graph.subgraphs = parse_definitions(data.get("subgraphs", {}), registry, base_dir, local,
                                        where="subgraphs", read_dirs=read_dirs, reading=reading)
    title = data.get("title", "")
    description = data.get("description", "")
    ui = data.get("ui", {})
    for key, value, kind in (("title", title, str), ("description", description, str), ("ui", ui, dict)):
        if not isinstance(value, kind):
            local.append(Issue(f"must be {'text' if kind is str else 'an object'}, got {_json_type(value)}",
                               field=key))
    issues.extend(_under(name, where, issue) for issue in local)
    if local:
        return None
    return SubgraphDef(name, graph, inputs, outputs, params, title=title, description=description, ui=dict(ui))


def _under(name: str, where: str, issue: Issue) -> Issue:
    """An issue found inside definition `name`, named by path: `name/node.field`, or `where.field`."""
    if issue.node_id:
        return Issue(issue.message, f"{name}/{issue.node_id}", issue.field)
    return Issue(issue.message, field=f"{where}.{issue.field}" if issue.field else where)


def _split(ref: Any) -> tuple[str, str] | None:
    if not isinstance(ref, str) or "." not in ref:
        return None
    node, _, port = ref.partition(".")
    return (node, port) if node and port else None


def _parse_refs(value: Any, many: bool, graph: Graph, field_name: str, issues: list[Issue]) -> list[tuple[str, str]]:
    items = value if many and isinstance(value, list) else [value]
    refs = []
    for item in items:
        ref = _split(item)
        if ref is None:
            issues.append(Issue(f"must be {'a list of ' if many else ''}'node_id.port', got {item!r}",
                                field=field_name))
        elif ref[0] not in graph.nodes:
            issues.append(Issue(f"{item!r} names no node of this subgraph", field=field_name))
        else:
            refs.append(ref)
    return refs


def _parse_ports(data: Any, key: str, ref_key: str, graph: Graph, issues: list[Issue], many: bool) -> list[PortSpec]:
    out: list[PortSpec] = []
    if not isinstance(data, list):
        issues.append(Issue("must be a JSON array of ports", field=key))
        return out
    for index, entry in enumerate(data):
        here = f"{key}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or set(entry) - {"name", ref_key}:
            example = '["node.port"]' if many else '"node.port"'
            issues.append(Issue(f'must be an object like {{"name": "video", "{ref_key}": {example}}}', field=here))
            continue
        name = entry["name"]
        if not NODE_ID.match(name) or any(p.name == name for p in out):
            issues.append(Issue(f"port name {name!r} must be unique and start with a letter", field=here))
            continue
        refs = _parse_refs(entry.get(ref_key, [] if many else None), many, graph, f"{here}.{ref_key}", issues)
        out.append(PortSpec(name, refs))
    return out


def _parse_params(data: Any, graph: Graph, issues: list[Issue]) -> list[PromotedParam]:
    out: list[PromotedParam] = []
    if not isinstance(data, list):
        issues.append(Issue("must be a JSON array of promoted params", field="params"))
        return out
    for index, entry in enumerate(data):
        here = f"params[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or set(entry) - {"name", "to", "title", "default"} or not isinstance(entry.get("title", ""), str):
            issues.append(Issue("must be an object like {\"name\": \"scale\", \"title\": \"Scale\", \"default\": 2, "
                                "\"to\": [\"resize.scale\"]}", field=here))
            continue
        name = entry["name"]
        if not NODE_ID.match(name) or any(p.name == name for p in out):
            issues.append(Issue(f"param name {name!r} must be unique and start with a letter", field=here))
            continue
        refs = _parse_refs(entry.get("to", []), True, graph, f"{here}.to", issues)
        if not refs and isinstance(entry.get("to"), list) and not entry["to"]:
            issues.append(Issue("'to' must name at least one inner param", field=f"{here}.to"))
        out.append(PromotedParam(name, refs, entry.get("title", ""), entry.get("default")))
    return out


def _read_file_definition(name: str, entry: dict, registry: NodeRegistry, base_dir: Path | None,
                          issues: list[Issue], where: str, read_dirs: list[Path] | None,
                          reading: tuple[str, ...]) -> SubgraphDef | None:
    """A definition kept in its own file (`.kgsub.json`, or a workflow with a "subgraph" key), read by path."""
    value = entry.get("path")
    if set(entry) != {"path"} or not isinstance(value, str) or not value or "\x00" in value:
        issues.append(Issue("a subgraph kept in a file is {\"path\": \"name.kgsub.json\"} and nothing else",
                            field=where))
        return None
    from .node import resolve_against

    full = Path(resolve_against(value, base_dir))
    shown = f"{where}.path"
    if read_dirs is not None and not any(is_inside(full, d) for d in read_dirs):
        allowed = ", ".join(str(d) for d in read_dirs) or "none configured"
        issues.append(Issue(f"{value!r} is outside the folders this may read ({allowed}); put the file in one of "
                            "them", field=shown))
        return None
    key = os.path.realpath(full)
    if key in reading:
        issues.append(Issue(f"{value!r} includes itself (through {' -> '.join(reading)}); remove the loop",
                            field=shown))
        return None
    try:
        size = full.stat().st_size
        if size > MAX_FILE_BYTES:
            issues.append(Issue(f"{value!r} is {size} bytes, above the {MAX_FILE_BYTES} a subgraph file may hold",
                                field=shown))
            return None
        data = json.loads(full.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        issues.append(Issue(f"{value!r} not found (looked in {full.parent}); check the path", field=shown))
        return None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        issues.append(Issue(f"{value!r} cannot be read as JSON: {exc}", field=shown))
        return None
    data = _definition_in_file(data, value, issues, shown)
    if data is None:
        return None
    defn = parse_definition(name, data, registry, full.parent, issues, where=where, allowed=_FILE_KEYS,
                            read_dirs=read_dirs, reading=reading + (key,))
    if defn is not None:
        defn.path, defn.file = value, full
    return defn


def _definition_in_file(data: Any, value: str, issues: list[Issue], shown: str) -> dict | None:
    from .workflow import FORMAT

    if isinstance(data, dict) and data.get("format") == FILE_FORMAT and data.get("version") == 1:
        return data
    if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("subgraph"), dict):
        ports = data["subgraph"]
        rest = {k: v for k, v in data.items() if k not in ("subgraph", "format", "version", "name", "meta",
                                                           "groups", "notes")}
        return {**rest, **ports}
    issues.append(Issue(f"{value!r} is not a subgraph: a subgraph file has \"format\": {FILE_FORMAT!r} and "
                        "\"version\": 1, or is a workflow with a \"subgraph\" key naming its ports", field=shown))
    return None


# -- writing -----------------------------------------------------------------------------


def definitions_to_dict(defs: dict[str, SubgraphDef], nodes_to_list, base_dir: Path | None,
                        absolute_paths: bool) -> dict[str, Any]:
    """The `"subgraphs"` object. A definition read from a file stays a reference, unless paths go absolute
    (a run's record, a job sent to a server): then its content is written in, as it was read."""
    out: dict[str, Any] = {}
    for name, defn in defs.items():
        if defn.path is not None and not absolute_paths:
            out[name] = {"path": _rebased_reference(defn, base_dir)}
            continue
        out[name] = definition_to_dict(defn, nodes_to_list, base_dir, absolute_paths)
    return out


def definition_to_dict(defn: SubgraphDef, nodes_to_list, base_dir: Path | None, absolute_paths: bool) -> dict:
    graph = defn.graph
    entry: dict[str, Any] = {}
    if defn.title:
        entry["title"] = defn.title
    if defn.description:
        entry["description"] = defn.description
    entry["nodes"] = nodes_to_list(graph, base_dir, absolute_paths)
    entry["links"] = [{"from": lk.from_ref, "to": lk.to_ref} for lk in graph.links]
    entry["inputs"] = [{"name": p.name, "to": [f"{n}.{q}" for n, q in p.refs]} for p in defn.inputs]
    entry["outputs"] = [{"name": p.name, "from": f"{p.refs[0][0]}.{p.refs[0][1]}"} for p in defn.outputs if p.refs]
    params = []
    for p in defn.params:
        item: dict[str, Any] = {"name": p.name}
        if p.title:
            item["title"] = p.title
        if p.default is not None:
            item["default"] = p.default
        item["to"] = [f"{n}.{q}" for n, q in p.refs]
        params.append(item)
    entry["params"] = params
    if graph.subgraphs:
        entry["subgraphs"] = definitions_to_dict(graph.subgraphs, nodes_to_list, base_dir, absolute_paths)
    if defn.ui:
        entry["ui"] = dict(defn.ui)
    return entry


def _rebased_reference(defn: SubgraphDef, base_dir: Path | None) -> str:
    """The reference as the workflow names it, made relative to `base_dir` when the workflow moves there."""
    if base_dir is None or defn.file is None or Path(defn.path).expanduser().is_absolute():
        return defn.path
    try:
        return Path(os.path.relpath(defn.file, Path(base_dir).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(defn.file)


def subgraph_file_dict(defn: SubgraphDef, nodes_to_list, base_dir: Path | None) -> dict[str, Any]:
    """The content of a `.kgsub.json` file holding `defn`."""
    return {"format": FILE_FORMAT, "version": 1, "name": defn.name,
            **definition_to_dict(defn, nodes_to_list, base_dir, False)}
