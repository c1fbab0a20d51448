"""The preview panel: plays the selected node's video (frames pulled on a worker thread) or shows its image; a
sound beside it shows as a waveform strip and plays along where QtMultimedia is installed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nodegraph.audio import Audio
from nodegraph.mask import Mask
from nodegraph.media import Image, Video

from .canvas.node_item import thumbnail_image
from .sound import NO_DEVICE, NO_PLAYBACK, SoundLoader, WaveformStrip, make_player

MAX_FRAMES = 600
MAX_SIDE = 480


def pick_visual(outputs: dict) -> Video | Image | None:
    """The value to preview among a node's outputs: a video first, else an image."""
    values = list(outputs.values())
    for value in values:
        if isinstance(value, Video):
            return value.to_video() if isinstance(value, Mask) else value  # a mask plays as grey frames
    for value in values:
        if isinstance(value, Image):
            return value
    return None


def pick_sound(outputs: dict) -> Audio | None:
    """The sound among a node's outputs, if any."""
    return next((value for value in outputs.values() if isinstance(value, Audio)), None)


def written_file(outputs: dict) -> Path | None:
    """The file an output node wrote (a `path` output naming an existing file), if any."""
    for value in outputs.values():
        if isinstance(value, (str, Path)) and str(value) and Path(value).is_file():
            return Path(value)
    return None


