"""The models folder setting in the editor: the Settings dialog that keeps it, and the pickers that list its files."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
)

from nodegraph import models_dir
from nodegraph.node import Param

from .files import settings

SETTINGS_KEY = "models/folders"
_session_folders: list[str] = []  # `kinograph gui --models-dir`: for this session, before the saved ones


def saved_folders() -> list[str]:
    """The models folders saved in the editor's settings."""
    value = settings().value(SETTINGS_KEY, "")
    if isinstance(value, (list, tuple)):  # how an older QSettings backend may hand back a list
        return [str(v) for v in value if str(v).strip()]
    return [line for line in str(value or "").splitlines() if line.strip()]


def apply_models_folders(session: list[str] | None = None) -> None:
    """Make this process use `--models-dir` folders (kept for the session) and the saved ones; KINOGRAPH_MODELS
    follows them (nodegraph/models_dir.py)."""
    global _session_folders
    if session is not None:
        _session_folders = list(session)
    models_dir.set_models_dirs([*_session_folders, *saved_folders()])


class SettingsDialog(QDialog):
    """The editor's settings: the models folders (laid out like ComfyUI's models/) that file params take names from."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        layout = QVBoxLayout(self)
        about = QLabel("<b>Models folders</b><br>Folders laid out like ComfyUI's <i>models/</i> "
                       "(diffusion_models/, text_encoders/, vae/, loras/, upscale_models/, …). File settings "
                       "of nodes then take a name from them, and their pickers list the files.")
        about.setWordWrap(True)
        layout.addWidget(about)
        self.folders = QListWidget()
        self.folders.addItems(saved_folders())
        layout.addWidget(self.folders)
        buttons = QHBoxLayout()
        add, remove = QPushButton("Add Folder…"), QPushButton("Remove")
        add.clicked.connect(self._on_add_clicked)
        remove.clicked.connect(self._on_remove_clicked)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        extra = [*_session_folders, *models_dir.parse_folders(os.environ.get(models_dir.ENV, ""))]
        if extra:
            also = QLabel("Also searched (from --models-dir and " + models_dir.ENV + "): "
                          + ", ".join(str(f) for f in extra))
            also.setWordWrap(True)
            also.setEnabled(False)
            layout.addWidget(also)
        box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.resize(560, 320)

    def add_folder(self, folder: str) -> None:
        if folder and not self.folder_list().count(folder):
            self.folders.addItem(folder)

    def folder_list(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def _on_add_clicked(self) -> None:
        self.add_folder(QFileDialog.getExistingDirectory(self, "Models folder", str(Path.home())))

    def _on_remove_clicked(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    def accept(self) -> None:
        settings().setValue(SETTINGS_KEY, "\n".join(self.folder_list()))
        apply_models_folders()
        super().accept()


def models_combo(param: Param, value: str) -> QComboBox:
    """An editable list of the names the models folders hold for this param's kinds (type a path or id as well)."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.NoInsert)
    combo.setMinimumContentsLength(12)
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    names: dict[str, str] = {}
    for kind in param.models:
        for file in models_dir.list_files(kind):
            names.setdefault(file.name, f"{models_dir.KINDS[kind].title}: {file.path}")
    for name, where in names.items():
        combo.addItem(name)
        combo.setItemData(combo.count() - 1, where, Qt.ToolTipRole)
    combo.setEditText(str(value or ""))
    combo.setToolTip(param.tooltip)
    return combo


def short_name(param: Param, path: str) -> str:
    """A picked file as the name the models folders give it, when it lies in one of this param's kind folders
    (and the name finds exactly it); else the path unchanged."""
    for folder in models_dir.kind_folders(param.models):
        try:
            name = Path(path).relative_to(folder).as_posix()
        except ValueError:
            continue
        if models_dir.find(name, param.models) == [os.path.normpath(path)]:
            return name
    return path
