"""The main window: canvas, palette, inspector, preview, run log, toolbar, menus and status bar."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QCursor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
)

from nodegraph import events as ev
from nodegraph.edits import Disconnect, SetGroup, SetParam, UndoStack
from nodegraph.errors import ValidationError, WorkflowError
from nodegraph.graph import Graph
from nodegraph.metrics import Metrics
from nodegraph.registry import NodeRegistry, default_registry
from nodegraph.run_state import RunState
from nodegraph.validate import find_issues, find_notices
from nodegraph.workflow import dumps_workflow, loads_workflow

from . import comfy_import
from .canvas import GraphScene, GraphView
from .canvas.node_item import WIDTH as NODE_WIDTH
from .canvas.wire_item import WIRE_STYLES, set_wire_style
from .commands import EditActions
from .context_menus import ContextMenus, InsertOn
from .files import FileActions, history_dir, settings, user_subgraphs_dir
from .history import RunHistory
from .inline_editor import InlineEditor
from .inspector import Inspector
from .models_folders import SettingsDialog
from .node_search import NodeSearch
from .palette import Palette
from .preview_panel import PreviewPanel
from .queue_panel import QueuePanel
from .run_log import RunLog, RunLogPanel
from .runner import RunController
from .shortcuts import SHORTCUTS, shortcuts_html
from .subgraph_library import SubgraphLibrary
from .subgraph_view import Breadcrumb, ScopedRegistry, SubgraphActions
from .sweep import SweepLauncher
from .tabs import TabActions

AUTOSAVE_MS = 30_000
CHECK_DELAY_MS = 300  # validation runs this long after the last edit
_TEXT_ENTRY = (QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit)


def _inner(issue) -> str:
    """An issue's message, saying which node inside a subgraph it is about."""
    inner = (issue.node_id or "").partition("/")[2]
    return f"{inner}: {issue.message}" if inner else issue.message


def _single_key(sequence: QKeySequence) -> bool:
    """A shortcut of one key without Ctrl, Alt or Meta (M, F, Delete, Home); F1 and Escape stay window-wide."""
    if sequence.count() != 1:
        return False
    combo = sequence[0]
    plain = not (combo.keyboardModifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier))
    return plain and combo.key() not in (Qt.Key_F1, Qt.Key_Escape)


