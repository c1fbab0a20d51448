"""video.trim and video.concat: cut and join clips without materialising them, and the sound that rides along."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nodegraph.api import (
    AUDIO,
    DEFAULT_CHUNK,
    VIDEO,
    Audio,
    Node,
    NodeContext,
    Param,
    Port,
    UsageError,
    Video,
    concat_audio,
)

from ..audio.convert import conformed

SOUND_IN = "Sound that plays with this clip from its first frame (video.load's audio output); optional."


def _need(video: Video | None, node: str, port: str) -> Video:
    if video is None:
        raise UsageError(f"{node} needs a video on its {port!r} input; connect one")
    return video


class TrimVideo(Node):
    """Keep the frames from start up to (not including) end."""

    type_id = "video.trim"
    category = "Utility"
    title = "Trim Video"
    inputs = (Port("video", VIDEO), Port("audio", AUDIO, optional=True, tooltip=SOUND_IN))
    outputs = (Port("video", VIDEO),
               Port("audio", AUDIO, tooltip="The sound cut at the same times; empty when none came in."))
    params = (
        Param("start", int, default=0, min=0, tooltip="Index of the first frame kept (0 = the first frame)."),
        Param("end", int, default=0, min=0,
              tooltip="Index one past the last frame kept (exclusive); 0 = to the end of the clip."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        start, end = params.get("start", 0), params.get("end", 0)
        if isinstance(start, int) and isinstance(end, int) and end and end <= start:
            return [f"end ({end}) must be greater than start ({start}) to keep any frame; "
                    "raise end, or set it to 0 to keep everything up to the end"]
        return []

    def run(self, ctx: NodeContext, *, video: Video, start: int, end: int, audio: Audio | None = None) -> dict:
        video = _need(video, "video.trim", "video")
        n = video.frame_count
        stop = end or n
        if start >= n or stop > n or start >= stop:
            raise UsageError(
                f"trim range start={start}, end={end} does not fit the clip, which has {n} frames "
                f"(indices 0 to {n - 1}); use start below {n} and end up to {n} (0 = to the end)"
            )
        if audio is not None:
            rate = audio.sample_rate / video.fps  # samples a frame
            audio = audio.slice_samples(round(start * rate), round(stop * rate))
        if start == 0 and stop == n:
            return {"video": video, "audio": audio}

        return {"video": video.slice_frames(start, stop), "audio": audio}


class ConcatVideo(Node):
    """Play the second clip after the first (same frame size; the first clip's fps)."""

    type_id = "video.concat"
    category = "Utility"
    title = "Concatenate Videos"
    inputs = (Port("first", VIDEO), Port("second", VIDEO),
              Port("first_audio", AUDIO, optional=True, tooltip=SOUND_IN),
              Port("second_audio", AUDIO, optional=True, tooltip=SOUND_IN))
    outputs = (Port("video", VIDEO),
               Port("audio", AUDIO, tooltip="The two sounds joined where the clips join (each cut or padded to its "
                                            "clip, silence for a clip without one), at the first sound's rate; "
                                            "empty when neither clip has sound."))

    def run(self, ctx: NodeContext, *, first: Video, second: Video, first_audio: Audio | None = None,
            second_audio: Audio | None = None) -> dict:
        first = _need(first, "video.concat", "first")
        second = _need(second, "video.concat", "second")
        if (first.width, first.height) != (second.width, second.height):
            raise UsageError(
                f"the clips differ in size: first is {first.width}x{first.height}, second is "
                f"{second.width}x{second.height}; add a video.resize with width={first.width} "
                f"height={first.height} before the second input"
            )
        if abs(first.fps - second.fps) > 1e-6:
            ctx.warn(f"the second clip is {second.fps:g} fps but plays at the first clip's {first.fps:g} fps")

        def source() -> Iterator[np.ndarray]:
            yield from first.chunks(DEFAULT_CHUNK)
            yield from second.chunks(DEFAULT_CHUNK)

        video = first.with_source(source, frame_count=first.frame_count + second.frame_count)
        video.same_thread = first.same_thread or second.same_thread  # see Video.same_thread
        return {"video": video, "audio": joined_sound(first, first_audio, second, second_audio)}


def joined_sound(first: Video, first_audio: Audio | None, second: Video, second_audio: Audio | None) -> Audio | None:
    """The sound of two clips played one after the other (the second at the first's fps), each part as long as
    its clip, so the second sound starts with the second clip's first frame. None when neither has sound."""
    sounds = [a for a in (first_audio, second_audio) if a is not None]
    if not sounds:
        return None
    rate, channels = sounds[0].sample_rate, max(a.channels for a in sounds)
    parts = []
    for video, audio in ((first, first_audio), (second, second_audio)):
        length = round(video.frame_count / first.fps * rate)
        if audio is None:
            parts.append(Audio.silence(length, rate, channels))
        else:
            parts.append(conformed(audio, rate, channels).with_length(length))
    return concat_audio(parts)
