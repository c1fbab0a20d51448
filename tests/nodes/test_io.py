"""The Input/Output pack through the real Scheduler: round trips, streaming, safety, embedded workflows."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import nodes.io
from nodegraph.errors import NodeExecutionError, ValidationError
from nodegraph.graph import Graph, Link, NodeInstance
from nodegraph.media import Video
from nodegraph.node import Node, Param, Port
from nodegraph.registry import NodeRegistry
from nodegraph.scheduler import Scheduler
from nodegraph.streams import READ_AHEAD_FRAMES
from nodegraph.types import VIDEO
from nodegraph.workflow import load_workflow
from nodes.io import read_embedded_workflow, video_reader
from nodes.io.codecs import CODECS, available_encoder

try:
    from .synth import moving_texture, psnr
except ImportError:  # run as a plain module
    from synth import moving_texture, psnr


class SyntheticClip(Node):
    """Test source: a moving texture of a given size, pulled lazily."""

    type_id = "test.clip"
    outputs = (Port("video", VIDEO),)
    params = (Param("frames", int, default=24), Param("width", int, default=96), Param("height", int, default=64),
              Param("fps", float, default=24.0))

    def run(self, ctx, *, frames, width, height, fps):
        clip = moving_texture(frames, height, width, natural=True)
        return {"video": Video.from_array(clip, fps)}


@pytest.fixture()
def registry() -> NodeRegistry:
    reg = NodeRegistry()
    nodes.io.register(reg)  # this pack alone, as nodes.register would call it
    reg.register(SyntheticClip)
    return reg


def graph(*specs: tuple[str, str, dict], links: tuple[str, ...] = (), base_dir: Path | None = None) -> Graph:
    """Build a graph from (id, type, params) and 'a.out->b.in' links."""
    g = Graph("test", base_dir)
    for node_id, type_id, params in specs:
        g.add_node(NodeInstance(node_id, type_id, dict(params)))
    for text in links:
        src, dst = text.split("->")
        g.connect(Link(*src.split("."), *dst.split(".")))
    return g


def run(registry, out: Path, g: Graph, targets=None, scheduler: Scheduler | None = None):
    scheduler = scheduler or Scheduler(registry, output_dir=out)
    return scheduler.run(g, targets)


def save_clip(registry, out: Path, codec: str, filename: str, **clip) -> Path:
    g = graph(("clip", "test.clip", clip), ("save", "video.save", {"filename": filename, "codec": codec}),
              links=("clip.video->save.video",))
    result = run(registry, out, g).raise_for_status()
    return Path(result.outputs["save"]["path"])


def load_clip(registry, out: Path, path: Path, **params) -> Video:
    g = graph(("load", "video.load", {"path": str(path), **params}))
    return run(registry, out, g, ["load"]).raise_for_status().outputs["load"]["video"]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".part")


# -- video round trips ------------------------------------------------------------------------


def test_h264_round_trip_keeps_frames_rate_and_quality(registry, tmp_path):
    path = save_clip(registry, tmp_path, "h264", "clip.mp4", frames=30, fps=30.0)
    assert path.suffix == ".mp4" and path.parent == tmp_path
    video = load_clip(registry, tmp_path, path)
    frames = video.to_array()
    truth = moving_texture(30, 64, 96, natural=True)
    assert video.frame_count == len(frames) == 30
    assert video.fps == pytest.approx(30.0)
    assert psnr(frames, truth) > 35.0


@pytest.mark.parametrize("codec", [c for c in CODECS if c not in ("h264", "ffv1")])
def test_other_codecs_round_trip(registry, tmp_path, codec):
    if available_encoder(codec) is None:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    path = save_clip(registry, tmp_path, codec, "clip", frames=12, fps=24000 / 1001)
    assert path.suffix == CODECS[codec].extensions[0]  # default container added
    video = load_clip(registry, tmp_path, path)
    assert video.frame_count == 12
    assert video.fps == pytest.approx(24000 / 1001, rel=1e-6)
    assert psnr(video.to_array(), moving_texture(12, 64, 96, natural=True)) > 33.0


def test_ffv1_is_bit_exact_even_at_odd_sizes(registry, tmp_path):
    path = save_clip(registry, tmp_path, "ffv1", "exact.mkv", frames=9, width=33, height=27)
    frames = load_clip(registry, tmp_path, path).to_array()
    assert np.array_equal(frames, moving_texture(9, 27, 33, natural=True))


def test_odd_size_with_420_codec_is_a_clear_error_and_leaves_no_file(registry, tmp_path):
    g = graph(("clip", "test.clip", {"width": 33, "height": 26}), ("save", "video.save", {"codec": "h264"}),
              links=("clip.video->save.video",))
    result = run(registry, tmp_path, g)
    assert result.status == "failed"
    assert isinstance(result.error, NodeExecutionError) and result.error.node_id == "save"
    assert "33x26" in result.error.message and "even" in result.error.message
    assert not list(tmp_path.rglob("*.mp4")) and not leftovers(tmp_path)


@pytest.mark.parametrize(("params", "words"), [
    ({"codec": "vp9", "filename": "clip.mp4"}, ["'clip.webm'", "vp9"]),
    ({"codec": "ffv1"}, ["'video.mkv'"]),
    ({"codec": "h264", "crf": 60}, ["crf 60", "51"]),
])
def test_bad_settings_fail_validation_with_the_fix(registry, tmp_path, params, words):
    g = graph(("clip", "test.clip", {}), ("save", "video.save", params), links=("clip.video->save.video",))
    with pytest.raises(ValidationError) as info:
        run(registry, tmp_path, g)
    for word in words:
        assert word in str(info.value)


def test_missing_encoder_is_reported_at_run_time(registry, tmp_path, monkeypatch):
    from nodes.io import video_write

    monkeypatch.setattr(video_write, "available_encoder", lambda codec: None if codec == "av1" else "libx264")
    g = graph(("clip", "test.clip", {}), ("save", "video.save", {"codec": "av1", "filename": "a.mkv"}),
              links=("clip.video->save.video",))
    result = run(registry, tmp_path, g)
    assert result.status == "failed" and "no av1 encoder" in result.error.message


def test_second_save_gets_a_counter(registry, tmp_path):
    first = save_clip(registry, tmp_path, "h264", "same.mp4", frames=4)
    second = save_clip(registry, tmp_path, "h264", "same.mp4", frames=4)
    assert first.name == "same.mp4" and second.name == "same_0001.mp4"
    assert first.stat().st_size > 0 and second.stat().st_size > 0


def test_cancelled_save_leaves_no_partial_file(registry, tmp_path):
    scheduler = Scheduler(registry, output_dir=tmp_path)

    def on_event(event):
        if event.kind == "node_progress" and event.node_id == "save" and event.done > 0:
            scheduler.cancel()

    scheduler.subscribe(on_event)
    g = graph(("clip", "test.clip", {"frames": 64}), ("save", "video.save", {"codec": "ffv1", "filename": "c.mkv"}),
              links=("clip.video->save.video",))
    result = run(registry, tmp_path, g, scheduler=scheduler)
    assert result.status == "cancelled"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- loading ----------------------------------------------------------------------------------


@pytest.fixture()
def long_file(registry, tmp_path) -> Path:
    return save_clip(registry, tmp_path / "src", "ffv1", "long.mkv", frames=120, width=32, height=24)


def test_load_start_frame_and_max_frames(registry, tmp_path, long_file):
    truth = moving_texture(120, 24, 32, natural=True)
    part = load_clip(registry, tmp_path, long_file, start_frame=10, max_frames=25)
    assert part.frame_count == 25 and np.array_equal(part.to_array(), truth[10:35])
    tail = load_clip(registry, tmp_path, long_file, start_frame=100)
    assert tail.frame_count == 20 and np.array_equal(tail.to_array(), truth[100:])
    sought = load_clip(registry, tmp_path, long_file, start_frame=video_reader.SEEK_AFTER + 23, max_frames=5)
    assert np.array_equal(sought.to_array(), truth[video_reader.SEEK_AFTER + 23:][:5])


def test_seeking_into_inter_coded_video_matches_sequential_decode(registry, tmp_path, monkeypatch):
    path = save_clip(registry, tmp_path, "h264", "gop.mp4", frames=90, width=32, height=24)
    everything = load_clip(registry, tmp_path, path).to_array()
    fallbacks = []
    original = video_reader._decode_from
    spy = lambda info, start: fallbacks.append(start) or original(info, start)
    monkeypatch.setattr(video_reader, "_decode_from", spy)
    start = video_reader.SEEK_AFTER + 17
    sought = load_clip(registry, tmp_path, path, start_frame=start, max_frames=10).to_array()
    assert np.array_equal(sought, everything[start:start + 10])
    assert fallbacks == []  # reached by seeking, not by decoding from frame 0


def test_start_frame_past_the_end_is_a_clear_error(registry, tmp_path, long_file):
    g = graph(("load", "video.load", {"path": str(long_file), "start_frame": 120}))
    result = run(registry, tmp_path, g, ["load"])
    assert result.status == "failed" and result.error.node_id == "load"
    assert "120 frames" in result.error.message and "0 to 119" in result.error.message


def test_load_streams_without_materialising(registry, tmp_path, monkeypatch):
    path = save_clip(registry, tmp_path / "src", "ffv1", "stream.mkv", frames=600, width=64, height=48)
    decoded = []
    original = video_reader._rgb
    monkeypatch.setattr(video_reader, "_rgb", lambda frame, info: decoded.append(1) or original(frame, info))
    video = load_clip(registry, tmp_path, path)
    assert video.frame_count == 600 and video.nbytes == 0 and decoded == []  # loading decodes nothing
    first = next(video.chunks(8))
    # pulled on demand: what was asked for, and at most a chunk made ahead while it was used
    assert first.shape == (8, 48, 64, 3) and 8 <= len(decoded) <= 8 + READ_AHEAD_FRAMES
    # Load -> save streams chunk by chunk: numpy memory stays far below the clip's 5.5 MB.
    g = graph(("load", "video.load", {"path": str(path)}), ("save", "video.save", {"codec": "ffv1",
              "filename": "copy.mkv"}), links=("load.video->save.video",))
    tracemalloc.start()
    try:
        result = run(registry, tmp_path / "out", g).raise_for_status()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    clip_bytes = 600 * 48 * 64 * 3
    assert peak < clip_bytes / 4, f"peak {peak} bytes for a {clip_bytes}-byte clip"
    assert load_clip(registry, tmp_path, Path(result.outputs["save"]["path"])).frame_count == 600


@pytest.mark.parametrize(("type_id", "name"), [("video.load", "gone.mp4"), ("image.load", "gone.png")])
def test_missing_file_names_node_and_path(registry, tmp_path, type_id, name):
    g = graph(("src", type_id, {"path": str(tmp_path / name)}))
    result = run(registry, tmp_path, g, ["src"])
    assert isinstance(result.error, NodeExecutionError)
    assert result.error.node_id == "src" and result.error.type_id == type_id
    assert name in result.error.message and "does not exist" in result.error.message


def test_a_file_that_is_not_a_video_is_a_clear_error(registry, tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    result = run(registry, tmp_path, graph(("load", "video.load", {"path": str(bogus)})), ["load"])
    assert result.error.node_id == "load" and "not a readable video" in result.error.message


# -- embedded workflows -----------------------------------------------------------------------


def test_workflow_embedded_in_saved_video_loads_back(registry, tmp_path):
    source = save_clip(registry, tmp_path / "src", "ffv1", "in.mkv", frames=6)
    g = graph(("load", "video.load", {"path": str(source), "max_frames": 4}),
              ("save", "video.save", {"filename": "made.mp4", "crf": 20}), links=("load.video->save.video",))
    result = run(registry, tmp_path / "out", g).raise_for_status()
    back = load_workflow(result.outputs["save"]["path"], registry)
    assert set(back.nodes) == {"load", "save"}
    assert back.nodes["load"].type == "video.load" and back.nodes["save"].params["crf"] == 20
    assert Path(back.nodes["load"].params["path"]) == source
    assert [(lk.src, lk.dst) for lk in back.links] == [("load", "save")]


@pytest.mark.parametrize("codec", list(CODECS))
def test_every_container_carries_the_workflow(registry, tmp_path, codec):
    if available_encoder(codec) is None:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    for ext in CODECS[codec].extensions:
        path = save_clip(registry, tmp_path, codec, f"w{ext}", frames=2)
        data = json.loads(read_embedded_workflow(path))
        assert data["format"] == "kinograph.workflow" and {n["id"] for n in data["nodes"]} == {"clip", "save"}


def test_reader_ignores_files_without_a_workflow(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\x00\x01binary")
    assert read_embedded_workflow(tmp_path / "x.bin") is None
    assert read_embedded_workflow(tmp_path / "absent.mp4") is None


# -- images -----------------------------------------------------------------------------------


def _write(path: Path, array: np.ndarray) -> Path:
    import cv2

    assert cv2.imwrite(str(path), array)
    return path


def _load_image(registry, tmp_path, path) -> np.ndarray:
    result = run(registry, tmp_path, graph(("img", "image.load", {"path": str(path)})), ["img"])
    return result.raise_for_status().outputs["img"]["image"].array


def test_image_load_grey_alpha_16bit(registry, tmp_path):
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    got = _load_image(registry, tmp_path, _write(tmp_path / "grey.png", grey))
    assert got.shape == (20, 30, 3) and all(np.array_equal(got[..., c], grey) for c in range(3))

    bgra = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    got = _load_image(registry, tmp_path, _write(tmp_path / "alpha.png", bgra))
    assert np.array_equal(got, bgra[..., 2::-1])  # RGB kept as stored, alpha dropped

    deep = rng.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    got = _load_image(registry, tmp_path, _write(tmp_path / "deep.png", deep))
    expected = np.rint(deep[..., ::-1] / 257.0).astype(np.uint8)
    assert np.abs(got.astype(int) - expected).max() == 0


def test_image_save_round_trip_embeds_workflow_and_never_overwrites(registry, tmp_path):
    picture = moving_texture(1, 40, 50)[0]
    src = _write(tmp_path / "src.png", np.ascontiguousarray(picture[..., ::-1]))
    g = graph(("img", "image.load", {"path": str(src)}), ("save", "image.save", {"filename": "shots/still"}),
              links=("img.image->save.image",))
    first = Path(run(registry, tmp_path / "out", g).raise_for_status().outputs["save"]["path"])
    second = Path(run(registry, tmp_path / "out", g).raise_for_status().outputs["save"]["path"])
    assert first.name == "still.png" and second.name == "still_0001.png" and first.parent.name == "shots"
    assert np.array_equal(_load_image(registry, tmp_path, second), picture)
    assert set(load_workflow(first, registry).nodes) == {"img", "save"}


def test_image_save_rejects_other_formats(registry, tmp_path):
    g = graph(("img", "image.load", {"path": "x.png"}), ("save", "image.save", {"filename": "a.jpg"}),
              links=("img.image->save.image",))
    with pytest.raises(ValidationError, match=r"'a\.png'"):
        run(registry, tmp_path, g)


# -- frames and preview -----------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["frame_{:05d}.png", "shot/f_%03d.png"])
def test_save_frames_writes_numbered_pngs_in_a_fresh_folder(registry, tmp_path, pattern):
    g = graph(("clip", "test.clip", {"frames": 5, "width": 20, "height": 16}),
              ("frames", "video.save_frames", {"filename": pattern}), links=("clip.video->frames.video",))
    folder = Path(run(registry, tmp_path, g).raise_for_status().outputs["frames"]["path"])
    again = Path(run(registry, tmp_path, g).raise_for_status().outputs["frames"]["path"])
    assert folder != again and again.name == folder.name + "_0001"
    names = sorted(p.name for p in folder.iterdir())
    first = "frame_00000.png" if "{" in pattern else "f_000.png"
    assert len(names) == 5 and names[0] == first
    truth = moving_texture(5, 16, 20, natural=True)
    assert np.array_equal(_load_image(registry, tmp_path, folder / names[4]), truth[4])
    assert not leftovers(tmp_path)


def test_save_frames_rejects_a_pattern_without_a_counter(registry, tmp_path):
    g = graph(("clip", "test.clip", {}), ("frames", "video.save_frames", {"filename": "frame.png"}),
              links=("clip.video->frames.video",))
    with pytest.raises(ValidationError, match="frame counter"):
        run(registry, tmp_path, g)


def test_preview_makes_a_small_proxy_and_a_summary(registry, tmp_path):
    import cv2

    scheduler = Scheduler(registry, output_dir=tmp_path)
    previews = []
    scheduler.subscribe(lambda e: previews.append(e) if e.kind == "node_preview" and e.node_id == "view" else None)
    g = graph(("clip", "test.clip", {"frames": 10, "width": 400, "height": 300, "fps": 48.0}),
              ("view", "video.preview", {}), links=("clip.video->view.video",))
    out = run(registry, tmp_path, g, scheduler=scheduler).raise_for_status().outputs["view"]
    sent = list(previews)  # (pulling the proxy below sends more)
    assert sent and sent[-1].frames.shape == (10, 240, 320, 3)  # the whole proxy clip, for the editor to play
    proxy = out["video"]
    assert (proxy.width, proxy.height, proxy.frame_count, proxy.fps) == (320, 240, 10, 48.0)
    assert out["summary"] == "10 frames, 400x300 @ 48 fps"
    clip = moving_texture(10, 300, 400, natural=True)
    truth = [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in clip]
    frames = proxy.to_array()
    assert all(psnr(frames[k], truth[k]) > 40 > psnr(frames[k], truth[(k + 3) % 10]) for k in range(10))