class MainWindow(SubgraphActions, ContextMenus, TabActions, FileActions, EditActions, QMainWindow):
    """Workflows in tabs, one Scheduler (so re-runs after a param edit are partial) and one run queue."""

    def __init__(self, registry: NodeRegistry | None = None, *, device: str = "auto",
                 output_dir: str | Path = "outputs", restore_layout: bool = True):
        super().__init__()
        # The workflow is `document` on `root_stack`; `graph` and `stack` are the level shown (a subgraph entered).
        real = registry if registry is not None else default_registry()
        self.registry = ScopedRegistry(real, self.subgraph_scopes, SubgraphLibrary(real, user_subgraphs_dir))
        self.graph = self.document = Graph("Untitled")
        self.stack = self.root_stack = UndoStack(self.graph)
        self.path: Path | None = None
        self.opened_from: Path | None = None  # the video whose embedded workflow is open, until saved
        self.log = RunLog()
        self.scene = GraphScene(self.registry, self)
        self.view = GraphView(self.scene)
        self.palette = Palette(self.registry)
        self.palette.show_library(self.registry.library.classes())
        self.inspector = Inspector(self.registry)
        self.inspector.output_dir = Path(output_dir)
        self.preview = PreviewPanel(open_media=self.registry.services.open_media,
                                    open_sound=self.registry.services.open_sound)
        self.search = NodeSearch(self.registry, self)
        self.runner = RunController(self.registry, device=device, output_dir=output_dir, parent=self)
        self.history = RunHistory(history_dir())
        self.queue_panel = QueuePanel(self.runner, self.history)
        self.run_status = QLabel("Idle")
        self.run_state = RunState()  # the nodes of the last run (the running one), from its events
        self._live_doc = None  # the tab the running run came from
        self.setCentralWidget(self._tab_area())
        self._docks()
        self._actions()
        self._connect()
        self.statusBar().addPermanentWidget(self.run_status)
        self.check_timer = QTimer(self, interval=CHECK_DELAY_MS, singleShot=True)
        self.check_timer.timeout.connect(self.check_graph)
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.resize(1500, 920)
        self.setAcceptDrops(True)  # a workflow or a Kinograph video dropped anywhere on the window opens
        if restore_layout:
            self._restore_layout()
        self.set_graph(self.graph)

    # -- layout -----------------------------------------------------------------------

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _docks(self) -> None:
        self.palette_dock = self._dock("Nodes", self.palette, Qt.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.RightDockWidgetArea)
        self.preview_dock = self._dock("Preview", self.preview, Qt.RightDockWidgetArea)
        self.log_dock = self._dock("Run log", RunLogPanel(self.log), Qt.BottomDockWidgetArea)
        self.queue_dock = self._dock("Queue", self.queue_panel, Qt.BottomDockWidgetArea)
        self.tabifyDockWidget(self.log_dock, self.queue_dock)
        self.log_dock.raise_()
        self.resizeDocks([self.palette_dock, self.inspector_dock], [230, 330], Qt.Horizontal)
        self.resizeDocks([self.inspector_dock, self.preview_dock], [560, 340], Qt.Vertical)
        self.resizeDocks([self.log_dock], [140], Qt.Vertical)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        owner = self
        if shortcut:
            keys = [QKeySequence(k) for k in (shortcut if isinstance(shortcut, list) else [shortcut])]
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.WindowShortcut)
            if all(_single_key(k) for k in keys):
                # M, B, H, F, Delete...: only while the canvas has focus, so typing in the palette, a dock or a
                # dialog never mutes, bypasses or deletes a node.
                action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
                owner = self.view
        action.setToolTip(tip or text)
        action.triggered.connect(lambda checked=False: slot())
        menu.addAction(action)
        owner.addAction(action)
        return action

    def _actions(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        self._action(m, "&New", self.new_file, QKeySequence.New)
        self._action(m, "&Open…", self.open_dialog, QKeySequence.Open)
        self._action(m, "New &Tab", lambda: self.new_tab(), QKeySequence.AddTab)
        self._action(m, "Open in New Ta&b…", lambda: self.open_in_new_tab(), "Ctrl+Shift+O")
        self._action(m, "&Close Tab", lambda: self.close_tab(), QKeySequence.Close)
        self._action(m, "Next Tab", lambda: self.next_tab(1), ["Ctrl+Tab", "Ctrl+PgDown"])
        self._action(m, "Previous Tab", lambda: self.next_tab(-1), ["Ctrl+Shift+Tab", "Ctrl+PgUp"])
        self._action(m, "&Import ComfyUI Workflow…", self.import_comfyui_dialog, None)
        self.recent_menu = m.addMenu("Open &Recent")
        self.examples_menu = m.addMenu("&Examples")
        self._action(m, "&Browse Workflows…", self.browse_workflows, None)
        self._action(m, "&Missing Models…", self.show_missing_models, None)
        m.addSeparator()
        self._action(m, "&Save", self.save, QKeySequence.Save)
        self._action(m, "Save &As…", self.save_as, QKeySequence.SaveAs)
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.Quit)
        e = bar.addMenu("&Edit")
        self.undo_action = self._action(e, "&Undo", self.stack_undo, QKeySequence.Undo)
        self.redo_action = self._action(e, "&Redo", self.stack_redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        e.addSeparator()
        self._action(e, "Cu&t", self.cut_selected, QKeySequence.Cut)
        self._action(e, "&Copy", self.copy_selected, QKeySequence.Copy)
        self._action(e, "&Paste", self.paste, QKeySequence.Paste)
        self._action(e, "&Duplicate", self.duplicate_selected, "Ctrl+D")
        self._action(e, "De&lete", self.delete_selected, [QKeySequence(QKeySequence.Delete), "Backspace"])
        self._action(e, "Select &All", self.select_all, QKeySequence.SelectAll)
        e.addSeparator()
        self._action(e, "&Group Selection", self.group_selected, "Ctrl+G")
        self._action(e, "&Mute", lambda: self.set_mode_selected("mute"), "M")
        self._action(e, "&Bypass", lambda: self.set_mode_selected("bypass"), "B")
        self._action(e, "Co&llapse", self.toggle_collapse_selected, "H")
        e.addSeparator()
        self._action(e, "Se&ttings…", self.open_settings, QKeySequence.Preferences)
        v = bar.addMenu("&View")
        self._action(v, "Frame &Selection", self.view.frame_selection, "F")
        self._action(v, "Frame &All", self.view.frame_all, "Home")
        self._action(v, "Add Node…", self.open_search_at_cursor, None)
        self.minimap_action = self._action(
            v, "&Minimap", lambda: self.view.set_minimap(self.minimap_action.isChecked()), "Ctrl+Shift+M")
        self.minimap_action.setCheckable(True)
        styles = v.addMenu("&Wire Style")
        self.wire_style_actions = {}
        for style in WIRE_STYLES:
            action = styles.addAction(style.title(), lambda s=style: self.set_wire_style(s))
            action.setCheckable(True)
            self.wire_style_actions[style] = action
        saved = settings().value("view/wire_style", "spline")
        self.set_wire_style(saved if saved in WIRE_STYLES else "spline", remember=False)
        v.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.preview_dock, self.log_dock, self.queue_dock):
            v.addAction(dock.toggleViewAction())
        r = bar.addMenu("&Run")
        tools = self.addToolBar("Run")
        tools.setObjectName("RunToolbar")
        self.run_action = self._action(r, "▶ Run", self.run_all, "Ctrl+Return", "Run every output node")
        self.run_to_action = self._action(r, "▶| Run to Selected", self.run_to_selected, "Ctrl+Shift+Return",
                                          "Run what the selected node needs")
        self._action(r, "Run ×N…", self.run_many, None, "Queue several runs, each with every seed one higher")
        self.force_action = self._action(r, "Run Again (Force)", self.run_forced, "Ctrl+Shift+R",
                                         "Run the selected nodes (or every node) again, ignoring the cache")
        self.cancel_action = self._action(r, "■ Cancel", self.cancel_run, "Ctrl+.", "Stop the run")
        self.cancel_action.setEnabled(False)
        for action in (self.run_action, self.run_to_action, self.cancel_action):
            tools.addAction(action)
        e.addSeparator()
        self._action(e, "Make &Subgraph…", self.make_subgraph, "Ctrl+Shift+G",
                     "The selected nodes become one node; crossing wires become its ports")
        self._action(e, "&Unpack Subgraph", self.unpack_selected, None, "Put a subgraph's nodes back in its place")
        self._action(e, "Leave Subgraph", self.leave_subgraph, "Alt+Up", "Back to the graph around this subgraph")
        self.breadcrumb = Breadcrumb(self.leave_subgraph)
        self.addToolBarBreak()
        self.addToolBar(Qt.TopToolBarArea, self.breadcrumb)
        self.breadcrumb.hide()
        tools.addSeparator()
        tools.addWidget(QLabel(" Device "))
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu", "cuda"])
        self.device_box.setCurrentText(self.runner.scheduler.device)
        self.device_box.currentTextChanged.connect(self._on_device_changed)
        tools.addWidget(self.device_box)
        h = bar.addMenu("&Help")
        self._action(h, "&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self._action(h, "&About Kinograph", lambda: QMessageBox.about(
            self, "Kinograph", "Kinograph — a node editor for AI video generation."))
        self.rebuild_recent_menu()
        self.build_examples_menu()
        assert SHORTCUTS

    def focusNextPrevChild(self, forward: bool) -> bool:
        """Tab opens node search from anywhere in the window (the palette, a dock, a button); in a text or number
        field it moves to the next field as usual, and Shift+Tab always moves focus."""
        focus = self.focusWidget()
        if forward and not isinstance(focus, _TEXT_ENTRY) and not self.search.isVisible():
            self.open_search_at_cursor()
            return True
        return super().focusNextPrevChild(forward)

    def _connect(self) -> None:
        self.palette.node_activated.connect(lambda t: self._add_and_focus(t))
        self.view.node_dropped.connect(lambda t, pos: self._add_and_focus(t, pos))
        self.view.search_requested.connect(self._on_view_search_requested)
        self.view.files_dropped.connect(self._on_view_files_dropped)
        self.scene.search_requested.connect(self._on_scene_search_requested)
        self.scene.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.scene.rename_group_requested.connect(self._on_scene_rename_group)
        self.scene.edit_note_requested.connect(self.edit_note)
        self.scene.enter_requested.connect(self.enter_subgraph)
        self.scene.selectionChanged.connect(self._on_scene_selection_changed)
        self.search.chosen.connect(self._on_search_chosen)
        self.view.context_requested.connect(lambda where, pos: self.context_menu_at(pos).exec(where))
        self.view.wires_cut.connect(self._on_view_wires_cut)
        self.inline_editor = InlineEditor(self)
        self.log.node_requested.connect(self.focus_node)
        self.runner.bridge.event_received.connect(self._on_run_event)
        self.runner.run_done.connect(self._on_run_done)
        self.runner.run_started.connect(self._on_runner_started)
        self.runner.run_recorded.connect(self._on_runner_recorded)
        self.queue_panel.restore_requested.connect(self.restore_from_history)
        self.sweeps = SweepLauncher(self)
        self.inspector.sweep_requested.connect(self.sweeps.open)

    # -- graph ------------------------------------------------------------------------

    def set_graph(self, graph: Graph, dirty: bool = False) -> None:
        """Show `graph` as a fresh document in the tab in front (with self.path and self.opened_from as the
        caller set them): nothing of the tab's previous runs (results, previews, log, status) carries over, and
        the other tabs' runs go on. The scheduler's cache stays: its keys are content, so it is right for any
        graph."""
        self._reset_run_state()
        stack = UndoStack(graph)
        if dirty:
            stack._clean = None
        document = self.tab
        document.graph, document.stack, document.outputs, document.view = graph, stack, {}, None
        document.path, document.opened_from = self.path, self.opened_from
        self._show_document(document)
        QTimer.singleShot(0, self.view.frame_all)

    def _reset_run_state(self) -> None:
        """Forget the runs of the tab in front (stopping its running one); other tabs' runs carry on."""
        if hasattr(self, "documents"):
            self._forget_runs_of(self.tab)
        if self._live_doc is None or self._live_doc is self.tab or not self.runner.busy:
            self.run_state, self._live_doc = RunState(), None
            self._set_running(self.runner.busy)
            self.run_status.setText("Idle")
        self.log.clear()
        self.statusBar().clearMessage()

    def _on_stack_changed(self, edit, how: str) -> None:
        self.check_timer.start()
        if self.level_path:
            self._level_still_there()
        gone = [node_id for node_id in self.runner.outputs if node_id.split("/", 1)[0] not in self.document.nodes]
        for node_id in gone:  # a new node may take a deleted one's id: it must not show the old results
            del self.runner.outputs[node_id]
        self.undo_action.setEnabled(self.stack.can_undo)
        self.redo_action.setEnabled(self.stack.can_redo)
        self.undo_action.setText(f"&Undo {self.stack.undo_text}".strip())
        self.redo_action.setText(f"&Redo {self.stack.redo_text}".strip())
        self.update_title()
        self.view.set_empty(not self.graph.nodes)

    def check_graph(self) -> list:
        """Validate the graph as it is now and show the result on the nodes and wires (a cycle's wires in red,
        a model that is not downloaded), so a problem is seen before Run. Returns the problems."""
        self.check_timer.stop()
        issues = find_issues(self.document, self.registry)
        notices = find_notices(self.document, self.registry)
        for node_id, item in self.scene.node_items.items():
            item.set_checks([_inner(i) for i in issues if self.issue_level_id(i.node_id) == node_id],
                            [_inner(i) for i in notices if self.issue_level_id(i.node_id) == node_id])
        self.scene.mark_problem_wires(issues)
        return issues

    def stack_undo(self) -> None:
        self.stack.undo()

    def stack_redo(self) -> None:
        self.stack.redo()

    def focus_node(self, node_id: str) -> None:
        item = self.scene.node_items.get(node_id)
        if item is not None:
            self.select_nodes([node_id])
            self.view.frame_selection()

    def show_missing_models(self):
        """The models the workflow names that are not here, with their sizes and a Download button."""
        from .missing_models import MissingModelsDialog

        dialog = MissingModelsDialog(self)
        dialog.show()
        self._missing_dialog = dialog
        return dialog

    def set_wire_style(self, style: str, remember: bool = True) -> None:
        """Spline, straight or orthogonal wires (kept in the settings)."""
        set_wire_style(style)
        for name, action in self.wire_style_actions.items():
            action.setChecked(name == style)
        self.scene.redraw_wires()
        if remember:
            settings().setValue("view/wire_style", style)

    def _on_view_wires_cut(self, links: list) -> None:
        if links:
            self.stack.push(Disconnect(links))
            self.statusBar().showMessage(f"Cut {len(links)} wire(s)", 3000)

    def _on_search_chosen(self, type_id: str, scene_pos: QPointF, origin) -> None:
        if isinstance(origin, InsertOn):  # Insert Node on a wire
            self.insert_node(type_id, origin.link, scene_pos)
            self.view.setFocus(Qt.OtherFocusReason)
            return
        self._add_and_focus(type_id, scene_pos, origin)

    def _add_and_focus(self, type_id: str, scene_pos: QPointF | None = None, origin=None) -> str | None:
        """Add a node the user picked; the canvas takes focus, so the next key acts on the graph."""
        if origin is not None and scene_pos is not None and not origin[1].is_output:
            # dragged from an input: the new node feeds it, so it goes left of the drop point, not over the wire
            scene_pos = QPointF(scene_pos.x() - NODE_WIDTH - 20, scene_pos.y())
        node_id = self.add_node(type_id, scene_pos, origin)
        if node_id is not None:
            self.view.setFocus(Qt.OtherFocusReason)
            item = self.scene.node_items.get(node_id)
            if item is not None:  # a node dropped near the edge of the view is scrolled into sight
                self.view.ensureVisible(item.sceneBoundingRect(), 30, 30)
        return node_id

    # -- search -----------------------------------------------------------------------

    def open_search_at_cursor(self) -> None:
        pos = self.view.mapFromGlobal(QCursor.pos())
        if not self.view.viewport().rect().contains(pos):
            pos = self.view.viewport().rect().center()
        self._on_view_search_requested(self.view.mapToScene(pos))

    def _on_view_search_requested(self, scene_pos: QPointF) -> None:
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.search.open_at(global_pos, scene_pos)

    def _on_scene_search_requested(self, scene_pos: QPointF, origin) -> None:
        node_id, row = origin
        from nodegraph.types import is_compatible

        if row.is_output:
            accept = lambda cls: any(is_compatible(row.type, p.type) for p in cls.inputs)
        else:
            accept = lambda cls: any(is_compatible(p.type, row.type) for p in cls.outputs)
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.search.open_at(global_pos, scene_pos, origin, accept)

    def _on_scene_rename_group(self, index: int) -> None:
        title, ok = QInputDialog.getText(self, "Rename group", "Title", text=self.graph.groups[index].title)
        if ok:
            self.stack.push(SetGroup(index, title=title))

    def _on_view_files_dropped(self, paths: list) -> None:
        if paths and comfy_import.is_comfyui_file(paths[0]):  # a ComfyUI workflow, image or video: imported
            comfy_import.import_comfyui(self, paths[0])
        elif paths:
            self.open_file(paths[0])

    def import_comfyui_dialog(self) -> None:
        comfy_import.import_dialog(self)

    def ask_import_path(self, start: str) -> str:
        return comfy_import.ask_import_path(self, start)

    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._on_view_files_dropped(paths)

    def _on_scene_selection_changed(self) -> None:
        ids = self.scene.selected_ids()
        node_id = ids[0] if len(ids) == 1 else None
        self.inspector.show_node(node_id)
        shown = self.output_source(node_id) if node_id else None
        if shown and shown in self.runner.outputs:
            self.preview.show_outputs(node_id, self.runner.outputs[shown])
        elif node_id:
            self.preview.clear("Run the graph to see this node's output")

    # -- running ----------------------------------------------------------------------

    def run_all(self) -> bool:
        return self._start(None)

    def run_to_selected(self) -> bool:
        ids = self.scene.selected_ids()
        if not ids:
            self.statusBar().showMessage("Select a node to run up to it", 4000)
            return False
        return self._start(self.flat_ids(ids))

    def run_forced(self) -> bool:
        """Run every output again, recomputing the selected nodes and what they feed (all nodes when none is
        selected) instead of taking them from the cache."""
        ids = self.scene.selected_ids()
        if not ids:
            return self._start(None, force=[])
        ids = self.flat_ids(ids)
        outputs = [n.id for n in self.document.nodes.values() if n.mode == "normal"
                   and (cls := self.registry.get(n.type)) is not None and cls.is_output]
        return self._start(list(dict.fromkeys(outputs + ids)), force=ids)

    def _start(self, targets, force: list[str] | None = None, graph: Graph | None = None, label: str = "") -> bool:
        """Run the graph as it is now, or queue it behind the run that is going."""
        how = self.runner.submit(graph or self.document, targets, force, label or self.document.name,
                                 document=self.tab)
        if graph is None:
            self.apply_seed_rules()
        if how == "queued":
            waiting = len(self.runner.pending)
            self.statusBar().showMessage(f"Queued: {waiting} run(s) waiting", 4000)
            self.run_status.setText(f"Running… ({waiting} queued)")
        return True

    def apply_seed_rules(self) -> None:
        """After a Run is queued, seeds set to "+1" or "random" on their node change for the next one (the run
        keeps the seed it was queued with)."""
        changes = []
        for node in self.graph.nodes.values():
            rule = node.ui.get("seed_after")
            cls = self.registry.get(node.type)
            if rule not in ("increment", "randomize") or cls is None:
                continue
            for param in cls.params:
                if param.kind != "seed" or param.name in self.graph.links_into(node.id):
                    continue
                value = node.params.get(param.name, param.default)
                high = int(param.max if param.max is not None else 2**63 - 1)
                new = value + 1 if rule == "increment" else random.randint(int(param.min or 0), high)
                changes.append(SetParam(node.id, param.name, new if new <= high else int(param.min or 0)))
        if changes:
            with self.stack.macro("New seeds after Run"):
                for edit in changes:
                    self.stack.push(edit)

    def run_many(self, count: int | None = None) -> int:
        """Queue `count` runs of the graph as it is now, each with every seed param one higher than the last."""
        if count is None:
            count = self.ask_count()
        if not count:
            return 0
        for i in range(count):
            copy = self.document.copy()
            for node in copy.nodes.values():
                cls = self.registry.get(node.type)
                linked = copy.links_into(node.id)
                for param in (cls.params if cls else ()):
                    if param.kind == "seed" and param.name not in linked:
                        value = node.params.get(param.name, param.default) + i
                        node.params[param.name] = value if param.max is None or value <= param.max else param.min
            self._start(None, graph=copy, label=f"{self.document.name} #{i + 1} of {count}")
        return count

    def ask_count(self) -> int:
        count, ok = QInputDialog.getInt(self, "Run ×N", "Runs to queue (seeds go up by one each)", 4, 1, 100)
        return count if ok else 0

    def _on_runner_started(self, job) -> None:
        self._live_doc = job.document
        if self._front_is(job.document):
            for item in self.scene.node_items.values():
                item.set_state("idle")
        self._set_running(True)
        waiting = len(self.runner.pending)
        self.run_status.setText("Running…" + (f" ({waiting} queued)" if waiting else ""))

    def _on_runner_recorded(self, job, result) -> None:
        """Keep the finished run in the history with its graph, files and a thumbnail."""
        if isinstance(result, ValidationError):
            return  # nothing ran
        ok = not isinstance(result, BaseException)
        picture = None
        shown = ok and self._front_is(job.document)  # its pictures are on the canvas only when its tab is
        for node_id in reversed(result.executed + result.cached if shown else []):
            item = self.scene.node_items.get(node_id)
            if item is not None and item.thumbnail is not None:
                picture = item.thumbnail
                break
        entry = self.history.record(
            status=result.status if ok else "failed", seconds=result.wall_seconds if ok else 0.0,
            name=job.label or job.graph.name, files=[str(f) for f in result.files + result.kept] if ok else [],
            workflow_json=dumps_workflow(job.graph, self.registry, absolute_paths=True), thumbnail=picture,
            error="" if ok and result.error is None else str(result.error or result))
        self.queue_panel.add_history_entry(entry)

    def restore_from_history(self, entry) -> bool:
        """Open the graph a finished run ran, as an untitled copy."""
        if not self.maybe_save():
            return False
        try:
            graph = loads_workflow(self.history.workflow_text(entry), self.registry, source=entry.name)
        except (OSError, WorkflowError) as exc:
            self.show_error("Cannot open this run", str(exc))
            return False
        self.path = self.opened_from = None
        self.set_graph(graph, dirty=True)
        self.log.add("info", f"Opened the graph of the run '{entry.name}' ({entry.status})")
        return True

    def _set_running(self, running: bool) -> None:
        self.cancel_action.setEnabled(running)  # Run stays on: while a run goes, it queues the next

    def cancel_run(self) -> None:
        if self.runner.busy:
            self.runner.cancel()
            self.run_status.setText("Cancelling…")

    def _on_device_changed(self, device: str) -> None:
        self.runner.scheduler.device = device

    def _front_is(self, document) -> bool:
        """Whether a run from `document` shows on the canvas now (runs from no tab do)."""
        return document is None or document is self.tab

    def _on_run_event(self, event) -> None:
        run = self.run_state
        if isinstance(event, (ev.NodePreview, ev.NodeProgress)) and (run.run_id is None or not run.follows(event)):
            return  # a stream pulled after its run (by the preview panel) still reports; ignore it
        changed = run.apply(event)
        if isinstance(event, ev.RunStarted):
            self.log.add("info", f"Run started: {len(event.nodes)} node(s)")
        if not self._front_is(self._live_doc):
            return  # a run of a tab at the back: its nodes are not on the canvas
        self.show_run_states(changed)
        if not isinstance(event, (ev.RunStarted, ev.RunFinished)):
            self._log_run_event(event)

    def _log_run_event(self, event) -> None:
        """What a node's event adds besides its state: pictures, and lines in the log (those of a node inside an
        instance lead to the instance)."""
        item, inner = self.level_item_for(event.node_id)
        if item is None:
            if isinstance(event, ev.NodeFailed):
                self.log.add("error", f"{event.node_id} failed: {event.error}", event.node_id)
            return
        at = item.node_id if inner else event.node_id
        if isinstance(event, ev.NodePreview):
            if event.frames is not None:
                item.set_thumbnail(event.frames)
                if not inner and event.node_id in self.scene.selected_ids():
                    self.preview.show_live(event.node_id, event.frames, event.fps)
        elif isinstance(event, ev.NodeMessage):
            self.log.add(event.level, f"{event.node_id}: {event.message}", at)
        elif isinstance(event, ev.NodeSkipped):
            if not inner and event.reason != "muted":  # a muted node is skipped on purpose; what it holds back is news
                self.log.add("warning", f"{item.title} ({event.node_id}) {event.reason}", event.node_id)
        elif isinstance(event, ev.NodeFinished):
            if not inner and not event.cached:
                self.log.add("info", f"{event.node_id} done in {event.seconds:.2f} s", event.node_id)
        elif isinstance(event, ev.NodeFailed):
            self.log.add("error", f"{event.node_id} failed: {event.error}", at)

    def _on_run_done(self, result) -> None:
        self._set_running(False)
        if not self._front_is(self._live_doc):
            status = getattr(result, "status", "failed")
            tab = self._live_doc.path.name if self._live_doc.path else self._live_doc.graph.name
            self.log.add("info", f"A run of the tab '{tab}' {status}; its results are on that tab")
            self.run_status.setText(f"Run {status} (tab '{tab}')")
            return
        for item in self.scene.node_items.values():
            if item.state in ("queued", "running"):
                item.set_state("idle")
        if isinstance(result, ValidationError):
            self.scene.mark_problem_wires(result.issues)
            for issue in result.issues:
                if issue.node_id in self.scene.node_items:
                    self.scene.node_items[issue.node_id].set_state("failed", str(issue))
                self.log.add("error", str(issue), issue.node_id)
            self.run_status.setText("Not run: the graph has problems")
            return
        if isinstance(result, BaseException):
            self.log.add("error", f"Run failed: {result}")
            self.run_status.setText("Failed")
            return
        for node_id, outputs in result.outputs.items():
            item, inner = self.level_item_for(node_id)
            if item is None or inner:
                continue
            for value in outputs.values():
                if isinstance(value, Metrics):
                    item.set_metrics(value.numbers())
            if item.thumbnail is None:
                self._thumbnail_from_output(item, outputs)
        for path in result.files:
            self.log.add("success", f"Wrote {path}")
        for path in result.kept:
            self.log.add("info", f"Kept {path} (nothing it depends on changed)")
        level = {"succeeded": "success", "cancelled": "warning"}.get(result.status, "error")
        self.log.add(level, f"Run {result.status} in {result.wall_seconds:.2f} s")
        self.run_status.setText(f"Run {result.status} ({result.wall_seconds:.1f} s)")
        self._on_scene_selection_changed()

    def _thumbnail_from_output(self, item, outputs: dict) -> None:
        from nodegraph.media import Image

        render_metrics = self.registry.services.render_metrics
        for value in outputs.values():
            if isinstance(value, Image):
                item.set_thumbnail(value.array)
                return
            if render_metrics is not None and isinstance(value, Metrics) and value.curves:
                picture = render_metrics(value)  # a cached or reopened eval node still shows its curves
                if picture is not None:
                    item.set_thumbnail(picture)
                    return

    # -- help and lifecycle -----------------------------------------------------------

    def open_settings(self) -> None:
        if SettingsDialog(self).exec():
            self.inspector.show_node(self.inspector.node_id)  # the pickers list the new folders' files

    def show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(shortcuts_html())
        box.show()
        self._shortcuts_box = box

    def _restore_layout(self) -> None:
        s = settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        if not self.close_all_tabs():
            event.ignore()
            return
        if self.runner.busy:
            self.runner.cancel()
            self.runner.wait(5.0)
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        for document in self.documents:
            self.discard_autosave(document)
        self.preview.shutdown()
        event.accept()
