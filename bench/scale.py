"""Sweeps on one process against Ray: 8 variants of a workflow run one after another in this process (the local
executor) and on a local Ray with 2 one-CPU workers, with where the time goes.

    .venv/bin/python bench/scale.py                    # the default workflow, then a tiny Wan workflow
    .venv/bin/python bench/scale.py --variants 8 --frames 72 --skip-diffusion

Both sides run the same variants (camera.zoom_to for the default workflow, sample.seed for the diffusion one) and
write the same files. Ray's side is split into its start (ray.init), its workers' start (each imports Kinograph and
its nodes), and the sweep itself; a variant's overhead is its round trip (sent to files landed in the output
folder) less the seconds its worker spent running it. "model loads" counts the models each side loaded: once for
the local executor, once per worker on Ray (variants that share a model reuse it on the same worker).

Nothing is downloaded: the diffusion model is a tiny random Wan built from a config and saved locally first.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "nodes" / "diffusion"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
DEFAULT = ROOT / "resources" / "workflows" / "animate_image.json"


def default_sweep(registry, variants: int, frames: int):
    from nodegraph.sweep import expand, parse_sweeps
    from nodegraph.workflow import load_workflow

    graph = load_workflow(DEFAULT, registry)
    graph.nodes["camera"].params["frames"] = frames
    values = ",".join(f"{1 + i / 100:.2f}" for i in range(variants))
    return graph, expand(parse_sweeps([f"camera.zoom_to={values}"], graph, registry))


def diffusion_sweep(registry, variants: int, folder: Path):
    import tiny_models

    from nodegraph import Graph, Link, NodeInstance
    from nodegraph.sweep import expand, parse_sweeps

    model = tiny_models.build("wan", folder)
    graph = Graph("tiny wan")
    graph.add_node(NodeInstance("model", "model.load", {"source": str(model), "dtype": "float32"}))
    graph.add_node(NodeInstance("encode", "text.encode", {"prompt": "a red fox runs through snow"}))
    graph.add_node(NodeInstance("sample", "diffusion.sample",
                                {"width": 32, "height": 32, "frames": 9, "steps": 10, "seed": 1}))
    graph.add_node(NodeInstance("decode", "latent.decode", {}))
    graph.add_node(NodeInstance("save", "video.save", {"filename": "wan.mp4"}))
    for link in (("model", "model", "encode", "model"), ("model", "model", "sample", "model"),
                 ("encode", "conditioning", "sample", "conditioning"), ("model", "model", "decode", "model"),
                 ("sample", "latent", "decode", "latent"), ("decode", "video", "save", "video")):
        graph.connect(Link(*link))
    return graph, expand(parse_sweeps([f"sample.seed=1..{variants}"], graph, registry))


def run_local(registry, graph, variants, out: Path) -> dict:
    from nodegraph.sweep_command import LocalSweepExecutor

    executor = LocalSweepExecutor(registry, "cpu")
    started = time.perf_counter()
    outcomes = executor.run_variants(graph, variants, None, out, lambda v: lambda e: None)
    wall = time.perf_counter() - started
    assert all(o.status == "succeeded" for o in outcomes), [o.error for o in outcomes]
    return {"wall": wall, "compute": sum(o.seconds for o in outcomes), "loads": outcomes[-1].loads,
            "overhead": 0.0, "files": sum(len(o.files) for o in outcomes)}


def run_ray(registry, graph, variants, out: Path, workers: int) -> dict:
    import argparse as ap

    import ray

    from executors.ray_pool import WorkerPool
    from executors.ray_sweep import RaySweepExecutor

    started = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray_start = time.perf_counter() - started
    try:
        args = ap.Namespace(executor="ray", ray_address=None, cpus_per_worker=1.0, shared_dir=None, device="cpu",
                            models_dir=[])
        executor = RaySweepExecutor(args, registry)
        started = time.perf_counter()
        executor.pool = WorkerPool(cpus_per_worker=1.0, device="cpu")
        pool_start = time.perf_counter() - started
        started = time.perf_counter()
        outcomes = executor._dispatch(graph, variants, None, out, lambda v: lambda e: None)
        wall = time.perf_counter() - started
        executor.pool.shutdown()
    finally:
        ray.shutdown()
    assert all(o.status == "succeeded" for o in outcomes), [o.error for o in outcomes]
    loads: dict[str, int] = {}
    for o in outcomes:
        loads[o.worker] = max(loads.get(o.worker, 0), o.loads)
    return {"wall": wall, "ray_start": ray_start, "pool_start": pool_start, "workers": len(loads),
            "compute": sum(o.seconds for o in outcomes), "loads": sum(loads.values()),
            "overhead": statistics.median(o.round_trip - o.seconds for o in outcomes),
            "files": sum(len(o.files) for o in outcomes)}


def row(name: str, n: int, local: dict, ray: dict) -> str:
    total = ray["ray_start"] + ray["pool_start"] + ray["wall"]
    return (f"| {name} | {n} | {local['wall']:.1f} | {ray['wall']:.1f} | {local['wall'] / ray['wall']:.2f}x | "
            f"{total:.1f} | {local['wall'] / total:.2f}x | {ray['ray_start']:.1f} | {ray['pool_start']:.1f} | "
            f"{local['compute'] / n:.2f} | {ray['compute'] / n:.2f} | {ray['overhead'] * 1000:.0f} | "
            f"{local['loads']} | {ray['loads']} ({ray['workers']} workers) |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frames", type=int, default=72, help="camera frames of the default workflow")
    parser.add_argument("--skip-diffusion", action="store_true")
    args = parser.parse_args(argv)

    from nodegraph.registry import default_registry

    registry = default_registry()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases = [("default workflow", lambda: default_sweep(registry, args.variants, args.frames))]
        if not args.skip_diffusion:
            cases.append(("tiny Wan, 10 steps", lambda: diffusion_sweep(registry, args.variants, tmp / "models")))
        for name, make in cases:
            graph, variants = make()
            local = run_local(registry, graph, variants, tmp / f"{name}-local")
            ray = run_ray(registry, graph, variants, tmp / f"{name}-ray", args.workers)
            assert local["files"] == ray["files"] == len(variants)
            rows.append(row(name, len(variants), local, ray))
            print(rows[-1], flush=True)
    print()
    print("| workflow | variants | local s | Ray sweep s | ratio | Ray with start s | ratio | ray.init s | "
          "workers start s | local s/variant | Ray worker s/variant | Ray overhead ms/variant | local model loads | "
          "Ray model loads |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for line in rows:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
