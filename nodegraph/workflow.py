"""Workflow files, format version 1: load (never executing code), save (atomically)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import Issue, WorkflowError
from .graph import Graph, Group, Link, NodeInstance, Note
from .registry import NodeRegistry

FORMAT = "kinograph.workflow"
FORMAT_VERSION = 1
_TOP_KEYS = {"format", "version", "name", "nodes", "links", "groups", "notes", "meta", "subgraphs", "subgraph"}
_NODE_KEYS = {"id", "type", "params", "mode", "ui", "title", "type_version"}


# -- loading -----------------------------------------------------------------------------


def load_workflow(path: str | os.PathLike, registry: NodeRegistry) -> Graph:
    """Read a workflow file, or the workflow embedded in a video Kinograph saved."""
    path = Path(path)
    shown = str(path)
    if not path.exists():
        raise WorkflowError("file not found; check the path", source=shown)
    if path.is_dir():
        raise WorkflowError("is a folder, not a workflow file", source=shown)
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            # Only text-looking files are read whole; a video goes to the embedded-workflow readers.
            looks_like_text = _decode_json_text(head, partial=True) is not None
            raw = head + fh.read() if looks_like_text else head
    except OSError as exc:
        raise WorkflowError(f"cannot read the file: {exc.strerror or exc}", source=shown) from None
    if not raw.strip():
        raise WorkflowError("the file is empty; it should hold a Kinograph workflow (JSON)", source=shown)
    text = _decode_json_text(raw) if looks_like_text else None
    if text is None:
        embedded = registry.read_embedded_workflow(path)
        if embedded is None:
            raise WorkflowError(
                "not a workflow: neither JSON text nor a video, sound file or PNG with a Kinograph workflow in "
                "its metadata",
                source=shown)
        text = embedded
    return loads_workflow(text, registry, base_dir=path.resolve().parent, source=shown)


_SNIFF_BYTES = 64 * 1024


def is_workflow_text(path: str | os.PathLike) -> bool:
    """True when `path` holds workflow text (JSON), False when it is something else (a video, say)."""
    try:
        with open(path, "rb") as fh:
            return _decode_json_text(fh.read(_SNIFF_BYTES), partial=True) is not None
    except OSError:
        return True


def _decode_json_text(raw: bytes, partial: bool = False) -> str | None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not (partial and exc.start >= len(raw) - 4):  # a sniffed head may end inside a character
            return None
        text = raw[:exc.start].decode("utf-8-sig", errors="strict")
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        # Not JSON-looking; still JSON if it parses (e.g. a bare number), so let parsing decide.
        if "\x00" in text[:4096]:
            return None
    return text


def loads_workflow(text: str, registry: NodeRegistry, base_dir: Path | None = None,
                   source: str | None = None, read_dirs: list[Path] | None = None) -> Graph:
    """Parse workflow JSON text into a Graph (WorkflowError listing every problem)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                            source=source) from None
    except RecursionError:
        raise WorkflowError("not valid JSON: nested too deeply", source=source) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise WorkflowError(f"not a usable workflow: {exc}", source=source) from None
    return parse_workflow(data, registry, base_dir=base_dir, source=source, read_dirs=read_dirs)


