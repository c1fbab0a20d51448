"""Sound through the graph: audio.load/save round trips, muxing in video.save, and sync through trim and concat."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nodes.audio
import nodes.io
import nodes.video
from nodegraph.audio import Audio
from nodegraph.errors import UsageError, ValidationError
from nodegraph.graph import Graph, Link, NodeInstance
from nodegraph.media import Video
from nodegraph.node import Node, Param, Port
from nodegraph.registry import NodeRegistry
from nodegraph.scheduler import Scheduler
from nodegraph.types import AUDIO, VIDEO
from nodes.audio.writing import SOUND_FORMATS, write_sound
from nodes.io.codecs import first_encoder
from nodes.io.video_write import encode_video

try:
    from .sound_synth import click_track, flashing_frames, loud_frames, probe_in_subprocess
except ImportError:  # tests/nodes is not a package
    from sound_synth import click_track, flashing_frames, loud_frames, probe_in_subprocess

FPS = 24.0
RATE = 48000
FLASHES = [3, 11, 14, 26, 33, 45, 52, 60, 71]  # uneven gaps: a shift by a trim or a join cannot hide
FRAMES = 80


class TestClip(Node):
    """Test source: flashing frames with a click on each flash."""

    type_id = "test.flashes"
    outputs = (Port("video", VIDEO), Port("audio", AUDIO))
    params = (Param("frames", int, default=FRAMES), Param("sound_s", float, default=FRAMES / FPS),
              Param("rate", int, default=RATE), Param("channels", int, default=2))

    def run(self, ctx, *, frames, sound_s, rate, channels):
        flashes = [f for f in FLASHES if f < frames]
        video = Video.from_array(flashing_frames(frames, flashes), FPS)
        sound = click_track(sound_s, [f / FPS for f in flashes], rate, channels)
        return {"video": video, "audio": Audio.from_array(sound, rate)}


@pytest.fixture()
def registry() -> NodeRegistry:
    reg = NodeRegistry()
    for pack in (nodes.io, nodes.video, nodes.audio):
        pack.register(reg)
    reg.register(TestClip)
    return reg


def graph(*specs: tuple[str, str, dict], links: tuple[str, ...] = ()) -> Graph:
    g = Graph("test")
    for node_id, type_id, params in specs:
        g.add_node(NodeInstance(node_id, type_id, dict(params)))
    for text in links:
        src, dst = text.split("->")
        g.connect(Link(*src.split("."), *dst.split(".")))
    return g


def run(registry, out: Path, g: Graph, targets=None, messages: list | None = None):
    scheduler = Scheduler(registry, output_dir=out)
    if messages is not None:
        scheduler.subscribe(lambda e: messages.append(e.message) if e.kind == "node_message" else None)
    return scheduler.run(g, targets)


def source_file(tmp_path: Path, name: str = "source.mp4") -> Path:
    """An MP4 of flashing frames with a click on every flash, written by video.save's encoder."""
    flashes = [f for f in FLASHES if f < FRAMES]
    video = Video.from_array(flashing_frames(FRAMES, flashes), FPS)
    audio = Audio.from_array(click_track(FRAMES / FPS, [f / FPS for f in flashes]), RATE)
    return encode_video(video, tmp_path / name, "h264", "libx264", preset="ultrafast", audio=audio)


def assert_in_sync(found: dict, samples: np.ndarray) -> None:
    """Every click lands on a flash and every flash has its click, within one frame."""
    clicks = loud_frames(samples, found["audio_rate"], found["fps"], found["frame_count"])
    flashes = found["bright"]
    assert flashes, "no flash survived"
    assert len(clicks) == len(flashes), (clicks, flashes)
    assert all(abs(c - f) <= 1 for c, f in zip(clicks, flashes, strict=True)), (clicks, flashes)


# -- muxing -------------------------------------------------------------------------------------------------


