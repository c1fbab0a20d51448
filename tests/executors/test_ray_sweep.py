"""The Ray executor against a real local Ray (2 CPUs, no dashboard) started once for this module: the same files
as local runs, a killed worker replaced with its variant finished, a cancel that stops every variant."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nodegraph import cli
from nodegraph import events as ev
from nodegraph.registry import default_registry
from nodegraph.sweep import expand, parse_sweeps
from nodegraph.workflow import load_workflow
from nodes.io.metadata import read_embedded_workflow

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "resources" / "workflows" / "animate_image.json"
# Lossless, so equal pixels mean equal work: x264 itself gives slightly different pixels run to run.
SMALL = ["--set", "camera.frames=6", "--set", "upscale.scale=0.5", "--set", "save.codec=ffv1",
         "--set", "save.filename=animate.mkv"]


def frames(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def options(**changes) -> argparse.Namespace:
    base = dict(executor="ray", ray_address=None, cpus_per_worker=1.0, shared_dir=None, device="cpu",
                models_dir=[], workers=None)
    base.update(changes)
    return argparse.Namespace(**base)


def test_a_sweep_on_ray_writes_the_same_videos_as_four_local_runs(local_ray, tmp_path, capsys):
    local, remote = tmp_path / "local", tmp_path / "ray"
    for index, (zoom, pan) in enumerate([("1", "0"), ("1", "0.05"), ("1.2", "0"), ("1.2", "0.05")], start=1):
        folder = local / f"{index}_zoom_to-{zoom}_pan_x-{pan}"
        assert cli.main(["run", str(DEFAULT), *SMALL, "--set", f"camera.zoom_to={zoom}", "--set",
                         f"camera.pan_x={pan}", "--output-dir", str(folder)]) == 0
    sweep = ["--sweep", "camera.zoom_to=1.0,1.2", "--sweep", "camera.pan_x=0,0.05"]
    shared = tmp_path / "shared"  # files move through a shared folder here; the other tests use the object store
    shared.mkdir()
    assert cli.main(["run", str(DEFAULT), *SMALL, *sweep, "--output-dir", str(remote), "--executor", "ray",
                     "--device", "cpu", "--shared-dir", str(shared)]) == 0
    err = capsys.readouterr().err
    assert "4 variants on Ray" in err and "sweep: 4 variants" in err
    assert [p.name for p in (shared / "inputs").rglob("*.png")] == ["sample.png"]  # copied there once
    assert not list((shared / "outputs").rglob("*.mkv"))  # moved into the output folder
    mine = sorted(p.relative_to(local) for p in local.rglob("*.mkv"))
    theirs = sorted(p.relative_to(remote) for p in remote.rglob("*.mkv"))
    assert mine == theirs and len(mine) == 4
    for rel in mine:
        assert np.array_equal(frames(local / rel), frames(remote / rel)), rel
        # the workers read a copy of the picture, yet the video carries the workflow as the client has it
        embedded = json.loads(read_embedded_workflow(remote / rel))
        load = next(n for n in embedded["nodes"] if n["id"] == "load")
        assert Path(load["params"]["path"]) == ROOT / "resources" / "images" / "sample.png"


def run_in_thread(executor, variants, graph, out, on_event):
    box = {}

    def go():
        box["outcomes"] = executor.run_variants(graph, variants, None, out, lambda v: lambda e: on_event(v, e))

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread, box


def sweep_of(specs: list[str], frames_each: int):
    from executors.ray_sweep import RaySweepExecutor

    registry = default_registry()
    graph = load_workflow(DEFAULT, registry)
    graph.nodes["camera"].params["frames"] = frames_each
    variants = expand(parse_sweeps(specs, graph, registry))
    return RaySweepExecutor(options(), registry), graph, variants


def test_a_worker_killed_mid_variant_is_replaced_and_the_sweep_completes(local_ray, tmp_path):
    executor, graph, variants = sweep_of(["camera.zoom_to=1.0,1.1,1.2,1.3"], 24)
    killed = []

    def on_event(variant, event):
        if not killed and isinstance(event, ev.NodeProgress) and executor.pool is not None:
            pid = executor.pool.slots[0].info["pid"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    thread, box = run_in_thread(executor, variants, graph, tmp_path, on_event)
    thread.join(300)  # about 20 s on an idle 2-core machine
    assert not thread.is_alive() and killed
    outcomes = box["outcomes"]
    assert [o.status for o in outcomes] == ["succeeded"] * 4
    assert max(o.attempts for o in outcomes) == 2  # the variant the dead worker held ran again
    assert len(list(tmp_path.rglob("*.mp4"))) == 4


def test_cancel_stops_every_variant(local_ray, tmp_path):
    executor, graph, variants = sweep_of(["camera.zoom_to=1.0,1.1,1.2,1.3"], 400)
    running = set()

    def on_event(variant, event):
        if isinstance(event, ev.NodeProgress):
            running.add(variant.index)
            if len(running) == 2:
                executor.cancel()

    started = time.monotonic()
    thread, box = run_in_thread(executor, variants, graph, tmp_path, on_event)
    thread.join(120)
    assert not thread.is_alive()
    assert [o.status for o in box["outcomes"]] == ["cancelled"] * 4
    assert time.monotonic() - started < 60
    assert not list(tmp_path.rglob("*.mp4"))
