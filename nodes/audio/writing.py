"""Encode an `Audio` with PyAV, chunk by chunk: alone (WAV, FLAC, M4A, Opus...) or as a track beside a picture."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from nodegraph.api import Audio, UsageError

FEED_SAMPLES = 16384  # samples pulled per encode step


@dataclass(frozen=True)
class SoundFormat:
    """How audio.save writes one file extension."""

    container: str
    encoders: tuple[str, ...]  # tried in order; the first the PyAV build has is used
    rates: tuple[int, ...] = ()  # the sample rates the codec takes (empty: any)
    lossy: bool = False


# AAC takes these rates; another rate is resampled to 48 kHz. Opus only takes 48 kHz and a few lower rates.
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
OPUS_RATES = (48000, 24000, 16000, 12000, 8000)

SOUND_FORMATS = {
    ".wav": SoundFormat("wav", ("pcm_s16le",)),
    ".flac": SoundFormat("flac", ("flac",)),
    ".m4a": SoundFormat("ipod", ("aac",), AAC_RATES, lossy=True),
    ".aac": SoundFormat("adts", ("aac",), AAC_RATES, lossy=True),
    ".opus": SoundFormat("opus", ("libopus", "opus"), OPUS_RATES, lossy=True),
    ".ogg": SoundFormat("ogg", ("libopus", "opus"), OPUS_RATES, lossy=True),
    ".mp3": SoundFormat("mp3", ("libmp3lame",), (48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000),
                        lossy=True),
}

# The sound track video.save writes beside the picture, by container.
TRACK_FORMATS = {
    "mp4": SoundFormat("mp4", ("aac",), AAC_RATES, lossy=True),
    "mov": SoundFormat("mov", ("aac",), AAC_RATES, lossy=True),
    "webm": SoundFormat("webm", ("libopus", "opus"), OPUS_RATES, lossy=True),
    "matroska": SoundFormat("matroska", ("libopus", "opus"), OPUS_RATES, lossy=True),
}

MAX_TRACK_CHANNELS = 2  # stereo: more channels are mixed down (their first two kept) so every player copes


def sound_format_for(filename: str) -> SoundFormat:
    """The format audio.save writes for this file name, or a UsageError naming the extensions it takes."""
    suffix = Path(filename).suffix.lower()
    spec = SOUND_FORMATS.get(suffix)
    if spec is None:
        raise UsageError(f"audio.save cannot write {suffix or 'a file without an extension'} ({filename!r}); "
                         f"end the name in one of {', '.join(SOUND_FORMATS)}")
    return spec


def encoder_for(spec: SoundFormat, what: str) -> str:
    from ..io.codecs import first_encoder  # here: the io pack imports this module

    encoder = first_encoder(spec.encoders)
    if encoder is None:
        raise UsageError(f"this PyAV/FFmpeg build has no encoder for {what} (looked for {', '.join(spec.encoders)});"
                         " choose .wav or .flac, or install an FFmpeg build of PyAV that has it")
    return encoder


def track_rate(spec: SoundFormat, rate: int) -> int:
    """The sample rate the codec writes: the sound's own when the codec takes it, else 48 kHz."""
    return rate if not spec.rates or rate in spec.rates else 48000


class SoundTrack:
    """An audio stream being written into an open PyAV container, fed in order up to a sample at a time."""

    def __init__(self, container, audio: Audio, spec: SoundFormat, encoder: str, bitrate_kbps: int = 0):
        if audio.channels > MAX_TRACK_CHANNELS:
            audio = audio.remixed(MAX_TRACK_CHANNELS)
        self.audio = audio
        self.layout = "mono" if audio.channels == 1 else "stereo"
        self.stream = container.add_stream(encoder, rate=track_rate(spec, audio.sample_rate), layout=self.layout)
        if encoder == "opus":
            self.stream.codec_context.options = {"strict": "-2"}  # FFmpeg's own Opus encoder is "experimental"
        if bitrate_kbps and spec.lossy:
            self.stream.bit_rate = bitrate_kbps * 1000
        self._container = container
        self._chunks = audio.chunks(FEED_SAMPLES)
        self._held = np.zeros((0, audio.channels), np.float32)
        self.fed = 0  # samples of `audio` handed to the encoder so far
        self._time_base = Fraction(1, audio.sample_rate)

    def feed_until(self, sample: int) -> None:
        """Encode the sound up to (not including) `sample`, or to its end."""
        import av

        while self.fed < sample:
            if not len(self._held):
                self._held = next(self._chunks, None)
                if self._held is None:
                    self._held = np.zeros((0, self.audio.channels), np.float32)
                    return
            block, self._held = self._held[:sample - self.fed], self._held[sample - self.fed:]
            if not np.isfinite(block).all():
                at = self.fed + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
                raise UsageError(f"the sound holds NaN or infinite samples from {at / self.audio.sample_rate:.3f} s; "
                                 "fix the node that made it (a model run in too low a precision, say)")
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block).reshape(1, -1), format="flt",
                                               layout=self.layout)
            frame.sample_rate, frame.pts, frame.time_base = self.audio.sample_rate, self.fed, self._time_base
            self.fed += len(block)
            self._container.mux(self.stream.encode(frame))

    def finish(self, sample: int | None = None) -> None:
        """Encode the rest (up to `sample`, when given) and flush the encoder."""
        self.feed_until(self.audio.sample_count if sample is None else sample)
        self._chunks.close()
        self._container.mux(self.stream.encode(None))


def embed_workflow(tags: dict, spec: SoundFormat, workflow: str) -> None:
    """The workflow in a sound file's tags, as `read_embedded_workflow` finds it: under its own key where the
    format keeps any key (FLAC, Ogg/Opus, MP3, M4A), in the comment of a WAV (its INFO chunk keeps only known
    names). A raw .aac stream has no tags at all: it goes without."""
    from ..io.metadata import WORKFLOW_KEY  # here: nodes.io imports this module

    if spec.container == "wav":
        tags["comment"] = workflow
    elif spec.container != "adts":
        tags[WORKFLOW_KEY] = workflow


def write_sound(audio: Audio, path: Path, bitrate_kbps: int = 0,
                on_samples: Callable[[int], None] | None = None, workflow: str | None = None) -> Path:
    """Write `audio` to `path` in the format its extension names (a temporary name, renamed at the end), with
    `workflow` embedded where the format has room for it (see `embed_workflow`). `on_samples(done)` is called
    after each step; it may raise (to cancel), which removes the partial file."""
    import av

    from ..io.images import claim

    spec = sound_format_for(path.name)
    encoder = encoder_for(spec, path.suffix)
    if audio.sample_count == 0:
        raise UsageError("the sound has no samples; nothing to save")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        options = {"movflags": "use_metadata_tags"} if spec.container == "ipod" else {}
        with av.open(str(tmp), "w", format=spec.container, options=options) as container:
            container.metadata["comment"] = "Made with Kinograph"
            if workflow:
                embed_workflow(container.metadata, spec, workflow)
            track = SoundTrack(container, audio, spec, encoder, bitrate_kbps)
            step = max(FEED_SAMPLES, audio.sample_rate)
            for done in range(step, audio.sample_count + step, step):
                track.feed_until(min(done, audio.sample_count))
                if on_samples:
                    on_samples(min(done, audio.sample_count))
            track.finish()
        return claim(tmp, path)
    except av.error.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path.name!r} ({encoder}, {audio!r}): {exc.strerror or exc}; "
                         "try .wav or .flac") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
