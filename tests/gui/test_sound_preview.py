"""The preview shows sound as a waveform strip and plays it with the picture where QtMultimedia is installed; without
QtMultimedia (PySide6-Addons) the editor still opens, shows the strip and plays the picture."""

from __future__ import annotations

import sys
import wave

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from nodegraph.audio import Audio
from nodegraph.media import Video

RATE, FPS, FRAMES = 8000, 24.0, 48


def clip_with_sound(loud_from_s: float = 1.0) -> dict:
    frames = np.zeros((FRAMES, 16, 16, 3), np.uint8)
    samples = np.zeros((RATE * FRAMES // int(FPS), 2), np.float32)
    samples[int(loud_from_s * RATE):] = 0.5
    return {"video": Video.from_array(frames, FPS), "audio": Audio.from_array(samples, RATE)}


@pytest.fixture
def no_multimedia(monkeypatch):
    """As on a machine without PySide6-Addons: importing PySide6.QtMultimedia fails."""
    import PySide6

    monkeypatch.delattr(PySide6, "QtMultimedia", raising=False)
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)


def make_panel(qtbot, **services):
    from gui.preview_panel import PreviewPanel

    panel = PreviewPanel(**services)
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    panel.show()
    return panel


def test_a_clip_with_sound_shows_its_waveform_where_the_sound_gets_loud(qtbot, no_multimedia):
    panel = make_panel(qtbot)
    panel.show_outputs("n", clip_with_sound(loud_from_s=1.0))
    qtbot.waitUntil(lambda: panel.sound_strip.peaks is not None and len(panel.frames) == FRAMES, timeout=5000)
    peaks = panel.sound_strip.peaks
    half = len(peaks) // 2
    assert panel.sound_strip.isVisible()
    assert peaks[:half - 2].max() == 0 and peaks[half + 2:].min() == pytest.approx(0.5)
    panel.slider.setValue(36)
    assert panel.sound_strip.playhead == pytest.approx(36 / FRAMES)
    panel.sound_strip.grab()  # paints without error


def test_without_qtmultimedia_the_editor_opens_and_plays_the_picture_with_the_strip(no_multimedia, window, qtbot):
    panel = window.preview
    assert panel.player is None
    panel.show_outputs("n", clip_with_sound())
    qtbot.waitUntil(lambda: panel.sound_strip.peaks is not None and len(panel.frames) == FRAMES, timeout=5000)
    assert "PySide6-Addons" in panel.play_button.toolTip()
    QTest.mouseClick(panel.play_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.index > 3, timeout=5000)
    QTest.mouseClick(panel.play_button, Qt.LeftButton)
    assert not panel.playing

    sound_only = {"audio": clip_with_sound()["audio"]}
    panel.show_outputs("m", sound_only)
    qtbot.waitUntil(lambda: panel.sound_strip.peaks is not None, timeout=5000)
    assert panel.picture.text().startswith("Sound: 2.00 s") and not panel.play_button.isEnabled()


class FakeMultimedia:
    """QtMultimedia's player, audio output and devices as SoundPlayer uses them, with one output device: what the
    preview asks of them is checked here on any machine. (Qt's own FFmpeg player with no device to play to was
    seen to spin and hang stop(); the editor makes none then: see the test below.)"""

    class QMediaDevices:
        outputs: list = ["speakers"]

        @classmethod
        def audioOutputs(cls):
            return list(cls.outputs)

    class QAudioOutput:
        def __init__(self, parent=None):
            pass

    class QMediaPlayer:
        class PlaybackState:
            StoppedState, PlayingState, PausedState = range(3)

        def __init__(self, parent=None):
            self.state, self.ms, self.source = 0, 0, None

        def setAudioOutput(self, output):
            self.output = output

        def setSource(self, url):
            self.source = url.toLocalFile()

        def setPosition(self, ms):
            self.ms = ms

        def play(self):
            assert self.source, "played with no source"
            self.state = self.PlaybackState.PlayingState

        def pause(self):
            self.state = self.PlaybackState.PausedState

        def stop(self):
            self.state = self.PlaybackState.StoppedState

        def playbackState(self):
            return self.state

        def position(self):
            return self.ms


@pytest.fixture
def fake_multimedia(monkeypatch):
    import gui.sound

    FakeMultimedia.QMediaDevices.outputs = ["speakers"]
    monkeypatch.setattr(gui.sound, "multimedia", lambda: FakeMultimedia)
    return FakeMultimedia


def test_with_qtmultimedia_the_sound_plays_from_the_frame_shown(qtbot, fake_multimedia):
    panel = make_panel(qtbot)
    assert panel.player is not None and panel.player._player is None  # Qt's player is made when there is sound
    panel.show_outputs("n", clip_with_sound(loud_from_s=0.5))
    qtbot.waitUntil(lambda: panel.player.path is not None and len(panel.frames) == FRAMES, timeout=5000)
    with wave.open(str(panel.player.path)) as copy:  # what the player plays: the sound itself
        assert (copy.getframerate(), copy.getnchannels(), copy.getnframes()) == (RATE, 2, 2 * RATE)
        samples = np.frombuffer(copy.readframes(copy.getnframes()), "<i2").reshape(-1, 2)
    assert samples[: RATE // 2].max() == 0 and samples[RATE // 2:].min() == 16383
    panel.slider.setValue(12)
    panel.toggle_play()
    assert panel.player.requested == pytest.approx(12 / FPS)
    panel.toggle_play()
    first = panel.player.path
    panel.show_outputs("m", {"audio": clip_with_sound()["audio"]})
    qtbot.waitUntil(lambda: panel.player.path not in (None, first), timeout=5000)
    assert panel.play_button.isEnabled() and not first.exists()  # the copy nobody plays now is gone
    panel.sound_strip.seeked.emit(0.25)
    panel.toggle_play()
    assert panel.player.requested == pytest.approx(0.5)
    panel.toggle_play()
    second = panel.player.path
    assert panel.player._player.source == str(second)  # Qt's player was handed the copy
    panel.shutdown()
    assert not second.exists()


def test_with_no_sound_output_device_no_player_is_made_and_the_button_says_why(qtbot, fake_multimedia):
    fake_multimedia.QMediaDevices.outputs = []
    panel = make_panel(qtbot)
    panel.show_outputs("n", clip_with_sound())
    qtbot.waitUntil(lambda: panel.sound_strip.peaks is not None and len(panel.frames) == FRAMES, timeout=5000)
    assert panel.player._player is None and panel.player.path is None  # nothing copied, nothing to hang
    assert "no sound output device" in panel.play_button.toolTip()
    panel.toggle_play()  # the picture plays alone
    qtbot.waitUntil(lambda: panel.index > 3, timeout=5000)
    panel.toggle_play()
    panel.show_outputs("m", {"audio": clip_with_sound()["audio"]})
    qtbot.waitUntil(lambda: panel.sound_strip.peaks is not None, timeout=5000)
    assert not panel.play_button.isEnabled()  # a sound alone, with nowhere to play it
    panel.shutdown()


def test_a_saved_video_with_sound_shows_its_waveform(qtbot, tmp_path, no_multimedia):
    from nodes.audio import open_sound
    from nodes.io import open_media
    from nodes.io.video_write import encode_video

    clip = clip_with_sound()
    path = encode_video(clip["video"], tmp_path / "saved.mp4", "h264", "libx264", preset="ultrafast",
                        audio=clip["audio"])
    panel = make_panel(qtbot, open_media=open_media, open_sound=open_sound)
    panel.show_outputs("save", {"path": str(path)})
    qtbot.waitUntil(lambda: panel.sound_strip.peaks is not None and len(panel.frames) == FRAMES, timeout=10000)
    peaks = panel.sound_strip.peaks
    assert peaks[: len(peaks) // 2 - 10].max() < 0.05 and peaks[len(peaks) // 2 + 10:].min() > 0.4
