"""Right-click menus on the canvas, nodes, wires and groups, built for what is under the cursor.

Mixed into MainWindow. `context_menu_at(scene_pos)` builds the menu without showing it (the tests trigger its
actions); the view's right click shows it. Every action goes through the undo stack or an existing command.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

from nodegraph.edits import AddNote, Disconnect, MoveNodes, RemoveGroup, RemoveNote, SetGroup, SetNote, SetTitle, SetUi
from nodegraph.graph import Link, Note
from nodegraph.types import is_compatible

from .canvas.group_item import GroupItem
from .canvas.node_item import WIDTH as NODE_WIDTH
from .canvas.node_item import NodeItem
from .canvas.note_item import NoteItem
from .canvas.wire_item import RerouteDot, WireItem
from .commands import expose_param

# name, colour: a node's title bar colour (None: its category's)
NODE_COLOURS = (("Red", "#c62828"), ("Orange", "#ef6c00"), ("Yellow", "#f9a825"), ("Green", "#2e7d32"),
                ("Cyan", "#00838f"), ("Blue", "#1565c0"), ("Purple", "#6a1b9a"), ("Grey", "#546e7a"))


INSERT_GAP = 40.0  # between a node put on a wire and its neighbours


@dataclass(frozen=True)
class InsertOn:
    """The search's origin when it picks a node to put on a wire."""

    link: Link