def parse_workflow(data: Any, registry: NodeRegistry, base_dir: Path | None = None,
                   source: str | None = None, read_dirs: list[Path] | None = None) -> Graph:
    """A Graph from parsed JSON. With `read_dirs` (a server), subgraph files are read only from those folders."""
    issues: list[Issue] = []
    if not isinstance(data, dict):
        raise WorkflowError(f"the top level must be a JSON object, got {_json_type(data)}", source=source)
    if data.get("format") != FORMAT:
        raise WorkflowError(f"'format' must be {FORMAT!r}, got {data.get('format')!r}; "
                            "this is not a Kinograph workflow", source=source)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        issues.append(Issue(f"must be a whole number, got {version!r}", field="version"))
    elif version > FORMAT_VERSION:
        raise WorkflowError(f"format version {version} is newer than this Kinograph reads ({FORMAT_VERSION}); "
                            "upgrade Kinograph", source=source)
    elif version < 1:
        issues.append(Issue(f"must be 1 or more, got {version}", field="version"))
    for key in sorted(set(data) - _TOP_KEYS):
        issues.append(Issue(f"unknown top-level key; expected only {', '.join(sorted(_TOP_KEYS))}", field=key))

    name = data.get("name", "Untitled")
    if not isinstance(name, str):
        issues.append(Issue(f"must be text, got {_json_type(name)}", field="name"))
        name = "Untitled"
    graph = Graph(name, base_dir)
    load_issues: list[Issue] = []

    nodes = _expect(data, "nodes", list, [], issues)
    for index, entry in enumerate(nodes):
        node = _parse_node(entry, index, registry, issues)
        if node is None:
            continue
        if node.id in graph.nodes:
            load_issues.append(Issue(f"duplicate node id (node #{index + 1}); only the first node with this id "
                                     "was kept: give each node its own id",
                                     node.id, "id"))
            continue
        graph.nodes[node.id] = node

    fed: set[tuple[str, str]] = set()
    for index, entry in enumerate(_expect(data, "links", list, [], issues)):
        link = _parse_link(entry, index, issues)
        if link is not None:
            if (link.dst, link.dst_port) in fed:
                load_issues.append(Issue(f"more than one link into {link.to_ref}; an input takes one link, only the "
                                         "first was kept: remove the others",
                                         link.dst, link.dst_port))
                continue
            fed.add((link.dst, link.dst_port))
            graph.links.append(link)

    for index, entry in enumerate(_expect(data, "groups", list, [], issues)):
        group = _parse_group(entry, index, issues)
        if group is not None:
            graph.groups.append(group)

    for index, entry in enumerate(_expect(data, "notes", list, [], issues)):
        note = _parse_note(entry, index, issues)
        if note is not None:
            graph.notes.append(note)

    meta = _expect(data, "meta", dict, {}, issues)
    graph.meta = meta
    if "subgraphs" in data:
        from .subgraphs import parse_definitions

        graph.subgraphs = parse_definitions(data["subgraphs"], registry, base_dir, issues, read_dirs=read_dirs)
    if "subgraph" in data:  # a workflow that is also a subgraph: its ports, checked as a definition's
        from .subgraphs import parse_definition

        ports = data["subgraph"] if isinstance(data["subgraph"], dict) else None
        if ports is None or set(ports) - {"inputs", "outputs", "params", "title", "description"}:
            issues.append(Issue("must be an object with 'inputs', 'outputs' and 'params'", field="subgraph"))
        else:
            shape = {"nodes": data.get("nodes", []), "links": data.get("links", []), **ports}
            parse_definition(name, shape, registry, base_dir, issues, where="subgraph", read_dirs=read_dirs)
            graph.interface = dict(ports)
    if issues:
        raise WorkflowError(issues, source=source)
    graph.load_issues = load_issues
    graph.touch()
    return graph


def _expect(data: dict, key: str, kind: type, default: Any, issues: list[Issue]) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind):
        issues.append(Issue(f"must be a JSON {'array' if kind is list else 'object'}, got {_json_type(value)}",
                            field=key))
        return default
    return value


def _parse_node(entry: Any, index: int, registry: NodeRegistry, issues: list[Issue]) -> NodeInstance | None:
    where = f"nodes[{index}]"
    if not isinstance(entry, dict):
        issues.append(Issue(f"must be an object, got {_json_type(entry)}", field=where))
        return None
    node_id, type_id = entry.get("id"), entry.get("type")
    ok = True
    if not isinstance(node_id, str) or not node_id:
        issues.append(Issue(f"'id' must be non-empty text, got {node_id!r}", field=where))
        ok = False
    if not isinstance(type_id, str) or not type_id:
        issues.append(Issue(f"'type' must be a node type id such as 'video.save', got {type_id!r}",
                            node_id if isinstance(node_id, str) else None, "type" if ok else where))
        ok = False
    if not ok:
        return None
    for key in sorted(set(entry) - _NODE_KEYS):
        issues.append(Issue(f"unknown key; a node has {', '.join(sorted(_NODE_KEYS))}", node_id, key))
    params = entry.get("params", {})
    if not isinstance(params, dict):
        issues.append(Issue(f"must be an object of named params, got {_json_type(params)}", node_id, "params"))
        params = {}
    mode = entry.get("mode", "normal")
    if not isinstance(mode, str):
        issues.append(Issue(f"must be 'normal', 'mute' or 'bypass', got {mode!r}", node_id, "mode"))
        mode = "normal"
    ui = entry.get("ui", {})
    if not isinstance(ui, dict):
        issues.append(Issue(f"must be an object, got {_json_type(ui)}", node_id, "ui"))
        ui = {}
    title = entry.get("title", "")
    if not isinstance(title, str):
        issues.append(Issue(f"must be text, got {_json_type(title)}", node_id, "title"))
        title = ""
    type_version = entry.get("type_version", 1)
    if not isinstance(type_version, int) or isinstance(type_version, bool) or type_version < 1:
        issues.append(Issue(f"must be a whole number of 1 or more, got {type_version!r}", node_id, "type_version"))
        type_version = 1

    cls = registry.get(type_id)
    if cls is not None:
        type_id = cls.type_id
        if type_version > cls.version:
            issues.append(Issue(
                f"saved by version {type_version} of {type_id}, but this install has version {cls.version}; "
                "upgrade Kinograph or the node pack that provides it", node_id, "type_version"))
        elif type_version < cls.version:
            try:
                params = cls.migrate(dict(params), type_version)
            except Exception as exc:
                issues.append(Issue(f"cannot migrate params from version {type_version}: {exc}", node_id, "params"))
            type_version = cls.version
    return NodeInstance(id=node_id, type=type_id, params=dict(params), mode=mode, ui=dict(ui), title=title,
                        type_version=type_version)


