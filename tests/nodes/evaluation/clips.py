"""Test media for the evaluation pack: generated scenes and a small PyAV writer."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from nodes.evaluation import synthetic
from nodes.evaluation.analysis import temporal_metrics

WIDTH, HEIGHT, FRAMES = 128, 96, 36


@lru_cache(maxsize=1)
def clean_clip() -> np.ndarray:
    frames = synthetic.Scene(width=WIDTH, height=HEIGHT).clip(FRAMES)
    frames.setflags(write=False)
    return frames


def summary(frames: np.ndarray) -> dict[str, float]:
    return temporal_metrics([frames], frames.shape[2], frames.shape[1]).summary


def write_video(path: Path, frames: np.ndarray, fps: int = 24, crf: int = 16) -> Path:
    """Encode frames to H.264 in an MP4 (near-lossless, so defects survive)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
