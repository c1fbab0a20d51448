"""Values that flow on IMAGE and VIDEO wires.

A `Video` is a recipe, not a buffer: `chunks(n)` pulls frames from its source
on demand, so a long clip passes through a chain of frame-by-frame nodes in
bounded memory. Only nodes that need the whole clip call `to_array()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

DEFAULT_CHUNK = 16
CHUNK_BUDGET = 256 * 1024 * 1024  # a chunk of large frames holds fewer of them, so one chunk stays about this size


def chunk_frames(width: int, height: int, most: int = DEFAULT_CHUNK) -> int:
    """How many (width x height) RGB frames make a chunk: `most`, fewer when they would pass CHUNK_BUDGET bytes."""
    return max(1, min(most, CHUNK_BUDGET // max(1, width * height * 3)))

# A source yields uint8 arrays shaped (k, H, W, 3), k >= 1, in order.
FrameSource = Callable[[], Iterable[np.ndarray]]


def slice_blocks(blocks: Iterator[np.ndarray], start: int, stop: int) -> Iterator[np.ndarray]:
    """Items [start, stop) along the first axis of a stream of blocks; the stream is closed as soon as `stop` is
    reached (a decoder behind it stops there too)."""
    pos = 0
    try:
        for block in blocks:
            lo, hi = max(start - pos, 0), min(stop - pos, len(block))
            if lo < hi:
                yield block[lo:hi]
            pos += len(block)
            if pos >= stop:
                break
    finally:
        blocks.close()


def _check_frame_array(array: np.ndarray, what: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(array).__name__}")
    if array.dtype != np.uint8:
        raise TypeError(f"{what} must be uint8 RGB, got dtype {array.dtype}")
    if array.ndim != 3 or array.shape[2] != 3:
        raise TypeError(f"{what} must be shaped (H, W, 3), got {array.shape}")
    return array


@dataclass(frozen=True, eq=False)
class Image:
    """A single RGB picture: uint8 array shaped (H, W, 3), and its alpha (uint8 (H, W), 255 = opaque) when the
    file it came from had one."""

    array: np.ndarray
    alpha: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_frame_array(self.array, "Image")
        if self.alpha is not None and (not isinstance(self.alpha, np.ndarray) or self.alpha.dtype != np.uint8
                                       or self.alpha.shape != self.array.shape[:2]):
            raise TypeError(f"Image alpha must be uint8 shaped {self.array.shape[:2]}, got "
                            f"{getattr(self.alpha, 'shape', None)} {getattr(self.alpha, 'dtype', '')}")

    @property
    def width(self) -> int:
        return int(self.array.shape[1])

    @property
    def height(self) -> int:
        return int(self.array.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.array.nbytes) + (0 if self.alpha is None else int(self.alpha.nbytes))

    def __repr__(self) -> str:
        return f"Image({self.width}x{self.height})"


class Video:
    """A clip: fps, size, frame count, and frames pulled in chunks."""

    # Subclasses with other frames (a Mask's are (H, W)) override `frame_shape`; the rest follows from it.

    def __init__(
        self,
        source: FrameSource,
        *,
        fps: float,
        width: int,
        height: int,
        frame_count: int,
        nbytes: int = 0,
    ):
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if frame_count < 0:
            raise ValueError(f"frame count must not be negative, got {frame_count}")
        self._source = source
        self.fps = float(fps)
        self.width = int(width)
        self.height = int(height)
        self.frame_count = int(frame_count)
        # Bytes this value holds in memory (0 for a lazy stream); used by the cache budget.
        self.nbytes = int(nbytes)
        # Bytes a stream will keep once pulled in full (see `computed_once`), counted by the cache budget too.
        self.kept_nbytes = 0
        # A run makes a stream's frames on a thread of their own, ahead of whoever pulls them. A stream whose frames
        # take a lock the puller may hold (a model's: a sampler that pulls a clip decoded by its own model) sets
        # this: its frames, and those of every stream made from it (`with_source`), are made on the puller's thread.
        self.same_thread = False

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_array(cls, frames: np.ndarray, fps: float) -> Video:
        """A clip held in memory, shaped (T, H, W, 3) uint8."""
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            shape = getattr(frames, "shape", None)
            raise TypeError(f"Video frames must be a uint8 array shaped (T, H, W, 3), got {shape}")
        if frames.shape[0] == 0:
            raise ValueError("a video needs at least one frame")
        frames = np.ascontiguousarray(frames)
        t, h, w, _ = frames.shape
        return cls(lambda: iter((frames,)), fps=fps, width=w, height=h, frame_count=t, nbytes=frames.nbytes)

    @classmethod
    def from_frames(cls, make_frames: Callable[[], Iterable[np.ndarray]], *, fps: float, width: int, height: int,
                    frame_count: int) -> Video:
        """A lazy clip from a function that yields single (H, W, 3) frames."""

        def source() -> Iterator[np.ndarray]:
            for frame in make_frames():
                yield frame[None]

        return cls(source, fps=fps, width=width, height=height, frame_count=frame_count)

    def slice_frames(self, start: int, stop: int) -> Video:
        """Frames [start, stop) as a lazy stream (the caller checks that they are in the clip)."""
        return self.with_source(lambda: slice_blocks(self.chunks(DEFAULT_CHUNK), start, stop),
                                frame_count=stop - start)

    def with_source(self, source: FrameSource, **changes) -> Video:
        """The same clip description over another source (fps/size/count may change)."""
        fields = dict(fps=self.fps, width=self.width, height=self.height, frame_count=self.frame_count)
        fields.update(changes)
        video = type(self)(source, **fields)
        video.same_thread = self.same_thread
        return video

    def map_chunks(self, fn: Callable[[np.ndarray], np.ndarray], *, width: int | None = None,
                   height: int | None = None, chunk: int = DEFAULT_CHUNK) -> Video:
        """A lazy clip whose frames are `fn(chunk)` of this clip's, chunk by chunk."""

        width, height = width or self.width, height or self.height
        chunk = chunk_frames(max(width, self.width), max(height, self.height), chunk)  # the output's size counts

        def source() -> Iterator[np.ndarray]:
            for block in self.chunks(chunk):
                yield fn(block)

        return self.with_source(source, width=width, height=height)

    def computed_once(self, max_bytes: int) -> Video:
        """This clip, computed at most once when it fits in `max_bytes`: the first pull that reaches the end
        keeps a copy of the frames, and later pulls (a second consumer, a later run served from the cache) read
        the copy instead of computing them again. For costly streams of modest size, such as a VAE decode. A pull
        that stops early keeps nothing; a clip larger than `max_bytes` streams as before."""
        size = self.frame_count * int(np.prod(self.frame_shape))
        if size > max_bytes:
            return self
        inner = self._source
        kept: list[np.ndarray] = []

        def source() -> Iterator[np.ndarray]:
            if kept:
                yield from kept
                return
            blocks = []
            for block in inner():
                blocks.append(np.array(block, copy=True))  # a consumer may write into the block it is given
                yield block
            kept[:] = blocks  # only now: a pull that stopped early never gets here

        video = self.with_source(source)
        video.kept_nbytes = size
        return video

    def cache_nbytes(self) -> int:
        """What the cache budget counts: frames held now, and frames a computed-once stream will keep."""
        return self.nbytes + self.kept_nbytes

    # -- reading ------------------------------------------------------------------

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """The shape of one frame: (H, W, 3)."""
        return (self.height, self.width, 3)

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps

    def chunks(self, n: int = DEFAULT_CHUNK) -> Iterator[np.ndarray]:
        """Yield uint8 arrays shaped (k, H, W, 3) with k == n except maybe the last; frames so large that n of
        them would pass CHUNK_BUDGET come in smaller chunks (one frame at the least)."""
        if n < 1:
            raise ValueError(f"chunk size must be at least 1, got {n}")
        n = chunk_frames(self.width, self.height, n)
        pending: list[np.ndarray] = []
        held = 0
        shape = self.frame_shape
        for block in self._source():
            if block.ndim == len(shape):
                block = block[None]
            if block.shape[1:] != shape or block.dtype != np.uint8:
                raise ValueError(
                    f"stream produced frames shaped {block.shape[1:]} {block.dtype}, expected {shape} uint8"
                )
            start = 0
            while start < len(block):
                take = min(n - held, len(block) - start)
                pending.append(block[start:start + take])
                held += take
                start += take
                if held == n:
                    yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                    pending, held = [], 0
        if held:
            yield pending[0] if len(pending) == 1 else np.concatenate(pending)

    def frames(self, chunk: int = DEFAULT_CHUNK) -> Iterator[np.ndarray]:
        """Yield single frames shaped (H, W, 3)."""
        for block in self.chunks(chunk):
            yield from block

    def to_array(self) -> np.ndarray:
        """Materialise the whole clip, shaped (T, H, W, 3). Only for nodes that need it."""
        blocks = list(self.chunks(max(1, min(self.frame_count, 64)) if self.frame_count else DEFAULT_CHUNK))
        if not blocks:
            return np.zeros((0, *self.frame_shape), np.uint8)
        return np.concatenate(blocks)

    def first_frame(self) -> np.ndarray:
        for block in self.chunks(1):
            return block[0]
        raise ValueError("the video has no frames")

    def __repr__(self) -> str:
        return f"Video({self.width}x{self.height}, {self.frame_count} frames @ {self.fps:g} fps)"


def preview_thumbnail(frame: np.ndarray, max_side: int = 256) -> np.ndarray:
    """A small copy of a frame for previews (nearest-neighbour, numpy only)."""
    h, w = frame.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / max_side)))
    return np.ascontiguousarray(frame[::step, ::step])
