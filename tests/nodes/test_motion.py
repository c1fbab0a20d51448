"""motion.camera: exact counts, smooth measured motion that follows the easing, correct geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nodegraph import Graph, Link, NodeInstance, NodeRegistry, Scheduler
from nodegraph.errors import UsageError
from nodegraph.events import NodeProgress
from nodegraph.media import Image, Video
from nodegraph.node import Node, NodeContext, Port
from nodegraph.types import IMAGE, INT, VIDEO
from nodes.motion import CameraMotion
from nodes.motion.camera import ease

try:
    from .synth import psnr, texture_frame
except ImportError:  # tests/nodes is not a package yet
    from synth import psnr, texture_frame


def camera(image: np.ndarray, messages: list | None = None, **params) -> Video:
    values = CameraMotion.defaults()
    values.update(params)
    emit = (lambda node, level, text: messages.append(text)) if messages is not None else None
    return CameraMotion().run(NodeContext("cam", "motion.camera", _emit_message=emit), image=Image(image),
                              **values)["video"]


def frames_of(video: Video) -> np.ndarray:
    frames = np.concatenate(list(video.chunks(5)))
    assert frames.shape == (video.frame_count, video.height, video.width, 3)
    return frames


def phase_shift(a: np.ndarray, b: np.ndarray, max_freq: float = 0.12) -> np.ndarray:
    """(dx, dy) with b(x) = a(x - d): a least-squares fit of the cross-power spectrum's phase (phase
    correlation without the sub-pixel bias of a peak fit), over low frequencies so it cannot wrap."""
    h, w = a.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    cross = np.fft.fft2((a - a.mean()) * window) * np.conj(np.fft.fft2((b - b.mean()) * window))
    ky, kx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    radius = np.hypot(kx, ky)
    keep = (radius > 0) & (radius < max_freq)
    weight = np.sqrt(np.abs(cross[keep]))
    design = np.stack([kx[keep], ky[keep]], 1) * (2 * np.pi) * weight[:, None]
    return np.linalg.lstsq(design, np.angle(cross[keep]) * weight, rcond=None)[0]


def shifts(frames: np.ndarray, margin: int = 24) -> np.ndarray:
    """Per-step (dx, dy) of the picture between consecutive frames: phase correlation, refined by
    shifting the second frame back by the estimate and measuring what is left."""
    import cv2

    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float64) for f in frames]
    crop = (slice(margin, -margin), slice(margin, -margin))
    out = []
    for a, b in zip(gray[:-1], gray[1:], strict=True):
        d = np.zeros(2)
        for _ in range(3):
            back = cv2.warpAffine(b, np.float64([[1, 0, -d[0]], [0, 1, -d[1]]]), b.shape[::-1],
                                  flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
            d = d + phase_shift(a[crop], back[crop])
        out.append(d)
    return np.array(out)


def test_frame_count_fps_and_size_are_exact_and_frames_are_lazy():
    image = texture_frame(48, 80, seed=1)
    video = camera(image, frames=37, fps=12.5)
    assert (video.frame_count, video.fps, video.width, video.height) == (37, 12.5, 80, 48)
    assert video.nbytes == 0  # a recipe, not a buffer
    frames = frames_of(video)
    assert psnr(frames[0], image) > 45  # zoom_from 1 starts on the picture itself
    assert len(frames_of(camera(image, frames=1))) == 1


@pytest.mark.parametrize("easing", ["linear", "ease_in_out"])
def test_pan_moves_by_the_eased_amount_every_frame(easing):
    width, height, frames, zoom = 192, 160, 25, 1.5
    pan_x, pan_y = 0.15, -0.1  # stays inside the picture: the zoom leaves a sixth of it each side
    messages: list[str] = []
    video = camera(texture_frame(height, width, seed=2), messages, frames=frames, zoom_from=zoom, zoom_to=zoom,
                   pan_x=pan_x, pan_y=pan_y, easing=easing)
    measured = shifts(frames_of(video))
    assert messages == []
    progress = np.array([ease(i / (frames - 1), easing) for i in range(frames)])
    # The camera moves right/up, so the picture slides left/down on screen.
    expected = np.stack([-pan_x * width * zoom * np.diff(progress), -pan_y * height * zoom * np.diff(progress)], 1)
    np.testing.assert_allclose(measured, expected, atol=0.06)
    speed = np.hypot(*measured.T)
    if easing == "linear":
        assert speed.std() < 0.03 * speed.mean()
    else:
        assert speed[0] < 0.1 * speed.max() and speed[-1] < 0.1 * speed.max()
        assert abs(int(np.argmax(speed)) - (frames - 2) / 2) <= 1  # fastest mid-move


def analytic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A smooth picture defined everywhere, so the true camera view exists at any position."""
    img = np.stack([np.sin(x / 7.3 + c) * np.cos(y / 9.1 - c) + 0.5 * np.sin((x - y) / 11.0 + 2 * c)
                    for c in range(3)], axis=-1)
    return np.clip(np.rint(127.5 + 80 * img), 0, 255).astype(np.uint8)


