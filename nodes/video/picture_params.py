"""What the picture-editing nodes share: the check that a rectangle lies inside the frame, colours written
as text, and a node's 'an image or a video' input pair."""

from __future__ import annotations

import re

from nodegraph.api import Image, UsageError, Video

MAX_SIDE = 16384
STILL_FPS = 24.0  # the frame rate a single image takes when it becomes a one-frame clip or mask
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_colour(text: str) -> tuple[int, int, int]:
    """'#00ff00', '00ff00' or '0, 255, 0' as an (r, g, b) triple; ValueError saying how to write one."""
    found = _HEX.match(text.strip())
    if found:
        value = int(found.group(1), 16)
        return value >> 16, (value >> 8) & 255, value & 255
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 3 and all(p.isdigit() and int(p) <= 255 for p in parts):
        return int(parts[0]), int(parts[1]), int(parts[2])
    raise ValueError(f"{text!r} is not a colour; write it as #rrggbb (e.g. #00ff00) or r, g, b (e.g. 0, 255, 0)")


def colour_problems(params: dict, name: str) -> list[str]:
    """The check() problem of a colour param, as a list (empty when it parses)."""
    try:
        parse_colour(params.get(name, ""))
    except ValueError as exc:
        return [f"{name}: {exc}"]
    return []


def rect_problem(x: int, y: int, width: int, height: int, frame_w: int, frame_h: int, what: str) -> str | None:
    """Why the rectangle (x, y, width, height) does not lie inside a frame_w x frame_h picture, or None."""
    if width < 1 or height < 1:
        return f"the {what} is {width}x{height}; give it a width and height of at least 1 pixel"
    if x + width <= frame_w and y + height <= frame_h:
        return None
    return (f"the {what} {width}x{height} at ({x}, {y}) reaches ({x + width}, {y + height}), outside the "
            f"{frame_w}x{frame_h} frame; make x + width at most {frame_w} and y + height at most {frame_h}")


def image_or_video(node: str, image: Image | None, video: Video | None) -> tuple[Video, bool]:
    """The one connected input among `image` and `video`, as a clip (an image is a one-frame clip), and whether
    it came from an image. UsageError when none or both are connected."""
    if image is not None and video is not None:
        raise UsageError(f"{node} takes an image or a video, and both are connected; disconnect one")
    if video is not None:
        return video, False
    if image is not None:
        return Video.from_array(image.array[None], STILL_FPS), True
    raise UsageError(f"{node} needs a picture: connect an IMAGE to 'image' or a VIDEO to 'video'")
