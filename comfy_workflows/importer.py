"""ComfyUI workflow -> Kinograph workflow, with the report of what was mapped, approximated and dropped."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodegraph.registry import NodeRegistry

from .comfy_graph import REROUTE, ComfyGraph, parse
from .constants import FOLDABLE
from .errors import ComfyImportError, UnmappedNodesError
from .mapper import Mapper, Refused, Report
from .reading import read_file
from .table import definition, source_version
from .video_rules import OUTPUTS, save


@dataclass
class ImportResult:
    workflow: dict[str, Any]  # a Kinograph workflow (file form)
    report: Report
    kind: str  # where the workflow came from: json, png, webp, video
    format: str  # ComfyUI's ui or api format


def import_file(path: str | os.PathLike) -> ImportResult:
    """Read and map a ComfyUI workflow file (or image or video carrying one)."""
    data, kind = read_file(path)
    result = import_data(data, name=Path(path).name.split(".")[0] or "Imported", source=str(path))
    result.kind = kind
    return result


def import_data(data: Any, name: str = "Imported", source: str | None = None,
                registry: NodeRegistry | None = None) -> ImportResult:
    """Map ComfyUI workflow data (UI or API format); UnmappedNodesError lists every node the outputs need that
    has no Kinograph counterpart. ComfyUI subgraphs become Kinograph subgraphs."""
    graph = parse(data, source)
    mapper = Mapper(graph)
    outputs = [n for n in graph.nodes.values() if n.type in OUTPUTS]
    consumed = {src for n in graph.nodes.values() for src, _ in n.inputs.values()}
    for node in graph.nodes.values():
        if node.id in consumed or node.type in OUTPUTS or node.type in FOLDABLE or node.mode == "mute":
            continue
        if definition(node.type) is None:  # an output of a node pack Kinograph does not know
            mapper.refuse(node, "no Kinograph counterpart (an output of the workflow)")
    if not outputs and not mapper.refused:
        raise ComfyImportError("the workflow has no output (Save Video, Save WEBM, Video Combine, Save Image, "
                               "Preview Image): there is nothing Kinograph would run", source=source)
    for node in outputs:
        try:
            save(mapper, node)
        except Refused:
            continue
    _refuse_upstream(mapper, graph)
    if mapper.report.refused:
        raise UnmappedNodesError(mapper.report.refused, source=source)
    from nodegraph.registry import default_registry
    from nodegraph.workflow import parse_workflow, workflow_to_dict

    registry = registry or default_registry()
    workflow = _workflow(mapper, graph, name)
    _account(mapper, graph)
    if graph.instances:
        workflow = _subgraphs(mapper, graph, workflow, registry)
    else:  # written as Kinograph writes it (node type versions included)
        workflow = workflow_to_dict(parse_workflow(workflow, registry), registry)
    return ImportResult(workflow, mapper.report, "json", graph.format)


def _subgraphs(m: Mapper, graph: ComfyGraph, workflow: dict, registry: NodeRegistry) -> dict:
    from .subgraphs import Region, make_subgraphs

    regions = [Region(path, name, title, graph.promoted.get(path, []), mode)
               for path, name, title, mode in graph.instances]
    modes = {kid: (node.own_mode, node.bypassed_by) for kid, comfy in m.main.items()
             if (node := graph.nodes.get(comfy)) is not None and node.bypassed_by}
    workflow, made, inlined = make_subgraphs(workflow, regions, m.main, m.param_of, registry, modes)
    m.report.mapped += made
    m.report.approximated += inlined
    return workflow


def _refuse_upstream(m: Mapper, graph: ComfyGraph) -> None:
    """Mapping stops at a node it cannot map; the nodes feeding it are looked at too, so that every node without
    a counterpart is listed at once."""
    todo = list(m.refused)
    seen = set(todo)
    while todo:
        node = graph.nodes.get(todo.pop())
        for src, _ in (node.inputs.values() if node else ()):
            upstream = graph.nodes.get(src)
            if upstream is None or src in seen:
                continue
            seen.add(src)
            if definition(upstream.type) is None and upstream.type not in FOLDABLE:
                m.refuse(upstream, "no Kinograph counterpart")
            todo.append(src)


def _workflow(m: Mapper, graph: ComfyGraph, name: str) -> dict[str, Any]:
    nodes = list(m.nodes.values())
    groups = []
    for group in graph.groups:
        x, y, w, h = group.box
        inside = [n["id"] for n in nodes if "ui" in n and x <= n["ui"]["x"] <= x + w and y <= n["ui"]["y"] <= y + h]
        groups.append({"title": group.title, "nodes": inside, "ui": {"x": x, "y": y, "w": w, "h": h}})
    workflow: dict[str, Any] = {
        "format": "kinograph.workflow", "version": 1, "name": name, "nodes": nodes,
        "links": [{"from": src, "to": dst} for src, dst in m.links],
        "groups": groups,
        "meta": {"imported_from": {"program": "ComfyUI", "format": graph.format,
                                   "node_definitions": source_version()["commit"]}},
    }
    releases = m.memo.get("releases")
    if releases:
        workflow["meta"]["model_releases"] = dict(releases)
    if graph.notes:
        workflow["notes"] = [{"text": note.text, "ui": {"x": note.box[0], "y": note.box[1], "w": note.box[2],
                                                         "h": note.box[3]}} for note in graph.notes]
    return workflow


def _account(m: Mapper, graph: ComfyGraph) -> None:
    """Every ComfyUI node the mapping did not place gets a line: folded, spliced, a note, or not needed."""
    report = m.report
    for node_id, what in m.folded.items():
        if node_id not in m.where:
            report.mapped.append((graph.nodes[node_id].label(), f"folded: {what}"))
            m.where[node_id] = "(folded)"
    for node in graph.spliced:
        report.dropped.append((node.label(), "reroute spliced out"))
    for note in graph.notes:
        report.mapped.append((f"{note.id} Note", "kept as a note"))
    for node in graph.nodes.values():
        if node.id in m.where or node.type == REROUTE:
            continue
        why = "muted and not needed by any output" if node.mode == "mute" else "not needed by any output"
        report.dropped.append((node.label(), why))
    for repo_file, repo in sorted((m.memo.get("releases") or {}).items()):
        report.mapped.append((f"model file {repo_file}", f"a release of {repo} (Hugging Face)"))
