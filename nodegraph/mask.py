"""The value that flows on MASK wires: a one-channel clip that streams like a `Video`.

Canonical form: uint8 frames shaped (H, W). 255 marks a pixel (the area to fill, regenerate or outpaint),
0 leaves it alone, and values between are soft edges (a blurred mask). uint8 keeps a mask a third the size of
its clip's frames; a consumer that wants 0..1 floats converts a chunk at a time with `as_float`.
A mask made from a single image has one frame; `repeated` stretches it over a clip's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .media import DEFAULT_CHUNK, Video, chunk_frames

MARKED = 255


def as_float(block: np.ndarray) -> np.ndarray:
    """Mask frames as float32 in 0..1 (255 -> 1.0)."""
    return block.astype(np.float32) * np.float32(1 / MARKED)


def as_grey_rgb(block: np.ndarray) -> np.ndarray:
    """Mask frames (..., H, W) as grey RGB frames (..., H, W, 3): white where marked."""
    return np.repeat(block[..., None], 3, axis=-1)


class Mask(Video):
    """A one-channel clip: fps, size, frame count, and uint8 frames (H, W) pulled in chunks (255 = marked)."""

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """The shape of one frame: (H, W)."""
        return (self.height, self.width)

    @classmethod
    def from_array(cls, frames: np.ndarray, fps: float) -> Mask:
        """A mask held in memory, shaped (T, H, W) uint8."""
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 3:
            shape = getattr(frames, "shape", None)
            dtype = getattr(frames, "dtype", type(frames).__name__)
            raise TypeError(f"Mask frames must be a uint8 array shaped (T, H, W), got {shape} {dtype}")
        if frames.shape[0] == 0:
            raise ValueError("a mask needs at least one frame")
        frames = np.ascontiguousarray(frames)
        t, h, w = frames.shape
        return cls(lambda: iter((frames,)), fps=fps, width=w, height=h, frame_count=t, nbytes=frames.nbytes)

    @classmethod
    def filled(cls, value: int, *, width: int, height: int, frame_count: int, fps: float) -> Mask:
        """A lazy mask of one level everywhere (0 = nothing marked, 255 = everything)."""
        if not 0 <= value <= MARKED:
            raise ValueError(f"a mask level must be 0..255, got {value}")
        chunk = chunk_frames(width, height)

        def source() -> Iterator[np.ndarray]:  # a fresh block each time: a consumer may write into one
            for start in range(0, frame_count, chunk):
                yield np.full((min(chunk, frame_count - start), height, width), value, np.uint8)

        return cls(source, fps=fps, width=width, height=height, frame_count=frame_count)

    @classmethod
    def from_video(cls, video: Video, fn: Callable[[np.ndarray], np.ndarray], *,
                   chunk: int = DEFAULT_CHUNK) -> Mask:
        """A lazy mask whose frames are `fn(chunk)` of `video`'s RGB chunks, (k, H, W, 3) -> (k, H, W)."""

        def source() -> Iterator[np.ndarray]:
            for block in video.chunks(chunk):
                yield fn(block)

        return cls(source, fps=video.fps, width=video.width, height=video.height, frame_count=video.frame_count)

    def to_video(self) -> Video:
        """This mask as a lazy grey clip (white where marked), to view, save or feed a VIDEO input."""

        def source() -> Iterator[np.ndarray]:
            for block in self.chunks():
                yield as_grey_rgb(block)

        return Video(source, fps=self.fps, width=self.width, height=self.height, frame_count=self.frame_count)

    def float_chunks(self, n: int = DEFAULT_CHUNK) -> Iterator[np.ndarray]:
        """Yield float32 chunks (k, H, W) in 0..1."""
        for block in self.chunks(n):
            yield as_float(block)

    def repeated(self, frame_count: int) -> Mask:
        """This mask over `frame_count` frames: itself when the counts match; a one-frame mask repeated lazily.
        ValueError when a mask of several frames has a different count."""
        if frame_count == self.frame_count:
            return self
        if self.frame_count != 1:
            raise ValueError(f"the mask has {self.frame_count} frames, the clip {frame_count}; give a mask of "
                             f"{frame_count} frames or of one frame (repeated over the clip)")
        first = self.first_frame()
        chunk = chunk_frames(self.width, self.height)

        def source() -> Iterator[np.ndarray]:
            for start in range(0, frame_count, chunk):
                yield np.repeat(first[None], min(chunk, frame_count - start), axis=0)

        return self.with_source(source, frame_count=frame_count)

    def __repr__(self) -> str:
        return f"Mask({self.width}x{self.height}, {self.frame_count} frames @ {self.fps:g} fps)"