def _split_ref(ref: Any) -> tuple[str, str] | None:
    if not isinstance(ref, str) or "." not in ref:
        return None
    node_id, port = ref.split(".", 1)
    if not node_id or not port:
        return None
    return node_id, port


def _parse_link(entry: Any, index: int, issues: list[Issue]) -> Link | None:
    where = f"links[{index}]"
    if not isinstance(entry, dict):
        issues.append(Issue(f"must be an object like {{\"from\": \"a.out\", \"to\": \"b.in\"}}, "
                            f"got {_json_type(entry)}", field=where))
        return None
    src, dst = _split_ref(entry.get("from")), _split_ref(entry.get("to"))
    if src is None:
        issues.append(Issue(f"'from' must be 'node_id.port', got {entry.get('from')!r}", field=where))
    if dst is None:
        issues.append(Issue(f"'to' must be 'node_id.port', got {entry.get('to')!r}", field=where))
    extra = set(entry) - {"from", "to"}
    if extra:
        issues.append(Issue(f"unknown keys {', '.join(sorted(map(str, extra)))}; a link has 'from' and 'to'",
                            field=where))
    if src is None or dst is None:
        return None
    return Link(src[0], src[1], dst[0], dst[1])


def _parse_group(entry: Any, index: int, issues: list[Issue]) -> Group | None:
    where = f"groups[{index}]"
    if not isinstance(entry, dict):
        issues.append(Issue(f"must be an object, got {_json_type(entry)}", field=where))
        return None
    title = entry.get("title", "Group")
    nodes = entry.get("nodes", [])
    ui = entry.get("ui", {})
    if not isinstance(title, str):
        issues.append(Issue("'title' must be text", field=where))
        return None
    if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
        issues.append(Issue("'nodes' must be a list of node ids", field=where))
        return None
    if not isinstance(ui, dict):
        issues.append(Issue("'ui' must be an object", field=where))
        return None
    return Group(title, list(nodes), dict(ui))


def _parse_note(entry: Any, index: int, issues: list[Issue]) -> Note | None:
    where = f"notes[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("text", ""), str) \
            or not isinstance(entry.get("ui", {}), dict) or set(entry) - {"text", "ui"}:
        issues.append(Issue("must be an object like {\"text\": \"Markdown\", \"ui\": {\"x\": 0, \"y\": 0}}",
                            field=where))
        return None
    return Note(entry.get("text", ""), dict(entry.get("ui", {})))


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


# -- saving ------------------------------------------------------------------------------


