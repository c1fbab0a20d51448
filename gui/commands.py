"""Editing actions of the main window, all through nodegraph.edits on the window's UndoStack."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, QRectF
from PySide6.QtWidgets import QApplication

from nodegraph.edits import AddGroup, AddNode, Paste, RemoveGroup, RemoveNodes, RemoveNote, SetMode, SetUi
from nodegraph.errors import WorkflowError
from nodegraph.graph import Group, NodeInstance
from nodegraph.workflow import dumps_workflow, loads_workflow

from .canvas.group_item import GroupItem
from .canvas.node_item import NodeItem
from .canvas.note_item import NoteItem

WORKFLOW_MIME = "application/x-kinograph-workflow"


def expose_param(graph, node_id: str, name: str, on: bool) -> SetUi:
    """The edit that shows a param as an input port (so a wire can drive it), or hides it again."""
    current = list(graph.nodes[node_id].ui.get("inputs", ()))
    if on and name not in current:
        current.append(name)
    elif not on and name in current:
        current.remove(name)
    return SetUi([node_id], "inputs", current or None, text=f"{'Expose' if on else 'Hide'} {node_id}.{name} as input")


class EditActions:
    """Mixed into MainWindow: expects self.graph, self.stack, self.scene, self.view, self.registry."""

    def add_node(self, type_id: str, scene_pos: QPointF | None = None, origin=None) -> str | None:
        cls = self.registry.get(type_id)
        if cls is None:
            self.statusBar().showMessage(f"Unknown node type {type_id!r}", 5000)
            return None
        if scene_pos is None:
            scene_pos = self.view.mapToScene(self.view.viewport().rect().center())
        node_id = self.graph.unique_id(type_id)
        node = NodeInstance(node_id, cls.type_id, {}, ui={"x": round(scene_pos.x()), "y": round(scene_pos.y())})
        with self.stack.macro(f"Add {node_id}"):
            self.stack.push(AddNode(node))
            if origin is not None:
                self.scene.connect_new_node(node_id, origin)
        self.select_nodes([node_id])
        return node_id

    def select_nodes(self, node_ids) -> None:
        self.scene.clearSelection()
        for node_id in node_ids:
            item = self.scene.node_items.get(node_id)
            if item is not None:
                item.setSelected(True)

    def delete_selected(self) -> None:
        ids = self.scene.selected_ids()
        groups = sorted((i.index for i in self.scene.selectedItems() if isinstance(i, GroupItem)), reverse=True)
        notes = sorted((i.index for i in self.scene.selectedItems() if isinstance(i, NoteItem)), reverse=True)
        if not ids and not groups and not notes:
            return
        with self.stack.macro("Delete selection"):
            for index in notes:
                self.stack.push(RemoveNote(index))
            for index in groups:
                self.stack.push(RemoveGroup(index))
            if ids:
                self.stack.push(RemoveNodes(ids))

    def copy_selected(self) -> bool:
        ids = self.scene.selected_ids()
        if not ids:
            return False
        part = self.graph.subgraph(ids)
        part.subgraphs = self.definitions_used(part)  # a subgraph node pastes with what it instances
        text = dumps_workflow(part, self.registry, absolute_paths=True)
        mime = QMimeData()
        mime.setText(text)
        mime.setData(WORKFLOW_MIME, text.encode())
        QApplication.clipboard().setMimeData(mime)
        return True

    def cut_selected(self) -> None:
        if self.copy_selected():
            self.delete_selected()

    def paste(self, at: QPointF | None = None) -> list[str]:
        mime = QApplication.clipboard().mimeData()
        if mime is None:
            return []
        text = bytes(mime.data(WORKFLOW_MIME)).decode() if mime.hasFormat(WORKFLOW_MIME) else mime.text()
        try:
            part = loads_workflow(text, self.registry, base_dir=self.graph.base_dir, source="clipboard")
        except WorkflowError as exc:
            self.statusBar().showMessage(f"Nothing to paste: {exc}", 5000)
            return []
        if not part.nodes:
            return []
        if at is None:
            at = self.view.mapToScene(self.view.mapFromGlobal(self.view.cursor().pos()))
            if not self.view.viewport().rect().contains(self.view.mapFromScene(at)):
                at = self.view.mapToScene(self.view.viewport().rect().center())
        left = min(float(n.ui.get("x", 0.0)) for n in part.nodes.values())
        top = min(float(n.ui.get("y", 0.0)) for n in part.nodes.values())
        with self.stack.macro(f"Paste {len(part.nodes)} node(s)"):
            self.bring_definitions(part)
            edit = self.stack.push(Paste(part, at.x() - left, at.y() - top))
        self.select_nodes(edit.mapping.values())
        return list(edit.mapping.values())

    def duplicate_selected(self) -> list[str]:
        ids = self.scene.selected_ids()
        if not ids:
            return []
        edit = self.stack.push(Paste(self.graph.subgraph(ids), 40, 40))
        self.select_nodes(edit.mapping.values())
        return list(edit.mapping.values())

    def group_selected(self, title: str = "Group") -> None:
        ids = self.scene.selected_ids()
        if not ids:
            return
        rect = QRectF()
        for node_id in ids:
            rect = rect.united(self.scene.node_items[node_id].sceneBoundingRect())
        rect = rect.adjusted(-20, -48, 20, 20)
        ui = {"x": round(rect.x()), "y": round(rect.y()), "w": round(rect.width()), "h": round(rect.height())}
        self.stack.push(AddGroup(Group(title, ids, ui)))

    def set_mode_selected(self, mode: str) -> None:
        ids = self.scene.selected_ids()
        if not ids:
            return
        if all(self.graph.nodes[n].mode == mode for n in ids):
            mode = "normal"  # the same shortcut again turns it back
        self.stack.push(SetMode(ids, mode))

    def toggle_collapse_selected(self) -> None:
        ids = self.scene.selected_ids()
        if not ids:
            return
        collapse = not all(self.graph.nodes[n].ui.get("collapsed") for n in ids)
        self.stack.push(SetUi(ids, "collapsed", True if collapse else None, text="Collapse" if collapse else "Expand"))

    def select_all(self) -> None:
        for item in self.scene.node_items.values():
            item.setSelected(True)

    def selected_node_item(self) -> NodeItem | None:
        ids = self.scene.selected_ids()
        return self.scene.node_items[ids[0]] if len(ids) == 1 else None
