"""Graph overhead: the node graph (model.load -> text.encode -> diffusion.sample -> latent.decode) against
the direct diffusers call on the same model and settings. Wall time and peak memory, as ratios.

    .venv/bin/python bench/pipeline.py                 # tiny random models of every family, CPU
    .venv/bin/python bench/pipeline.py --real-size     # Wan 1.3B and LTX-Video architectures, random weights (GPU)

The graph runs twice: headless, as `kinograph run` runs it (its progress reporter, which takes no previews, so
none are made), and watched, as the editor runs it (every step's preview taken, the newest rendered after the
timing). The direct call runs as users write it, and again inside torch.inference_mode() as the nodes run it, so
the engine's own cost shows apart. Each run is paired with the direct run beside it and the overhead is the
median of the differences.

Each measurement runs in its own process so peak memory is not shared; the model is loaded before timing.
Nothing is downloaded: models are built from configs with random weights and saved locally first.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "nodes" / "diffusion"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# family: (tiny builder name, direct pipeline class, width, height, frames, steps, extra direct kwargs). Ten steps,
# as the real-size run below (a third of what people sample with); `--steps 4` shows the fixed cost larger.
TINY = {
    "wan": ("wan", "WanPipeline", 32, 32, 9, 10, {}),
    "ltx": ("ltx", "LTXPipeline", 32, 32, 9, 10, {}),
    "cogvideox": ("cogvideox", "CogVideoXPipeline", 32, 32, 9, 10, {"max_sequence_length": 16}),
    "animatediff": ("animatediff", "AnimateDiffPipeline", 16, 16, 8, 10, {}),
    "svd": ("svd", "StableVideoDiffusionPipeline", 32, 32, 9, 10, {}),  # image-to-video: no prompt
}
# control and newer families (issue 18); Wan VACE here is text-to-video through its control pipeline
TINY.update({
    "wan_vace": ("wan_vace", "WanVACEPipeline", 32, 32, 9, 10, {}),
    "hunyuan_video15": ("hunyuan_video15", "HunyuanVideo15Pipeline", 32, 32, 9, 10, {}),
})
REAL = {
    "wan": ("wan_real", "WanPipeline", 832, 480, 33, 10, {}),
    "ltx": ("ltx_real", "LTXPipeline", 704, 480, 41, 10, {}),
}
# LTX-2 makes sound with the picture: the graph decodes it (latent.decode's audio) as the direct call does
TINY["ltx2"] = ("ltx2", "LTX2Pipeline", 32, 32, 9, 10, {"frame_rate": 24.0})
PROMPTS = ["a red fox runs through snow", "a paper boat on a rainy street", "waves at dusk", "a city at night",
           "a cat chasing a ball", "clouds over mountains"]


# -- building real-size architectures (random weights) -----------------------------------------------


def _text_parts(d_model: int):
    """A T5 encoder with the real width (4096) but 2 layers: the denoiser and VAE are what is measured."""
    from tiny_models import t5_tokenizer
    from transformers import T5Config, T5EncoderModel

    config = T5Config(vocab_size=64, d_model=d_model, d_ff=10240, d_kv=64, num_layers=2, num_heads=64,
                      is_encoder_decoder=False)
    return T5EncoderModel(config), t5_tokenizer()


def build_real(name: str, folder: Path) -> Path:
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )

    target = folder / name
    if (target / "model_index.json").exists():
        return target
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        encoder, tokenizer = _text_parts(4096)
        if name == "wan_real":  # Wan2.1-T2V-1.3B transformer and the Wan 2.1 VAE (published configs)
            transformer = WanTransformer3DModel(
                patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
            pipe = WanPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=AutoencoderKLWan(),
                               transformer=transformer,
                               scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction",
                                                                 use_flow_sigmas=True, flow_shift=3.0))
        else:  # LTX-Video 0.9 transformer and VAE
            transformer = LTXVideoTransformer3DModel(
                in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32,
                attention_head_dim=64, cross_attention_dim=2048, num_layers=28, caption_channels=4096)
            pipe = LTXPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=AutoencoderKLLTXVideo(),
                               transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler())
    pipe.to(torch.bfloat16).save_pretrained(str(target))
    return target


# -- one measurement per process -------------------------------------------------------------------


# per graph runner, the step callback's share of each run's steps; the watched runs' latest previews and steps
STEPS: dict[str, list] = {"latest": []}


class Watcher:
    """Events as `kinograph run` takes them: its progress reporter, writing plain lines, which declines previews.
    With `editor`, also every preview, the latest of each run kept aside (as the editor's bridge keeps the
    newest), so its rendering can be timed on its own."""

    def __init__(self, graph, registry, scheduler, editor: bool):
        import io

        from nodegraph.progress import ProgressReporter

        self.reporter = ProgressReporter(graph, registry, stream=io.StringIO())
        self.latest = None
        scheduler.subscribe(self.reporter.on_event, previews=False)
        if editor:
            scheduler.subscribe(self.keep, previews=True)

    def keep(self, event) -> None:
        if type(event).__name__ == "NodePreview":
            self.latest = event


def render_share(event, step: float) -> float:
    """Time to render one preview (every frame of the clip), as a share of a step."""
    started = time.perf_counter()
    assert event.frames.ndim == 4
    return (time.perf_counter() - started) / step


def prompt(i: int) -> str:
    """A different prompt for every run, so the graph never serves text.encode from its cache."""
    return f"{PROMPTS[i % len(PROMPTS)]}, take {i}"


class Meter:
    """Peak memory: on a GPU, CUDA's allocator peak above what was allocated when it started; on the CPU, the
    process's peak resident set during the measured run (model, libraries and run together: tiny models are too
    small to show above the allocator's own slack, so the whole process is what compares). On Linux the peak is
    reset when the meter starts, so the transient of loading a model (converting bf16 weights, mapped files)
    does not count; that transient varies by gigabytes from one load of a real-size model to the next."""

    def __init__(self):
        import torch

        self.cuda = torch.cuda.is_available()
        self.resettable = False
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets the peak resident set (VmHWM) to the current one
            self.resettable = _vm_hwm() is not None
        except OSError:
            pass

    def peak(self) -> int:
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - self.base
        if self.resettable:
            return _vm_hwm()
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _vm_hwm() -> int | None:
    """The process's peak resident set in bytes, from /proc (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