def test_video_save_muxes_an_aac_track_as_long_as_the_picture(registry, tmp_path):
    g = graph(("clip", "test.flashes", {}), ("save", "video.save", {"filename": "with_sound.mp4"}),
              links=("clip.video->save.video", "clip.audio->save.audio"))
    path = Path(run(registry, tmp_path, g).raise_for_status().outputs["save"]["path"])
    found, samples = probe_in_subprocess(path, tmp_path)
    assert found["streams"] == ["video", "audio"] and found["audio_codec"] == "aac"
    picture = found["frame_count"] / found["fps"]
    assert found["frame_count"] == FRAMES
    assert abs(found["audio_duration"] - picture) < 1 / FPS
    assert abs(len(samples) / found["audio_rate"] - picture) < 1 / FPS
    assert_in_sync(found, samples)


@pytest.mark.parametrize(("filename", "codec", "sound", "source"), [
    ("clip.webm", "vp9", "opus", {"rate": 22050, "channels": 1}),  # Opus takes 48 kHz: resampled
    ("clip.mkv", "h264", "opus", {}),
    ("clip.mov", "h264", "aac", {"rate": 44100, "channels": 6}),  # mixed down to stereo
])
def test_other_containers_get_their_sound_codec(registry, tmp_path, filename, codec, sound, source):
    g = graph(("clip", "test.flashes", {"frames": 30, **source}),
              ("save", "video.save", {"filename": filename, "codec": codec, "preset": "ultrafast"}),
              links=("clip.video->save.video", "clip.audio->save.audio"))
    path = Path(run(registry, tmp_path, g).raise_for_status().outputs["save"]["path"])
    found, samples = probe_in_subprocess(path, tmp_path)
    assert found["audio_codec"] == sound
    assert abs(len(samples) / found["audio_rate"] - 30 / FPS) < 1 / FPS
    assert_in_sync(found, samples)


def test_a_longer_sound_is_cut_to_the_picture_with_a_warning(registry, tmp_path):
    messages: list = []
    g = graph(("clip", "test.flashes", {"frames": 24, "sound_s": 3.0}), ("save", "video.save", {}),
              links=("clip.video->save.video", "clip.audio->save.audio"))
    path = Path(run(registry, tmp_path, g, messages=messages).raise_for_status().outputs["save"]["path"])
    assert any("sound lasts 3.000 s" in m and "cut" in m for m in messages), messages
    found, samples = probe_in_subprocess(path, tmp_path)
    assert abs(len(samples) / found["audio_rate"] - 1.0) < 1 / FPS


def test_a_sound_within_a_frame_of_the_picture_gives_no_warning(registry, tmp_path):
    messages: list = []
    g = graph(("clip", "test.flashes", {"frames": 24, "sound_s": 1.0 + 0.5 / FPS}), ("save", "video.save", {}),
              links=("clip.video->save.video", "clip.audio->save.audio"))
    run(registry, tmp_path, g, messages=messages).raise_for_status()
    assert not any("sound lasts" in m for m in messages)


# -- the click-track sync test ----------------------------------------------------------------------------


def test_clicks_stay_on_the_flashes_through_load_trim_concat_save(registry, tmp_path):
    source = source_file(tmp_path)
    g = graph(
        ("load", "video.load", {"path": str(source)}),
        ("head", "video.trim", {"start": 7, "end": 30}),
        ("tail", "video.trim", {"start": 41, "end": 77}),
        ("join", "video.concat", {}),
        ("save", "video.save", {"filename": "joined.mp4", "preset": "ultrafast"}),
        links=("load.video->head.video", "load.audio->head.audio", "load.video->tail.video",
               "load.audio->tail.audio", "head.video->join.first", "head.audio->join.first_audio",
               "tail.video->join.second", "tail.audio->join.second_audio", "join.video->save.video",
               "join.audio->save.audio"),
    )
    path = Path(run(registry, tmp_path, g).raise_for_status().outputs["save"]["path"])
    found, samples = probe_in_subprocess(path, tmp_path)
    expected = [f - 7 for f in FLASHES if 7 <= f < 30] + [23 + f - 41 for f in FLASHES if 41 <= f < 77]
    assert found["frame_count"] == 23 + 36 and found["bright"] == expected
    assert abs(len(samples) / found["audio_rate"] - 59 / FPS) < 1 / FPS
    assert_in_sync(found, samples)


