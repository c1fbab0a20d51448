"""File → Missing Models: every model the workflow names that is not on this machine, with its download size,
fetched from the Hugging Face Hub with per-model progress and cancel (or found through a models folder)."""

from __future__ import annotations

import re
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from nodegraph.errors import CancelledError, KinographError
from nodegraph.validate import find_notices

MODEL_IN_NOTICE = re.compile(r"^not downloaded: \w+ '([^']+)'")


def missing_models(graph, registry) -> list[tuple[str, str]]:
    """(node id, model id) for each model the graph names that is not downloaded, in node order."""
    found = []
    for notice in find_notices(graph, registry):
        match = MODEL_IN_NOTICE.match(notice.message)
        if match and match.group(1) not in [m for _, m in found]:
            found.append((notice.node_id, match.group(1)))
    return found


def show_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class _Worker(QObject):
    sized = Signal(str, object)  # model id, total bytes or an error text
    progressed = Signal(str, int, int)
    finished = Signal(str, object)  # model id, None or an error text


class MissingModelsDialog(QDialog):
    COLUMNS = ("model", "needed by", "size", "progress")

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Missing models")
        self.resize(760, 320)
        self.models = missing_models(window.graph, window.registry)
        self.plan = window.registry.services.fetch_plan
        self.fetch = window.registry.services.fetch_model
        self.worker = _Worker()
        self.worker.sized.connect(self._on_worker_sized)
        self.worker.progressed.connect(self._on_worker_progressed)
        self.worker.finished.connect(self._on_worker_finished)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.table = QTableWidget(len(self.models), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([c.title() for c in self.COLUMNS])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.bars: dict[str, QProgressBar] = {}
        self.status: dict[str, str] = {}
        for row, (node_id, model) in enumerate(self.models):
            self.table.setItem(row, 0, QTableWidgetItem(model))
            self.table.setItem(row, 1, QTableWidgetItem(node_id))
            self.table.setItem(row, 2, QTableWidgetItem("…"))
            bar = QProgressBar()
            bar.setFormat("waiting")
            self.table.setCellWidget(row, 3, bar)
            self.bars[model] = bar
        self.table.resizeColumnsToContents()
        note = QLabel("Downloads go to the Hugging Face cache, as model.load's first run would fetch them. Models "
                      "you already have as files: point Edit → Settings at your models folder instead." if
                      self.models else "Every model this workflow names is on this machine.")
        note.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.setEnabled(bool(self.models) and self.fetch is not None)
        self.download_button.clicked.connect(self.download_all)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel.set)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.addButton(self.download_button, QDialogButtonBox.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        if self.models and self.plan is not None:
            threading.Thread(target=self._size_all, daemon=True, name="kinograph-model-sizes").start()

    # -- worker threads -----------------------------------------------------------------

    def _size_all(self) -> None:
        for _, model in self.models:
            try:
                total = sum(size for _, size in self.plan(model))
            except KinographError as exc:
                total = str(exc)
            self.worker.sized.emit(model, total)

    def download_all(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._cancel.clear()
        self.download_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._thread = threading.Thread(target=self._fetch_all, daemon=True, name="kinograph-model-download")
        self._thread.start()

    def _fetch_all(self) -> None:
        for _, model in self.models:
            if self.status.get(model) == "done":
                continue
            try:
                self.fetch(model, lambda done, total, m=model: self.worker.progressed.emit(m, done, total),
                           self._cancel.is_set)
                self.worker.finished.emit(model, None)
            except CancelledError:
                self.worker.finished.emit(model, "cancelled")
                return
            except KinographError as exc:
                self.worker.finished.emit(model, str(exc))

    def wait(self, timeout: float = 60.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # -- GUI thread ---------------------------------------------------------------------

    def _row(self, model: str) -> int:
        return next(i for i, (_, m) in enumerate(self.models) if m == model)

    def _on_worker_sized(self, model: str, total) -> None:
        text = show_size(total) if isinstance(total, int) else "unknown"
        item = self.table.item(self._row(model), 2)
        item.setText(text)
        if not isinstance(total, int):
            item.setToolTip(total)

    def _on_worker_progressed(self, model: str, done: int, total: int) -> None:
        bar = self.bars[model]
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * done / total) if total else 0)
        bar.setFormat(f"{show_size(done)} of {show_size(total)}")

    def _on_worker_finished(self, model: str, problem) -> None:
        bar = self.bars[model]
        self.status[model] = "done" if problem is None else problem
        if problem is None:
            bar.setRange(0, 1)
            bar.setValue(1)
            bar.setFormat("downloaded")
        else:
            bar.setFormat(problem if problem == "cancelled" else "failed")
            bar.setToolTip(problem)
            self.window.log.add("error" if problem != "cancelled" else "warning", f"{model}: {problem}")
        if problem == "cancelled" or all(m in self.status for _, m in self.models):
            self.cancel_button.setEnabled(False)
            self.download_button.setEnabled(any(s != "done" for s in self.status.values())
                                            or len(self.status) < len(self.models))
            self.window.check_graph()

    def closeEvent(self, event) -> None:
        self._cancel.set()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)
