"""File → Import ComfyUI Workflow, and ComfyUI files dropped on the window: imported as an untitled workflow, with
the import's report in the run log."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from nodegraph.errors import WorkflowError
from nodegraph.workflow import parse_workflow

IMPORT_FILTER = ("ComfyUI workflows (*.json *.png *.webp *.mp4 *.webm *.mov *.mkv);;Workflows (*.json);;"
                 "Images (*.png *.webp);;Videos (*.mp4 *.webm *.mov *.mkv);;All files (*)")


def ask_import_path(window, start: str) -> str:
    path, _ = QFileDialog.getOpenFileName(window, "Import ComfyUI workflow", start, IMPORT_FILTER)
    return path


def import_dialog(window) -> None:
    if not window.maybe_save():
        return
    path = window.ask_import_path(str(window.path.parent if window.path else Path.cwd()))
    if path:
        import_comfyui(window, path, ask=False)


def import_comfyui(window, path, *, ask: bool = True) -> bool:
    """Map the ComfyUI workflow in `path` and show it as an unsaved, untitled graph."""
    from comfy_workflows import import_file

    if ask and not window.maybe_save():
        return False
    path = Path(path).resolve()
    try:
        result = import_file(path)
        graph = parse_workflow(result.workflow, window.registry, base_dir=path.parent, source=str(path))
    except WorkflowError as exc:
        window.show_error("Cannot import", str(exc))
        return False
    window.path, window.opened_from = None, path
    window.set_graph(graph, dirty=True)
    moved = spread_overlaps(window)
    report = result.report
    window.log.add("info", f"Imported the ComfyUI workflow in {path.name}: {report.lines()[0]}")
    for comfy, kid in report.mapped:
        window.log.add("info", f"mapped: {comfy} -> {kid}", kid if kid in graph.nodes else None)
    for comfy, what in report.approximated:
        window.log.add("warning", f"approximated: {comfy}: {what}", window_node(report, comfy, graph))
    for comfy, why in report.dropped:
        window.log.add("info", f"dropped: {comfy}: {why}")
    if moved:
        window.log.add("info", f"moved {moved} node(s) down that would have covered another: Kinograph's nodes "
                       "hold what several ComfyUI nodes held, so some are taller")
    window.statusBar().showMessage(f"Imported {path}", 4000)
    return True


OVERLAP_GAP = 24.0  # what is left between a node moved down and the one it would have covered


def spread_overlaps(window) -> int:
    """Move nodes down, top to bottom, until none covers another (a node that merges several ComfyUI nodes is taller
    than the one whose place it took); the number moved. Their new places are in the graph, as if laid out so."""
    items = sorted(window.scene.node_items.items(), key=lambda pair: (pair[1].y(), pair[1].x()))
    placed, moved = [], 0
    for node_id, item in items:
        rect = item.sceneBoundingRect()
        shifted = False
        while True:
            hit = next((other for other in placed if other.intersects(rect)), None)
            if hit is None:
                break
            rect.moveTop(hit.bottom() + OVERLAP_GAP)
            shifted = True
        if shifted:
            node = window.graph.nodes[node_id]
            node.ui = {**node.ui, "y": node.ui.get("y", 0.0) + rect.top() - item.sceneBoundingRect().top()}
            item.setPos(item.x(), node.ui["y"])
            moved += 1
        placed.append(rect)
    return moved


def window_node(report, comfy: str, graph) -> str | None:
    kid = dict(report.mapped).get(comfy)
    return kid if kid in graph.nodes else None


def is_comfyui_file(path) -> bool:
    from comfy_workflows.reading import is_comfyui_file as check

    return check(path)
