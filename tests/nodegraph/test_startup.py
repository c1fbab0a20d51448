"""Start-up stays lean: planning and validating the default workflow import no library it does not use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKFLOW = Path(__file__).resolve().parents[2] / "resources" / "workflows" / "animate_image.json"


def test_loading_the_nodes_and_validating_a_workflow_imports_no_heavy_library():
    code = ("import sys\n"
            "from nodegraph import default_registry, load_workflow, validate\n"
            "registry = default_registry()\n"
            f"validate(load_workflow({str(WORKFLOW)!r}, registry), registry)\n"
            "print(sorted(m for m in ('networkx', 'torch', 'cv2', 'av', 'PySide6', 'diffusers', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_cycle_is_still_named_with_networkx_loaded_on_demand():
    from nodegraph import Graph, Link, NodeInstance, NodeRegistry, find_issues

    from .fakes import TEST_NODES

    registry = NodeRegistry()
    registry.register_all(TEST_NODES)
    graph = Graph()
    for node_id in ("a", "b"):
        graph.add_node(NodeInstance(node_id, "test.add"))
    graph.connect(Link("a", "value", "b", "a"))
    graph.connect(Link("b", "value", "a", "a"))
    issues = find_issues(graph, registry)
    assert any("a cycle" in str(issue) and set(issue.through) == {"a", "b"} for issue in issues)