class PreviewPanel(QWidget):
    """Play / pause / scrub / loop with a frame counter; images are shown still."""

    frames_loaded = Signal(int, object, bool)  # generation, list of frames, finished
    sound_loaded = Signal(int, object, object, str)  # generation, waveform peaks, playback WAV, error

    def __init__(self, parent=None, open_media: Callable[[Path], Video | Image | None] | None = None,
                 open_sound: Callable[[Path], Audio | None] | None = None):
        super().__init__(parent)
        self.open_media = open_media  # reads a file an output node wrote (the node pack's service)
        self.open_sound = open_sound  # reads the sound of such a file (None when it has none)
        self.picture = QLabel("No preview")
        self.picture.setAlignment(Qt.AlignCenter)
        self.picture.setMinimumSize(160, 90)
        self.picture.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.picture.setStyleSheet("background: #111; color: #777")
        self.play_button = QToolButton()
        self._play_icon = self.style().standardIcon(QStyle.SP_MediaPlay)
        self._pause_icon = self.style().standardIcon(QStyle.SP_MediaPause)  # drawn, not a font glyph: ⏸ is
        self.play_button.setIcon(self._play_icon)  # missing from common fonts and showed as an empty box
        self.play_button.setToolTip("Play / pause")
        self.slider = QSlider(Qt.Horizontal)
        self.loop = QCheckBox("Loop")
        self.loop.setChecked(True)
        self.counter = QLabel("0 / 0")
        controls = QHBoxLayout()
        for w in (self.play_button, self.slider, self.loop, self.counter):
            controls.addWidget(w)
        controls.setStretch(1, 1)
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.open_button = QToolButton(text="Open file")
        self.open_button.setToolTip("Open the file in the program your desktop uses for it")
        self.folder_button = QToolButton(text="Show in folder")
        self.copy_path_button = QToolButton(text="Copy path")
        self.copy_path_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(str(self.file)) if self.file else None)
        self.open_button.clicked.connect(lambda: self._open_url(self.file))
        self.folder_button.clicked.connect(lambda: self._open_url(self.file.parent if self.file else None))
        self.file_bar = QWidget()
        bar = QHBoxLayout(self.file_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.file_label, 1)
        bar.addWidget(self.open_button)
        bar.addWidget(self.folder_button)
        bar.addWidget(self.copy_path_button)
        self.file_bar.hide()
        self.file: Path | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.picture, 1)
        self.sound_strip = WaveformStrip()
        self.sound_strip.hide()
        self.sound_strip.seeked.connect(self._on_sound_strip_seeked)
        layout.addWidget(self.sound_strip)
        layout.addLayout(controls)
        layout.addWidget(self.file_bar)
        self.frames: list[np.ndarray] = []
        self.total = 0
        self.fps = 24.0
        self.index = 0
        self.source_id: str | None = None
        self._generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.play_button.clicked.connect(self.toggle_play)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.frames_loaded.connect(self._on_frames_loaded)
        self.sound: Audio | None = None
        self.stride = 1  # source frames per preview frame
        self.player = make_player(self)  # None without QtMultimedia: the strip still shows
        self._sound_loader = SoundLoader(self.sound_loaded.emit)
        self._last_sound_position = -1.0
        self.sound_loaded.connect(self._on_sound_loaded)
        self._set_controls(False)

    # -- sources ----------------------------------------------------------------------

    def clear(self, text: str = "No preview") -> None:
        self._generation += 1
        self._stop.set()
        self.timer.stop()
        self.frames, self.total, self.index, self.source_id = [], 0, 0, None
        self._clear_sound()
        self.picture.setPixmap(QPixmap())
        self.picture.setText(text)
        self.counter.setText("0 / 0")
        self.file = None
        self.file_bar.hide()
        self._set_controls(False)

    def show_outputs(self, node_id: str, outputs: dict) -> None:
        value = pick_visual(outputs)
        written = written_file(outputs)
        problem = ""
        if value is None and written is not None and self.open_media is not None:
            try:  # an output node's picture is the file it wrote
                value = self.open_media(written)
            except Exception as exc:  # a file that cannot be read back still gets its buttons
                problem = f"Cannot preview {written.name}: {exc}"
        sound = pick_sound(outputs)
        if sound is None and written is not None and self.open_sound is not None:
            try:
                sound = self.open_sound(written)
            except Exception:  # a picture without readable sound still shows
                sound = None
        if value is None and sound is not None:
            self.clear(f"Sound: {sound.duration:.2f} s, {sound.sample_rate} Hz, {sound.channels} channel(s)")
            self._show_file(written)
            self.source_id = node_id
            self._load_sound(sound)
            return
        if value is None:
            self.clear(problem or ("No picture to show; the file is below" if written
                                   else "This node has no picture to show"))
            self._show_file(written)
            return
        self.clear("Loading…")
        self._show_file(written)
        self.source_id = node_id
        if sound is not None and isinstance(value, Video):
            self._load_sound(sound)
        if isinstance(value, Image):
            self.frames, self.total = [value.array], 1
            self._show(0)
            return
        self.fps = value.fps or 24.0
        self.total = value.frame_count
        self.stride = max(1, int(np.ceil(value.frame_count / MAX_FRAMES)))
        self._stop = threading.Event()
        generation = self._generation
        self._thread = threading.Thread(target=self._pull, args=(value, generation, self._stop), daemon=True,
                                        name="kinograph-preview")
        self._thread.start()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop loading and wait for the loader: a decoder still running when the process exits aborts it."""
        self.clear()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
        self._sound_loader.shutdown(timeout)

    def _show_file(self, path: Path | None) -> None:
        self.file = path
        self.file_bar.setVisible(path is not None)
        if path is not None:
            self.file_label.setText(path.name)
            self.file_label.setToolTip(str(path))

    def _open_url(self, path: Path | None) -> None:
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def show_live(self, node_id: str, frames: np.ndarray, fps: float = 0.0) -> None:
        """A preview frame (or clip) that arrived while a node runs."""
        if self.source_id != node_id:
            self.clear("")
            self.source_id = node_id
        else:  # a proxy of the previous run's clip may still be arriving: stop it
            self._stop.set()
            self._generation += 1
        clip = frames if frames.ndim == 4 else frames[None]
        self.frames, self.total = list(clip), len(clip)
        if fps:
            self.fps = fps
        self._show(len(clip) - 1)

    def _pull(self, video: Video, generation: int, stop: threading.Event) -> None:
        """Worker thread: decode a proxy of the clip, posting batches to the GUI thread."""
        stride = max(1, int(np.ceil(video.frame_count / MAX_FRAMES)))
        step = max(1, int(np.ceil(max(video.width, video.height) / MAX_SIDE)))
        batch: list[np.ndarray] = []
        n = 0
        try:
            for block in video.chunks(4):  # small: a stop request is seen within a few frames
                for frame in block:
                    if n % stride == 0:
                        batch.append(np.ascontiguousarray(frame[::step, ::step]))
                    n += 1
                if stop.is_set():
                    return
                if len(batch) >= 24:
                    self.frames_loaded.emit(generation, batch, False)
                    batch = []
        except Exception as exc:  # a failing stream shows its message, never kills the panel
            self.frames_loaded.emit(generation, str(exc), True)
            return
        self.frames_loaded.emit(generation, batch, True)

    def _on_frames_loaded(self, generation: int, batch, finished: bool) -> None:
        if generation != self._generation:
            return  # a stale load for a node no longer shown
        if isinstance(batch, str):
            self.picture.setText(f"Cannot preview: {batch}")
            return
        first = not self.frames
        self.frames.extend(batch)
        if finished:
            self.total = len(self.frames)
        self._set_controls(True)
        if first and self.frames:
            self._show(0)
        self.counter.setText(f"{self.index + 1} / {len(self.frames)}")

    # -- sound ------------------------------------------------------------------------

    def _clear_sound(self) -> None:
        self._sound_loader.cancel()
        if self.player is not None:
            copy = self.player.path
            self.player.load(None)
            if copy is not None:  # the playback copy of the sound shown before: nobody plays it now
                try:
                    copy.unlink(missing_ok=True)
                except OSError:
                    pass
        self.sound = None
        self.sound_strip.setToolTip("")
        self.sound_strip.set_peaks(None)
        self.sound_strip.set_playhead(0.0)
        self.sound_strip.hide()
        self.play_button.setToolTip("Play / pause")

    @property
    def _plays_sound(self) -> bool:
        """Whether sound can be heard here: QtMultimedia is installed and there is an output to play to."""
        return self.player is not None and self.player.available

    def _load_sound(self, sound: Audio) -> None:
        """Show `sound` beside the picture: peaks (and the player's copy) are gathered on a worker thread."""
        self.sound = sound
        self.sound_strip.show()
        plays = self._plays_sound
        if not plays:
            why = NO_PLAYBACK if self.player is None else NO_DEVICE
            self.play_button.setToolTip(f"Play / pause (the picture only). {why}")
        self._sound_loader.start(sound, self._generation, with_wav=plays)

    def _on_sound_loaded(self, generation: int, peaks, wav, error: str) -> None:
        if generation != self._generation:
            if wav is not None:
                Path(wav).unlink(missing_ok=True)
            return
        if error:
            self.sound_strip.setToolTip(f"Cannot read the sound: {error}")
            return
        self.sound_strip.set_peaks(peaks)
        self.sound_strip.setToolTip(repr(self.sound))
        if self.player is not None and wav is not None:
            self.player.load(Path(wav))
        self._set_controls(bool(self.frames) or self.sound is not None)

    def _seconds_at(self, index: int) -> float:
        return index * self.stride / (self.fps or 24.0)

    def _on_sound_strip_seeked(self, fraction: float) -> None:
        if self.sound is None:
            return
        seconds = fraction * self.sound.duration
        if self.frames:
            self._show(round(seconds * (self.fps or 24.0) / self.stride))
        else:
            self.sound_strip.set_playhead(fraction)
        if self.playing and self.player is not None:
            self.player.play(seconds)

    @property
    def sound_only(self) -> bool:
        return self.sound is not None and not self.frames

    # -- playback ---------------------------------------------------------------------

    def _set_controls(self, on: bool) -> None:
        many = on and (len(self.frames) > 1 or (self.sound_only and self._plays_sound))
        for w in (self.play_button, self.slider, self.loop):
            w.setEnabled(many)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.frames) - 1))
        self.slider.blockSignals(False)

    def _show(self, index: int) -> None:
        if not self.frames:
            return
        self.index = max(0, min(index, len(self.frames) - 1))
        image = thumbnail_image(self.frames[self.index], max_side=MAX_SIDE)
        pix = QPixmap.fromImage(image)
        size = self.picture.size()
        self.picture.setPixmap(pix.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
                               if size.width() > 10 else pix)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.frames) - 1))
        self.slider.setValue(self.index)
        self.slider.blockSignals(False)
        self.counter.setText(f"{self.index + 1} / {len(self.frames)}")
        if self.sound is not None and self.sound.duration:
            self.sound_strip.set_playhead(self._seconds_at(self.index) / self.sound.duration)
        self._set_controls(True)

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play_button.setIcon(self._play_icon)
            if self.player is not None:
                self.player.pause()
        elif len(self.frames) > 1 or (self.sound_only and self._plays_sound):
            self.timer.start(max(10, int(1000 / (self.fps or 24))))
            self.play_button.setIcon(self._pause_icon)
            if self.player is not None and self.sound is not None:
                start = self._seconds_at(self.index) if self.frames else self.sound_strip.playhead * self.sound.duration
                self.player.play(start)

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def _on_timer_timeout(self) -> None:
        if self.sound_only:
            self._follow_sound()
            return
        nxt = self.index + 1
        if self.player is not None and self.player.playing:
            position = self.player.position()
            if position != self._last_sound_position:  # the sound's clock runs (a device plays it): follow it
                nxt = max(self.index, int(position * (self.fps or 24.0) / self.stride))
            self._last_sound_position = position
        if nxt >= len(self.frames):
            if not self.loop.isChecked():
                self.toggle_play()
                return
            nxt = 0
            if self.player is not None and self.sound is not None:
                self.player.play(0.0)
        self._show(nxt)

    def _follow_sound(self) -> None:
        """A sound with no picture: the playhead follows the player to the end (then loops or stops)."""
        duration = self.sound.duration or 1.0
        position = self.player.position() if self.player is not None else 0.0
        if self.player is not None and not self.player.playing and self.player.requested is not None \
                and position >= duration - 0.05:
            if self.loop.isChecked():
                self.player.play(0.0)
            else:
                self.toggle_play()
            position = 0.0
        self.sound_strip.set_playhead(position / duration)

    def _on_slider_changed(self, value: int) -> None:
        self._show(value)
