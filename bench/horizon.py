"""Quality over the horizon: generate the same prompt and seed at 16, 32, 64 and 128 frames and tabulate how each
quality metric moves with length, for the whole clip and for its first and last window of frames.

    .venv/bin/python bench/horizon.py                       # tiny random Wan built from its config, CPU
    .venv/bin/python bench/horizon.py --model Wan-AI/Wan2.1-T2V-1.3B-Diffusers --size 832x480 --steps 30 \\
        --device cuda --alignment-model openai/clip-vit-base-patch32      # a real model (GPU; downloads)

It runs `resources/workflows/wan_text_to_video.json` through the engine, as `kinograph run` does, with the length
set on the sampler (Wan makes 4k+1 frames: 17, 33, 65, 129) and the clip saved at crf 18, then measures the file
as `kinograph eval --window W [--prompt ...]` does. With the tiny random model the figures show the measuring
works and what it costs; what quality does with length takes a real model (the GPU run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "nodes" / "diffusion"))
os.environ.setdefault("KINOGRAPH_C2PA", "off")

WORKFLOW = ROOT / "resources" / "workflows" / "wan_text_to_video.json"
COLUMNS = ("warp_psnr", "flicker_index", "mean_motion", "frozen_ratio", "motion_spike")


def generate(model: str, length: int, size: tuple[int, int], steps: int, device: str, out: Path,
             scheduler) -> tuple[Path, float]:
    """One clip of `length` (+1) frames through the engine; its file and the seconds the run took."""
    from nodegraph.cli import load_with_overrides
    from nodegraph.registry import default_registry

    registry = default_registry()
    overrides = [f"model.source={model}", f"sample.width={size[0]}", f"sample.height={size[1]}",
                 f"sample.frames={length + 1}", f"sample.steps={steps}", "model.offload=none",
                 f"save.filename=horizon_{length}.mp4", "save.crf=18", "save.preset=fast"]
    graph = load_with_overrides(str(WORKFLOW), overrides, registry)
    started = time.perf_counter()
    result = scheduler.run(graph).raise_for_status()
    seconds = time.perf_counter() - started
    return next(p for p in result.files if p.suffix == ".mp4"), seconds


def tiny_long_wan(folder: Path) -> Path:
    """The tests' tiny random Wan with room in its rotary embedding for 129 frames (the tests' stops at 125)."""
    import tiny_models
    import torch
    from diffusers import WanTransformer3DModel

    pipe = tiny_models.wan()
    config = {k: v for k, v in pipe.transformer.config.items() if not k.startswith("_")}
    torch.manual_seed(0)
    pipe.register_modules(transformer=WanTransformer3DModel(**{**config, "rope_max_seq_len": 64}))
    pipe.save_pretrained(str(folder))
    return folder


def measure(path: Path, window: int, prompt: str | None, alignment_model: str | None) -> dict:
    from nodes.evaluation.command import evaluate

    return evaluate(str(path), window=window, prompt=prompt if alignment_model else None,
                    alignment_model=alignment_model)


def table(rows: list[dict], window: int, aligned: bool) -> str:
    head = ["frames", "run s"] + list(COLUMNS) + [f"warp_psnr first {window}", f"warp_psnr last {window}",
                                                   f"flicker first {window}", f"flicker last {window}"]
    if aligned:
        head += ["alignment", "alignment_min"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        summary, windows = row["result"]["temporal"].summary, row["result"]["windows"]
        first, last = windows[0]["summary"], windows[-1]["summary"]
        cells = [str(row["frames"]), f"{row['seconds']:.1f}"] + [f"{summary[c]:.3g}" for c in COLUMNS]
        cells += [f"{first['warp_psnr']:.3g}", f"{last['warp_psnr']:.3g}", f"{first['flicker_index']:.3g}",
                  f"{last['flicker_index']:.3g}"]
        if aligned:
            a = row["result"]["alignment"].summary
            cells += [f"{a['alignment']:.3f}", f"{a['alignment_min']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a Wan model folder or id (default: a tiny random Wan)")
    parser.add_argument("--size", default="32x32", help="WIDTHxHEIGHT (default 32x32, for the tiny model)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--lengths", default="16,32,64,128", help="clip lengths (each made as length + 1 frames)")
    parser.add_argument("--window", type=int, default=16, help="the window the first/last columns measure")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--alignment-model", default=None, help="also score prompt alignment with this CLIP/SigLIP")
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the clips in DIR")
    args = parser.parse_args(argv)

    from nodegraph.registry import default_registry
    from nodegraph.scheduler import Scheduler

    lengths = [int(x) for x in args.lengths.split(",")]
    width, height = (int(x) for x in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        model = args.model
        if model is None:
            model = str(tiny_long_wan(Path(tmp) / "tiny-wan"))
        scheduler = Scheduler(default_registry(), device=args.device, output_dir=out)  # the model loads once
        prompt = None
        rows = []
        for length in lengths:
            path, seconds = generate(model, length, (width, height), args.steps, args.device, out, scheduler)
            prompt = prompt or _prompt()
            result = measure(path, args.window, prompt, args.alignment_model)
            rows.append({"frames": length + 1, "seconds": seconds, "result": result})
            print(f"{length + 1} frames: {seconds:.1f} s", file=sys.stderr)
    print(f"model: {args.model or 'tiny random Wan'}, {width}x{height}, {args.steps} steps, device {args.device}\n")
    print(table(rows, args.window, bool(args.alignment_model)))
    return 0


def _prompt() -> str:
    import json

    nodes = json.loads(WORKFLOW.read_text())["nodes"]
    return next(n["params"]["prompt"] for n in nodes if n["type"] == "text.encode")


if __name__ == "__main__":
    sys.exit(main())
