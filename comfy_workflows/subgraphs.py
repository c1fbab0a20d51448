"""ComfyUI subgraphs as Kinograph subgraphs: the Kinograph nodes a ComfyUI subgraph instance's nodes became are
made into a subgraph of their own (innermost first), wires that cross it becoming its ports and the instance's
promoted widgets its promoted params."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nodegraph.registry import NodeRegistry
from nodegraph.subgraph_edits import MakeSubgraph
from nodegraph.workflow import parse_workflow, workflow_to_dict


@dataclass
class Region:
    """One ComfyUI subgraph instance: its path ("90", "90:10"), subgraph name and title."""

    path: str
    name: str
    title: str
    promoted: list[tuple[str, str]] = field(default_factory=list)  # (inner ComfyUI node id, widget)
    mode: str = "normal"  # the instance's own: "bypass" bypasses the Kinograph instance it becomes

    @property
    def depth(self) -> int:
        return self.path.count(":")

    def parent(self) -> str:
        return self.path.rsplit(":", 1)[0] if ":" in self.path else ""


def region_of(comfy_id: str, paths: set[str]) -> str:
    """The innermost instance path holding a ComfyUI node id ("" for the top level)."""
    parts = comfy_id.split(":")[:-1]
    while parts:
        if ":".join(parts) in paths:
            return ":".join(parts)
        parts.pop()
    return ""


def make_subgraphs(workflow: dict, regions: list[Region], main: dict[str, str],
                   params: dict[tuple[str, str], tuple[str, str]], registry: NodeRegistry,
                   modes: dict[str, tuple[str, list[str]]] | None = None,
                   ) -> tuple[dict, list[tuple[str, str]], list[tuple[str, str]]]:
    """The workflow with each region made a subgraph; `main` maps a Kinograph node to the ComfyUI node it stands
    for, `params` a ComfyUI widget to the Kinograph param it set, `modes` a Kinograph node that took the bypass of
    the instances it is in to its own mode and those instances. A bypassed region made a subgraph is a bypassed
    instance, as ComfyUI bypasses a subgraph node as a whole, and its nodes get their own modes back. Also returns
    (instance, subgraph made) and (instance, why it was inlined) for the report."""
    graph = parse_workflow(workflow, registry)
    paths = {r.path for r in regions}
    home = {kid: region_of(comfy, paths) for kid, comfy in main.items() if kid in graph.nodes}
    made, inlined = [], []
    taken: set[str] = set()
    whole: set[str] = set()  # bypassed regions made bypassed instances
    for region in sorted(regions, key=lambda r: -r.depth):
        members = [kid for kid, where in home.items() if where == region.path and kid in graph.nodes]
        label = f"{region.path} subgraph {region.name!r}"
        if not members:
            inlined.append((label, "its nodes became parts of nodes outside it, so it is inlined"))
            continue
        name = _free(re.sub(r"[^A-Za-z0-9_-]", "_", region.name).lstrip("_0123456789-") or "subgraph", taken,
                     graph.subgraphs)
        promote = [params[p] for p in region.promoted if p in params and params[p][0] in members]
        edit = MakeSubgraph(members, name, promote=list(dict.fromkeys(promote)),
                            instance_id=f"{name}_{region.path.replace(':', '_')}", title=region.title or region.name)
        edit.apply(graph)
        home[edit.instance_id] = region.parent()
        if region.title and region.title != region.name:
            graph.nodes[edit.instance_id].title = region.title
        bypassed = region.mode == "bypass"
        if bypassed:
            graph.nodes[edit.instance_id].mode = "bypass"
            whole.add(region.path)
        made.append((label, f"subgraph {name} (instance {edit.instance_id}"
                            f"{', bypassed as a whole' if bypassed else ''})"))
    for level in [graph, *(defn.graph for defn in graph.subgraphs.values())]:
        for kid, node in level.nodes.items():
            own, by = (modes or {}).get(kid, (None, ()))
            if own is not None and all(path in whole for path in by):
                node.mode = own  # each instance that bypassed it is bypassed itself now
    return workflow_to_dict(graph, registry), made, inlined


def _free(base: str, taken: set[str], existing: dict) -> str:
    name, n = base, 2
    while name in taken or name in existing:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name
