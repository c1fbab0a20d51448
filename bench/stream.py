"""Peak memory of a 512x512 clip through resize and encode: Kinograph's streaming graph against the same work
done on the whole clip held in memory (how batch-of-frames tools such as ComfyUI pass video between nodes).

    .venv/bin/python bench/stream.py                  # 200 and 2,000 frames
    .venv/bin/python bench/stream.py --frames 200,500
    .venv/bin/python bench/stream.py --chains          # masks, crop, pad, edges, depth: 200 and 2,000 frames

The clip is a slow push-in over a generated 512x512 picture (motion.camera), resized to 768x768 with lanczos
and encoded as H.264 (veryfast, crf 23). Each measurement runs in a process of its own, so its peak resident
memory (ru_maxrss) is its own. The in-memory baseline keeps frames as uint8, a quarter of the float32 batches
that ComfyUI holds, so it is the kind side of that comparison.
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

SIZE, SCALE, FPS = 512, 1.5, 24.0
CAMERA = {"zoom_from": 1.0, "zoom_to": 1.2, "pan_x": 0.03, "pan_y": 0.0, "rotate_deg": 0.0, "easing": "linear"}
ENCODE = {"codec": "h264", "crf": 23, "preset": "veryfast"}


def picture() -> np.ndarray:
    """A detailed, deterministic 512x512 RGB picture (so the encoder has real work)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    img = np.stack([np.sin(xx / 9 + c) * np.cos(yy / 13 - c) for c in (0.0, 1.3, 2.6)], -1) * 90 + 128
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_graph(frames: int, folder: Path) -> dict:
    """image.load -> motion.camera -> video.resize -> video.save through the scheduler, as `kinograph run` does."""
    import cv2

    from nodegraph import Scheduler, default_registry, loads_workflow

    cv2.imwrite(str(folder / "picture.png"), cv2.cvtColor(picture(), cv2.COLOR_RGB2BGR))
    doc = {
        "format": "kinograph.workflow", "version": 1, "name": "stream bench",
        "nodes": [
            {"id": "load", "type": "image.load", "params": {"path": "picture.png"}},
            {"id": "camera", "type": "motion.camera", "params": {"frames": frames, "fps": FPS, **CAMERA}},
            {"id": "resize", "type": "video.resize", "params": {"scale": SCALE, "method": "lanczos"}},
            {"id": "save", "type": "video.save", "params": {"filename": "stream.mp4", **ENCODE}},
        ],
        "links": [{"from": "load.image", "to": "camera.image"}, {"from": "camera.video", "to": "resize.video"},
                  {"from": "resize.video", "to": "save.video"}],
    }
    registry = default_registry()
    graph = loads_workflow(json.dumps(doc), registry, base_dir=folder)
    started = time.perf_counter()
    result = Scheduler(registry, output_dir=folder).run(graph).raise_for_status()
    return {"seconds": time.perf_counter() - started, "file": str(result.files[0])}


def run_in_memory(frames: int, folder: Path) -> dict:
    """The same frames, the same resize and encoder settings, with the whole clip materialised between steps."""
    import cv2

    from nodegraph import Image, NodeContext
    from nodegraph.media import Video
    from nodes.io.video_write import encode_video
    from nodes.motion import CameraMotion

    started = time.perf_counter()
    clip = CameraMotion().run(NodeContext("camera", "motion.camera"), image=Image(picture()), frames=frames,
                              fps=FPS, **CAMERA)["video"]
    every = np.concatenate(list(clip.chunks(16)))  # (N, 512, 512, 3): the whole clip, as one batch
    side = int(round(SIZE * SCALE))
    resized = np.stack([cv2.resize(f, (side, side), interpolation=cv2.INTER_LANCZOS4) for f in every])
    del every
    batch = Video.from_array(resized, fps=FPS)
    path = encode_video(batch, folder / "memory.mp4", "h264", "libx264", crf=ENCODE["crf"],
                        preset=ENCODE["preset"], workflow=None)
    return {"seconds": time.perf_counter() - started, "file": str(path)}


