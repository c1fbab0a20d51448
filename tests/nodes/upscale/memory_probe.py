"""Run as a script: peak resident memory of video.upscale pulling N frames, for N in argv, in one process.

Prints one line per N: frames, the peak resident set while pulling (VmHWM, reset before each pull) and the peak
above the resident set just before the pull, in bytes. Linux only (/proc/self/clear_refs)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

import numpy as np  # noqa: E402
import tiny_upscalers  # noqa: E402

from nodegraph.cache import ResourceCache  # noqa: E402
from nodegraph.media import Video  # noqa: E402
from nodegraph.node import NodeContext  # noqa: E402
from nodes.upscale import LoadUpscaleModel, UpscaleVideo  # noqa: E402


def status(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def main(folder: str, counts: list[int]) -> None:
    side = 64
    base = np.ascontiguousarray(np.random.default_rng(0).integers(0, 256, (side, side * 2, 3), dtype=np.uint8))
    ctx = NodeContext("up", "probe", device="cpu", resources=ResourceCache())
    model = LoadUpscaleModel().run(ctx, source=str(tiny_upscalers.save("compact", Path(folder))))["model"]
    for count in [counts[0], *counts]:  # the first pull warms up (allocator pools, thread pools)
        def frames(count=count):
            for i in range(count):
                x = (3 * i) % side
                yield base[:, x:x + side]

        source = Video.from_frames(frames, fps=24, width=side, height=side, frame_count=count)
        out = UpscaleVideo().run(ctx, video=source, model=model, **UpscaleVideo.defaults())["video"]
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the peak resident set starts again from the current one
        before = status("VmRSS")
        pulled = sum(len(block) for block in out.chunks(16))
        assert pulled == count
        peak = status("VmHWM")
        print(count, peak, peak - before, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], [int(n) for n in sys.argv[2:]])