SHARED_RESOURCES = None  # made by a worker's first graph runner
LOADED: dict = {}  # the pipeline the graph runners loaded (the timed direct call uses the same weights)


def _graph_runner(args, editor: bool, spent: list[float], still, width, height, frames, steps):
    """The node graph on its own scheduler: headless as `kinograph run`, or watched as the editor watches."""
    from helpers import add_image_source, pipeline_graph

    import nodes.diffusion
    from nodegraph import NodeRegistry, Scheduler
    from nodegraph.cache import ResourceCache

    global SHARED_RESOURCES
    SHARED_RESOURCES = SHARED_RESOURCES or ResourceCache()
    registry = NodeRegistry()
    nodes.diffusion.register(registry)
    # the headless and watched graphs share one resource cache, so one loaded copy of the model serves both (as
    # it would in one editor or server process); the direct call has its own, as a user's script would
    scheduler = Scheduler(registry, output_dir=tempfile.mkdtemp(), resources=SHARED_RESOURCES)
    model = {"source": args.model}
    sample = dict(width=width, height=height, frames=frames, steps=steps, guidance=5.0)

    def make(i):
        graph = pipeline_graph(model, dict(sample, seed=i), prompt="" if args.family == "svd" else prompt(i),
                               negative="" if args.family == "svd" else "blurry")
        graph.nodes["model"].params["dtype"] = "auto"
        if args.family == "svd":
            add_image_source(registry, graph, "still", still, "sample", "image")
        return graph

    watcher = Watcher(make(0), registry, scheduler, editor)
    loaded = scheduler.run(make(0), ["model"]).raise_for_status()
    LOADED["pipe"] = scheduler.resources.get(loaded.outputs["model"]["model"].key).pipe
    name = "watched" if editor else "graph"

    def graph_run(i):
        seconds, calls = spent
        result = scheduler.run(make(i), ["decode"]).raise_for_status()
        result.outputs["decode"]["video"].to_array()
        callback, count = spent[0] - seconds, max(spent[1] - calls, 1)
        step = max(result.seconds["sample"] - callback, 1e-9) / count
        STEPS.setdefault(name, []).append(callback / count / step)
        if editor:
            STEPS["latest"].append((watcher.latest, step))  # rendered after the timing, below

    return graph_run