def child(mode: str, frames: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = (run_graph if mode == "graph" else run_in_memory)(frames, Path(tmp))
        out.update(frames=count_frames(out.pop("file")), peak_mib=peak_mib())
    print(json.dumps(out))


def count_frames(path: str) -> int:
    import av

    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))


def measure(mode: str, frames: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, str(frames)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} run of {frames} frames failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["frames"] != frames:
        raise SystemExit(f"{mode} run wrote {result['frames']} frames, expected {frames}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", default="200,2000", help="comma-separated clip lengths")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FRAMES"), help=argparse.SUPPRESS)
    parser.add_argument("--chains", nargs="?", const=",".join(CHAINS),
                        help=f"masks, edits and control preprocessors instead: comma-separated of {', '.join(CHAINS)}")
    parser.add_argument("--chain-child", nargs=3, metavar=("MODE", "CHAIN", "FRAMES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    if args.chain_child:
        chain_child(args.chain_child[0], args.chain_child[1], int(args.chain_child[2]))
        return
    if args.chains:
        chains_table(args.chains.split(","), [int(n) for n in args.frames.split(",")])
        return
    rows = []
    for frames in (int(n) for n in args.frames.split(",")):
        graph, memory = measure("graph", frames), measure("memory", frames)
        rows.append((frames, graph, memory))
        print(f"... {frames} frames done", file=sys.stderr)
    base = rows[0][1]["peak_mib"]
    print(f"512x512 -> resize x{SCALE} lanczos -> H.264 {ENCODE['preset']} crf {ENCODE['crf']}")
    print("| frames | Kinograph peak MiB | vs first row | in-memory peak MiB | in-memory / Kinograph | "
          "Kinograph s | in-memory s |")
    print("|---|---|---|---|---|---|---|")
    for frames, graph, memory in rows:
        print(f"| {frames:,} | {graph['peak_mib']:.0f} | {graph['peak_mib'] / base - 1:+.1%} | "
              f"{memory['peak_mib']:.0f} | {memory['peak_mib'] / graph['peak_mib']:.1f}x | "
              f"{graph['seconds']:.1f} | {memory['seconds']:.1f} |")


# -- masks, picture edits and control preprocessors ----------------------------------------------------------------
# `--chains`: each chain below runs on a 256x256 camera move, as a graph whose output stream is pulled chunk by chunk,
# and again with the whole clip held in memory between steps (each node run on Video.from_array of the last one's
# frames, as batch-of-frames tools pass video). The depth chain uses a tiny random Depth Anything V2 model, so it
# measures the streaming around the model, not the model.

CHAIN_SIZE = 256
CHAINS = {
    "edges": [("control.edges", {}, "video", "video")],
    "depth": [("control.depth", {"model": "{depth}", "batch": 8}, "video", "video")],
    "masks": [("mask.from_image", {"threshold": 128}, "video", "mask"), ("mask.grow", {"pixels": 6}, "mask", "mask"),
              ("mask.blur", {"radius": 4}, "mask", "mask"), ("mask.invert", {}, "mask", "mask")],
    "crop": [("video.crop", {"x": 32, "y": 32, "width": 192, "height": 192}, "video", "video")],
    "pad": [("video.pad", {"left": 32, "right": 32, "top": 16, "bottom": 16}, "video", "video")],
}


def _chain_steps(name: str, folder: Path) -> list[tuple[str, dict, str, str]]:
    steps = CHAINS[name]
    if name == "depth":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "nodes"))
        from tiny_depth import save_tiny_depth

        depth = save_tiny_depth(folder / "depth")
        steps = [(t, {k: str(depth) if v == "{depth}" else v for k, v in p.items()}, i, o) for t, p, i, o in steps]
    return steps


def _chain_source(frames: int):
    from nodegraph import Image, NodeContext
    from nodes.motion import CameraMotion

    small = picture()[:CHAIN_SIZE, :CHAIN_SIZE].copy()
    return CameraMotion().run(NodeContext("camera", "motion.camera"), image=Image(small), frames=frames, fps=FPS,
                              **CAMERA)["video"]


def _drain(stream) -> int:
    return sum(len(block) for block in stream.chunks(16))


