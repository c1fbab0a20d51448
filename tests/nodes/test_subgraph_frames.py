"""A workflow with subgraphs writes the same frames as the same graph flattened by hand: from `kinograph run`
(which flattens the file and applies --set by path) and from a Scheduler given the graph as it is (the editor's and
the server's way)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np

from nodegraph import Scheduler, default_registry, load_workflow
from nodegraph.cli import main

try:
    from .synth import texture_frame
except ImportError:  # run as a top-level module
    from synth import texture_frame

SMOOTH = {
    "nodes": [{"id": "interp", "type": "video.interpolate", "params": {"factor": 2, "method": "fast"}},
              {"id": "resize", "type": "video.resize", "params": {"scale": 1.0, "method": "lanczos"}}],
    "links": [{"from": "interp.video", "to": "resize.video"}],
    "inputs": [{"name": "video", "to": ["interp.video"]}],
    "outputs": [{"name": "video", "from": "resize.video"}],
    "params": [{"name": "scale", "title": "Scale", "to": ["resize.scale"]}],
}


def workflow(nodes: list, links: list, subgraphs: dict | None = None) -> dict:
    doc = {"format": "kinograph.workflow", "version": 1, "name": "frames", "groups": [], "meta": {},
           "nodes": [{"id": "load", "type": "image.load", "params": {"path": "still.png"}},
                     {"id": "camera", "type": "motion.camera", "params": {"frames": 5, "zoom_to": 1.1}}, *nodes],
           "links": [{"from": a, "to": b} for a, b in [("load.image", "camera.image"), *links]]}
    if subgraphs:
        doc["subgraphs"] = subgraphs
    return doc


WITH_SUBGRAPHS = workflow(
    [{"id": "small", "type": "subgraph:smooth", "params": {"scale": 1.0}},
     {"id": "big", "type": "subgraph:smooth", "params": {"scale": 2.0}},
     {"id": "save_small", "type": "video.save", "params": {"filename": "small.mp4"}},
     {"id": "save_big", "type": "video.save", "params": {"filename": "big.mp4"}}],
    [("camera.video", "small.video"), ("camera.video", "big.video"), ("small.video", "save_small.video"),
     ("big.video", "save_big.video")], {"smooth": SMOOTH})
BY_HAND = workflow(
    [{"id": "interp_a", "type": "video.interpolate", "params": {"factor": 2, "method": "fast"}},
     {"id": "resize_a", "type": "video.resize", "params": {"scale": 1.0, "method": "lanczos"}},
     {"id": "interp_b", "type": "video.interpolate", "params": {"factor": 2, "method": "fast"}},
     {"id": "resize_b", "type": "video.resize", "params": {"scale": 2.0, "method": "lanczos"}},
     {"id": "save_small", "type": "video.save", "params": {"filename": "small.mp4"}},
     {"id": "save_big", "type": "video.save", "params": {"filename": "big.mp4"}}],
    [("camera.video", "interp_a.video"), ("interp_a.video", "resize_a.video"), ("resize_a.video", "save_small.video"),
     ("camera.video", "interp_b.video"), ("interp_b.video", "resize_b.video"), ("resize_b.video", "save_big.video")])


def frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])])


def test_subgraphs_give_the_frames_of_the_graph_flattened_by_hand(tmp_path):
    cv2.imwrite(str(tmp_path / "still.png"), texture_frame(48, 64, seed=3))
    for name, doc in (("sub.json", WITH_SUBGRAPHS), ("hand.json", BY_HAND)):
        (tmp_path / name).write_text(json.dumps(doc))
    out = {}
    for label, argv in (("hand", ["hand.json"]), ("cli", ["sub.json"]),
                        ("hand_area", ["hand.json", "--set", "resize_b.method=area"]),
                        ("cli_area", ["sub.json", "--set", "big/resize.method=area"])):
        assert main(["run", str(tmp_path / argv[0]), *argv[1:], "--output-dir", str(tmp_path / label)]) == 0
        out[label] = {name: frames(tmp_path / label / name) for name in ("small.mp4", "big.mp4")}
    registry = default_registry()  # the editor and the server hand the graph as it is to a Scheduler
    Scheduler(registry, output_dir=tmp_path / "scheduler").run(
        load_workflow(tmp_path / "sub.json", registry)).raise_for_status()
    out["scheduler"] = {name: frames(tmp_path / "scheduler" / name) for name in ("small.mp4", "big.mp4")}

    assert out["hand"]["small.mp4"].shape == (10, 48, 64, 3) and out["hand"]["big.mp4"].shape == (10, 96, 128, 3)
    for label, twin in (("cli", "hand"), ("scheduler", "hand"), ("cli_area", "hand_area")):
        for name in ("small.mp4", "big.mp4"):
            assert np.array_equal(out[label][name], out[twin][name]), (label, name)
    assert not np.array_equal(out["cli_area"]["big.mp4"], out["cli"]["big.mp4"])  # the inner --set took
