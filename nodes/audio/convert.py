"""Bring sound to a sample rate and channel count (PyAV's resampler, streamed chunk by chunk)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nodegraph.api import Audio


def layout_name(channels: int) -> str:
    """FFmpeg's name of the usual layout of `channels` channels ("3c": three, in no named order)."""
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def resampled(audio: Audio, rate: int) -> Audio:
    """`audio` at `rate` Hz, as a lazy stream (FFmpeg's resampler, so no aliasing from a naive stretch)."""
    if rate == audio.sample_rate:
        return audio

    def source() -> Iterator[np.ndarray]:
        import av

        layout = layout_name(audio.channels)
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        for block in audio.chunks():
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block).reshape(1, -1), format="flt",
                                               layout=layout)
            frame.sample_rate = audio.sample_rate
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1, audio.channels)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1, audio.channels)

    return audio.with_source(source, sample_rate=rate, sample_count=round(audio.sample_count * rate /
                                                                          audio.sample_rate))


def conformed(audio: Audio, rate: int, channels: int) -> Audio:
    """`audio` with `channels` channels at `rate` Hz (lazy)."""
    return resampled(audio.remixed(channels), rate)
