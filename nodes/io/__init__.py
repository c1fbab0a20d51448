"""Input/Output nodes: load and save images and videos, save frames, preview clips.

Saved videos and PNGs carry their workflow; `read_embedded_workflow` gets it back.
"""

from __future__ import annotations

from .frames import PreviewVideo, SaveFrames
from .images import LoadImage, SaveImage
from .metadata import read_embedded_workflow
from .video_read import LoadVideo
from .video_write import SaveVideo
from .watermark import WatermarkVideo

NODES = (LoadImage, SaveImage, LoadVideo, SaveVideo, SaveFrames, PreviewVideo, WatermarkVideo)

__all__ = ["NODES", "read_embedded_workflow", "register"]


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


def open_media(path):
    """A file an output node wrote, as a lazy `Video` or an `Image` to show (the editor's preview of a saved
    file); None for a file that is neither."""
    from pathlib import Path

    from nodegraph.api import Image

    from .images import read_image
    from .video_reader import VIDEO_SUFFIXES, open_video

    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return Image(read_image(str(path)))
    if suffix in VIDEO_SUFFIXES:
        return open_video(path)
    return None


def register(registry) -> None:
    registry.register_all(NODES)
    registry.add_workflow_reader(read_embedded_workflow)
    registry.services.open_media = open_media
    registry.services.describe_credentials = describe_credentials
    registry.services.contact_sheet = make_contact_sheet


def make_contact_sheet(items, folder):  # not named like its module: importing that would replace this name
    """The variants of a sweep (label, video path) tiled into folder/contact_sheet.mp4 and .png; the files."""
    from .contact_sheet import write_contact_sheet

    return write_contact_sheet(items, folder)


def describe_credentials(path) -> str | None:
    """What a file's Content Credentials say, in one paragraph; None when it has none."""
    from .provenance import describe_provenance, read_provenance

    found = read_provenance(path)
    return describe_provenance(found) if found else None
