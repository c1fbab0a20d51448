"""Peak memory of a 512x512 clip through resize and encode: Kinograph's streaming graph against the same work
done on the whole clip held in memory (how batch-of-frames tools such as ComfyUI pass video between nodes).

    .venv/bin/python bench/stream.py                  # 200 and 2,000 frames
    .venv/bin/python bench/stream.py --frames 200,500
    .venv/bin/python bench/stream.py --tables sound   # only the clip-with-sound table

The clip is a slow push-in over a generated 512x512 picture (motion.camera), resized to 768x768 with lanczos
and encoded as H.264 (veryfast, crf 23). Each measurement runs in a process of its own, so its peak resident
memory (ru_maxrss) is its own. The in-memory baseline keeps frames as uint8, a quarter of the float32 batches
that ComfyUI holds, so it is the kind side of that comparison.

With sound (`--tables sound`): an MP4 of that camera move with 48 kHz stereo AAC goes through video.load →
video.trim (5% off each end) → video.save, the sound riding along on AUDIO wires; against the same cut
done on the decoded frames and samples held in memory and encoded with the same settings.
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
    return run_workflow(doc, folder)


def run_workflow(doc: dict, folder: Path) -> dict:
    """Run a workflow document through the scheduler, as `kinograph run` does: its time and the file it wrote."""
    from nodegraph import Scheduler, default_registry, loads_workflow

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


# -- with sound ---------------------------------------------------------------------------------------------

SOUND_RATE = 48000


def cut_of(frames: int) -> int:
    """Frames trimmed off each end: 5% (100 of 2,000)."""
    return max(1, frames // 20)


def tone(sample_count: int):
    """A lazy stereo sound: a chirp with a click every second (so the encoder has real work)."""
    from nodegraph.audio import Audio

    def source():
        for start in range(0, sample_count, SOUND_RATE):
            t = np.arange(start, min(sample_count, start + SOUND_RATE)) / SOUND_RATE
            wave = 0.3 * np.sin(2 * np.pi * (220 + 40 * np.sin(t)) * t)
            wave[: SOUND_RATE // 200] += 0.5
            yield np.stack([wave, wave[::-1]], 1).astype(np.float32)

    return Audio(source, sample_rate=SOUND_RATE, channels=2, sample_count=sample_count)


def make_source(frames: int, folder: Path) -> Path:
    """The camera move with its sound, written by video.save's encoder (streamed), for the sound runs to read."""
    from nodegraph import Image, NodeContext
    from nodes.io.video_write import encode_video
    from nodes.motion import CameraMotion

    clip = CameraMotion().run(NodeContext("camera", "motion.camera"), image=Image(picture()), frames=frames,
                              fps=FPS, **CAMERA)["video"]
    audio = tone(round(frames / FPS * SOUND_RATE))
    return encode_video(clip, folder / f"source_{frames}.mp4", "h264", "libx264", crf=ENCODE["crf"],
                        preset="ultrafast", audio=audio)


def run_sound_graph(source: Path, folder: Path, sound: bool = True) -> dict:
    """video.load -> video.trim -> video.save, picture and sound (or the picture alone), through the scheduler."""
    from nodes.io.video_read import probe_video

    frames = probe_video(str(source)).frame_count
    doc = {
        "format": "kinograph.workflow", "version": 1, "name": "stream bench with sound",
        "nodes": [
            {"id": "load", "type": "video.load", "params": {"path": str(source)}},
            {"id": "trim", "type": "video.trim", "params": {"start": cut_of(frames), "end": frames - cut_of(frames)}},
            {"id": "save", "type": "video.save", "params": {"filename": "cut.mp4", **ENCODE}},
        ],
        "links": [{"from": "load.video", "to": "trim.video"}, {"from": "trim.video", "to": "save.video"}],
    }
    if sound:
        doc["links"] += [{"from": "load.audio", "to": "trim.audio"}, {"from": "trim.audio", "to": "save.audio"}]
    return run_workflow(doc, folder)


