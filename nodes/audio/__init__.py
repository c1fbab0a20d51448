"""Sound: load it from any file PyAV reads (the sound of a video too) and save it as WAV, FLAC, M4A or Opus.

`video.load`, `video.save`, `video.trim` and `video.concat` carry sound beside the picture with the pieces here.
"""

from __future__ import annotations

from nodegraph.api import Audio

from .nodes import LoadAudio, SaveAudio

NODES = (LoadAudio, SaveAudio)


def register(registry) -> None:
    registry.register_all(NODES)
    registry.services.open_sound = open_sound


def open_sound(path) -> Audio | None:
    """The sound of a file an output node wrote, as a lazy `Audio` (the editor's waveform); None without sound."""
    from .reading import load_audio, probe_audio

    info = probe_audio(str(path))
    return load_audio(info) if info is not None else None
