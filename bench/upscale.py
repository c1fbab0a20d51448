"""Learned upscaling: video.upscale against spandrel called directly in a loop on the same frames, the way
ComfyUI's upscale node runs it (one frame at a time through the model, the clip held as float32 batches in and
out, as ComfyUI's IMAGE type holds it).

    .venv/bin/python bench/upscale.py                          # compact and esrgan, defaults below
    .venv/bin/python bench/upscale.py --arch compact --frames 64 --size 256

The models are spandrel's own architectures at the size of the real ones, with random weights (speed and memory
do not depend on the weights): "compact" is Real-ESRGAN's SRVGG x4 (64 features, 16 convolutions, as
realesr-general-x4v3), "esrgan" is the RRDB x4 of RealESRGAN_x4plus (64 features, 23 blocks). Each run is a
process of its own, so its peak resident memory (ru_maxrss) is its own; the model load is not timed. Kinograph
runs with tile 0 (automatic) and reports the tile size it settled on.

Where torchvision does not load (the CPU build of torch 2.13.0), spandrel is imported through the tests'
stand-in for the few torchvision names it imports (tests/torchvision_standin.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULTS = {"compact": (24, 192), "esrgan": (4, 128)}  # frames, side


def import_spandrel():
    from tests.torchvision_standin import import_spandrel as standin_import

    return standin_import()


def build(arch: str, path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    spandrel = import_spandrel()
    torch.manual_seed(0)
    if arch == "compact":
        from spandrel.architectures.Compact import Compact

        net = Compact(num_feat=64, num_conv=16, upscale=4)
    else:
        from spandrel.architectures.ESRGAN import ESRGAN

        net = ESRGAN(num_filters=64, num_blocks=23, scale=4)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    assert spandrel.ModelLoader().load_from_file(str(path)).scale == 4


def frames(count: int, side: int):
    """The same deterministic frames for both sides: a pan over a detailed picture."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:side, 0:side * 2].astype(np.float32)
    base = np.stack([np.sin(xx / 7 + c) * np.cos(yy / 11 - c) for c in (0.0, 1.3, 2.6)], -1) * 90 + 128
    base = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    for i in range(count):
        x = (2 * i) % side
        yield np.ascontiguousarray(base[:, x:x + side])


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_kinograph(model_path: Path, count: int, side: int) -> dict:
    import_spandrel()
    from nodegraph.cache import ResourceCache
    from nodegraph.media import Video
    from nodegraph.node import NodeContext
    from nodes.upscale import LoadUpscaleModel, UpscaleVideo

    messages = []
    ctx = NodeContext("upscale", "bench", device="auto", resources=ResourceCache(),
                      _emit_message=lambda node, level, text: messages.append(text))
    model = LoadUpscaleModel().run(ctx, source=str(model_path))["model"]
    source = Video.from_frames(lambda: frames(count, side), fps=24, width=side, height=side, frame_count=count)
    out = UpscaleVideo().run(ctx, video=source, model=model, **UpscaleVideo.defaults())["video"]
    started = time.perf_counter()
    pulled = sum(len(block) for block in out.chunks(16))
    seconds = time.perf_counter() - started
    tile = next((m.removeprefix("automatic tile: ") for m in messages if m.startswith("automatic tile")), "?")
    return {"frames": pulled, "seconds": seconds, "tile": tile}


def run_direct(model_path: Path, count: int, side: int) -> dict:
    import torch

    spandrel = import_spandrel()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = spandrel.ModelLoader(device=device).load_from_file(str(model_path)).eval()
    batch = torch.from_numpy(np.stack(list(frames(count, side)))).float() / 255  # (N, H, W, 3), as ComfyUI holds it
    started = time.perf_counter()
    outputs = []
    with torch.inference_mode():
        for frame in batch:
            x = frame.permute(2, 0, 1)[None].to(device)
            outputs.append(model(x).permute(0, 2, 3, 1).cpu())
        result = torch.cat(outputs)
    seconds = time.perf_counter() - started
    return {"frames": int(result.shape[0]), "seconds": seconds, "tile": "whole frame"}


def child(mode: str, arch: str, count: int, side: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{arch}.safetensors"
        build(arch, path)
        out = (run_kinograph if mode == "kinograph" else run_direct)(path, count, side)
    out["peak_mib"] = peak_mib()
    print(json.dumps(out))


def measure(mode: str, arch: str, count: int, side: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, arch, str(count), str(side)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} run of {arch} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["frames"] != count:
        raise SystemExit(f"{mode} run gave {result['frames']} frames, expected {count}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="compact,esrgan", help="comma-separated: compact, esrgan")
    parser.add_argument("--frames", type=int, default=0, help="frames per run (default: per architecture)")
    parser.add_argument("--size", type=int, default=0, help="frame side in pixels (default: per architecture)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, arch, count, side = args.child
        child(mode, arch, int(count), int(side))
        return
    print("| model | frames | input | Kinograph fps | direct fps | speed ratio | Kinograph peak MiB | "
          "direct peak MiB | memory ratio | automatic tile |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for arch in args.arch.split(","):
        count, side = args.frames or DEFAULTS[arch][0], args.size or DEFAULTS[arch][1]
        ours, direct = measure("kinograph", arch, count, side), measure("direct", arch, count, side)
        fps, direct_fps = count / ours["seconds"], count / direct["seconds"]
        print(f"| {arch} x4 | {count} | {side}x{side} | {fps:.2f} | {direct_fps:.2f} | {fps / direct_fps:.2f}x | "
              f"{ours['peak_mib']:.0f} | {direct['peak_mib']:.0f} | {ours['peak_mib'] / direct['peak_mib']:.2f}x | "
              f"{ours['tile']} |", flush=True)


if __name__ == "__main__":
    main()
