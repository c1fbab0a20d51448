"""Test media with sound: flashing frames with a click on each flash, and how to find both again in a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CLICK_S = 0.004  # a click lasts 4 ms


def flashing_frames(frames: int, flashes: list[int], size: int = 32) -> np.ndarray:
    """Black frames, white at the flash indices: uint8 (T, size, size, 3)."""
    clip = np.full((frames, size, size, 3), 16, np.uint8)
    clip[flashes] = 235
    return clip


def click_track(duration_s: float, times: list[float], rate: int = 48000, channels: int = 2) -> np.ndarray:
    """Silence with a short 2 kHz burst at each time: float32 (n, channels)."""
    n = round(duration_s * rate)
    samples = np.zeros(n, np.float32)
    length = round(CLICK_S * rate)
    burst = (0.8 * np.sin(2 * np.pi * 2000 * np.arange(length) / rate)).astype(np.float32)
    for t in times:
        at = round(t * rate)
        samples[at:at + length] = burst[:max(0, min(length, n - at))]
    return np.repeat(samples[:, None], channels, axis=1)


def loud_frames(samples: np.ndarray, rate: int, fps: float, frames: int) -> list[int]:
    """The frame periods in which a click starts: where the sound first gets loud after quiet."""
    loud = np.abs(samples).max(axis=1) > 0.2
    starts = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    if len(loud) and loud[0]:
        starts = np.concatenate([[0], starts])
    onsets, last = [], -1e9
    for s in starts:
        if s - last > 0.05 * rate:  # one click, even when a lossy codec rings around it
            onsets.append(int(s * fps // rate))
        last = s
    return [f for f in onsets if f < frames]


PROBE = r"""
import json, sys
import av
import numpy as np
with av.open(sys.argv[1]) as c:
    v = c.streams.video[0]
    found = {"streams": [s.type for s in c.streams], "audio_codec": None}
    frames = [f.to_ndarray(format="gray").mean() for f in c.decode(v)]
    found.update(frame_count=len(frames), fps=float(v.average_rate),
                 bright=[i for i, m in enumerate(frames) if m > 128])
    if c.streams.audio:
        c.seek(0)
        a = c.streams.audio[0]
        found["audio_codec"] = a.codec_context.name
        found["audio_duration"] = float(a.duration * a.time_base) if a.duration else None
        found["container_duration"] = c.duration / 1e6 if c.duration else None
        rate = a.codec_context.sample_rate
        chunks, first = [], None
        for f in c.decode(a):
            first = f.pts * f.time_base if first is None else first
            chunks.append(f.to_ndarray().reshape(f.samples, -1) if f.format.is_packed else f.to_ndarray().T)
        samples = np.concatenate(chunks).astype(np.float64)
        if samples.dtype.kind != "f" or np.abs(samples).max() > 2:
            samples = samples / 32768.0
        np.save(sys.argv[2], samples.astype(np.float32))
        found.update(audio_rate=rate, audio_samples=len(samples), audio_start=float(first or 0))
print(json.dumps(found))
"""


def probe_in_subprocess(path: Path, tmp: Path) -> tuple[dict, np.ndarray | None]:
    """What a fresh PyAV in another process finds in a file: streams, frames, bright frames, and the sound."""
    npy = tmp / f"{path.stem}_samples.npy"
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), str(npy)], capture_output=True, text=True,
                          timeout=120, check=True)
    found = json.loads(done.stdout)
    return found, (np.load(npy) if npy.exists() else None)
