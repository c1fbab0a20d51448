"""The value that flows on AUDIO wires.

An `Audio` is a recipe, like `Video`: `chunks(n)` pulls float32 samples shaped (k, channels) from its source on
demand, so a long soundtrack rides beside a long clip in bounded memory. The declared `sample_count` is the
length: `chunks` always yields exactly that many samples (a source that runs short is padded with silence, one
that runs long is cut), so cutting and joining by time stays exact however a decoder rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from .media import slice_blocks

DEFAULT_AUDIO_CHUNK = 65536  # samples per chunk: about 1.4 s at 48 kHz, 512 KiB in stereo
MAX_CHANNELS = 64

# A source yields float32 arrays shaped (k, channels) (or (k,) for mono), k >= 0, in order.
SampleSource = Callable[[], Iterable[np.ndarray]]


class Audio:
    """Sound: sample rate, channels, sample count, and float32 samples (n, channels) pulled in chunks."""

    def __init__(self, source: SampleSource, *, sample_rate: int, channels: int, sample_count: int, nbytes: int = 0):
        if int(sample_rate) != sample_rate or sample_rate <= 0:
            raise ValueError(f"sample rate must be a positive whole number of Hz, got {sample_rate}")
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be 1 to {MAX_CHANNELS}, got {channels}")
        if sample_count < 0:
            raise ValueError(f"sample count must not be negative, got {sample_count}")
        self._source = source
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.sample_count = int(sample_count)
        self.nbytes = int(nbytes)  # bytes held in memory (0 for a lazy stream); the cache budget counts them

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_array(cls, samples: np.ndarray, sample_rate: int) -> Audio:
        """Sound held in memory: float samples shaped (n, channels), or (n,) for mono, nominally in [-1, 1]."""
        if not isinstance(samples, np.ndarray) or samples.ndim not in (1, 2) or samples.dtype.kind != "f":
            shape, dtype = getattr(samples, "shape", None), getattr(samples, "dtype", type(samples).__name__)
            raise TypeError(f"audio samples must be a float array shaped (n, channels) or (n,), got {shape} {dtype}")
        if samples.ndim == 1:
            samples = samples[:, None]
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if not np.isfinite(samples).all():
            raise ValueError("audio samples hold NaN or infinity; fix what made them")
        return cls(lambda: iter((samples,)), sample_rate=sample_rate, channels=samples.shape[1],
                   sample_count=samples.shape[0], nbytes=samples.nbytes)

    @classmethod
    def silence(cls, sample_count: int, sample_rate: int, channels: int = 2) -> Audio:
        """`sample_count` samples of silence (lazy: nothing is held)."""
        return cls(lambda: iter(()), sample_rate=sample_rate, channels=channels, sample_count=sample_count)

    def with_source(self, source: SampleSource, **changes) -> Audio:
        """The same description over another source (rate, channels or count may change)."""
        fields = dict(sample_rate=self.sample_rate, channels=self.channels, sample_count=self.sample_count)
        fields.update(changes)
        return Audio(source, **fields)

    def cache_nbytes(self) -> int:
        return self.nbytes

    # -- time ---------------------------------------------------------------------

    @property
    def duration(self) -> float:
        return self.sample_count / self.sample_rate

    def sample_at(self, seconds: float) -> int:
        """The index of the sample at time `seconds` (rounded to the nearest sample)."""
        return int(round(seconds * self.sample_rate))

    # -- lazy edits ---------------------------------------------------------------

    def slice_samples(self, start: int, stop: int) -> Audio:
        """Samples [start, stop) as a lazy stream; the part past the end, if any, is silence."""
        if start < 0 or stop < start:
            raise ValueError(f"sample range [{start}, {stop}) is not a range; start at 0 or later, stop after start")

        return self.with_source(lambda: slice_blocks(self.chunks(), start, stop), sample_count=stop - start)

    def slice_time(self, start_s: float, end_s: float) -> Audio:
        """The sound from `start_s` up to `end_s` seconds (lazy; past the end is silence)."""
        return self.slice_samples(self.sample_at(start_s), self.sample_at(end_s))

    def with_length(self, sample_count: int) -> Audio:
        """This sound cut to `sample_count` samples, or padded with silence at the end to reach it (lazy)."""
        if sample_count == self.sample_count:
            return self
        return self.with_source(self.chunks, sample_count=sample_count)

    def with_duration(self, seconds: float) -> Audio:
        """This sound cut or padded with silence to last `seconds` (lazy)."""
        return self.with_length(self.sample_at(seconds))

    def remixed(self, channels: int) -> Audio:
        """This sound with `channels` channels: mono is copied to each, many mix down to mono by their mean,
        otherwise the first channels are kept (FFmpeg's order puts front left and right first) or silent ones
        are added."""
        if channels == self.channels:
            return self
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be 1 to {MAX_CHANNELS}, got {channels}")
        have = self.channels

        def mix(block: np.ndarray) -> np.ndarray:
            if channels == 1:
                return block.mean(axis=1, keepdims=True, dtype=np.float32)
            if have == 1:
                return np.repeat(block, channels, axis=1)
            if have > channels:
                return np.ascontiguousarray(block[:, :channels])
            return np.concatenate([block, np.zeros((len(block), channels - have), np.float32)], axis=1)

        return self.with_source(lambda: (mix(block) for block in self.chunks()), channels=channels)

    # -- reading ------------------------------------------------------------------

    def chunks(self, n: int = DEFAULT_AUDIO_CHUNK) -> Iterator[np.ndarray]:
        """Yield float32 arrays shaped (k, channels), k == n except maybe the last, `sample_count` samples in all."""
        if n < 1:
            raise ValueError(f"chunk size must be at least 1, got {n}")
        pending: list[np.ndarray] = []
        held = done = 0
        want = self.sample_count
        source = iter(self._source())
        try:
            for block in source:
                block = self._checked(block)
                start = 0
                while start < len(block) and done + held < want:
                    take = min(n - held, len(block) - start, want - done - held)
                    pending.append(block[start:start + take])
                    held += take
                    start += take
                    if held == n:
                        yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                        done += held
                        pending, held = [], 0
                if done + held >= want:
                    break
        finally:
            close = getattr(source, "close", None)
            if close:
                close()
        while done + held < want:  # the source ran short: silence to the declared length
            take = min(n - held, want - done - held)
            pending.append(np.zeros((take, self.channels), np.float32))
            held += take
            if held == n or done + held == want:
                yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                done += held
                pending, held = [], 0
        if held:
            yield pending[0] if len(pending) == 1 else np.concatenate(pending)

    def _checked(self, block: np.ndarray) -> np.ndarray:
        if block.ndim == 1 and self.channels == 1:
            block = block[:, None]
        if block.ndim != 2 or block.shape[1] != self.channels or block.dtype != np.float32:
            raise ValueError(f"audio stream produced samples shaped {block.shape} {block.dtype}, "
                             f"expected (n, {self.channels}) float32")
        return block

    def to_array(self) -> np.ndarray:
        """Materialise all the samples, shaped (n, channels) float32. Only for nodes that need them at once."""
        blocks = list(self.chunks(max(1, min(self.sample_count, 1 << 20))))
        if not blocks:
            return np.zeros((0, self.channels), np.float32)
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def __repr__(self) -> str:
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return f"Audio({self.duration:.3f} s, {self.sample_rate} Hz {layout})"


def concat_audio(parts: Iterable[Audio]) -> Audio:
    """The parts one after another, as a lazy stream. They must share sample rate and channels (convert first)."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to join: give at least one audio part")
    first = parts[0]
    for index, part in enumerate(parts[1:], start=2):
        if (part.sample_rate, part.channels) != (first.sample_rate, first.channels):
            raise ValueError(f"audio part {index} is {part.sample_rate} Hz with {part.channels} channel(s), part 1 "
                             f"is {first.sample_rate} Hz with {first.channels}; resample or remix it first")

    def source() -> Iterator[np.ndarray]:
        for part in parts:
            yield from part.chunks()

    return first.with_source(source, sample_count=sum(part.sample_count for part in parts))


