"""The inspector: typed editors built from the selected node's params."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nodegraph.edits import SetMode, SetParam, SetTitle, UndoStack
from nodegraph.graph import MODES, Graph
from nodegraph.node import Param
from nodegraph.params import NodeParams, resolve_params
from nodegraph.registry import NodeRegistry

from .big_int_spin_box import BigIntSpinBox
from .commands import expose_param
from .file_choice import choose_path, model_kind_menu
from .models_folders import models_combo

INT_LIMIT = 2**31 - 1
SLIDER_STEPS = 1000


class Inspector(QScrollArea):
    """Shows one node: title, mode, and an editor per param; edits go through the undo stack."""

    sweep_requested = Signal(str, str)  # node id, param name: the param's Sweep button

    def __init__(self, registry: NodeRegistry, parent=None):
        super().__init__(parent)
        self.registry = registry
        self.setWidgetResizable(True)
        # Rows shrink to the dock's width; a horizontal scrollbar would sit over the last rows' buttons.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.graph: Graph | None = None
        self.stack: UndoStack | None = None
        self.node_id: str | None = None
        self.editors: dict[str, QWidget] = {}
        self.input_toggles: dict[str, QToolButton] = {}
        self.problems: dict[str, QLabel] = {}
        self.output_dir: Path = Path("outputs")  # where runs write: save names are relative to it
        self._pushing = False
        self._unsubscribe = None
        self._build_empty()

    def bind(self, graph: Graph, stack: UndoStack) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.graph, self.stack = graph, stack
        self._unsubscribe = stack.subscribe(self._on_stack_changed)
        self.show_node(None)

    def _on_stack_changed(self, edit, how) -> None:
        if self._pushing or self.node_id is None or how == "record":
            return
        touched = edit.touched()
        if self.node_id not in self.graph.nodes:
            self.show_node(None)
        elif touched is None or self.node_id in touched:
            self.show_node(self.node_id)

    def _push(self, edit) -> None:
        self._pushing = True
        try:
            self.stack.push(edit)
        finally:
            self._pushing = False

    # -- building ---------------------------------------------------------------------

    def _build_empty(self) -> None:
        label = QLabel("Select a node to edit its settings.")
        label.setAlignment(Qt.AlignCenter)
        label.setEnabled(False)
        self.setWidget(label)

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.editors, self.input_toggles, self.problems = {}, {}, {}
        if node_id is None or self.graph is None or node_id not in self.graph.nodes:
            self.node_id = None
            self._build_empty()
            return
        node = self.graph.nodes[node_id]
        cls = self.registry.get(node.type)
        page = QWidget()
        outer = QVBoxLayout(page)
        head = QLabel(f"<b>{cls.display_name() if cls else node.type}</b> &nbsp; <i>{node.id}</i> · {node.type}")
        outer.addWidget(head)
        if cls is not None and cls.description():
            about = QLabel(cls.description())
            about.setWordWrap(True)
            about.setEnabled(False)
            outer.addWidget(about)
        form = QFormLayout()
        outer.addLayout(form)
        title = QLineEdit(node.title, placeholderText=cls.display_name() if cls else "")
        title.editingFinished.connect(lambda: title.text() != self.graph.nodes[node_id].title
                                      and self._push(SetTitle(node_id, title.text())))
        form.addRow("Title", title)
        mode = QComboBox()
        mode.addItems(list(MODES))
        mode.setCurrentText(node.mode)
        mode.currentTextChanged.connect(lambda m: self._push(SetMode([node_id], m)))
        form.addRow("Mode", mode)
        self.editors["__mode__"], self.editors["__title__"] = mode, title
        if cls is None:
            outer.addWidget(QLabel(f"Unknown node type {node.type!r}: no node pack provides it."))
        else:
            effective = resolve_params(self.graph, node_id, cls)  # what the run gets, from what the file holds
            linked = effective.linked
            as_inputs = set(node.ui.get("inputs", ()))
            for param in cls.params:
                value = effective.stated[param.name]
                label = QLabel(param.label or param.name.replace("_", " "))
                label.setToolTip(param.tooltip)
                row = QHBoxLayout()
                if param.name in linked:
                    src = linked[param.name]
                    editor = QLabel(f"fed by {src.from_ref}")
                    editor.setEnabled(False)
                else:
                    editor = self._editor(node_id, param, value, row)
                editor.setToolTip(_tooltip(param, value, effective))
                row.insertWidget(0, editor, 1)
                toggle = QToolButton(text="⇥")
                toggle.setCheckable(True)
                toggle.setChecked(param.name in as_inputs or param.name in linked)
                toggle.setEnabled(param.name not in linked)
                toggle.setToolTip("Show this setting as an input port, so a wire can drive it")
                toggle.toggled.connect(lambda on, p=param.name: self._toggle_input(node_id, p, on))
                row.addWidget(toggle)
                row.addWidget(self._sweep_button(node_id, param.name, enabled=param.name not in linked))
                self.editors[param.name], self.input_toggles[param.name] = editor, toggle
                box = QVBoxLayout()
                box.addLayout(row)
                problem = QLabel("")
                problem.setStyleSheet("color: #ef5350")
                problem.setWordWrap(True)
                problem.setVisible(False)
                box.addWidget(problem)
                self.problems[param.name] = problem
                self._show_problem(param, value)
                form.addRow(label, box)
        outer.addStretch(1)
        self.setWidget(page)

    def _sweep_button(self, node_id: str, name: str, enabled: bool) -> QToolButton:
        button = QToolButton(text="⋯")
        button.setObjectName(f"sweep:{name}")
        button.setEnabled(enabled)
        button.setToolTip("Sweep: run the graph once per value of this setting, and compare them side by side")
        button.clicked.connect(lambda: self.sweep_requested.emit(node_id, name))
        return button

    def _show_problem(self, param: Param, value) -> None:
        text = param.check(value) or param.models_problem(value, self.graph.base_dir) or ""
        label = self.problems.get(param.name)
        if label is not None:
            label.setText(text)
            label.setVisible(bool(text))

    def _set(self, node_id: str, param: Param, value, merge: bool = True) -> None:
        if self.graph.nodes[node_id].params.get(param.name, param.default) == value:
            return
        key = ("inspector", node_id, param.name) if merge else None
        self._push(SetParam(node_id, param.name, value, merge_key=key))
        self._show_problem(param, value)

    def _toggle_input(self, node_id: str, name: str, on: bool) -> None:
        self.stack.push(expose_param(self.graph, node_id, name, on))

    def _editor(self, node_id: str, param: Param, value, row: QHBoxLayout) -> QWidget:
        set_value = lambda v: self._set(node_id, param, v)
        if param.type is bool:
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda on: self._set(node_id, param, bool(on), merge=False))
            return box
        if param.choices:
            combo = QComboBox()
            for choice in param.choices:
                combo.addItem(str(choice), choice)
            index = combo.findData(value)
            combo.setCurrentIndex(index if index >= 0 else 0)
            combo.currentIndexChanged.connect(lambda i: self._set(node_id, param, combo.itemData(i), merge=False))
            return combo
        if param.type in (int, float):
            return self._number_editor(param, value, set_value, row)
        if param.kind == "multiline":
            text = QPlainTextEdit(str(value or ""))
            text.setFixedHeight(90)
            text.textChanged.connect(lambda: set_value(text.toPlainText()))
            return text
        editor = line = QLineEdit(str(value or ""))
        if param.models:  # takes names from the models folders: list them (gui/models_folders.py)
            editor = models_combo(param, value)
            line = editor.lineEdit()
            editor.activated.connect(lambda _index: set_value(line.text()))
        if param.is_path or param.kind == "save_path":
            line.editingFinished.connect(lambda: set_value(line.text()))
            browse = QToolButton(text="…")
            if param.kind == "path_or_id":  # a model: a Diffusers folder or a single checkpoint file
                browse.setToolTip("Choose a model folder or a checkpoint file (or type a Hugging Face id)")
                browse.setPopupMode(QToolButton.InstantPopup)
                browse.setMenu(model_kind_menu(browse, lambda kind: self._browse(param, line, kind)))
            else:
                browse.setToolTip("Browse")
                browse.clicked.connect(lambda: self._browse(param, line))
            row.addWidget(browse)
        else:
            line.textEdited.connect(set_value)
        return editor

    def _number_editor(self, param: Param, value, set_value, row: QHBoxLayout) -> QWidget:
        is_int = param.type is int
        lo = param.min if param.min is not None else -INT_LIMIT
        hi = param.max if param.max is not None else INT_LIMIT
        if is_int and (lo < -INT_LIMIT or hi > INT_LIMIT):
            spin = BigIntSpinBox(int(lo), int(hi))  # QSpinBox stops at 2**31 - 1; seeds go to 2**63 - 1
        elif is_int:
            spin = QSpinBox()
            spin.setRange(int(lo), int(hi))
        else:
            spin = QDoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(float(lo), float(hi))
        if param.step:
            spin.setSingleStep(param.step)
        spin.setValue(value if value is not None else 0)
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda v: set_value(int(v) if is_int else float(v)))
        if param.kind == "seed":
            dice = QToolButton(text="🎲")
            dice.setToolTip("Pick a random seed")
            dice.clicked.connect(lambda: spin.setValue(random.randrange(max(int(lo), 0), int(hi) + 1)))
            row.addWidget(dice)
            spin.dice = dice
        elif param.min is not None and param.max is not None:
            slider = QSlider(Qt.Horizontal)
            slider.setRange(0, SLIDER_STEPS)
            span = float(param.max - param.min) or 1.0
            to_slider = lambda v: round((float(v) - param.min) / span * SLIDER_STEPS)
            slider.setValue(to_slider(spin.value()))
            slider.valueChanged.connect(lambda s: spin.setValue(
                round(param.min + s / SLIDER_STEPS * span) if is_int else param.min + s / SLIDER_STEPS * span))
            spin.valueChanged.connect(lambda v: (slider.blockSignals(True), slider.setValue(to_slider(v)),
                                                 slider.blockSignals(False)))
            row.addWidget(slider, 1)
            spin.slider = slider
        return spin

    def _browse(self, param: Param, line: QLineEdit, kind: str | None = None) -> None:
        value, problem = choose_path(self, param, line.text(), self.graph.base_dir, self.output_dir, kind)
        label = self.problems.get(param.name)
        if problem and label is not None:
            label.setText(problem)
            label.setVisible(True)
        if value:
            line.setText(value)
            line.editingFinished.emit()


def _tooltip(param: Param, value, effective: NodeParams) -> str:
    """The param's tooltip; for a file param set to a relative name, also the file the run reads."""
    where = effective.values[param.name] if param.is_path else value
    if where == value:
        return param.tooltip
    return f"{param.tooltip}\n\nReads {where}".strip()
