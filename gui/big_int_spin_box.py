"""A spin box for whole numbers beyond Qt's 32-bit QSpinBox (seeds go up to 2**63 - 1)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox


class BigIntSpinBox(QAbstractSpinBox):
    """Holds a Python int in [minimum, maximum]; `valueChanged(int)` fires when the committed value changes."""

    valueChanged = Signal(object)

    def __init__(self, minimum: int, maximum: int, parent=None):
        super().__init__(parent)
        self._min, self._max = int(minimum), int(maximum)
        self._value = self._min
        self._step = 1
        self.lineEdit().setText(str(self._value))
        self.editingFinished.connect(self._commit_text)

    def minimum(self) -> int:
        return self._min

    def maximum(self) -> int:
        return self._max

    def value(self) -> int:
        return self._value

    def setSingleStep(self, step: int) -> None:
        self._step = max(1, int(step))

    def setValue(self, value: int) -> None:
        value = min(max(int(value), self._min), self._max)
        self.lineEdit().setText(str(value))
        if value != self._value:
            self._value = value
            self.valueChanged.emit(value)

    def stepBy(self, steps: int) -> None:
        self.setValue(self._value + steps * self._step)

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self._value > self._min:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self._value < self._max:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        if stripped in ("", "-", "+"):
            return QValidator.State.Intermediate, text, pos
        try:
            number = int(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if self._min <= number <= self._max:
            return QValidator.State.Acceptable, text, pos
        # Too big while typing can still become valid by deleting digits; a sign the range forbids cannot.
        if number < 0 <= self._min:
            return QValidator.State.Invalid, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        return str(self._value)

    def _commit_text(self) -> None:
        try:
            self.setValue(int(self.lineEdit().text().strip()))
        except ValueError:
            self.lineEdit().setText(str(self._value))
