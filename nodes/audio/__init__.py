"""Sound: load it from any file PyAV reads (the sound of a video too) and save it as WAV, FLAC, M4A or Opus.

`video.load`, `video.save`, `video.trim` and `video.concat` carry sound beside the picture with the pieces here.
"""

from __future__ import annotations

from .nodes import LoadAudio, SaveAudio

NODES = (LoadAudio, SaveAudio)


def register(registry) -> None:
    registry.register_all(NODES)
