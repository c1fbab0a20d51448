"""The queue and history panel: runs waiting for their turn, and finished runs with thumbnails; double-click a
finished run to open the graph that made it."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from .history import HISTORY_LIMIT, HistoryEntry, RunHistory

ENTRY_ROLE = Qt.UserRole + 1
STATUS_MARK = {"succeeded": "✓", "failed": "✗", "cancelled": "■"}


class QueuePanel(QWidget):
    """Queued runs above (Delete removes one), finished runs below."""

    restore_requested = Signal(object)  # HistoryEntry

    def __init__(self, runner, history: RunHistory, parent=None):
        super().__init__(parent)
        self.runner, self.history = runner, history
        self.queue_label = QLabel("Queue")
        self.queued = QListWidget()
        self.remove_button = QPushButton("Remove from queue")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.finished = QListWidget()
        self.finished.setIconSize(QSize(64, 40))
        self.finished.setToolTip("Double-click a run to open the graph that made it")
        self.finished.itemActivated.connect(lambda item: self.restore_requested.emit(item.data(ENTRY_ROLE)))
        waiting = QVBoxLayout()  # side by side: the panel sits in the wide bottom dock area
        waiting.addWidget(self.queue_label)
        waiting.addWidget(self.queued, 1)
        waiting.addWidget(self.remove_button)
        done = QVBoxLayout()
        done.addWidget(QLabel("History (double-click to open a run's graph)"))
        done.addWidget(self.finished, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(waiting, 1)
        layout.addLayout(done, 3)
        runner.queue_changed.connect(self.refresh_queue)
        self.refresh_queue()
        self.refresh_history()

    def refresh_queue(self) -> None:
        self.queued.clear()
        current = self.runner.current
        if current is not None and self.runner.busy:
            self.queued.addItem(f"▶ running: {current.label or current.graph.name}")
        for i, job in enumerate(self.runner.pending, 1):
            self.queued.addItem(f"{i}. {job.label or job.graph.name}")
        self.queue_label.setText(f"Queue ({len(self.runner.pending)} waiting)")
        self.remove_button.setEnabled(bool(self.runner.pending))

    def _on_remove_clicked(self) -> None:
        row = self.queued.currentRow()
        offset = 1 if self.runner.current is not None and self.runner.busy else 0
        self.runner.remove_pending(row - offset if row >= offset else len(self.runner.pending) - 1)

    def refresh_history(self) -> None:
        self.finished.clear()
        for entry in self.history.entries():
            self.finished.addItem(self._history_item(entry))

    def add_history_entry(self, entry: HistoryEntry) -> None:
        """A run that just finished goes on top (the list is not rebuilt: that reads every thumbnail again)."""
        self.finished.insertItem(0, self._history_item(entry))
        while self.finished.count() > HISTORY_LIMIT:
            self.finished.takeItem(self.finished.count() - 1)

    def _history_item(self, entry: HistoryEntry) -> QListWidgetItem:
        when = time.strftime("%d %b %H:%M", time.localtime(entry.finished))
        files = ", ".join(f.rsplit("/", 1)[-1] for f in entry.files[:2]) or entry.error[:60]
        item = QListWidgetItem(f"{STATUS_MARK.get(entry.status, '?')} {entry.name} · {when} · "
                               f"{entry.seconds:.1f} s\n{files}")
        item.setData(ENTRY_ROLE, entry)
        item.setToolTip("\n".join(entry.files) or entry.error or entry.status)
        thumb = self.history.thumbnail_path(entry)
        if thumb is not None:
            item.setIcon(QIcon(str(thumb)))  # read when the row is first painted, not for every row at start-up
        return item
