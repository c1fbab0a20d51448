"""The node catalogue as plain data: `kinograph nodes --json` and the server's /v1/nodes."""

from __future__ import annotations

from typing import Any

from .registry import NodeRegistry


def node_catalogue(registry: NodeRegistry, extra: list[tuple[str, list]] = ()) -> list[dict[str, Any]]:
    """Every node type as plain data (for `kinograph nodes --json` and servers); `extra`: more (category,
    classes), e.g. a workflow's subgraphs."""
    out = []
    for category, classes in [*registry.by_category(), *extra]:
        for cls in classes:
            out.append({
                "type": cls.type_id,
                "version": cls.version,
                "title": cls.display_name(),
                "category": category,
                "description": cls.description(),
                "output_node": cls.is_output,
                "inputs": [{"name": p.name, "type": p.type, "optional": p.optional} for p in cls.inputs],
                "outputs": [{"name": p.name, "type": p.type} for p in cls.outputs],
                "params": [{
                    "name": p.name, "type": p.type.__name__, "default": p.default, "min": p.min, "max": p.max,
                    "choices": list(p.choices) if p.choices else None, "kind": p.kind, "tooltip": p.tooltip,
                    "models": list(p.models),  # the models-folder kinds it takes names from
                } for p in cls.params],
            })
    return out
