"""Undoable edits of a Graph, and the undo stack that applies them. Qt-free.

Every change the editor makes to a workflow goes through an `Edit` pushed on an
`UndoStack`, so undo and redo restore the model exactly. Views listen to the stack
and refresh what an edit says it touched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

from .graph import MODES, Graph, Group, Link, NodeInstance, Note

_ABSENT = object()  # a param that is not set (it takes its default)


class Edit:
    """One undoable change. `apply` and `revert` must be exact inverses."""

    text = "Edit"

    def apply(self, graph: Graph) -> None:
        raise NotImplementedError

    def revert(self, graph: Graph) -> None:
        raise NotImplementedError

    def merge(self, other: Edit) -> bool:
        """Absorb `other` (already applied after this one) into this edit; True when it did."""
        return False

    def touched(self) -> set[str] | None:
        """Node ids whose view must refresh; None means anything may have changed."""
        return None


class _Snapshot(Edit):
    """Base for structural edits: remembers nodes, links and groups as they were, to restore exactly."""

    def _save(self, graph: Graph) -> None:
        self._nodes = dict(graph.nodes)
        self._links = list(graph.links)
        self._groups = copy.deepcopy(graph.groups)
        self._reroutes: dict[str, Any] = {}  # node id -> its ui "reroutes" before this edit, where it changed

    def _forget_reroutes(self, graph: Graph, removed: Iterable[Link]) -> None:
        """Drop the reroute points of wires this edit removed (kept in their destination's ui by input port), so
        a later wire into the same input does not take them over."""
        for link in removed:
            node = graph.nodes.get(link.dst)
            points = node.ui.get("reroutes") if node is not None else None
            if not isinstance(points, dict) or link.dst_port not in points:
                continue
            self._reroutes.setdefault(link.dst, copy.deepcopy(points))
            rest = {port: p for port, p in points.items() if port != link.dst_port}
            if rest:
                node.ui["reroutes"] = rest
            else:
                node.ui.pop("reroutes")

    def revert(self, graph: Graph) -> None:
        graph.nodes = dict(self._nodes)
        graph.links = list(self._links)
        graph.groups = copy.deepcopy(self._groups)
        for node_id, points in self._reroutes.items():
            graph.nodes[node_id].ui["reroutes"] = copy.deepcopy(points)
        graph.touch()


class AddNode(_Snapshot):
    """Add a node instance (its id must be free)."""

    def __init__(self, node: NodeInstance):
        self.node = node
        self.text = f"Add {node.id}"

    def apply(self, graph: Graph) -> None:
        self._save(graph)
        graph.add_node(self.node.clone())

    def touched(self) -> set[str]:
        return {self.node.id}


class RemoveNodes(_Snapshot):
    """Delete nodes with their links; they leave their groups."""

    def __init__(self, node_ids: Iterable[str]):
        self.node_ids = list(dict.fromkeys(node_ids))
        self.text = "Delete " + (self.node_ids[0] if len(self.node_ids) == 1 else f"{len(self.node_ids)} nodes")

    def apply(self, graph: Graph) -> None:
        self._save(graph)
        for node_id in self.node_ids:
            if node_id in graph.nodes:
                _, links = graph.remove_node(node_id)
                self._forget_reroutes(graph, links)


class Connect(_Snapshot):
    """Add a link; one already feeding the same input is replaced."""

    def __init__(self, link: Link):
        self.link = link
        self.text = f"Connect {link.from_ref} → {link.to_ref}"

    def apply(self, graph: Graph) -> None:
        if self.link.src not in graph.nodes or self.link.dst not in graph.nodes:
            raise KeyError(f"cannot connect {self.link.from_ref} to {self.link.to_ref}: no such node")
        self._save(graph)
        replaced = graph.connect(self.link)
        if replaced is not None and replaced.src != self.link.src:
            self._forget_reroutes(graph, [replaced])

    def touched(self) -> set[str]:
        return {self.link.src, self.link.dst}


class Disconnect(_Snapshot):
    """Remove links."""

    def __init__(self, links: Link | Iterable[Link]):
        self.links = [links] if isinstance(links, Link) else list(links)
        self.text = "Disconnect " + (self.links[0].to_ref if len(self.links) == 1 else f"{len(self.links)} links")

    def apply(self, graph: Graph) -> None:
        self._save(graph)
        for link in self.links:
            if link in graph.links:
                graph.disconnect(link)
        self._forget_reroutes(graph, self.links)

    def touched(self) -> set[str]:
        return {lk.src for lk in self.links} | {lk.dst for lk in self.links}


class SetParam(Edit):
    """Set one param (or reset it to its default with `value=None, reset=True`).

    With `merge_key` set, consecutive edits of the same param merge into one step
    (typing in a field, dragging a slider)."""

    def __init__(self, node_id: str, name: str, value: Any, *, reset: bool = False, merge_key: Any = None):
        self.node_id, self.name = node_id, name
        self.value = _ABSENT if reset else value
        self.merge_key = merge_key
        self.old: Any = _ABSENT
        self.text = f"Set {node_id}.{name}"

    def apply(self, graph: Graph) -> None:
        params = graph.nodes[self.node_id].params
        self.old = params.get(self.name, _ABSENT)
        _put(params, self.name, self.value)

    def revert(self, graph: Graph) -> None:
        _put(graph.nodes[self.node_id].params, self.name, self.old)

    def merge(self, other: Edit) -> bool:
        if (isinstance(other, SetParam) and self.merge_key is not None and other.merge_key == self.merge_key
                and (other.node_id, other.name) == (self.node_id, self.name)):
            self.value = other.value
            return True
        return False

    def touched(self) -> set[str]:
        return {self.node_id}


class SetMode(Edit):
    """Set nodes to normal, mute or bypass."""

    def __init__(self, node_ids: Iterable[str], mode: str):
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        self.node_ids, self.mode = list(node_ids), mode
        self.old: dict[str, str] = {}
        self.text = f"{mode.title()} {len(self.node_ids)} node(s)"

    def apply(self, graph: Graph) -> None:
        self.old = {n: graph.nodes[n].mode for n in self.node_ids}
        for n in self.node_ids:
            graph.nodes[n].mode = self.mode

    def revert(self, graph: Graph) -> None:
        for n, mode in self.old.items():
            graph.nodes[n].mode = mode

    def touched(self) -> set[str]:
        return set(self.node_ids)


class SetTitle(Edit):
    """Rename a node's title (its id stays)."""

    def __init__(self, node_id: str, title: str):
        self.node_id, self.title, self.old = node_id, title, ""
        self.text = f"Rename {node_id}"

    def apply(self, graph: Graph) -> None:
        self.old = graph.nodes[self.node_id].title
        graph.nodes[self.node_id].title = self.title

    def revert(self, graph: Graph) -> None:
        graph.nodes[self.node_id].title = self.old

    def touched(self) -> set[str]:
        return {self.node_id}


class SetUi(Edit):
    """Set one layout key of nodes' `ui` (collapsed, params shown as inputs...); None removes it."""

    def __init__(self, node_ids: Iterable[str], key: str, value: Any, text: str = ""):
        self.node_ids, self.key, self.value = list(node_ids), key, value
        self.old: dict[str, Any] = {}
        self.text = text or f"Change {key}"

    def apply(self, graph: Graph) -> None:
        self.old = {n: graph.nodes[n].ui.get(self.key, _ABSENT) for n in self.node_ids}
        for n in self.node_ids:
            _put(graph.nodes[n].ui, self.key, _ABSENT if self.value is None else copy.deepcopy(self.value))

    def revert(self, graph: Graph) -> None:
        for n, old in self.old.items():
            _put(graph.nodes[n].ui, self.key, old)

    def touched(self) -> set[str]:
        return set(self.node_ids)


class MoveNodes(Edit):
    """Move nodes (and group backdrops, by index) to new positions.

    Consecutive moves of the same things with the same `merge_key` merge into one step."""

    def __init__(self, positions: dict[str, tuple[float, float]],
                 group_positions: dict[int, tuple[float, float]] | None = None, *, merge_key: Any = None):
        self.positions = {k: (float(x), float(y)) for k, (x, y) in positions.items()}
        self.group_positions = {k: (float(x), float(y)) for k, (x, y) in (group_positions or {}).items()}
        self.merge_key = merge_key
        self.old: dict[str, Any] = {}
        self.old_groups: dict[int, Any] = {}
        self.text = "Move " + (next(iter(self.positions)) if len(self.positions) == 1 else
                               f"{len(self.positions)} nodes")

    def apply(self, graph: Graph) -> None:
        self.old = {n: (graph.nodes[n].ui.get("x", _ABSENT), graph.nodes[n].ui.get("y", _ABSENT))
                    for n in self.positions}
        self.old_groups = {i: (graph.groups[i].ui.get("x", _ABSENT), graph.groups[i].ui.get("y", _ABSENT))
                           for i in self.group_positions}
        for n, (x, y) in self.positions.items():
            graph.nodes[n].ui["x"], graph.nodes[n].ui["y"] = x, y
        for i, (x, y) in self.group_positions.items():
            graph.groups[i].ui["x"], graph.groups[i].ui["y"] = x, y

    def revert(self, graph: Graph) -> None:
        for n, (x, y) in self.old.items():
            _put(graph.nodes[n].ui, "x", x)
            _put(graph.nodes[n].ui, "y", y)
        for i, (x, y) in self.old_groups.items():
            _put(graph.groups[i].ui, "x", x)
            _put(graph.groups[i].ui, "y", y)

    def merge(self, other: Edit) -> bool:
        if (isinstance(other, MoveNodes) and self.merge_key is not None and other.merge_key == self.merge_key
                and set(other.positions) == set(self.positions)
                and set(other.group_positions) == set(self.group_positions)):
            self.positions, self.group_positions = other.positions, other.group_positions
            return True
        return False

    def touched(self) -> set[str]:
        return set(self.positions)


class AddGroup(Edit):
    """Add a backdrop group."""

    def __init__(self, group: Group):
        self.group = group
        self.text = f"Add group {group.title}"

    def apply(self, graph: Graph) -> None:
        graph.groups.append(copy.deepcopy(self.group))

    def revert(self, graph: Graph) -> None:
        graph.groups.pop()

    def touched(self) -> set[str]:
        return set()


class RemoveGroup(Edit):
    """Remove a backdrop group (its nodes stay)."""

    def __init__(self, index: int):
        self.index = index
        self.group: Group | None = None
        self.text = "Delete group"

    def apply(self, graph: Graph) -> None:
        self.group = graph.groups.pop(self.index)

    def revert(self, graph: Graph) -> None:
        graph.groups.insert(self.index, self.group)

    def touched(self) -> set[str]:
        return set()


class SetGroup(Edit):
    """Change a group's title, members or geometry (fields left as None stay)."""

    def __init__(self, index: int, *, title: str | None = None, nodes: list[str] | None = None,
                 ui: dict | None = None, merge_key: Any = None):
        self.index, self.title, self.nodes, self.ui = index, title, nodes, ui
        self.merge_key = merge_key
        self.old: Group | None = None
        self.text = "Edit group"

    def apply(self, graph: Graph) -> None:
        group = graph.groups[self.index]
        self.old = copy.deepcopy(group)
        if self.title is not None:
            group.title = self.title
        if self.nodes is not None:
            group.nodes = list(self.nodes)
        if self.ui is not None:
            group.ui = {**group.ui, **self.ui}

    def revert(self, graph: Graph) -> None:
        graph.groups[self.index] = copy.deepcopy(self.old)

    def merge(self, other: Edit) -> bool:
        if (isinstance(other, SetGroup) and self.merge_key is not None and other.merge_key == self.merge_key
                and other.index == self.index):
            self.title = other.title if other.title is not None else self.title
            self.nodes = other.nodes if other.nodes is not None else self.nodes
            self.ui = {**(self.ui or {}), **(other.ui or {})} if other.ui is not None else self.ui
            return True
        return False

    def touched(self) -> set[str]:
        return set()


class Paste(_Snapshot):
    """Add a copied sub-graph under fresh ids, offset by (dx, dy). `mapping` gives old id → new id."""

    def __init__(self, part: Graph, dx: float = 0.0, dy: float = 0.0):
        self.part, self.dx, self.dy = part, dx, dy
        self.mapping: dict[str, str] = {}
        self.text = f"Paste {len(part.nodes)} node(s)"

    def apply(self, graph: Graph) -> None:
        self._save(graph)
        mapping: dict[str, str] = {}
        for old_id, node in self.part.nodes.items():
            new_id = self.mapping.get(old_id) or graph.unique_id(old_id)
            mapping[old_id] = new_id
            twin = node.clone(new_id)
            twin.ui = dict(twin.ui)
            twin.ui["x"] = float(twin.ui.get("x", 0.0)) + self.dx
            twin.ui["y"] = float(twin.ui.get("y", 0.0)) + self.dy
            graph.add_node(twin)
        self.mapping = mapping
        for lk in self.part.links:
            if lk.src in mapping and lk.dst in mapping:
                graph.connect(Link(mapping[lk.src], lk.src_port, mapping[lk.dst], lk.dst_port))
        for group in self.part.groups:
            ui = dict(group.ui)
            ui["x"] = float(ui.get("x", 0.0)) + self.dx
            ui["y"] = float(ui.get("y", 0.0)) + self.dy
            graph.groups.append(Group(group.title, [mapping[n] for n in group.nodes if n in mapping], ui))

    def touched(self) -> set[str] | None:
        return None


class Macro(Edit):
    """Several edits as one undo step."""

    def __init__(self, text: str, edits: Iterable[Edit] = ()):
        self.text = text
        self.edits: list[Edit] = list(edits)

    def apply(self, graph: Graph) -> None:
        for edit in self.edits:
            edit.apply(graph)

    def revert(self, graph: Graph) -> None:
        for edit in reversed(self.edits):
            edit.revert(graph)

    def touched(self) -> set[str] | None:
        out: set[str] = set()
        for edit in self.edits:
            part = edit.touched()
            if part is None:
                return None
            out |= part
        return out


Listener = Callable[[Edit, str], None]


class UndoStack:
    """Applies edits to one graph and undoes/redoes them; tells listeners after each change.

    A listener gets (edit, how) where how is "apply", "undo" or "redo", or "record" when a macro whose edits were
    applied (and announced) one by one becomes one undo step: the graph did not change then, the history did."""

    def __init__(self, graph: Graph, limit: int = 1000):
        self.graph = graph
        self.limit = limit
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self._clean: int | None = 0
        self._listeners: list[Listener] = []
        self._macro: list[Macro] = []

    # -- listeners --------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, edit: Edit, how: str) -> None:
        for listener in list(self._listeners):
            listener(edit, how)

    # -- editing ----------------------------------------------------------------------

    def push(self, edit: Edit) -> Edit:
        """Apply `edit` and record it (merging into the previous step when both agree)."""
        if self._macro:
            edit.apply(self.graph)
            self._macro[-1].edits.append(edit)
            self._notify(edit, "apply")
            return edit
        edit.apply(self.graph)
        top = self._done[-1] if self._done else None
        if top is not None and not self._undone and self._clean != len(self._done) and top.merge(edit):
            self._notify(edit, "apply")
            return top
        self._record(edit)
        self._notify(edit, "apply")
        return edit

    def _record(self, edit: Edit) -> None:
        if self._clean is not None and self._clean > len(self._done):
            self._clean = None  # the saved state was in the redo branch, now gone
        self._done.append(edit)
        self._undone.clear()
        if len(self._done) > self.limit:
            self._done.pop(0)
            self._clean = None if self._clean in (None, 0) else self._clean - 1

    @contextmanager
    def macro(self, text: str):
        """Group the pushes made inside the block into one undo step."""
        macro = Macro(text)
        self._macro.append(macro)
        try:
            yield macro
        except BaseException:
            self._macro.pop()
            macro.revert(self.graph)
            self._notify(macro, "undo")
            raise
        self._macro.pop()
        if not macro.edits:
            return
        if self._macro:
            self._macro[-1].edits.append(macro)
            return
        self._record(macro)
        self._notify(macro, "record")  # its edits were announced one by one; now it is an undo step

    def undo(self) -> Edit | None:
        if not self._done:
            return None
        edit = self._done.pop()
        edit.revert(self.graph)
        self._undone.append(edit)
        self._notify(edit, "undo")
        return edit

    def redo(self) -> Edit | None:
        if not self._undone:
            return None
        edit = self._undone.pop()
        edit.apply(self.graph)
        self._done.append(edit)
        self._notify(edit, "redo")
        return edit

    # -- state ------------------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    @property
    def index(self) -> int:
        return len(self._done)

    def is_clean(self) -> bool:
        return self._clean == len(self._done)

    def set_clean(self) -> None:
        self._clean = len(self._done)


def _put(mapping: dict, key: str, value: Any) -> None:
    if value is _ABSENT:
        mapping.pop(key, None)
    else:
        mapping[key] = value


class AddNote(Edit):
    """Add a sticky note."""

    def __init__(self, note: Note):
        self.note = note
        self.text = "Add note"

    def apply(self, graph: Graph) -> None:
        graph.notes.append(copy.deepcopy(self.note))

    def revert(self, graph: Graph) -> None:
        graph.notes.pop()

    def touched(self) -> set[str]:
        return set()


class RemoveNote(Edit):
    """Remove a sticky note."""

    def __init__(self, index: int):
        self.index = index
        self.note: Note | None = None
        self.text = "Delete note"

    def apply(self, graph: Graph) -> None:
        self.note = graph.notes.pop(self.index)

    def revert(self, graph: Graph) -> None:
        graph.notes.insert(self.index, self.note)

    def touched(self) -> set[str]:
        return set()


class SetNote(Edit):
    """Change a note's text or layout (a field left as None stays); moves of one note merge into one step."""

    def __init__(self, index: int, *, text: str | None = None, ui: dict | None = None, merge_key: Any = None):
        self.index, self.new_text, self.ui, self.merge_key = index, text, ui, merge_key
        self.old: Note | None = None
        self.text = "Edit note" if text is not None else "Move note"

    def apply(self, graph: Graph) -> None:
        note = graph.notes[self.index]
        if self.old is None:
            self.old = copy.deepcopy(note)
        if self.new_text is not None:
            note.text = self.new_text
        if self.ui is not None:
            note.ui = {**note.ui, **self.ui}

    def revert(self, graph: Graph) -> None:
        graph.notes[self.index] = copy.deepcopy(self.old)

    def merge(self, other: Edit) -> bool:
        if (isinstance(other, SetNote) and other.index == self.index and self.merge_key is not None
                and other.merge_key == self.merge_key):
            self.new_text = other.new_text if other.new_text is not None else self.new_text
            self.ui = {**(self.ui or {}), **(other.ui or {})} if other.ui is not None else self.ui
            return True
        return False

    def touched(self) -> set[str]:
        return set()