class ContextMenus:
    """Expects the MainWindow's scene, view, graph, stack, registry and its run and edit commands."""

    # -- prompts (tests replace these) ------------------------------------------------

    def ask_text(self, title: str, label: str, text: str) -> str | None:
        value, ok = QInputDialog.getText(self, title, label, text=text)
        return value if ok else None

    # -- building ---------------------------------------------------------------------

    def context_menu_at(self, scene_pos: QPointF) -> QMenu:
        """The menu for whatever is under `scene_pos`: a node, a wire, a group, or the empty canvas."""
        item = self._item_at(scene_pos)
        if isinstance(item, NodeItem):
            if item.node_id not in self.scene.selected_ids():
                self.select_nodes([item.node_id])  # right-click acts on what it points at, as a click would
            return self._node_menu(item)
        if isinstance(item, RerouteDot):
            menu = QMenu(self)
            menu.addAction("Remove Reroute", lambda: self.scene.remove_reroute(item.wire.link, item.index))
            return menu
        if isinstance(item, WireItem):
            return self._wire_menu(item, scene_pos)
        if isinstance(item, GroupItem):
            return self._group_menu(item)
        if isinstance(item, NoteItem):
            return self._note_menu(item)
        return self._canvas_menu(scene_pos)

    def _item_at(self, scene_pos: QPointF):
        for item in self.scene.items(scene_pos):
            while item is not None and not isinstance(item, (NodeItem, WireItem, GroupItem, NoteItem, RerouteDot)):
                item = item.parentItem()
            if item is not None:
                return item
        return None

    def _canvas_menu(self, scene_pos: QPointF) -> QMenu:
        menu = QMenu(self)
        add = menu.addMenu("Add Node")
        for category, classes in self.registry.by_category():
            sub = add.addMenu(category)
            for cls in classes:
                sub.addAction(cls.display_name(), lambda t=cls.type_id: self._add_and_focus(t, scene_pos))
        menu.addAction("Search Nodes…\tTab", lambda: self._on_view_search_requested(scene_pos))
        menu.addAction("Add Note", lambda: self.add_note(scene_pos))
        menu.addSeparator()
        menu.addAction("Paste Here", lambda: self.paste(at=scene_pos))
        menu.addAction("Select All", self.select_all)
        menu.addSeparator()
        menu.addAction("Frame All", self.view.frame_all)
        if self.scene.selected_ids():
            menu.addAction("Frame Selection", self.view.frame_selection)
            menu.addAction("Group Selection", self.group_selected)
        return menu

    def _node_menu(self, item: NodeItem) -> QMenu:
        node = self.graph.nodes[item.node_id]
        cls = self.registry.get(node.type)
        menu = QMenu(self)
        menu.addAction("Run to Here", self.run_to_selected)
        menu.addAction("Run Again (Force)", self.run_forced)
        menu.addSeparator()
        for mode, text in (("mute", "Mute"), ("bypass", "Bypass")):
            action = menu.addAction(text, lambda m=mode: self.set_mode_selected(m))
            action.setCheckable(True)
            action.setChecked(node.mode == mode)
        collapse = menu.addAction("Collapse", self.toggle_collapse_selected)
        collapse.setCheckable(True)
        collapse.setChecked(bool(node.ui.get("collapsed")))
        menu.addAction("Duplicate", self.duplicate_selected)
        menu.addAction("Rename…", lambda: self.rename_node(item.node_id))
        menu.addAction("Make Subgraph…", self.make_subgraph)
        if node.type.startswith("subgraph:"):
            menu.addAction("Enter Subgraph", lambda: self.enter_subgraph(item.node_id))
            menu.addAction("Unpack Subgraph", self.unpack_selected)
            menu.addAction("Save to My Subgraphs", lambda: self.save_to_library(item.node_id))
        colours = menu.addMenu("Colour")
        colours.addAction("Category colour", lambda: self._set_colour(None))
        for name, value in NODE_COLOURS:
            swatch = QPixmap(14, 14)
            swatch.fill(QColor(value))
            colours.addAction(QIcon(swatch), name, lambda v=value: self._set_colour(v))
        if cls is not None and cls.params:
            inputs = menu.addMenu("Params as Inputs")
            shown = set(node.ui.get("inputs", ())) | set(self.graph.links_into(node.id))
            for param in cls.params:
                action = inputs.addAction(param.label or param.name.replace("_", " "))
                action.setCheckable(True)
                action.setChecked(param.name in shown)
                action.setEnabled(param.name not in self.graph.links_into(node.id))
                action.toggled.connect(lambda on, p=param.name: self.show_param_as_input(item.node_id, p, on))
        menu.addSeparator()
        menu.addAction("Help for This Node", lambda: self.show_node_help(node.type))
        menu.addAction("Delete", self.delete_selected)
        return menu

    def _wire_menu(self, wire: WireItem, scene_pos: QPointF) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Insert Node…", lambda: self.insert_node_search(wire.link, scene_pos))
        menu.addAction("Add Reroute Here", lambda: self.scene.add_reroute(wire.link, scene_pos))
        menu.addAction("Delete Wire", lambda: self.stack.push(Disconnect(wire.link)))
        return menu

    def _group_menu(self, group: GroupItem) -> QMenu:
        menu = QMenu(self)
        index = group.index
        menu.addAction("Rename Group…", lambda: self._rename_group(index))
        menu.addAction("Select Its Nodes", lambda: self.select_nodes(self.graph.groups[index].nodes))
        menu.addAction("Remove Group (Keep Nodes)", lambda: self.stack.push(RemoveGroup(index)))
        return menu

    def _note_menu(self, note: NoteItem) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Edit Note…", lambda: self.edit_note(note.index))
        menu.addAction("Delete Note", lambda: self.stack.push(RemoveNote(note.index)))
        return menu

    # -- actions ----------------------------------------------------------------------

    def ask_note_text(self, text: str) -> str | None:
        value, ok = QInputDialog.getMultiLineText(self, "Note", "Text (Markdown: **bold**, # headings, - lists, "
                                                  "[links](https://…))", text)
        return value if ok else None

    def add_note(self, scene_pos: QPointF, text: str | None = None) -> int | None:
        """A sticky note at `scene_pos`; asks for its text unless given."""
        if text is None:
            text = self.ask_note_text("")
        if text is None:
            return None
        self.stack.push(AddNote(Note(text, {"x": round(scene_pos.x()), "y": round(scene_pos.y())})))
        return len(self.graph.notes) - 1

    def edit_note(self, index: int) -> None:
        text = self.ask_note_text(self.graph.notes[index].text)
        if text is not None and text != self.graph.notes[index].text:
            self.stack.push(SetNote(index, text=text))

    def rename_node(self, node_id: str) -> None:
        node = self.graph.nodes[node_id]
        cls = self.registry.get(node.type)
        title = self.ask_text("Rename node", "Title", node.title or (cls.display_name() if cls else node.type))
        if title is not None:
            self.stack.push(SetTitle(node_id, title.strip()))

    def _rename_group(self, index: int) -> None:
        title = self.ask_text("Rename group", "Title", self.graph.groups[index].title)
        if title is not None:
            self.stack.push(SetGroup(index, title=title.strip()))

    def _set_colour(self, value: str | None) -> None:
        ids = self.scene.selected_ids()
        if ids and (value is None or QColor(value).isValid()):
            self.stack.push(SetUi(ids, "color", value, text="Colour"))

    def show_param_as_input(self, node_id: str, name: str, on: bool) -> None:
        self.stack.push(expose_param(self.graph, node_id, name, on))

    def show_node_help(self, type_id: str) -> QMessageBox | None:
        cls = self.registry.get(type_id)
        if cls is None:
            return None
        rows = "".join(f"<tr><td><b>{p.name}</b></td><td>{p.tooltip or ''}</td></tr>" for p in cls.params)
        ports = ", ".join(f"{p.name} ({p.type})" for p in cls.inputs) or "none"
        outs = ", ".join(f"{p.name} ({p.type})" for p in cls.outputs) or "none"
        box = QMessageBox(self)
        box.setWindowTitle(cls.display_name())
        box.setText(f"<h3>{cls.display_name()}</h3><p><code>{cls.type_id}</code> · {cls.category}</p>"
                    f"<p>{cls.description()}</p><p><b>Inputs:</b> {ports}<br><b>Outputs:</b> {outs}</p>"
                    f"<table>{rows}</table>")
        box.show()
        self._help_box = box
        return box

    def insert_node_search(self, link: Link, scene_pos: QPointF) -> None:
        """Search for a node that fits between the two ends of `link` and put it there."""
        src_cls = self.registry.get(self.graph.nodes[link.src].type)
        dst_cls = self.registry.get(self.graph.nodes[link.dst].type)
        out = src_cls.output(link.src_port) if src_cls else None
        into = dst_cls.input(link.dst_port) if dst_cls else None
        if out is None:
            return
        want = into.type if into is not None else out.type

        def fits(cls) -> bool:
            return (any(is_compatible(out.type, p.type) for p in cls.inputs)
                    and any(is_compatible(p.type, want) for p in cls.outputs))

        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.search.open_at(global_pos, scene_pos, InsertOn(link), fits)

    def insert_node(self, type_id: str, link: Link, scene_pos: QPointF) -> str | None:
        """Put a new node of `type_id` on `link`: src → new → dst, as one undo step."""
        cls = self.registry.get(type_id)
        src_cls = self.registry.get(self.graph.nodes[link.src].type)
        dst_cls = self.registry.get(self.graph.nodes[link.dst].type)
        if cls is None or src_cls is None:
            return None
        out_type = src_cls.output(link.src_port).type
        into = dst_cls.input(link.dst_port) if dst_cls else None
        first_in = next((p for p in cls.inputs if is_compatible(out_type, p.type)), None)
        first_out = next((p for p in cls.outputs if into is None or is_compatible(p.type, into.type)), None)
        if first_in is None or first_out is None:
            self.statusBar().showMessage(f"{cls.display_name()} cannot go on this wire", 5000)
            return None
        from nodegraph.edits import Connect

        src_node, dst_node = self.graph.nodes[link.src], self.graph.nodes[link.dst]
        x = float(src_node.ui.get("x", 0.0)) + NODE_WIDTH + INSERT_GAP
        y = float(src_node.ui.get("y", 0.0))
        room = x + NODE_WIDTH + INSERT_GAP - float(dst_node.ui.get("x", 0.0))
        with self.stack.macro(f"Insert {cls.display_name()}"):
            if room > 0:  # push the wire's end and everything after it right, so the new node fits between
                after = {link.dst} | nx.descendants(self.graph.nx(), link.dst)
                after.discard(link.src)
                self.stack.push(MoveNodes({n: (float(self.graph.nodes[n].ui.get("x", 0.0)) + room,
                                               float(self.graph.nodes[n].ui.get("y", 0.0))) for n in after}))
            node_id = self.add_node(type_id, QPointF(x, y))
            self.stack.push(Disconnect(link))
            self.stack.push(Connect(Link(link.src, link.src_port, node_id, first_in.name)))
            self.stack.push(Connect(Link(node_id, first_out.name, link.dst, link.dst_port)))
        return node_id