class WaveformPeaks:
    """The loudest absolute sample of each of `columns` equal slices of a sound `total` samples long, all channels
    together, gathered chunk by chunk (`add` them in order): for drawing a waveform strip."""

    def __init__(self, columns: int, total: int):
        if columns < 1:
            raise ValueError(f"columns must be at least 1, got {columns}")
        self.peaks = np.zeros(columns, np.float32)
        self.total = max(1, total)
        self.position = 0

    def add(self, block: np.ndarray) -> None:
        block = block[:max(0, self.total - self.position)]
        if not len(block):
            return
        loud = np.abs(block).max(axis=1)
        columns = len(self.peaks)
        column = (np.arange(self.position, self.position + len(block), dtype=np.int64) * columns) // self.total
        starts = np.concatenate([[0], np.flatnonzero(np.diff(column)) + 1])
        where = column[starts]
        self.peaks[where] = np.maximum(self.peaks[where], np.maximum.reduceat(loud, starts))
        self.position += len(block)


def waveform_peaks(audio: Audio, columns: int) -> np.ndarray:
    """The loudest absolute sample of each of `columns` equal slices of the sound, all channels together:
    float32 shaped (columns,). Streams: holds one chunk at a time."""
    meter = WaveformPeaks(columns, audio.sample_count)
    for block in audio.chunks():
        meter.add(block)
    return meter.peaks