def _runners(args):
    """(direct, graph) callables, each running the whole clip for seed/prompt i with its model loaded."""
    import diffusers
    import torch
    from helpers import moving_texture
    from PIL import Image as PILImage

    from nodes.diffusion.loading import pipeline_dtype  # dtype= on diffusers 0.40+, torch_dtype= before


    _, cls_name, width, height, frames, steps, extra = (REAL if args.real_size else TINY)[args.family]
    steps = args.steps or steps
    if args.size:  # e.g. the real architectures at a size a CPU can sample
        width, height, frames = (int(v) for v in args.size.lower().split("x"))
    runners = {}
    still = moving_texture(1, height, width)[0]  # the first frame, for image-to-video families
    if args.mode in ("graph", "watched", "time"):
        runners.update(_graph_runners(args, still, width, height, frames, steps))
    if args.mode in ("direct", "time"):
        if args.mode == "time":  # timing: the very weights the graph loaded, so one copy is in memory, not two
            pipe = LOADED["pipe"]
            if type(pipe).__name__ != cls_name:
                pipe = getattr(diffusers, cls_name).from_pipe(pipe)
        else:  # memory: loaded on its own, as a user's script loads it
            dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
            pipe = getattr(diffusers, cls_name).from_pretrained(args.model, **pipeline_dtype(dtype))
            pipe.to("cuda" if torch.cuda.is_available() else "cpu")
        pipe.set_progress_bar_config(disable=True)

        def direct(i):
            if args.family == "svd":
                text = {"image": PILImage.fromarray(still), "max_guidance_scale": 5.0}
            else:
                text = {"prompt": prompt(i), "negative_prompt": "blurry", "guidance_scale": 5.0}
            if "guidance_scale" not in GUIDANCE_TAKERS.setdefault(cls_name, _call_params(pipe)):
                pipe.guider = pipe.guider.new(guidance_scale=text.pop("guidance_scale"))  # HunyuanVideo 1.5
            pipe(width=width, height=height, num_frames=frames, num_inference_steps=steps, output_type="np",
                 generator=torch.Generator("cpu").manual_seed(i), **text, **extra)

        def direct_inference(i):  # the same call in inference mode, as the graph's nodes make it
            with torch.inference_mode():
                direct(i)

        runners = {"direct": direct, "direct_inference": direct_inference, **runners}
    return runners


GUIDANCE_TAKERS: dict = {}  # pipeline class -> its call's parameters


def _call_params(pipe) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(type(pipe).__call__).parameters)


def _graph_runners(args, still, width, height, frames, steps) -> dict:
    """The headless and watched graph runners this worker's mode asks for."""
    from nodes.diffusion import sampling

    # time spent in the step callback (progress, cancel check and, when watched, the preview snapshot),
    # against the rest of diffusion.sample: what progress and a live preview cost per step
    callback = sampling._StepReporter.__call__
    spent = [0.0, 0]  # seconds in the callback, calls

    def timed_callback(self, *a, **k):
        started = time.perf_counter()
        try:
            return callback(self, *a, **k)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    sampling._StepReporter.__call__ = timed_callback
    return {name: _graph_runner(args, name == "watched", spent, still, width, height, frames, steps)
            for name in ("graph", "watched") if args.mode in (name, "time")}


