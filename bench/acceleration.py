"""Step caching on diffusion.sample: every acceleration a family offers against `none`, same model and settings.

    .venv/bin/python bench/acceleration.py                  # tiny random models of Wan, LTX-Video, CogVideoX (CPU)
    .venv/bin/python bench/acceleration.py --real-size      # Wan 1.3B and LTX-Video architectures (GPU)

For each acceleration: the graph's wall time (a new seed every run, interleaved with `none`), its ratio to
`none`, how often the last transformer block really ran (its feed-forward, which a step that skips the blocks
never calls; pyramid attention broadcast reuses attention inside blocks, so it does not show here), and the
PSNR of its frames against `none`'s at the same seed. mag_cache measures the model once per settings; that
one-time cost is timed apart. Random weights say nothing about the quality a trained model keeps: on them the
PSNR column only shows that the output changed, and how much.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "nodes" / "diffusion"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FAMILIES = ("wan", "ltx", "cogvideox")


def psnr(a, b) -> float:
    import numpy as np

    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def measure(family: str, model: Path, args) -> list[tuple]:
    import torch
    from helpers import pipeline_graph
    from pipeline import REAL, TINY, prompt

    import nodes.diffusion
    from nodegraph import NodeRegistry, Scheduler
    from nodegraph.errors import NodeExecutionError
    from nodes.diffusion.families import adapter
    from nodes.diffusion.magcache import transformer_blocks

    _, _, width, height, frames, steps, _ = (REAL if args.real_size else TINY)[family]
    steps = args.steps or steps
    registry = NodeRegistry()
    nodes.diffusion.register(registry)
    scheduler = Scheduler(registry, output_dir=tempfile.mkdtemp())
    sample = dict(width=width, height=height, frames=frames, steps=steps, guidance=5.0)

    def graph(i: int, acceleration: str):
        # one prompt throughout (encoded once): only the seed changes, so every run times sampling and decoding
        g = pipeline_graph({"source": str(model)}, dict(sample, seed=i, acceleration=acceleration), prompt=prompt(0),
                           negative="blurry")
        g.nodes["model"].params["dtype"] = "auto"
        return g

    def run(i: int, acceleration: str):
        started = time.perf_counter()
        result = scheduler.run(graph(i, acceleration), ["decode"]).raise_for_status()
        clip = result.outputs["decode"]["video"].to_array()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter() - started, clip

    loaded = scheduler.run(graph(0, "none"), ["model"]).raise_for_status()
    pipe = scheduler.resources.get(loaded.outputs["model"]["model"].key).pipe
    passes = [0]
    # the last block's feed-forward: a step that skips the blocks (first-block cache, MagCache) never calls it
    last = transformer_blocks(pipe.transformer)[-1]
    feed_forward = getattr(last, "ffn", None) or last.ff  # Wan names it ffn
    feed_forward.register_forward_hook(lambda *_: passes.__setitem__(0, passes[0] + 1))

    choices: list[str] = []
    one_time, refused = {}, {}
    for acceleration in adapter(family).accelerations:  # warm-up; mag_cache measures the model here
        try:
            seconds, _ = run(0, acceleration)
        except NodeExecutionError as exc:  # e.g. first_block_cache on a one-block tiny transformer
            refused[acceleration] = exc.message
            continue
        choices.append(acceleration)
        if acceleration == "mag_cache":  # its run with the measuring, less a plain run
            one_time[acceleration] = seconds - run(99_999, "none")[0]
    times: dict[str, list[float]] = {a: [] for a in choices}
    counts: dict[str, list[int]] = {a: [] for a in choices}
    for i in range(1, args.repeats + 1):
        for acceleration in (choices if i % 2 else tuple(reversed(choices))):
            passes[0] = 0
            times[acceleration].append(run(i, acceleration)[0])
            counts[acceleration].append(passes[0])
    reference = run(10_000, "none")[1]
    rows: list[tuple] = []
    for acceleration in adapter(family).accelerations:
        if acceleration in refused:
            rows.append((family, acceleration, None, None, None, None, refused[acceleration]))
            continue
        ratio = statistics.median(a / b for a, b in zip(times[acceleration], times["none"], strict=True))
        quality = psnr(run(10_000, acceleration)[1], reference)
        rows.append((family, acceleration, statistics.median(times[acceleration]), ratio,
                     statistics.median(counts[acceleration]), quality, one_time.get(acceleration)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-size", action="store_true", help="Wan 1.3B and LTX-Video architectures (GPU)")
    parser.add_argument("--families", default="", help="comma-separated subset of wan, ltx, cogvideox")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=0, help="denoising steps (default: bench/pipeline.py's)")
    parser.add_argument("--models-dir", default="", help="where to build the models (default: a temp folder)")
    args = parser.parse_args(argv)
    os.environ["KINOGRAPH_CACHE_DIR"] = tempfile.mkdtemp(prefix="kinograph_cache_")  # measure MagCache here
    import tiny_models
    from pipeline import REAL, build_real

    families = [f for f in (args.families.split(",") if args.families else FAMILIES) if f]
    if args.real_size:
        families = [f for f in families if f in REAL]
    folder = Path(args.models_dir or tempfile.mkdtemp(prefix="kinograph_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| family | acceleration | graph s | time vs none | last block computed | PSNR vs none dB | "
          "one-time measuring s |")
    print("|---|---|---|---|---|---|---|")
    for family in families:
        model = build_real(REAL[family][0], folder) if args.real_size else tiny_models.build(family, folder)
        for fam, acceleration, seconds, ratio, count, quality, once in measure(family, model, args):
            if seconds is None:  # refused: `once` holds why
                print(f"| {fam} | {acceleration} | refused: {once} | | | | |", flush=True)
                continue
            print(f"| {fam} | {acceleration} | {seconds:.4f} | {ratio:.3f} | {count:g} | {quality:.1f} | "
                  f"{'' if once is None else f'{once:.3f}'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