def run_sound_in_memory(source: Path, folder: Path) -> dict:
    """The same cut on the decoded frames and samples held in memory, encoded with the same settings."""
    import av

    from nodegraph.audio import Audio
    from nodegraph.media import Video
    from nodes.io.video_write import encode_video

    started = time.perf_counter()
    with av.open(str(source)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(source)) as container:
        samples = np.concatenate([f.to_ndarray().T for f in container.decode(audio=0)]).astype(np.float32)
    cut = cut_of(len(frames))
    keep = frames[cut:len(frames) - cut]
    sound = samples[round(cut / FPS * SOUND_RATE):round((len(frames) - cut) / FPS * SOUND_RATE)]
    del frames, samples
    path = encode_video(Video.from_array(keep, fps=FPS), folder / "memory.mp4", "h264", "libx264",
                        crf=ENCODE["crf"], preset=ENCODE["preset"], audio=Audio.from_array(sound, SOUND_RATE))
    return {"seconds": time.perf_counter() - started, "file": str(path)}


def sound_child(mode: str, source: str) -> None:
    runs = {"sound-graph": run_sound_graph, "sound-memory": run_sound_in_memory,
            "sound-silent": lambda source, folder: run_sound_graph(source, folder, sound=False)}
    with tempfile.TemporaryDirectory() as tmp:
        out = runs[mode](Path(source), Path(tmp))
        path = out.pop("file")
        out.update(frames=count_frames(path), audio_s=sound_seconds(path), peak_mib=peak_mib())
    print(json.dumps(out))


def sound_seconds(path: str) -> float | None:
    import av

    with av.open(path) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def sound_table(counts: list[int]) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for frames in counts:
            source = make_source(frames, Path(tmp))
            measured = []
            for mode in ("sound-graph", "sound-silent", "sound-memory"):
                proc = subprocess.run([sys.executable, __file__, "--child", mode, str(source)], capture_output=True,
                                      text=True)
                if proc.returncode:
                    raise SystemExit(f"{mode} run of {frames} frames failed:\n{proc.stderr[-3000:]}")
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                kept = frames - 2 * cut_of(frames)
                sound_s = kept / FPS if mode != "sound-silent" else None
                if result["frames"] != kept or (result["audio_s"] is None) != (sound_s is None) or (
                        sound_s is not None and abs(result["audio_s"] - sound_s) > 1 / FPS):
                    raise SystemExit(f"{mode} wrote {result['frames']} frames and {result['audio_s']:.3f} s of "
                                     f"sound, expected {kept} and {kept / FPS:.3f} s")
                measured.append(result)
            rows.append((frames, *measured))
            print(f"... {frames} frames with sound done", file=sys.stderr)
    base = rows[0][1]["peak_mib"]
    print(f"512x512 + 48 kHz stereo AAC -> video.trim (5% off each end) -> H.264 {ENCODE['preset']} "
          f"crf {ENCODE['crf']} + AAC")
    print("| frames in | sound s | Kinograph peak MiB | vs first row | same graph without sound | in-memory peak MiB | "
          "in-memory / Kinograph | Kinograph s | in-memory s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for frames, graph, silent, memory in rows:
        print(f"| {frames:,} | {frames / FPS:.1f} | {graph['peak_mib']:.0f} | {graph['peak_mib'] / base - 1:+.1%} | "
              f"{silent['peak_mib']:.0f} | {memory['peak_mib']:.0f} | "
              f"{memory['peak_mib'] / graph['peak_mib']:.1f}x | {graph['seconds']:.1f} | {memory['seconds']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", default="200,2000", help="comma-separated clip lengths")
    parser.add_argument("--tables", default="picture,sound", help="which tables: picture, sound or both")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FRAMES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0].startswith("sound-"):
            sound_child(*args.child)
        else:
            child(args.child[0], int(args.child[1]))
        return
    tables = args.tables.split(",")
    counts = [int(n) for n in args.frames.split(",")]
    if "picture" in tables:
        picture_table(counts)
    if "sound" in tables:
        sound_table(counts)


def picture_table(counts: list[int]) -> None:
    rows = []
    for frames in counts:
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


if __name__ == "__main__":
    main()
