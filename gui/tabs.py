"""Several workflows open at once, one tab each: every tab keeps its own graph, undo stack, file, run results
and view; the canvas, inspector, preview and run queue are shared and show the tab in front.

A run belongs to the tab it was started from: switching tabs never cancels it, its progress and previews show
only on that tab's nodes, and its results go back to that tab. Copy and paste between tabs goes through the
clipboard, as within one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QTabBar, QVBoxLayout, QWidget

from nodegraph.edits import UndoStack
from nodegraph.graph import Graph
from nodegraph.metrics import Metrics


@dataclass(eq=False)
class Document:
    """One open workflow: its graph and undo stack, where it lives, its run results and how it was viewed."""

    graph: Graph
    stack: UndoStack
    path: Path | None = None
    opened_from: Path | None = None
    outputs: dict[str, dict] = field(default_factory=dict)  # node id -> outputs of the last run that reached it
    view: tuple[QTransform, QPointF] | None = None

    @property
    def pristine(self) -> bool:
        """A fresh Untitled tab nobody has touched: opening a file may take its place."""
        return self.path is None and self.opened_from is None and not self.graph.nodes and self.stack.is_clean()


class TabActions:
    """Mixed into MainWindow: expects self.graph, self.stack, self.path, self.opened_from, self.view, self.scene,
    self.inspector, self.preview, self.runner and the FileActions."""

    def _tab_area(self) -> QWidget:
        """The tab bar over the canvas, as the window's central widget."""
        self.documents: list[Document] = [Document(self.graph, self.stack)]
        self.tab_bar = QTabBar(tabsClosable=True, movable=True, documentMode=True, expanding=False)
        self.tab_bar.setObjectName("DocumentTabs")
        self.tab_bar.addTab("Untitled")
        self.tab_bar.currentChanged.connect(self._on_tab_changed)
        self.tab_bar.tabCloseRequested.connect(self.close_tab)
        self.tab_bar.tabMoved.connect(self._on_tab_moved)
        area = QWidget()
        layout = QVBoxLayout(area)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tab_bar)
        layout.addWidget(self.view)
        return area

    @property
    def tab(self) -> Document:
        """The tab in front."""
        return self.documents[self.tab_bar.currentIndex()]

    # -- opening and closing ------------------------------------------------------------

    def new_tab(self, graph: Graph | None = None) -> Document:
        """A new tab in front, empty or on `graph` (clean: nothing in it is unsaved work yet)."""
        self._leave_document()
        graph = graph if graph is not None else Graph("Untitled")
        document = Document(graph, UndoStack(graph))
        self.documents.append(document)
        self._switching = True
        try:
            index = self.tab_bar.addTab(graph.name or "Untitled")
            self.tab_bar.setCurrentIndex(index)
        finally:
            self._switching = False
        self._show_document(document)
        return document

    def open_in_new_tab(self, path=None) -> bool:
        """Ask for a workflow (or take `path`) and open it in a tab of its own; the tab in front is reused when
        it is a fresh Untitled one."""
        if path is None:
            start = str(self.path.parent) if self.path else str(Path.cwd())
            path = self.ask_open_path(start)
            if not path:
                return False
        if not self.tab.pristine:
            self.new_tab()
        return self.open_file(path, ask=False)

    def close_tab(self, index: int | None = None) -> bool:
        """Close a tab (the one in front by default), asking about unsaved changes; False when the person keeps
        it. The last tab closed leaves a fresh Untitled one."""
        index = self.tab_bar.currentIndex() if index is None else index
        if index != self.tab_bar.currentIndex():
            self.tab_bar.setCurrentIndex(index)
        if not self.maybe_save():
            return False
        document = self.tab
        self.discard_autosave()
        self._forget_runs_of(document)
        if len(self.documents) == 1:
            self.path = self.opened_from = None
            self.set_graph(Graph("Untitled"))
            return True
        self._switching = True
        try:
            self.documents.pop(index)
            self.tab_bar.removeTab(index)
        finally:
            self._switching = False
        self._show_document(self.tab)
        return True

    def close_all_tabs(self) -> bool:
        """Ask about each tab with unsaved changes, front to back; False (and nothing closed) on Cancel."""
        for index in range(len(self.documents)):
            self.tab_bar.setCurrentIndex(index)
            if not self.tab.stack.is_clean() and not self.maybe_save():
                return False
        return True

    # -- switching ----------------------------------------------------------------------

    def _on_tab_changed(self, index: int) -> None:
        if getattr(self, "_switching", False) or not 0 <= index < len(self.documents):
            return
        previous = getattr(self, "_front", None)
        if previous is not None and previous is not self.documents[index] and previous in self.documents:
            self._leave_document(previous)
        self._show_document(self.documents[index])

    def _on_tab_moved(self, source: int, target: int) -> None:
        self.documents.insert(target, self.documents.pop(source))

    def _leave_document(self, document: Document | None = None) -> None:
        """Keep what the window holds of the tab going to the back: its file and view; its unsaved work is
        autosaved now rather than at the next tick."""
        document = document or getattr(self, "_front", None) or self.tab
        document.path, document.opened_from = self.path, self.opened_from
        document.view = (self.view.transform(), self.view.mapToScene(self.view.viewport().rect().center()))
        self.inline_editor.close(commit=True)
        self.autosave()

    def _show_document(self, document: Document) -> None:
        """Put `document` in front: the canvas, inspector and title show it; its runs keep going."""
        self._front = document
        # a tab comes to the front at its workflow's top level (subgraphs: `document` and `root_stack`)
        self.graph = self.document = document.graph
        self.stack = self.root_stack = document.stack
        self.level_path, self.level_instances = (), ()
        self.breadcrumb.show_path([document.graph.name])
        self.path, self.opened_from = document.path, document.opened_from
        self.runner.outputs = document.outputs
        if getattr(self, "_stack_unsubscribe", None):
            self._stack_unsubscribe()
        self._stack_unsubscribe = self.stack.subscribe(self._on_stack_changed)
        self.scene.set_graph(document.graph, document.stack)
        self.inspector.bind(document.graph, document.stack)
        self.preview.clear()
        self._on_stack_changed(None, "")
        self._repaint_results(document)
        if document is self._live_doc:  # its last run's states, as they are now (the run may still be going)
            self.show_run_states()
        if document.view is not None:
            transform, centre = document.view
            self.view.setTransform(transform)
            self.view.centerOn(centre)
        else:
            self.view.frame_all()
        self._on_scene_selection_changed()

    def _repaint_results(self, document: Document) -> None:
        """Which nodes ran, their pictures and metrics, from the tab's last runs (its canvas was rebuilt)."""
        for node_id, outputs in document.outputs.items():
            item = self.scene.node_items.get(node_id)
            if item is None:
                continue
            item.set_state("done")
            for value in outputs.values():
                if isinstance(value, Metrics):
                    item.set_metrics(value.numbers())
            self._thumbnail_from_output(item, outputs)

    def _forget_runs_of(self, document: Document) -> None:
        """Drop a tab's queued runs, and stop its running one (nobody will see what it makes)."""
        job = self.runner.current
        if job is not None and job.document in (document, None) and self.runner.busy:
            self.runner.cancel()
            self.runner.wait(10.0)
        self.runner.forget(document)

    def refresh_tab_title(self) -> None:
        """The tab's label: the workflow's file name (or Untitled), with * while it has unsaved changes."""
        if not hasattr(self, "tab_bar"):
            return
        index = self.tab_bar.currentIndex()
        name = self.display_name()
        self.tab_bar.setTabText(index, name + (" *" if not self.stack.is_clean() else ""))
        self.tab_bar.setTabToolTip(index, str(self.path or self.opened_from or name))

    def next_tab(self, step: int = 1) -> None:
        count = self.tab_bar.count()
        if count > 1:
            self.tab_bar.setCurrentIndex((self.tab_bar.currentIndex() + step) % count)