def test_an_interpolated_clip_keeps_its_duration_and_its_sound(registry, tmp_path):
    messages: list = []
    g = graph(("load", "video.load", {"path": str(source_file(tmp_path)), "max_frames": 40}),
              ("interp", "video.interpolate", {"factor": 3}),
              ("save", "video.save", {"filename": "smooth.mp4", "preset": "ultrafast"}),
              links=("load.video->interp.video", "interp.video->save.video", "load.audio->save.audio"))
    result = run(registry, tmp_path, g, messages=messages).raise_for_status()
    assert not any("sound lasts" in m for m in messages), messages
    found, samples = probe_in_subprocess(Path(result.outputs["save"]["path"]), tmp_path)
    assert found["fps"] == 3 * FPS and found["frame_count"] == 3 * 40
    assert abs(found["audio_duration"] - 40 / FPS) < 1 / (3 * FPS)
    clicks = loud_frames(samples, found["audio_rate"], found["fps"], found["frame_count"])
    assert all(abs(c - 3 * f) <= 1 for c, f in zip(clicks, [f for f in FLASHES if f < 40], strict=True)), clicks


def test_video_load_gives_the_sound_of_the_frames_it_uses(registry, tmp_path):
    source = source_file(tmp_path)
    g = graph(("load", "video.load", {"path": str(source), "start_frame": 10, "max_frames": 40}))
    outputs = run(registry, tmp_path, g, ["load"]).raise_for_status().outputs["load"]
    audio = outputs["audio"]
    assert audio.sample_count == round(40 / FPS * RATE) and audio.channels == 2
    clicks = loud_frames(audio.to_array(), RATE, FPS, 40)
    assert clicks == [f - 10 for f in FLASHES if 10 <= f < 50]


def test_a_video_without_sound_loads_and_its_empty_sound_is_handled_downstream(registry, tmp_path):
    silent = encode_video(Video.from_array(flashing_frames(20, [5]), FPS), tmp_path / "silent.mp4", "h264",
                          "libx264", preset="ultrafast")
    g = graph(("load", "video.load", {"path": str(silent)}), ("trim", "video.trim", {"start": 2}),
              ("save", "video.save", {"filename": "still_silent.mp4"}),
              links=("load.video->trim.video", "load.audio->trim.audio", "trim.video->save.video",
                     "trim.audio->save.audio"))
    result = run(registry, tmp_path, g).raise_for_status()
    assert result.outputs["load"]["audio"] is None and result.outputs["trim"]["audio"] is None
    found, samples = probe_in_subprocess(Path(result.outputs["save"]["path"]), tmp_path)
    assert found["streams"] == ["video"] and found["frame_count"] == 18 and samples is None

    g = graph(("load", "video.load", {"path": str(silent)}), ("save", "audio.save", {}),
              links=("load.audio->save.audio",))
    result = run(registry, tmp_path, g)
    assert result.status == "failed" and "no sound arrived" in result.error.message