def run_chain_graph(name: str, frames: int, folder: Path) -> dict:
    """camera -> the chain's nodes through the scheduler; the last output pulled chunk by chunk."""
    import cv2

    from nodegraph import Scheduler, default_registry, loads_workflow

    steps = _chain_steps(name, folder)
    cv2.imwrite(str(folder / "picture.png"), cv2.cvtColor(picture()[:CHAIN_SIZE, :CHAIN_SIZE], cv2.COLOR_RGB2BGR))
    nodes = [{"id": "load", "type": "image.load", "params": {"path": "picture.png"}},
             {"id": "camera", "type": "motion.camera", "params": {"frames": frames, "fps": FPS, **CAMERA}}]
    links = [{"from": "load.image", "to": "camera.image"}]
    previous = "camera.video"
    for index, (type_id, params, in_port, out_port) in enumerate(steps):
        nodes.append({"id": f"s{index}", "type": type_id, "params": params})
        links.append({"from": previous, "to": f"s{index}.{in_port}"})
        previous = f"s{index}.{out_port}"
    doc = {"format": "kinograph.workflow", "version": 1, "name": f"{name} stream bench", "nodes": nodes,
           "links": links}
    registry = default_registry()
    graph = loads_workflow(json.dumps(doc), registry, base_dir=folder)
    started = time.perf_counter()
    last = previous.split(".")[0]
    result = Scheduler(registry, output_dir=folder).run(graph, targets=[last]).raise_for_status()
    outputs = result.outputs[last]
    count = _drain(outputs[previous.split(".")[1]])
    if name == "pad":
        assert _drain(outputs["mask"]) == count
    return {"seconds": time.perf_counter() - started, "frames": count}


def run_chain_in_memory(name: str, frames: int, folder: Path) -> dict:
    """The same nodes, each given the whole previous clip as an array and its output materialised."""
    from nodegraph import NodeContext, default_registry
    from nodegraph.mask import Mask
    from nodegraph.media import Video

    steps = _chain_steps(name, folder)
    registry = default_registry()
    started = time.perf_counter()
    held = _chain_source(frames).to_array()
    kept = []
    for type_id, params, in_port, out_port in steps:
        cls = registry.get(type_id)
        value = (Mask if held.ndim == 3 else Video).from_array(held, FPS)
        inputs = {p.name: None for p in cls.inputs}
        inputs[in_port] = value
        outputs = cls().run(NodeContext(type_id, type_id, device="cpu"), **inputs, **{**cls.defaults(), **params})
        kept = [v.to_array() for k, v in outputs.items() if k != out_port]  # pad's mask, held as a batch tool would
        held = outputs[out_port].to_array()
    return {"seconds": time.perf_counter() - started, "frames": len(held), "kept": len(kept)}


def chain_child(mode: str, name: str, frames: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = (run_chain_graph if mode == "graph" else run_chain_in_memory)(name, frames, Path(tmp))
        out.update(peak_mib=peak_mib())
    print(json.dumps(out))


def measure_chain(mode: str, name: str, frames: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--chain-child", mode, name, str(frames)], capture_output=True,
                          text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} run of {name} on {frames} frames failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["frames"] != frames:
        raise SystemExit(f"{mode} run of {name} gave {result['frames']} frames, expected {frames}")
    return result


def chains_table(names: list[str], frames: list[int]) -> None:
    short, long = frames[0], frames[-1]
    print(f"{CHAIN_SIZE}x{CHAIN_SIZE} camera move -> chain; graph output pulled in chunks of 16")
    print(f"| chain | Kinograph peak MiB, {short:,} frames | {long:,} frames | growth | in-memory peak MiB, "
          f"{long:,} frames | in-memory / Kinograph | Kinograph s | in-memory s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        a, b, m = measure_chain("graph", name, short), measure_chain("graph", name, long), \
            measure_chain("memory", name, long)
        print(f"| {name} | {a['peak_mib']:.0f} | {b['peak_mib']:.0f} | {b['peak_mib'] / a['peak_mib'] - 1:+.1%} | "
              f"{m['peak_mib']:.0f} | {m['peak_mib'] / b['peak_mib']:.1f}x | {b['seconds']:.1f} | "
              f"{m['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
