"""Sound in the preview: a waveform strip (always) and playback through QtMultimedia (when PySide6-Addons is
installed; without it the editor shows the strip and plays the picture alone)."""

from __future__ import annotations

import os
import tempfile
import threading
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from nodegraph.audio import Audio, WaveformPeaks
from nodegraph.types import AUDIO, colour_of

COLUMNS = 800  # peaks measured across the whole sound; the strip draws them at its own width
MAX_PLAY_S = 600  # playback copies at most the first ten minutes to a temporary WAV file
NO_PLAYBACK = "Sound playback needs QtMultimedia: pip install PySide6-Addons (the waveform shows without it)"
NO_DEVICE = "This machine has no sound output device, so the sound is shown, not played"


def multimedia():
    """PySide6.QtMultimedia, or None when it is not installed (it ships in PySide6-Addons)."""
    try:
        from PySide6 import QtMultimedia
    except ImportError:
        return None
    return QtMultimedia


class SoundPlayer:
    """Plays a WAV file through QtMultimedia from a given time. Qt's media player and audio output are made when
    there is first something to play: making them takes about a tenth of a second, too long for every start-up."""

    def __init__(self, module, parent=None):
        self._module, self._parent = module, parent
        self._player = None
        self._has_output: bool | None = None
        self.path: Path | None = None
        self.requested: float | None = None  # the time asked for by the last play(), in seconds

    @property
    def available(self) -> bool:
        """Whether there is a sound output to play to, asked once, when there is first a sound. Without one Qt's
        player has nothing to play into (and its FFmpeg renderer was seen to spin and hang stop()), so none is made."""
        if self._has_output is None:
            self._has_output = bool(self._module.QMediaDevices.audioOutputs())
        return self._has_output

    def _made(self):
        if self._player is None:
            module = self._module
            self._player = module.QMediaPlayer(self._parent)
            self._output = module.QAudioOutput(self._parent)
            self._player.setAudioOutput(self._output)
        return self._player

    def load(self, path: Path | None) -> None:
        from PySide6.QtCore import QUrl

        self.stop()
        self.path = path
        if path is not None or self._player is not None:
            self._made().setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())

    def play(self, seconds: float) -> None:
        if self.path is None:
            return
        self.requested = seconds
        player = self._made()
        player.setPosition(int(seconds * 1000))
        player.play()

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def stop(self) -> None:
        self.requested = None
        if self._player is not None:
            self._player.stop()

    @property
    def playing(self) -> bool:
        return self._player is not None and \
            self._player.playbackState() == self._module.QMediaPlayer.PlaybackState.PlayingState

    def position(self) -> float:
        return self._player.position() / 1000 if self._player is not None else 0.0


def make_player(parent=None) -> SoundPlayer | None:
    module = multimedia()
    return SoundPlayer(module, parent) if module is not None else None


def gather_sound(audio: Audio, wav: Path | None, stop: threading.Event,
                 columns: int = COLUMNS) -> np.ndarray | None:
    """One pass over the sound: its waveform peaks, and (when `wav` is given) its first MAX_PLAY_S seconds as 16-bit
    WAV for the player. None when `stop` was set meanwhile."""
    meter = WaveformPeaks(columns, audio.sample_count)
    channels = min(audio.channels, 2)
    room = MAX_PLAY_S * audio.sample_rate
    writer = None
    if wav is not None:
        writer = wave.open(str(wav), "wb")
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(audio.sample_rate)
    try:
        for block in audio.chunks():
            if stop.is_set():
                return None
            meter.add(block)
            if writer is not None and room > 0:
                part = block[:room, :channels] if audio.channels <= 2 else block[:room].mean(1, keepdims=True)
                part = np.repeat(part, channels, axis=1) if part.shape[1] < channels else part
                writer.writeframes((np.clip(part, -1, 1) * 32767).astype("<i2").tobytes())
                room -= len(part)
    finally:
        if writer is not None:
            writer.close()
    return meter.peaks


class SoundLoader:
    """Gathers a sound's peaks (and playback copy) on a worker thread; `done(generation, peaks, wav, error)` is
    called there when it is finished (connect it to a queued signal)."""

    def __init__(self, done: Callable[[int, object, object, str], None]):
        self._done = done
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._folder: str | None = None

    def start(self, audio: Audio, generation: int, with_wav: bool) -> None:
        self.cancel()
        self._stop = threading.Event()
        wav = None
        if with_wav:
            self._folder = self._folder or tempfile.mkdtemp(prefix="kinograph-sound-")
            fd, name = tempfile.mkstemp(suffix=".wav", dir=self._folder)
            os.close(fd)
            wav = Path(name)
        stop = self._stop

        def work() -> None:
            try:
                peaks = gather_sound(audio, wav, stop)
            except Exception as exc:  # a failing stream shows its message, never kills the panel
                self._done(generation, None, None, str(exc))
                return
            if peaks is not None:
                self._done(generation, peaks, wav, "")

        self._thread = threading.Thread(target=work, daemon=True, name="kinograph-sound")
        self._thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def shutdown(self, timeout: float = 30.0) -> None:
        self.cancel()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
        if self._folder:
            for child in Path(self._folder).glob("*.wav"):
                child.unlink(missing_ok=True)
            Path(self._folder).rmdir()
            self._folder = None


class WaveformStrip(QWidget):
    """The loudness of a sound over time, with a playhead; a click moves the playhead there."""

    seeked = Signal(float)  # where the click was, 0..1 of the sound

    def __init__(self, parent=None):
        super().__init__(parent)
        self.peaks: np.ndarray | None = None
        self.playhead = 0.0
        self.setMinimumHeight(36)
        self.setMaximumHeight(48)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_peaks(self, peaks: np.ndarray | None) -> None:
        self.peaks = peaks
        self.update()

    def set_playhead(self, fraction: float) -> None:
        self.playhead = min(1.0, max(0.0, fraction))
        self.update()

    def mousePressEvent(self, event) -> None:
        if self.width() > 0:
            self.seeked.emit(min(1.0, max(0.0, event.position().x() / self.width())))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111"))
        w, h = self.width(), self.height()
        if self.peaks is not None and len(self.peaks) and w > 0:
            columns = np.linspace(0, len(self.peaks), w + 1).astype(int)
            middle = h / 2
            painter.setPen(QPen(QColor(colour_of(AUDIO)), 1))
            for x in range(w):
                lo, hi = columns[x], max(columns[x + 1], columns[x] + 1)
                level = float(self.peaks[lo:hi].max()) if lo < len(self.peaks) else 0.0
                half = max(0.5, min(1.0, level) * (middle - 1))
                painter.drawLine(QPointF(x + 0.5, middle - half), QPointF(x + 0.5, middle + half))
            painter.setPen(QPen(QColor("#eee"), 1))
            x = self.playhead * (w - 1)
            painter.drawLine(QPointF(x, 0), QPointF(x, h))
        else:
            painter.setPen(QColor("#777"))
            painter.drawText(QRectF(0, 0, w, h), Qt.AlignCenter, "Reading the sound…")
        painter.end()
