"""Read the sound of a file as a lazy `Audio`: PyAV decodes samples only while the stream is pulled.

Times are measured from the file's origin: the first frame of its picture when it has one (so the sound of a
video lines up with its frames), else the start of its sound.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nodegraph.api import Audio, UsageError, existing_file

AUDIO_FILTER = "Sound (*.wav *.flac *.m4a *.aac *.mp3 *.opus *.ogg *.mp4 *.mov *.mkv *.webm)"
SEEK_AFTER_S = 10.0  # a start further in than this is reached by seeking instead of decoding from the start
SEEK_MARGIN_S = 0.5  # decoded before the start after a seek, so the decoder has settled by then
GUESSED_LENGTH = {"aac", "mp3", "ac3", "eac3"}  # raw streams whose header length FFmpeg guesses from the bit rate


@dataclass(frozen=True)
class AudioInfo:
    """What the sound of a file is, read without decoding it."""

    path: str
    sample_rate: int
    channels: int
    sample_count: int  # from the origin to the end of the sound
    origin: float  # seconds, in the file's own clock, that sample 0 stands for


def open_container(path: str, what: str = "sound"):
    """The file opened by PyAV, or a clear UsageError for a missing or unreadable file."""
    import av

    existing_file(path, "file", f"a file with {what} in it")
    try:
        return av.open(path)
    except Exception as exc:
        raise UsageError(f"{path!r} is not a media file PyAV can open ({exc}); convert it to wav, flac or mp4") \
            from None


def _seconds(value, time_base) -> float | None:
    return None if value is None or not time_base else float(value * time_base)


def _origin(container, stream) -> float:
    """The time sample 0 stands for: the picture's start when there is a picture, else the sound's."""
    if container.streams.video:
        video = container.streams.video[0]
        start = _seconds(video.start_time, video.time_base)
        if start is not None:
            return start
    return _seconds(stream.start_time, stream.time_base) or 0.0


def _end(container, stream) -> float:
    """When the sound ends, from the stream header or, when it does not say, its packets (no decoding)."""
    start = _seconds(stream.start_time, stream.time_base) or 0.0
    length = _seconds(stream.duration, stream.time_base)
    if length and not GUESSED_LENGTH & set(container.format.name.split(",")):
        return start + length
    end = start
    for packet in container.demux(stream):
        if packet.pts is not None and packet.size:
            end = max(end, float((packet.pts + (packet.duration or 0)) * stream.time_base))
    return end


def probe_audio(path: str, measure: bool = True) -> AudioInfo | None:
    """The sound of a file (its first audio stream), or None when it has none. `measure=False` skips finding
    its length (sample_count 0), which may read the whole file when the header does not say it."""
    with open_container(path) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        channels = stream.codec_context.channels
        if not rate or not channels:
            raise UsageError(f"{path!r}: its sound does not say its sample rate or channels; the file may be "
                             "damaged; re-encode it")
        origin = _origin(container, stream)
        count = max(0, round((_end(container, stream) - origin) * rate)) if measure else 0
    return AudioInfo(path, int(rate), int(channels), count, origin)


def require_audio(path: str) -> AudioInfo:
    info = probe_audio(path)
    if info is None:
        raise UsageError(f"{Path(path).name!r} has no sound (no audio stream); choose a file with sound in it")
    return info


def load_audio(info: AudioInfo, start: int = 0, count: int | None = None) -> Audio:
    """Samples [start, start + count) of the file's sound as a lazy `Audio` (past its end: silence)."""
    count = info.sample_count - start if count is None else count
    return Audio(lambda: decode_samples(info, start, count), sample_rate=info.sample_rate, channels=info.channels,
                 sample_count=max(0, count))


def decode_samples(info: AudioInfo, start: int, count: int) -> Iterator[np.ndarray]:
    """Yield float32 samples (k, channels) from sample `start`, each decoded frame placed by its timestamp."""
    import av

    rate = info.sample_rate
    stop = start + count
    with open_container(info.path) as container:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        if start / rate > SEEK_AFTER_S and stream.time_base:
            seconds = info.origin + start / rate - SEEK_MARGIN_S
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        layout = "mono" if info.channels == 1 else stream.codec_context.layout
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        position: int | None = None  # the sample index (from the origin) of the next decoded sample
        for frame in _frames(container, stream):
            if position is None:
                at = _seconds(frame.pts, frame.time_base or stream.time_base)
                position = 0 if at is None else round((at - info.origin) * rate)
                if position > start:  # the sound starts later than asked: silence until it does
                    yield np.zeros((min(position, stop) - start, info.channels), np.float32)
            for converted in resampler.resample(frame):
                samples = converted.to_ndarray().reshape(-1, info.channels)
                lo, hi = max(start - position, 0), min(stop - position, len(samples))
                position += len(samples)
                if lo < hi:
                    yield samples[lo:hi]
            if position is not None and position >= stop:
                return


def _frames(container, stream):
    """Decoded frames; a decoder that stops on damage ends the sound there (the rest is silence)."""
    import av.error

    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:
            return
        try:
            yield from packet.decode()
        except av.error.FFmpegError:
            return