def test_zoom_pan_and_roll_match_the_true_camera_view():
    height, width, frames = 120, 160, 5
    move = dict(zoom_from=1.2, zoom_to=1.8, pan_x=0.1, pan_y=-0.05, rotate_deg=30.0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    out = frames_of(camera(analytic(x, y), frames=frames, **move))
    cx, cy = (width - 1) / 2, (height - 1) / 2
    for i in (0, 2, 4):
        u = i / (frames - 1)
        zoom = move["zoom_from"] * (move["zoom_to"] / move["zoom_from"]) ** u
        theta = math.radians(move["rotate_deg"] * u)
        # Screen offset from the centre, turned back by the roll and shrunk by the zoom, seen from the pan centre.
        dx, dy = x - cx, y - cy
        sx = cx + move["pan_x"] * width * u + (math.cos(theta) * dx - math.sin(theta) * dy) / zoom
        sy = cy + move["pan_y"] * height * u + (math.sin(theta) * dx + math.cos(theta) * dy) / zoom
        truth = analytic(sx, sy)
        assert psnr(out[i, 10:-10, 10:-10], truth[10:-10, 10:-10]) > 45, i


def dot_position(frame: np.ndarray) -> np.ndarray:
    weight = frame[..., 0].astype(np.float64)
    weight[weight < 128] = 0
    y, x = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
    return np.array([(weight * x).sum(), (weight * y).sum()]) / weight.sum()


def picture_with_dot(dx: int, dy: int, height: int = 101, width: int = 121) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    cy, cx = height // 2, width // 2
    image[cy + dy - 2:cy + dy + 3, cx + dx - 2:cx + dx + 3] = 255
    return image


def test_directions_roll_anticlockwise_pan_right_and_push_in():
    centre = np.array([60.0, 50.0])
    rolled = frames_of(camera(picture_with_dot(30, 0), frames=2, zoom_to=1.0, rotate_deg=90))
    np.testing.assert_allclose(dot_position(rolled[-1]) - centre, [0, -30], atol=0.5)  # right of centre -> above
    panned = frames_of(camera(picture_with_dot(0, 0), frames=2, zoom_from=2, zoom_to=2, pan_x=0.1))
    np.testing.assert_allclose(dot_position(panned[-1]) - centre, [-2 * 12.1, 0], atol=0.5)
    pushed = frames_of(camera(picture_with_dot(20, -10), frames=3, zoom_to=1.5))
    np.testing.assert_allclose(dot_position(pushed[-1]) - centre, [30, -15], atol=0.5)


def test_views_past_the_edge_are_mirrored_with_a_warning():
    messages: list[str] = []
    image = texture_frame(64, 64, seed=4)
    out = frames_of(camera(image, messages, frames=6, zoom_from=1.0, zoom_to=0.7))
    assert messages and "mirroring" in messages[0] and "frame 1" in messages[0]
    # At zoom 0.7 the picture's top edge sits at y = 31.5 * 0.3 = 9.45: rows above mirror the rows below.
    assert psnr(out[-1][4, 16:48], out[-1][15, 16:48]) > 30
    quiet: list[str] = []
    frames_of(camera(image, quiet, frames=6))  # the default push-in stays inside the picture
    assert quiet == []


def test_missing_image_is_a_usage_error():
    with pytest.raises(UsageError, match="image"):
        CameraMotion().run(NodeContext("cam", "motion.camera"), image=None, **CameraMotion.defaults())


# -- through the engine ---------------------------------------------------------------------------


class Still(Node):
    """A test picture."""

    type_id = "test.still"
    outputs = (Port("image", IMAGE),)

    def run(self, ctx, **_):
        return {"image": Image(texture_frame(64, 96, seed=9))}


class Pull(Node):
    """Pulls a whole clip during the run, as an encoder does, and counts its frames."""

    type_id = "test.pull"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("frames", INT),)
    is_output = True

    def run(self, ctx, *, video, **_):
        return {"frames": sum(len(block) for block in video.chunks(16))}


def pipeline(**trim) -> Graph:
    graph = Graph("camera pipeline")
    steps = [("still", "test.still", {}), ("cam", "motion.camera", {"frames": 30, "zoom_to": 1.3}),
             ("resize", "video.resize", {"scale": 0.5}), ("interp", "video.interpolate", {"factor": 2}),
             ("trim", "video.trim", {"start": 5, "end": 50, **trim})]
    for node_id, type_id, params in steps:
        graph.add_node(NodeInstance(node_id, type_id, params))
    for (src, _, _), (dst, _, _) in zip(steps, steps[1:], strict=False):
        port = "image" if src == "still" else "video"
        graph.connect(Link(src, port, dst, port))
    return graph


def scheduler(tmp_path) -> Scheduler:
    import nodes.motion
    import nodes.video

    registry = NodeRegistry()
    registry.register(Still)
    registry.register(Pull)
    nodes.video.register(registry)
    nodes.motion.register(registry)
    return Scheduler(registry, output_dir=tmp_path)


def test_camera_clip_streams_through_the_video_nodes_with_progress_for_each(tmp_path):
    engine = scheduler(tmp_path)
    events = []
    engine.subscribe(events.append)
    graph = pipeline()
    graph.add_node(NodeInstance("pull", "test.pull"))
    graph.connect(Link("trim", "video", "pull", "video"))
    result = engine.run(graph, targets=["pull"]).raise_for_status()
    assert result.outputs["pull"]["frames"] == 45
    video = result.outputs["trim"]["video"]
    assert (video.frame_count, video.fps, video.width, video.height) == (45, 48.0, 48, 32)
    assert len(np.concatenate(list(video.chunks(16)))) == 45  # the stream can be pulled again after the run
    finished = {e.node_id: (e.done, e.total) for e in events if isinstance(e, NodeProgress)}
    assert finished["trim"] == (45, 45)
    assert finished["interp"][1] == 60 and finished["cam"][1] == 30  # each against its own length


def test_a_trim_beyond_the_clip_fails_on_that_node_with_the_frame_count(tmp_path):
    result = scheduler(tmp_path).run(pipeline(end=80), targets=["trim"])
    assert result.status == "failed" and result.error.node_id == "trim"
    assert "has 60 frames" in result.error.message
