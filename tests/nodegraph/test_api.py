"""nodegraph.api, the engine's public surface for node packs: what it offers, and that the packs keep to it."""

from __future__ import annotations

import ast
from pathlib import Path

import nodegraph.api as api

NODES = Path(__file__).resolve().parents[2] / "nodes"


def _names_packs_import() -> dict[str, list[str]]:
    """Every name a built-in pack imports from nodegraph.api, with the files that import it."""
    names: dict[str, list[str]] = {}
    for path in sorted(NODES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "nodegraph.api":
                for alias in node.names:
                    names.setdefault(alias.name, []).append(str(path.relative_to(NODES)))
    return names


def test_every_public_name_is_there_once():
    assert len(api.__all__) == len(set(api.__all__))
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert missing == []


def test_the_built_in_packs_import_only_public_names():
    used = _names_packs_import()
    assert used, "the packs import nothing from nodegraph.api: the scan is broken"
    private = {name: files for name, files in used.items() if name not in api.__all__}
    assert private == {}


def test_the_node_api_a_pack_builds_on_is_public():
    for name in ("Node", "NodeContext", "Param", "Port", "Video", "Image", "Audio", "Mask", "UsageError",
                 "KinographError", "VIDEO", "IMAGE", "file_fingerprint", "atomic_write_text"):
        assert name in api.__all__, name
    # the engine's internals stay out of it
    for name in ("Scheduler", "Graph", "load_workflow", "OutputCache", "default_registry"):
        assert name not in api.__all__, name