def test_concat_of_a_clip_without_sound_fills_its_part_with_silence(registry, tmp_path):
    g = graph(("a", "test.flashes", {"frames": 20, "rate": 44100, "channels": 1}), ("b", "test.flashes", {}),
              ("join", "video.concat", {}),
              links=("a.video->join.first", "b.video->join.second", "b.audio->join.second_audio"))
    audio = run(registry, tmp_path, g, ["join"]).raise_for_status().outputs["join"]["audio"]
    assert audio.sample_rate == RATE and audio.sample_count == round((20 + FRAMES) / FPS * RATE)
    clicks = loud_frames(audio.to_array(), RATE, FPS, 20 + FRAMES)
    assert clicks == [20 + f for f in FLASHES]

    g = graph(("a", "test.flashes", {"frames": 20, "rate": 44100, "channels": 1}), ("b", "test.flashes", {}),
              ("join", "video.concat", {}),
              links=("a.video->join.first", "b.video->join.second", "a.audio->join.first_audio",
                     "b.audio->join.second_audio"))
    audio = run(registry, tmp_path, g, ["join"]).raise_for_status().outputs["join"]["audio"]
    assert (audio.sample_rate, audio.channels) == (44100, 2)  # the first's rate, the most channels
    clicks = loud_frames(audio.to_array(), 44100, FPS, 20 + FRAMES)
    assert clicks == [f for f in FLASHES if f < 20] + [20 + f for f in FLASHES]


# -- audio.load / audio.save ------------------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "tolerance"), [(".wav", 1e-4), (".flac", 1e-4), (".m4a", None), (".opus", None),
                                                   (".ogg", None), (".aac", None), (".mp3", None)])
def test_audio_save_and_load_round_trip(registry, tmp_path, suffix, tolerance):
    spec = SOUND_FORMATS[suffix]
    if first_encoder(spec.encoders) is None:
        pytest.skip(f"this PyAV build has no encoder for {suffix}")
    g = graph(("clip", "test.flashes", {"rate": 44100}), ("save", "audio.save", {"filename": "sound" + suffix}),
              links=("clip.audio->save.audio",))
    result = run(registry, tmp_path, g).raise_for_status()
    path = Path(result.outputs["save"]["path"])
    assert path.name == "sound" + suffix
    if suffix == ".aac":  # a raw AAC stream has no tags to carry the workflow in (.m4a has)
        assert nodes.io.read_embedded_workflow(path) is None
    else:  # the workflow that made it comes back from the file, as from a saved video
        from nodegraph.workflow import load_workflow

        again = load_workflow(path, registry)
        assert {n.id: n.type for n in again.nodes.values()} == {"clip": "test.flashes", "save": "audio.save"}
    g = graph(("load", "audio.load", {"path": str(path)}))
    audio = run(registry, tmp_path, g, ["load"]).raise_for_status().outputs["load"]["audio"]
    truth = result.outputs["clip"]["audio"].to_array()
    assert audio.channels == 2 and audio.sample_rate in (44100, 48000)
    assert abs(audio.duration - FRAMES / FPS) < 1 / FPS
    samples = audio.to_array()
    if tolerance is not None:
        assert audio.sample_count == len(truth) and np.abs(samples - truth).max() < tolerance
    clicks = loud_frames(samples, audio.sample_rate, FPS, FRAMES)
    assert all(abs(c - f) <= 1 for c, f in zip(clicks, FLASHES, strict=True)), clicks


def test_audio_load_reads_the_sound_of_a_video(registry, tmp_path):
    g = graph(("load", "audio.load", {"path": str(source_file(tmp_path))}))
    audio = run(registry, tmp_path, g, ["load"]).raise_for_status().outputs["load"]["audio"]
    assert abs(audio.duration - FRAMES / FPS) < 1 / FPS
    assert loud_frames(audio.to_array(), RATE, FPS, FRAMES) == FLASHES


def test_bad_sound_files_and_names_get_clear_errors(registry, tmp_path):
    silent = encode_video(Video.from_array(flashing_frames(4, [1]), FPS), tmp_path / "silent.mp4", "h264",
                          "libx264", preset="ultrafast")
    (tmp_path / "noise.wav").write_bytes(b"RIFF not really a wave file")
    for path, words in ((silent, "has no sound"), (tmp_path / "nowhere.wav", "does not exist"),
                        (tmp_path / "noise.wav", "not a media file")):
        try:
            result = run(registry, tmp_path, graph(("load", "audio.load", {"path": str(path)})), ["load"])
            message = result.error.message
        except ValidationError as exc:  # a missing file is found before the run
            message = str(exc)
        assert words in message, message
    g = graph(("clip", "test.flashes", {}), ("save", "audio.save", {"filename": "sound.xyz"}),
              links=("clip.audio->save.audio",))
    with pytest.raises(ValidationError, match=r"must end in one of \.wav"):
        run(registry, tmp_path, g)