def workflow_to_dict(graph: Graph, registry: NodeRegistry | None = None, *, base_dir: Path | None = None,
                     absolute_paths: bool = False) -> dict[str, Any]:
    """The file form of a graph. Relative path params are rebased onto `base_dir` when it moves."""
    def nodes_to_list(part: Graph, to_base: Path | None, absolute: bool) -> list[dict[str, Any]]:
        return _nodes_to_list(part, registry, to_base, absolute)

    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": graph.name,
        "nodes": nodes_to_list(graph, base_dir, absolute_paths),
        "links": [{"from": lk.from_ref, "to": lk.to_ref} for lk in graph.links],
        "groups": [{"title": g.title, "nodes": list(g.nodes), "ui": dict(g.ui)} for g in graph.groups],
        "meta": graph.meta,
    }
    if graph.notes:  # a workflow without notes is written exactly as before notes existed
        data["notes"] = [{"text": n.text, "ui": dict(n.ui)} for n in graph.notes]
    if graph.subgraphs:  # likewise a workflow without subgraphs
        from .subgraphs import definitions_to_dict

        data["subgraphs"] = definitions_to_dict(graph.subgraphs, nodes_to_list, base_dir, absolute_paths)
    if graph.interface is not None:
        data["subgraph"] = graph.interface
    return data


def _nodes_to_list(graph: Graph, registry: NodeRegistry | None, base_dir: Path | None,
                   absolute_paths: bool) -> list[dict[str, Any]]:
    nodes = []
    for node in graph.nodes.values():
        cls = registry.get(node.type) if registry else None
        params = dict(node.params)
        if cls is not None:
            for param in cls.params:
                value = params.get(param.name)
                if not param.is_path or not isinstance(value, str) or not value \
                        or param.names_model_id(value, graph.base_dir):
                    continue
                if param.names_models_file(value, graph.base_dir):  # a models-folder name goes where it is
                    if absolute_paths:
                        params[param.name] = param.resolve(value, graph.base_dir)
                    continue
                params[param.name] = _rebase(value, graph.base_dir, base_dir, absolute_paths)
        entry: dict[str, Any] = {"id": node.id, "type": node.type, "params": params}
        version = cls.version if cls is not None else node.type_version
        if version > 1:
            entry["type_version"] = version
        if node.mode != "normal":
            entry["mode"] = node.mode
        if node.title:
            entry["title"] = node.title
        if node.ui:
            entry["ui"] = node.ui
        nodes.append(entry)
    return nodes


def _rebase(value: str, old_base: Path | None, new_base: Path | None, absolute: bool) -> str:
    path = Path(value).expanduser()
    if path.is_absolute():
        return value
    if old_base is None:
        return value
    full = (old_base / path).resolve()
    if absolute:
        return str(full)
    if new_base is None or Path(new_base).resolve() == Path(old_base).resolve():
        return value
    try:
        return Path(os.path.relpath(full, Path(new_base).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(full)


def save_subgraph_file(defn, path: str | os.PathLike, registry: NodeRegistry | None = None) -> Path:
    """Write a subgraph definition as a `.kgsub.json` file (atomically; relative paths rebased onto its folder)."""
    from .subgraphs import subgraph_file_dict

    path = Path(path)
    data = subgraph_file_dict(defn, lambda part, to_base, absolute: _nodes_to_list(part, registry, to_base, absolute),
                              path.resolve().parent)
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def dumps_workflow(graph: Graph, registry: NodeRegistry | None = None, *, absolute_paths: bool = False) -> str:
    return json.dumps(workflow_to_dict(graph, registry, absolute_paths=absolute_paths), indent=2,
                      ensure_ascii=False) + "\n"


def save_workflow(graph: Graph, path: str | os.PathLike, registry: NodeRegistry | None = None) -> Path:
    """Write atomically: a temporary file beside the target, then a rename."""
    path = Path(path)
    folder = path.resolve().parent
    data = workflow_to_dict(graph, registry, base_dir=folder)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)
    _take_saved_params(graph, data["nodes"], data.get("subgraphs", {}), folder)
    return path


def _take_saved_params(graph: Graph, nodes: list[dict], defs: dict, folder: Path) -> None:
    """Keep in-memory paths in step with the file's folder (inline subgraphs' nodes too)."""
    graph.base_dir = folder
    saved = {entry["id"]: entry["params"] for entry in nodes}
    for node in graph.nodes.values():
        node.params = dict(saved[node.id])
    for name, defn in graph.subgraphs.items():
        entry = defs.get(name, {})
        if defn.path is None and "nodes" in entry:
            _take_saved_params(defn.graph, entry["nodes"], entry.get("subgraphs", {}), folder)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash leaves either the old or the new file, never half."""
    folder = path.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            try:
                os.chmod(tmp, path.stat().st_mode & 0o777)
            except OSError:
                pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