def worker(args) -> dict:
    """mode direct/graph/watched: peak memory of one run in this process; mode time: interleaved wall times."""
    import torch

    runners = _runners(args)

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    if args.mode != "time":
        run = runners[args.mode]
        run(0)  # warm-up: a watched graph fits its preview colours once per loaded model
        gc.collect()
        meter = Meter()
        run(1)
        return {"peak": meter.peak()}
    times: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():
        run(0)  # warm-up (the watched graph's also makes its preview calibration)
    for i in range(1, args.repeats + 1):
        for name, run in (runners.items() if i % 2 else reversed(runners.items())):
            sync()
            started = time.perf_counter()
            run(i)
            sync()
            times[name].append(time.perf_counter() - started)
    out = {name: statistics.median(values) for name, values in times.items()}
    for name in ("graph", "watched", "direct_inference"):  # each run against the direct run beside it
        out[f"{name}_extra"] = statistics.median(g - d for g, d in zip(times[name], times["direct"], strict=True))
    # the engine's own cost: the headless graph against the direct call in inference mode, pairwise
    out["engine_extra"] = statistics.median(
        g - d for g, d in zip(times["graph"], times["direct_inference"], strict=True))
    for name in ("graph", "watched"):
        out[f"{name}_callback"] = statistics.median(STEPS[name][1:])  # [0] was the warm-up
    out["render_share"] = statistics.median(render_share(event, step) for event, step in STEPS["latest"][1:])
    return out


def measure(family: str, mode: str, model: Path, args) -> dict:
    command = [sys.executable, __file__, "--worker", mode, "--family", family, "--model", str(model),
               "--repeats", str(args.repeats), "--steps", str(args.steps), "--size", args.size] + (
                   ["--real-size"] if args.real_size else [])
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode:
        why = " (killed: out of memory?)" if out.returncode in (-9, 137) else ""
        raise RuntimeError(f"{family} {mode} failed with exit code {out.returncode}{why}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-size", action="store_true", help="Wan 1.3B and LTX-Video architectures (GPU)")
    parser.add_argument("--families", default="", help="comma-separated subset")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=0, help="denoising steps (default: each family's, above)")
    parser.add_argument("--size", default="", metavar="WxHxF",
                        help="width x height x frames instead of each family's (e.g. --real-size on a CPU)")
    parser.add_argument("--models-dir", default="", help="where to build the models (default: a temp folder)")
    parser.add_argument("--worker", choices=("direct", "graph", "watched", "time"), help=argparse.SUPPRESS)
    parser.add_argument("--family", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.mode = args.worker
        print(json.dumps(worker(args)))
        return 0
    table = REAL if args.real_size else TINY
    families = [f for f in (args.families.split(",") if args.families else table) if f]
    folder = Path(args.models_dir or tempfile.mkdtemp(prefix="kinograph_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    import tiny_models
    import torch

    memory = "peak MB above the start" if torch.cuda.is_available() else "process peak RSS MB"
    print(f"| family | direct s | graph s | graph overhead ms | wall ratio | watched wall ratio | direct in inference "
          f"mode, ratio | engine ms over it | graph / it | direct {memory} | graph {memory} | memory ratio | watched "
          "memory ratio | step callback per step | watched step callback per step | one preview rendered, per step |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for family in families:
        name = table[family][0]
        model = build_real(name, folder) if args.real_size else tiny_models.build(name, folder)
        seconds = measure(family, "time", model, args)
        direct = seconds["direct"]
        peaks = {mode: measure(family, mode, model, args)["peak"] for mode in ("direct", "graph", "watched")}
        mb = 1024 * 1024
        print(f"| {family} | {direct:.4f} | {seconds['graph']:.4f} | {seconds['graph_extra'] * 1e3:+.1f} | "
              f"{1 + seconds['graph_extra'] / direct:.3f} | {1 + seconds['watched_extra'] / direct:.3f} | "
              f"{1 + seconds['direct_inference_extra'] / direct:.3f} | {seconds['engine_extra'] * 1e3:+.1f} | "
              f"{1 + seconds['engine_extra'] / (direct + seconds['direct_inference_extra']):.3f} | "
              f"{peaks['direct'] / mb:.0f} | {peaks['graph'] / mb:.0f} | {peaks['graph'] / peaks['direct']:.3f} | "
              f"{peaks['watched'] / peaks['direct']:.3f} | {seconds['graph_callback']:.1%} | "
              f"{seconds['watched_callback']:.1%} | {seconds['render_share']:.1%} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
