"""Sweep a param from the editor: a dialog takes its values (a list, a whole-number range, or one a line), queues
one run per value into its own folder, and shows the contact sheet of the variants when the last one finishes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from nodegraph.errors import KinographError, ValidationError
from nodegraph.graph import Graph
from nodegraph.registry import NodeRegistry
from nodegraph.sweep import Variant, expand, parse_sweeps

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")


class SweepDialog(QDialog):
    """Values for one param; OK is on while they are all valid, and says how many runs they make."""

    def __init__(self, graph: Graph, registry: NodeRegistry, node_id: str, param: str, parent=None):
        super().__init__(parent)
        self.graph, self.registry, self.ref = graph, registry, f"{node_id}.{param}"
        self.setWindowTitle(f"Sweep {self.ref}")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Run the graph once per value of <b>{self.ref}</b>: values separated by commas "
                                "(1, 2, 3), a whole-number range (1..8), or one value a line (for text)."))
        self.values = QPlainTextEdit()
        self.values.setPlaceholderText("1..4   or   0.5, 1.0, 1.5   or one prompt a line")
        layout.addWidget(self.values)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Queue runs")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.values.textChanged.connect(self._check)
        self._variants: list[Variant] = []
        self._check()

    def _spec(self):
        text = self.values.toPlainText()
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:
            return (self.ref, lines)
        return f"{self.ref}={text.strip()}"

    def _check(self) -> None:
        self._variants = []
        ok = self.buttons.button(QDialogButtonBox.Ok)
        if not self.values.toPlainText().strip():
            self.status.setText("")
            ok.setEnabled(False)
            return
        try:
            self._variants = expand(parse_sweeps([self._spec()], self.graph, self.registry))
        except ValidationError as exc:
            self.status.setStyleSheet("color: #ef5350")
            # the command line's messages begin by quoting the --sweep they are about: here that is the box
            self.status.setText("; ".join(issue.message.split("': ", 1)[-1] for issue in exc.issues))
            ok.setEnabled(False)
            return
        self.status.setStyleSheet("")
        self.status.setText(f"{len(self._variants)} runs, each into its own folder; a contact sheet at the end")
        ok.setEnabled(True)

    def variants(self) -> list[Variant]:
        return list(self._variants)


class ContactSheetDialog(QDialog):
    """The middle frame of a sweep's contact sheet, and where its files are."""

    def __init__(self, files: list[Path], parent=None):
        super().__init__(parent)
        self.files = files
        self.setWindowTitle("Sweep: contact sheet")
        layout = QVBoxLayout(self)
        self.picture = QLabel()
        png = next((f for f in files if f.suffix == ".png"), None)
        if png is not None:
            self.picture.setPixmap(QPixmap(str(png)))
        self.picture.setAlignment(Qt.AlignCenter)
        layout.addWidget(self.picture)
        where = QLabel("<br>".join(str(f) for f in files))
        where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(where)
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)


class SweepLauncher(QObject):
    """Queues a sweep's runs on the window's runner and makes the contact sheet when the last one is done."""

    sheet_ready = Signal(object)  # the contact sheet's files; empty when no variant wrote a video
    failed = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.sheet: ContactSheetDialog | None = None
        self._waiting: dict[int, tuple[Variant, dict]] = {}  # id of the queued graph -> its variant and sweep
        window.runner.run_recorded.connect(self._on_runner_recorded)

    def open(self, node_id: str, param: str) -> SweepDialog:
        dialog = SweepDialog(self.window.graph, self.window.registry, node_id, param, self.window)
        dialog.accepted.connect(lambda: self.queue(dialog.variants()))
        dialog.open()
        return dialog

    def queue(self, variants: list[Variant]) -> Path:
        """Queue one run per variant into a new `sweep_N` folder of the output folder; the folder."""
        runner = self.window.runner
        root = Path(runner.scheduler.output_dir)
        n = 1
        while (root / f"sweep_{n}").exists():
            n += 1
        folder = root / f"sweep_{n}"
        folder.mkdir(parents=True)
        sweep = {"folder": folder, "left": len(variants), "tiles": []}
        for variant in variants:
            how = runner.submit(variant.apply(self.window.graph), label=f"sweep: {variant.label}",
                                output_dir=folder / variant.name, document=self.window.tab)
            job = runner.current if how == "started" else runner.pending[-1]
            self._waiting[id(job.graph)] = (variant, sweep)
        return folder

    def _on_runner_recorded(self, job, result) -> None:
        found = self._waiting.pop(id(job.graph), None)
        if found is None:
            return
        variant, sweep = found
        sweep["left"] -= 1
        if not isinstance(result, BaseException) and result.ok:
            video = next((Path(p) for p in result.files if Path(p).suffix.lower() in VIDEO_SUFFIXES), None)
            if video is not None:
                sweep["tiles"].append((variant.index, variant.label, video))
        if sweep["left"]:
            return
        tiles = [(label, path) for _, label, path in sorted(sweep["tiles"], key=lambda t: t[0])]
        try:
            services = self.window.registry.services
            files = services.require("contact_sheet", "the contact sheet")(tiles, sweep["folder"]) if tiles else []
        except KinographError as exc:
            self.failed.emit(f"no contact sheet: {exc}")
            return
        self.sheet_ready.emit(files)
        if files:
            self.sheet = ContactSheetDialog(files, self.window)
            self.sheet.show()