def test_a_cancelled_or_failed_sound_save_leaves_no_file(tmp_path):
    audio = Audio.from_array(np.zeros((RATE * 3, 2), np.float32), RATE)

    def stop(done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_sound(audio, tmp_path / "x.flac", on_samples=stop)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".wav", ".m4a"])
def test_a_late_start_seeks_and_still_lands_on_the_right_sample(tmp_path, suffix):
    from nodes.audio.reading import load_audio, require_audio

    rate, times = 16000, [1.0, 13.37, 21.5, 24.25, 28.0]
    truth = click_track(30.0, times, rate, channels=1)
    path = write_sound(Audio.from_array(truth, rate), tmp_path / f"long{suffix}")
    info = require_audio(str(path))
    assert abs(info.sample_count - len(truth)) < rate / FPS
    part = load_audio(info, start=20 * rate, count=6 * rate).to_array()
    assert part.shape == (6 * rate, 1)
    loud = np.abs(part[:, 0]) > 0.2
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    first_of_each = [s for k, s in enumerate(onsets) if k == 0 or s - onsets[k - 1] > rate // 10]
    assert np.allclose(np.array(first_of_each) / rate, [1.5, 4.25], atol=0.003), first_of_each
    if suffix == ".wav":
        assert np.abs(part - truth[20 * rate:26 * rate]).max() < 1e-4


def test_a_sound_with_nan_in_it_is_refused_with_the_time_and_leaves_no_file(tmp_path):
    samples = np.zeros((RATE * 2, 2), np.float32)
    samples[RATE + 480] = np.nan
    audio = Audio(lambda: iter((samples,)), sample_rate=RATE, channels=2, sample_count=len(samples))
    with pytest.raises(UsageError, match=r"NaN or infinite samples from 1\.010 s"):
        write_sound(audio, tmp_path / "x.m4a")
    video = Video.from_array(flashing_frames(48, [3]), FPS)
    with pytest.raises(UsageError, match="NaN"):
        encode_video(video, tmp_path / "y.mp4", "h264", "libx264", preset="ultrafast", audio=audio)
    assert not list(tmp_path.iterdir())


def test_a_long_sound_streams_through_trim_and_save_without_being_held(registry, tmp_path):
    import tracemalloc

    seconds = 30  # 11.5 MB of float32 stereo: never held at once

    class LongClip(Node):
        type_id = "test.long"
        outputs = (Port("video", VIDEO), Port("audio", AUDIO))

        def run(self, ctx):
            frame = np.zeros((1, 16, 16, 3), np.uint8)
            video = Video(lambda: (frame for _ in range(int(seconds * FPS))), fps=FPS, width=16, height=16,
                          frame_count=int(seconds * FPS))
            block = np.full((RATE // 10, 2), 0.1, np.float32)
            audio = Audio(lambda: (block.copy() for _ in range(seconds * 10)), sample_rate=RATE, channels=2,
                          sample_count=seconds * RATE)
            return {"video": video, "audio": audio}

    registry.register(LongClip)
    g = graph(("clip", "test.long", {}), ("trim", "video.trim", {"start": 24, "end": int(seconds * FPS) - 24}),
              ("save", "video.save", {"filename": "long.mp4", "preset": "ultrafast"}),
              links=("clip.video->trim.video", "clip.audio->trim.audio", "trim.video->save.video",
                     "trim.audio->save.audio"))
    tracemalloc.start()
    try:
        result = run(registry, tmp_path, g).raise_for_status()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB held for an 11 MiB sound"
    found, samples = probe_in_subprocess(Path(result.outputs["save"]["path"]), tmp_path)
    assert abs(found["audio_duration"] - (seconds - 2)) < 1 / FPS
