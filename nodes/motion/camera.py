"""motion.camera: the classical image-to-video camera move, rendered lazily frame by frame."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from nodegraph.api import IMAGE, VIDEO, Image, Node, NodeContext, Param, Port, UsageError, Video

EASINGS = ("linear", "ease_in_out")


def ease(t: float, easing: str) -> float:
    """Progress along the move (0 to 1) at time t (0 to 1)."""
    if easing == "ease_in_out":
        return 0.5 - 0.5 * math.cos(math.pi * t)
    return t


def camera_matrix(width: int, height: int, u: float, *, zoom_from: float, zoom_to: float, pan_x: float,
                  pan_y: float, rotate_deg: float) -> np.ndarray:
    """The 2x3 affine (source pixels to frame pixels) at move progress u.

    The camera centre travels pan_x * width and pan_y * height over the move (positive =
    right / down, so the picture slides left / up); zoom is interpolated geometrically so a
    push-in has a constant perceived speed; positive rotation rolls the picture anticlockwise.
    """
    zoom = zoom_from * (zoom_to / zoom_from) ** u
    cx, cy = (width - 1) / 2, (height - 1) / 2
    angle = math.radians(rotate_deg * u)
    cos, sin = zoom * math.cos(angle), zoom * math.sin(angle)
    # Rotate and scale about the travelling camera centre, then put that centre mid-frame.
    px, py = cx + pan_x * width * u, cy + pan_y * height * u
    return np.array([[cos, sin, cx - cos * px - sin * py],
                     [-sin, cos, cy + sin * px - cos * py]], np.float64)


def _view_leaves_picture(matrix: np.ndarray, width: int, height: int) -> bool:
    """True when a corner of the frame maps outside the source picture."""
    inverse = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], float)
    src = corners @ inverse.T
    tol = 0.5
    return bool((src[:, 0] < -tol).any() or (src[:, 0] > width - 1 + tol).any()
                or (src[:, 1] < -tol).any() or (src[:, 1] > height - 1 + tol).any())


class CameraMotion(Node):
    """Animate a still image with a smooth camera move: push-in, pan and roll."""

    type_id = "motion.camera"
    widgets = ("frames", "zoom_to", "easing")
    category = "Dynamics"
    title = "Camera Motion"
    inputs = (Port("image", IMAGE),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("frames", int, default=72, min=1, max=10000, tooltip="Number of frames in the clip."),
        Param("fps", float, default=24.0, min=1.0, max=240.0, tooltip="Frames per second of the clip."),
        Param("zoom_from", float, default=1.0, min=0.1, max=10.0, step=0.05,
              tooltip="Zoom at the first frame (1 = the whole picture; below 1 shows mirrored edges)."),
        Param("zoom_to", float, default=1.15, min=0.1, max=10.0, step=0.05,
              tooltip="Zoom at the last frame (above zoom_from = push in, below = pull out)."),
        Param("pan_x", float, default=0.0, min=-2.0, max=2.0, step=0.05,
              tooltip="Horizontal camera travel over the clip, as a fraction of the frame width "
                      "(positive = camera moves right)."),
        Param("pan_y", float, default=0.0, min=-2.0, max=2.0, step=0.05,
              tooltip="Vertical camera travel over the clip, as a fraction of the frame height "
                      "(positive = camera moves down)."),
        Param("rotate_deg", float, default=0.0, min=-360.0, max=360.0, step=1.0,
              tooltip="Roll over the clip in degrees (positive = picture turns anticlockwise)."),
        Param("easing", str, default="linear", choices=EASINGS,
              tooltip="linear: constant speed; ease_in_out: starts and ends at rest."),
    )

    def run(self, ctx: NodeContext, *, image: Image, frames: int, fps: float, zoom_from: float, zoom_to: float,
            pan_x: float, pan_y: float, rotate_deg: float, easing: str) -> dict:
        if image is None:
            raise UsageError("motion.camera needs a picture on its 'image' input; connect an image loader")
        picture = np.ascontiguousarray(image.array)
        height, width = picture.shape[:2]
        move = dict(zoom_from=zoom_from, zoom_to=zoom_to, pan_x=pan_x, pan_y=pan_y, rotate_deg=rotate_deg)

        def matrix(i: int) -> np.ndarray:
            t = i / (frames - 1) if frames > 1 else 0.0
            return camera_matrix(width, height, ease(t, easing), **move)

        outside = [i for i in range(0, frames, max(1, frames // 64)) if _view_leaves_picture(matrix(i), width, height)]
        if _view_leaves_picture(matrix(frames - 1), width, height):
            outside.append(frames - 1)
        if outside:
            ctx.warn(f"from frame {outside[0]} the view goes past the picture's edge, which is filled by "
                     "mirroring; raise zoom_from/zoom_to or reduce pan/rotation to stay inside")

        def make_frames() -> Iterator[np.ndarray]:
            import cv2

            for i in range(frames):
                yield cv2.warpAffine(picture, matrix(i), (width, height), flags=cv2.INTER_CUBIC,
                                     borderMode=cv2.BORDER_REFLECT_101)

        return {"video": Video.from_frames(make_frames, fps=fps, width=width, height=height, frame_count=frames)}
