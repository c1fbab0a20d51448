"""Subgraphs in the editor: make one of a selection, enter it, leave by the breadcrumb, unpack it, and show a run
on the inner nodes inside and as an aggregate on the instance outside. Every change is one undo step."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from nodegraph.edits import UndoStack
from nodegraph.flatten import instance_class
from nodegraph.graph import NODE_ID
from nodegraph.registry import NodeRegistry
from nodegraph.subgraph_edits import AddDefinition, InSubgraph, MakeSubgraph, Unpack, level_graph
from nodegraph.subgraphs import definition_name, is_instance, lookup

from .subgraph_library import CATEGORY, SubgraphLibrary


class ScopedRegistry:
    """The window's registry, which also knows the open workflow's subgraphs (at the level shown) and the user's
    own (My subgraphs) as node types."""

    def __init__(self, registry: NodeRegistry, scopes, library: SubgraphLibrary | None = None):
        self._registry = registry
        self._scopes = scopes  # () -> the definition scopes visible where the editor is
        self.library = library

    def get(self, type_id: str):
        if isinstance(type_id, str) and is_instance(type_id):
            scopes = self._scopes()
            defn = lookup(definition_name(type_id), scopes)
            if defn is not None:
                return instance_class(defn, self._registry, scopes)
            mine = self.library.definitions().get(definition_name(type_id)) if self.library else None
            return instance_class(mine, self._registry, category=CATEGORY) if mine is not None else None
        return self._registry.get(type_id)

    def by_category(self) -> list:
        """The registry's categories, then this workflow's subgraphs and My subgraphs (for Tab search)."""
        out = list(self._registry.by_category())
        scopes = self._scopes()
        here = {name: defn for scope in scopes for name, defn in scope.items()}
        if here:
            out.append(("Subgraphs", sorted((instance_class(d, self._registry, scopes) for d in here.values()),
                                            key=lambda cls: cls.display_name())))
        mine = [cls for cls in (self.library.classes() if self.library else ())
                if definition_name(cls.type_id) not in here]
        if mine:
            out.append((CATEGORY, mine))
        return out

    def __getattr__(self, name: str):
        return getattr(self._registry, name)


class LevelStack:
    """The undo stack as seen inside a subgraph: each edit is made on the definition, recorded on the workflow's
    one stack (so undo covers the inside and the outside alike)."""

    def __init__(self, root: UndoStack, path: tuple[str, ...]):
        self.root, self.path = root, path

    def push(self, edit):
        self.root.push(InSubgraph(self.path, edit))
        return edit

    def __getattr__(self, name: str):
        return getattr(self.root, name)


class PromoteDialog(QDialog):
    """Name the new subgraph and tick the params to show on it."""

    def __init__(self, parent, name: str, params: list[tuple[str, str, str]]):
        super().__init__(parent)
        self.setWindowTitle("Make subgraph")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Name"))
        self.name_edit = QLineEdit(name)
        layout.addWidget(self.name_edit)
        layout.addWidget(QLabel("Params to show on the subgraph node"))
        self.params = QListWidget()
        for node_id, param, label in params:
            item = QListWidgetItem(f"{node_id}: {label}")
            item.setData(Qt.UserRole, (node_id, param))
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked)
            self.params.addItem(item)
        layout.addWidget(self.params)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> list[tuple[str, str]]:
        return [self.params.item(i).data(Qt.UserRole) for i in range(self.params.count())
                if self.params.item(i).checkState() == Qt.Checked]


class Breadcrumb(QToolBar):
    """Workflow › upscale › sharpen: click a part to go back up to it."""

    def __init__(self, leave_to):
        super().__init__("Subgraph")
        self.setObjectName("SubgraphBreadcrumb")
        self._leave_to = leave_to
        self._holder = QWidget()
        self._row = QHBoxLayout(self._holder)
        self._row.setContentsMargins(4, 0, 4, 0)
        self.addWidget(self._holder)
        self.buttons: list[QPushButton] = []

    def show_path(self, names: list[str]) -> None:
        for button in self.buttons:
            button.deleteLater()
        while self._row.count():
            self._row.takeAt(0)
        self.buttons = []
        for depth, name in enumerate(names):
            if depth:
                self._row.addWidget(QLabel("›"))
            button = QPushButton(name)
            button.setFlat(True)
            button.setEnabled(depth < len(names) - 1)
            button.clicked.connect(lambda checked=False, d=depth: self._leave_to(d))
            self._row.addWidget(button)
            self.buttons.append(button)
        self.setVisible(len(names) > 1)


class SubgraphActions:
    """Mixed into MainWindow: `document` and `root_stack` are the workflow; `graph` and `stack` the level shown."""

    level_path: tuple[str, ...] = ()  # definition names entered, outermost first
    level_instances: tuple[str, ...] = ()  # the instance ids entered through (their flat path names the run's nodes)

    def subgraph_scopes(self) -> tuple:
        scopes, graph = (self.document.subgraphs,), self.document
        for name in self.level_path:
            defn = lookup(name, scopes)
            if defn is None:
                break
            graph = defn.graph
            scopes += (graph.subgraphs,)
        return scopes

    # -- making and unpacking ---------------------------------------------------------

    def make_subgraph(self, name: str | None = None, promote: list[tuple[str, str]] | None = None) -> str | None:
        """The selected nodes become one subgraph node; asks for its name and the params to promote unless given."""
        ids = self.scene.selected_ids()
        if not ids:
            self.statusBar().showMessage("Select the nodes to make a subgraph of", 4000)
            return None
        taken = {n for scope in self.subgraph_scopes() for n in scope}
        if name is None or promote is None:
            choices = []
            for node_id in ids:
                cls = self.registry.get(self.graph.nodes[node_id].type)
                choices += [(node_id, p.name, p.label or p.name) for p in (cls.params if cls else ())]
            dialog = PromoteDialog(self, _free_name("subgraph", taken), choices)
            if not self.ask_promote(dialog):
                return None
            name, promote = dialog.name_edit.text().strip(), dialog.chosen()
        if not NODE_ID.match(name or "") or name in taken:
            self.statusBar().showMessage(f"{name!r} cannot name a subgraph: use letters, digits, '_' or '-', "
                                         "starting with a letter, and a name not taken", 6000)
            return None
        edit = self.stack.push(MakeSubgraph(ids, name, promote=promote))
        self.select_nodes([edit.instance_id])
        return edit.instance_id

    def ask_promote(self, dialog: PromoteDialog) -> bool:
        return bool(dialog.exec())

    def unpack_selected(self) -> list[str]:
        """Each selected subgraph node is replaced by the nodes inside it."""
        ids = [n for n in self.scene.selected_ids() if is_instance(self.graph.nodes[n].type)]
        placed: list[str] = []
        if not ids:
            return placed
        with self.stack.macro("Unpack " + ", ".join(ids)):
            for node_id in ids:
                placed += self.stack.push(Unpack(node_id)).mapping.values()
        self.select_nodes(placed)
        return placed

    # -- My subgraphs ------------------------------------------------------------------

    def add_node(self, type_id: str, scene_pos=None, origin=None) -> str | None:
        """As any node; a subgraph from My subgraphs brings its definition into the workflow (one undo step)."""
        if is_instance(type_id) and lookup(definition_name(type_id), self.subgraph_scopes()) is None:
            defn = self.registry.library.copy_of(definition_name(type_id)) if self.registry.library else None
            if defn is None:
                self.statusBar().showMessage(f"No subgraph {definition_name(type_id)!r} here or in My subgraphs",
                                             5000)
                return None
            with self.stack.macro(f"Add {defn.name}"):
                self.stack.push(AddDefinition(defn))
                return super().add_node(type_id, scene_pos, origin)
        return super().add_node(type_id, scene_pos, origin)

    def save_to_library(self, node_id: str):
        """Keep a subgraph node's definition in My subgraphs (the palette and Tab search offer it from then on)."""
        node = self.graph.nodes.get(node_id)
        defn = lookup(definition_name(node.type), self.subgraph_scopes()) if node is not None else None
        if defn is None:
            return None
        path = self.registry.library.save(defn)
        self.palette.show_library(self.registry.library.classes())
        self.statusBar().showMessage(f"Saved {defn.name} to My subgraphs ({path})", 6000)
        return path

    def definitions_used(self, part) -> dict:
        """The definitions the nodes of `part` instance, and those these instance in turn, as seen from here."""
        scopes, out = self.subgraph_scopes(), {}
        waiting = [n.type for n in part.nodes.values() if is_instance(n.type)]
        while waiting:
            name = definition_name(waiting.pop())
            defn = lookup(name, scopes)
            if defn is not None and name not in out:
                out[name] = defn
                waiting += [n.type for n in defn.graph.nodes.values() if is_instance(n.type)]
        return out

    def bring_definitions(self, part) -> None:
        """Pasted subgraph nodes whose definitions are not here bring theirs (a name taken here keeps this one)."""
        scopes = self.subgraph_scopes()
        for name, defn in part.subgraphs.items():
            if lookup(name, scopes) is None:
                self.stack.push(AddDefinition(defn))

    # -- entering and leaving ---------------------------------------------------------

    def enter_subgraph(self, node_id: str) -> bool:
        node = self.graph.nodes.get(node_id)
        if node is None or not is_instance(node.type):
            return False
        name = definition_name(node.type)
        if lookup(name, self.subgraph_scopes()) is None:
            return False
        self._show_level(self.level_path + (name,), self.level_instances + (node_id,))
        return True

    def leave_subgraph(self, depth: int | None = None) -> None:
        """Back up to `depth` levels deep (0: the workflow); one level up when not given."""
        depth = len(self.level_path) - 1 if depth is None else depth
        if 0 <= depth < len(self.level_path):
            self._show_level(self.level_path[:depth], self.level_instances[:depth])

    def _show_level(self, path: tuple[str, ...], instances: tuple[str, ...]) -> None:
        self.level_path, self.level_instances = path, instances
        self.graph = level_graph(self.document, path)
        self.stack = LevelStack(self.root_stack, path) if path else self.root_stack
        self.scene.set_graph(self.graph, self.stack)
        if self._front_is(self._live_doc):  # the run's states of the nodes at this level (inner ones too)
            self.show_run_states()
        self.inspector.bind(self.graph, self.stack)
        self.breadcrumb.show_path([self.document.name or "Workflow", *path])
        self.check_timer.start()
        self.view.frame_all()

    def _level_still_there(self) -> None:
        """After an undo that removed the subgraph being shown, go back up to what is left."""
        try:
            shown = level_graph(self.document, self.level_path)
        except KeyError:
            shown = None
        if shown is not self.graph:
            self._show_level((), ())

    # -- runs -------------------------------------------------------------------------

    def level_item_for(self, flat_id: str):
        """(item, inner) for a run's node id: the node shown at this level, or the instance that holds it
        (inner=True), or (None, False) when it is elsewhere."""
        prefix = "/".join(self.level_instances)
        if prefix:
            if not flat_id.startswith(prefix + "/"):
                return None, False
            flat_id = flat_id[len(prefix) + 1:]
        head = flat_id.split("/", 1)[0]
        return self.scene.node_items.get(head), head != flat_id

    def flat_ids(self, ids) -> list[str]:
        """The run's names of nodes shown at this level (`upscaler/resize` inside `upscaler`)."""
        prefix = "/".join(self.level_instances)
        return [f"{prefix}/{n}" if prefix else n for n in ids]

    def output_source(self, node_id: str) -> str | None:
        """The run's name of the node whose outputs a shown node's preview shows: an instance shows what feeds its
        first output port."""
        flat = self.flat_ids([node_id])[0]
        node = self.graph.nodes.get(node_id)
        scopes = self.subgraph_scopes()
        while node is not None and is_instance(node.type):
            defn = lookup(definition_name(node.type), scopes)
            spec = next((p for p in defn.outputs if p.refs), None) if defn is not None else None
            if spec is None:
                return None
            scopes += (defn.graph.subgraphs,)
            node = defn.graph.nodes.get(spec.refs[0][0])
            flat = f"{flat}/{spec.refs[0][0]}"
        return flat

    def show_run_states(self, flat_ids=None) -> None:
        """Paint the nodes shown at this level from the run's state (`self.run_state`; all its nodes, or those in
        `flat_ids`): a node by its own state, an instance by the aggregate of the nodes inside it."""
        run = self.run_state
        shown = {}
        for flat_id in run.nodes if flat_ids is None else flat_ids:
            item, inner = self.level_item_for(flat_id)
            if item is not None:
                shown[item.node_id] = (item, inner, flat_id)
        for item, inner, flat_id in shown.values():
            node = run.group(self.flat_ids([item.node_id])[0]) if inner else run.nodes.get(flat_id)
            if node is not None:
                item.show_run_state(node)

    def issue_level_id(self, flat_id: str | None) -> str | None:
        """The id of the node an issue of the flat graph falls on at this level (an instance for what is in it)."""
        if not flat_id:
            return flat_id
        prefix = "/".join(self.level_instances)
        if prefix:
            if not flat_id.startswith(prefix + "/"):
                return None
            flat_id = flat_id[len(prefix) + 1:]
        return flat_id.split("/", 1)[0]


def _free_name(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)

