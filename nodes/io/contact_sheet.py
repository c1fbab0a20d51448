"""A contact sheet of a sweep: the variants' videos tiled side by side in one video, each labelled with its values,
and a PNG of the middle frame."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nodegraph.api import UsageError, Video

TILE_WIDTH = 320  # each variant is scaled to this width (its aspect kept): a sheet of 16 stays about 1280 wide
MAX_SHEET_PIXELS = 4096 * 4096  # the sheet's frame is allocated whole: refused before it is, when larger
LABEL_HEIGHT = 22
SHEET_NAME = "contact_sheet"


def grid(count: int) -> tuple[int, int]:
    """(columns, rows) for `count` tiles, as square as fits, wider than tall."""
    columns = math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def write_contact_sheet(items: list[tuple[str, Path]], folder: Path, name: str = SHEET_NAME) -> list[Path]:
    """Tile the videos (label, path) into `folder/name.mp4` and `folder/name.png` (a middle frame). Shorter
    clips hold their last frame; the sheet runs at the first clip's frame rate. Returns the files written."""
    import cv2

    from .images import encode_png, write_new_file
    from .video_reader import open_video
    from .video_write import encode_video

    if not items:
        raise UsageError("no videos to put on a contact sheet: none of the variants wrote one")
    videos = [open_video(path) for _, path in items]
    tile_w = TILE_WIDTH
    tile_h = max(2, round(tile_w * videos[0].height / videos[0].width / 2) * 2)
    columns, rows = grid(len(videos))
    width, height = columns * tile_w, rows * (tile_h + LABEL_HEIGHT)
    if width * height > MAX_SHEET_PIXELS:
        raise UsageError(f"a contact sheet of {len(videos)} variants would be {width}x{height}, more than "
                         f"{MAX_SHEET_PIXELS:,} pixels; sweep fewer values or leave out --contact-sheet")
    frames = max(v.frame_count for v in videos) or 1
    labels = [_label_strip(label, tile_w, cv2) for label, _ in items]

    def tiles():
        iterators = [iter(v.frames()) for v in videos]
        last: list[np.ndarray | None] = [None] * len(videos)
        for _ in range(frames):
            sheet = np.zeros((height, width, 3), np.uint8)
            for i, iterator in enumerate(iterators):
                frame = next(iterator, None)
                if frame is not None:
                    last[i] = cv2.resize(frame, (tile_w, tile_h), interpolation=cv2.INTER_AREA)
                x, y = (i % columns) * tile_w, (i // columns) * (tile_h + LABEL_HEIGHT)
                sheet[y:y + LABEL_HEIGHT, x:x + tile_w] = labels[i]
                if last[i] is not None:
                    sheet[y + LABEL_HEIGHT:y + LABEL_HEIGHT + tile_h, x:x + tile_w] = last[i]
            yield sheet[None]

    middle: list[np.ndarray] = []

    def keep_middle():
        for index, block in enumerate(tiles()):
            if index == frames // 2:
                middle.append(block[0].copy())
            yield block

    folder.mkdir(parents=True, exist_ok=True)
    sheet = Video(keep_middle, fps=videos[0].fps, width=width, height=height, frame_count=frames)
    video_path = encode_video(sheet, folder / f"{name}.mp4", "h264", "libx264", crf=20, preset="fast")
    png_path = write_new_file(folder / f"{name}.png", encode_png(middle[0]))
    return [video_path, png_path]


def _label_strip(text: str, width: int, cv2) -> np.ndarray:
    """A dark strip holding `text` in white, cut with '...' to fit."""
    strip = np.full((LABEL_HEIGHT, width, 3), 32, np.uint8)
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.42, 1
    shown = text
    while shown and cv2.getTextSize(shown, font, scale, thickness)[0][0] > width - 8:
        shown = shown[:-4] + "..." if len(shown) > 4 else ""
    cv2.putText(strip, shown, (4, LABEL_HEIGHT - 7), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return strip
