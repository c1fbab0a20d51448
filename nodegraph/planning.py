"""What a run visits: the nodes asked for and their ancestors, in execution order. A function of the graph."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .flatten import flatten, inner_targets
from .graph import Graph
from .registry import NodeRegistry


@dataclass(frozen=True)
class Scope:
    """The nodes of one run of a flat graph: `targets` asked for, everything they `need`, and the `order`."""

    targets: list[str]
    needed: set[str]
    order: list[str]


def scope(graph: Graph, registry: NodeRegistry, targets: Iterable[str] | None = None) -> Scope:
    """The scope of a run of `targets` (default: every output node that is not muted) in a flat graph.

    KeyError for a target that is not in the graph. The order is empty when the nodes hold a cycle (validation
    names it)."""
    if targets is None:
        targets = [n.id for n in graph.nodes.values()
                   if n.mode == "normal" and (cls := registry.get(n.type)) is not None and cls.is_output]
    else:
        targets = list(targets)
        for t in targets:
            if t not in graph.nodes:
                raise KeyError(f"no node {t!r} in the graph")
    # The targets and all their ancestors, in one walk up the links (not one walk per target: on a chain of output
    # nodes that would be quadratic).
    needed: set[str] = set()
    stack = list(targets)
    while stack:
        node_id = stack.pop()
        if node_id not in needed:
            needed.add(node_id)
            stack.extend(link.src for link in graph.links_into(node_id).values())
    return Scope(targets, needed, graph.run_order(needed) or [])


def plan(graph: Graph, registry: NodeRegistry, targets: Iterable[str] | None = None) -> list[str]:
    """Node ids a run of `targets` would visit, in execution order (inner nodes of subgraphs by path; an instance's
    id stands for every node inside it). ValidationError when the subgraphs cannot be flattened."""
    flat = flatten(graph, registry)
    return scope(flat, registry, inner_targets(flat, targets)).order
