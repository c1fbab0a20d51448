"""File → Browse Workflows: the shipped workflows and the user's own folder of them as cards, each with a
miniature of its graph, its description, and the models it needs with whether they are on this machine.
Opening one makes an untitled copy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from nodegraph.errors import WorkflowError
from nodegraph.validate import find_notices
from nodegraph.workflow import load_workflow

from . import theme

THUMB = QSize(220, 110)
PATH_ROLE = Qt.UserRole + 1


@dataclass
class Template:
    path: Path
    name: str
    description: str
    models: list[tuple[str, bool]]  # (model, on this machine)
    miniature: QPixmap


def read_template(path: Path, registry) -> Template | None:
    """A card for a workflow file; None when it does not load (a broken file is left out, not fatal)."""
    try:
        graph = load_workflow(path, registry)
    except (WorkflowError, OSError):
        return None
    missing = {i.node_id for i in find_notices(graph, registry) if i.message.startswith("not downloaded")}
    models = []
    for node in graph.nodes.values():
        source = node.params.get("source")
        if node.type == "model.load" and isinstance(source, str) and source:
            models.append((source, node.id not in missing))
    description = graph.meta.get("description", "") if isinstance(graph.meta.get("description"), str) else ""
    return Template(path, graph.name or path.stem, description, models, miniature(graph, registry))


def miniature(graph, registry) -> QPixmap:
    """The graph's layout drawn small: each node a block in its category's colour, each link a line."""
    pix = QPixmap(THUMB)
    pix.fill(QColor("#15181d"))
    boxes = {}
    for node in graph.nodes.values():
        x, y = float(node.ui.get("x", 0.0)), float(node.ui.get("y", 0.0))
        boxes[node.id] = QRectF(x, y, 210, 90)
    if not boxes:
        return pix
    world = QRectF()
    for box in boxes.values():
        world = world.united(box)
    world.adjust(-40, -40, 40, 40)
    s = min(THUMB.width() / world.width(), THUMB.height() / world.height())
    ox = (THUMB.width() - world.width() * s) / 2
    oy = (THUMB.height() - world.height() * s) / 2

    def mapped(r: QRectF) -> QRectF:
        return QRectF(ox + (r.x() - world.x()) * s, oy + (r.y() - world.y()) * s, r.width() * s, r.height() * s)

    painter = QPainter(pix)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(QColor("#607d8b"))
    for link in graph.links:
        if link.src in boxes and link.dst in boxes:
            a, b = mapped(boxes[link.src]), mapped(boxes[link.dst])
            painter.drawLine(a.right(), a.center().y(), b.left(), b.center().y())
    for node_id, box in boxes.items():
        cls = registry.get(graph.nodes[node_id].type)
        painter.fillRect(mapped(box), theme.category_colour(cls.category if cls else "Utility"))
    painter.end()
    return pix


class TemplateBrowser(QDialog):
    """Cards from each folder; double-click or Open makes an untitled copy in the window."""

    def __init__(self, window, folders: list[Path]):
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Browse workflows")
        self.resize(1000, 640)
        self.cards = QListWidget()
        self.cards.setViewMode(QListWidget.IconMode)
        self.cards.setIconSize(THUMB)
        self.cards.setGridSize(QSize(THUMB.width() + 24, THUMB.height() + 120))
        self.cards.setWordWrap(True)
        self.cards.setResizeMode(QListWidget.Adjust)
        self.cards.setMovement(QListWidget.Static)
        self.cards.itemActivated.connect(lambda item: self.open_card(item))
        self.templates: list[Template] = []
        for folder in folders:
            for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                card = read_template(path, window.registry)
                if card is not None:
                    self.templates.append(card)
                    self.cards.addItem(self._item(card))
        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Close)
        buttons.accepted.connect(lambda: self.open_card(self.cards.currentItem()))
        buttons.rejected.connect(self.reject)
        user = folders[-1]
        folder_button = QPushButton("Your workflows folder")
        folder_button.setToolTip(f"{user}: workflows you put there are listed here too")
        folder_button.clicked.connect(lambda: (user.mkdir(parents=True, exist_ok=True),
                                               QDesktopServices.openUrl(QUrl.fromLocalFile(str(user)))))
        buttons.addButton(folder_button, QDialogButtonBox.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Opening a workflow makes an untitled copy; the file itself never changes."))
        layout.addWidget(self.cards, 1)
        layout.addWidget(buttons)

    @staticmethod
    def _item(card: Template) -> QListWidgetItem:
        needs = "; ".join(f"{m} ({'here' if present else 'not downloaded'})" for m, present in card.models)
        text = f"{card.name}\n{needs or 'needs no model'}"
        item = QListWidgetItem(QIcon(card.miniature), text)
        item.setData(PATH_ROLE, str(card.path))
        item.setToolTip(f"{card.description}\n\n{card.path}" if card.description else str(card.path))
        item.setTextAlignment(Qt.AlignHCenter | Qt.AlignTop)
        return item

    def open_card(self, item) -> bool:
        if item is None:
            return False
        if self.window.open_example(Path(item.data(PATH_ROLE))):
            self.accept()
            return True
        return False
