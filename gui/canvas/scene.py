"""The canvas scene: keeps items in step with the Graph and turns mouse gestures into edits."""

from __future__ import annotations

import math

import networkx as nx
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsScene, QToolTip

from nodegraph.edits import Connect, Disconnect, Edit, MoveNodes, SetGroup, SetNote, SetUi, UndoStack
from nodegraph.graph import Graph, Link
from nodegraph.registry import NodeRegistry
from nodegraph.types import ANY, is_compatible

from .. import theme
from .group_item import GroupItem
from .node_item import NodeItem, PortRow
from .note_item import NoteItem
from .wire_item import DragWire, WireItem


class GraphScene(QGraphicsScene):
    """Thin views over `graph`; every change goes through `stack`."""

    search_requested = Signal(QPointF, object)  # scene position, (node_id, PortRow) the wire came from, or None
    rename_group_requested = Signal(int)
    edit_note_requested = Signal(int)
    widget_clicked = Signal(str, str, str)  # node id, param name, part ("value", "dice", "after")
    status_message = Signal(str)
    enter_requested = Signal(str)  # a subgraph node was double-clicked: show what is inside it

    def __init__(self, registry: NodeRegistry, parent=None):
        super().__init__(parent)
        self.registry = registry
        self.graph: Graph | None = None
        self.stack: UndoStack | None = None
        self.node_items: dict[str, NodeItem] = {}
        self.wire_items: dict[Link, WireItem] = {}
        self.group_items: list[GroupItem] = []
        self.note_items: list[NoteItem] = []
        self.last_refusal = ""
        self._drag: dict | None = None
        self._unsubscribe = None
        self.setItemIndexMethod(QGraphicsScene.BspTreeIndex)

    # -- model binding ----------------------------------------------------------------

    def set_graph(self, graph: Graph, stack: UndoStack) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.clear()
        self.node_items, self.wire_items, self.group_items, self.note_items = {}, {}, [], []
        self.graph, self.stack = graph, stack
        self._unsubscribe = stack.subscribe(self._on_stack_changed)
        self.sync(None)

    def _on_stack_changed(self, edit: Edit, how: str) -> None:
        self.sync(edit.touched())

    def sync(self, touched: set[str] | None) -> None:
        """Bring the items in line with the model (only `touched` nodes are re-read, None means all)."""
        g = self.graph
        for node_id in [n for n in self.node_items if n not in g.nodes]:
            item = self.node_items.pop(node_id)
            for wire in list(item.wires):
                self._remove_wire(wire.link)
            self.removeItem(item)
        current = set(g.links)
        for link in [lk for lk in self.wire_items if lk not in current]:
            self._remove_wire(link)
        for node_id, node in g.nodes.items():
            item = self.node_items.get(node_id)
            if item is None:
                item = NodeItem(self, node, self.registry.get(node.type))
                self.node_items[node_id] = item
                self.addItem(item)
            elif touched is None or node_id in touched:
                item.refresh(node)
        for link in g.links:
            if link not in self.wire_items and link.src in self.node_items and link.dst in self.node_items:
                self._add_wire(link)
        for node_id in (self.node_items if touched is None else touched):
            item = self.node_items.get(node_id)
            if item is not None:
                for wire in item.wires:
                    wire.update_path()
        self._sync_groups()
        self._sync_notes()

    def _sync_notes(self) -> None:
        notes = self.graph.notes
        while len(self.note_items) > len(notes):
            self.removeItem(self.note_items.pop())
        for i, note in enumerate(notes):
            if i < len(self.note_items):
                item = self.note_items[i]
                if item.text != note.text or (item.x(), item.y()) != (note.ui.get("x", 0.0), note.ui.get("y", 0.0)):
                    item.refresh(note)
            else:
                item = NoteItem(self, i, note)
                self.note_items.append(item)
                self.addItem(item)

    def _sync_groups(self) -> None:
        groups = self.graph.groups
        while len(self.group_items) > len(groups):
            self.removeItem(self.group_items.pop())
        for i, group in enumerate(groups):
            if i < len(self.group_items):
                self.group_items[i].refresh(group)
            else:
                item = GroupItem(self, i, group)
                self.group_items.append(item)
                self.addItem(item)

    def _add_wire(self, link: Link) -> None:
        src, dst = self.node_items[link.src], self.node_items[link.dst]
        port = src.cls.output(link.src_port) if src.cls else None
        wire = WireItem(link, src, dst, port.type if port else ANY)
        src.wires.append(wire)
        dst.wires.append(wire)
        self.wire_items[link] = wire
        self.addItem(wire)

    def _remove_wire(self, link: Link) -> None:
        wire = self.wire_items.pop(link)
        for item in (wire.src_item, wire.dst_item):
            if wire in item.wires:
                item.wires.remove(wire)
        self.removeItem(wire)

    def mark_problem_wires(self, issues) -> int:
        """Mark the wires of every issue that runs through nodes (a cycle), clearing earlier marks; returns how
        many wires were marked."""
        marked = 0
        for wire in self.wire_items.values():
            if wire.problem:
                wire.set_problem("")
        for issue in issues:
            ring = list(getattr(issue, "through", ()))
            hops = set(zip(ring, ring[1:] + ring[:1], strict=True))
            for link, wire in self.wire_items.items():
                if (link.src, link.dst) in hops:
                    wire.set_problem(issue.message)
                    marked += 1
        return marked

    def selected_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    # -- wiring -----------------------------------------------------------------------

    def link_problem(self, src: NodeItem, src_row: PortRow, dst: NodeItem, dst_row: PortRow) -> str | None:
        """Why src.out cannot feed dst.in, or None when it can."""
        if src_row.is_output == dst_row.is_output:
            side = "outputs" if src_row.is_output else "inputs"
            return f"both ports are {side}; drag from an output to an input"
        if not src_row.is_output:
            src, src_row, dst, dst_row = dst, dst_row, src, src_row
        if src is dst:
            return "a node cannot feed itself"
        if not is_compatible(src_row.type, dst_row.type):
            return (f"{src_row.type} output '{src_row.name}' cannot feed {dst_row.type} input "
                    f"'{dst_row.name}' of {dst.node_id}; connect an output of type {dst_row.type}")
        if nx.has_path(self.graph.nx(), dst.node_id, src.node_id):
            return f"that would make a loop: {dst.node_id} already feeds {src.node_id}"
        return None

    def begin_wire(self, item: NodeItem, row: PortRow) -> None:
        detached = None
        if not row.is_output:
            detached = self.graph.link_into(item.node_id, row.name)
        if detached is not None and detached.src in self.node_items:
            src = self.node_items[detached.src]
            item, row = src, src.row(detached.src_port, True) or PortRow(detached.src_port, ANY, True)
            self.wire_items[detached].setVisible(False)
        self._drag = {"item": item, "row": row, "detached": detached}
        for other in self.node_items.values():
            lit = set()
            for cand in other.inputs + other.outputs:
                if self._quick_ok(item, row, other, cand):
                    lit.add((cand.name, cand.is_output))
            other.highlight = lit
            other.update()
        self._drag["wire"] = DragWire(item.port_scene_pos(row.name, row.is_output), row.is_output, row.type)
        self.addItem(self._drag["wire"])

    def _quick_ok(self, a: NodeItem, ar: PortRow, b: NodeItem, br: PortRow) -> bool:
        if a is b or ar.is_output == br.is_output:
            return False
        return is_compatible(ar.type, br.type) if ar.is_output else is_compatible(br.type, ar.type)

    def update_wire(self, pos: QPointF) -> None:
        if self._drag:
            self._drag["wire"].move_to(pos)

    def end_wire(self, pos: QPointF, screen_pos=None) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            return
        self.removeItem(drag["wire"])
        for other in self.node_items.values():
            other.highlight = None
            other.update()
        item, row, detached = drag["item"], drag["row"], drag["detached"]
        target = self.port_near(pos)
        if target is None:
            node = self.node_near(pos)
            if node is item and detached is None:  # a new wire dropped back on its own node: nothing to do
                return
            if node is not None and node is not item:
                target = self._first_fit(item, row, node)
                if target is None:
                    self._refuse(f"no free port of {node.node_id} accepts {row.type}", screen_pos, detached)
                    return
        if target is None:
            if detached is not None:
                self.stack.push(Disconnect(detached))
            else:
                self.search_requested.emit(pos, (item.node_id, row))
            return
        problem = self.link_problem(item, row, *target)
        if problem:
            self._refuse(problem, screen_pos, detached)
            return
        link = self._link_between(item, row, *target)
        if link == detached:
            self.wire_items[detached].setVisible(True)
            return
        with self.stack.macro(f"Connect {link.from_ref} → {link.to_ref}"):
            if detached is not None:
                self.stack.push(Disconnect(detached))
            self.stack.push(Connect(link))

    def _refuse(self, problem: str, screen_pos, detached: Link | None) -> None:
        self.last_refusal = problem
        if detached is not None and detached in self.wire_items:
            self.wire_items[detached].setVisible(True)
        if screen_pos is not None:
            QToolTip.showText(screen_pos.toPoint() if hasattr(screen_pos, "toPoint") else screen_pos,
                              f"Cannot connect: {problem}")
        self.status_message.emit(f"Cannot connect: {problem}")

    @staticmethod
    def _link_between(a: NodeItem, ar: PortRow, b: NodeItem, br: PortRow) -> Link:
        if ar.is_output:
            return Link(a.node_id, ar.name, b.node_id, br.name)
        return Link(b.node_id, br.name, a.node_id, ar.name)

    def _first_fit(self, item: NodeItem, row: PortRow, node: NodeItem) -> tuple[NodeItem, PortRow] | None:
        rows = node.inputs if row.is_output else node.outputs
        free = [r for r in rows if not (row.is_output and self.graph.link_into(node.node_id, r.name))]
        for cand in free + rows:
            if self._quick_ok(item, row, node, cand):
                return node, cand
        return None

    def port_near(self, pos: QPointF) -> tuple[NodeItem, PortRow] | None:
        for it in self.items(QRectF(pos.x() - 12, pos.y() - 12, 24, 24)):
            if isinstance(it, NodeItem):
                row = it.port_at(pos)
                if row is not None:
                    return it, row
        return None

    def node_near(self, pos: QPointF) -> NodeItem | None:
        for it in self.items(pos):
            if isinstance(it, NodeItem):
                return it
        return None

    def connect_new_node(self, node_id: str, origin: tuple[str, PortRow]) -> bool:
        """Wire a freshly added node to the port a dropped wire came from (first compatible port)."""
        src = self.node_items.get(origin[0])
        new = self.node_items.get(node_id)
        if src is None or new is None:
            return False
        fit = self._first_fit(src, origin[1], new)
        if fit is None:
            return False
        self.stack.push(Connect(self._link_between(src, origin[1], *fit)))
        return True

    # -- moves ------------------------------------------------------------------------

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if self._drag is None:
            self.commit_moves()

    def commit_moves(self) -> None:
        """Turn item positions that differ from the model into one MoveNodes step."""
        if self.graph is None:
            return
        moved = {}
        for node_id, item in self.node_items.items():
            ui = self.graph.nodes[node_id].ui
            if (item.x(), item.y()) != (float(ui.get("x", 0.0)), float(ui.get("y", 0.0))):
                moved[node_id] = (item.x(), item.y())
        groups = {}
        for item in self.group_items:
            ui = self.graph.groups[item.index].ui
            if (item.x(), item.y()) != (float(ui.get("x", 0.0)), float(ui.get("y", 0.0))):
                groups[item.index] = (item.x(), item.y())
        for item in self.note_items:
            ui = self.graph.notes[item.index].ui
            if (item.x(), item.y()) != (float(ui.get("x", 0.0)), float(ui.get("y", 0.0))):
                self.stack.push(SetNote(item.index, ui={"x": round(item.x()), "y": round(item.y())}))
        if not moved and not groups:
            return
        insert = self._insertion(moved) if len(moved) == 1 and not groups else None
        if insert is None:
            self.stack.push(MoveNodes(moved, groups))
            return
        node_id = next(iter(moved))
        with self.stack.macro(f"Insert {node_id}"):
            self.stack.push(MoveNodes(moved))
            for link in insert:
                self.stack.push(Connect(link))

    def _insertion(self, moved: dict) -> list[Link] | None:
        """Links that splice a lone, unconnected node into the wire it was dropped on."""
        node_id = next(iter(moved))
        item = self.node_items[node_id]
        if any(lk.src == node_id or lk.dst == node_id for lk in self.graph.links) or item.cls is None:
            return None
        centre = item.sceneBoundingRect().center()
        for it in self.items(QRectF(centre.x() - 30, item.y(), 60, item.height)):
            if not isinstance(it, WireItem):
                continue
            dst_row = it.dst_item.row(it.link.dst_port, False)
            into = next((r for r in item.inputs if is_compatible(it.type_id, r.type)), None)
            out = next((r for r in item.outputs if dst_row and is_compatible(r.type, dst_row.type)), None)
            if into and out:
                return [Link(it.link.src, it.link.src_port, node_id, into.name),
                        Link(node_id, out.name, it.link.dst, it.link.dst_port)]
        return None

    # -- reroutes (points a wire passes through, kept in its destination node's ui) --------

    def _reroutes(self, link: Link) -> dict:
        found = self.graph.nodes[link.dst].ui.get("reroutes", {})
        return {k: [list(p) for p in v] for k, v in found.items()} if isinstance(found, dict) else {}

    def _set_reroutes(self, link: Link, points: list, text: str) -> None:
        reroutes = self._reroutes(link)
        if points:
            reroutes[link.dst_port] = [[round(x), round(y)] for x, y in points]
        else:
            reroutes.pop(link.dst_port, None)
        self.stack.push(SetUi([link.dst], "reroutes", reroutes or None, text=text))

    def add_reroute(self, link: Link, at: QPointF) -> None:
        wire = self.wire_items[link]
        points = [(p.x(), p.y()) for p in wire.via]
        points.insert(wire.order_of(at), (at.x(), at.y()))
        self._set_reroutes(link, points, "Add reroute")

    def move_reroute(self, link: Link, index: int, at: QPointF) -> None:
        points = [(p.x(), p.y()) for p in self.wire_items[link].via]
        if 0 <= index < len(points) and (round(at.x()), round(at.y())) != tuple(map(round, points[index])):
            points[index] = (at.x(), at.y())
            self._set_reroutes(link, points, "Move reroute")

    def remove_reroute(self, link: Link, index: int) -> None:
        points = [(p.x(), p.y()) for p in self.wire_items[link].via]
        if 0 <= index < len(points):
            del points[index]
            self._set_reroutes(link, points, "Remove reroute")

    def redraw_wires(self) -> None:
        for wire in self.wire_items.values():
            wire.update_path()

    def resize_group(self, index: int, w: float, h: float) -> None:
        self.stack.push(SetGroup(index, ui={"w": w, "h": h}))

    # -- look -------------------------------------------------------------------------

    def drawBackground(self, painter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor(theme.CANVAS_BG))
        scale = painter.worldTransform().m11()
        for step, colour in ((20, theme.GRID_MINOR), (100, theme.GRID_MAJOR)):
            if step * scale < 8:
                continue
            painter.setPen(QPen(QColor(colour), 0))
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            x = left
            while x < rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += step
            y = top
            while y < rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += step
