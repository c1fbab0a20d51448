"""Frame interpolation quality/speed and encoding speed, on generated scenes with known ground truth.

1. video.interpolate (fast, quality) against frame duplication and linear blending: every other frame of a
   generated scene is dropped, factor-2 interpolation puts it back, and PSNR/SSIM are measured on the
   in-between frames only (their true values are rendered exactly). Frames per second count output frames.
2. video.save (PyAV, in process) against the ffmpeg command-line tool on the same frames and settings
   (H.264, yuv420p BT.709 limited range, crf and preset alike): encode frames per second, size, PSNR.
   Debian's `ffmpeg` is installed with apt-get when it is missing.

3. video.deflicker against FFmpeg's deflicker filter, both at their defaults and at a window of 15, on a clip with
   +-10% brightness flicker of random sign per frame; and what each does to a clean moving clip and a slow fade.

Run: python bench/quality.py [--frames N] [--skip-encode] [--deflicker-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nodegraph.media import Video
from nodegraph.node import NodeContext
from nodes.evaluation import metrics
from nodes.evaluation.synthetic import Scene
from nodes.io.video_reader import open_video
from nodes.io.video_write import SaveVideo
from nodes.video.interpolate import InterpolateVideo

SCENES = {  # name: scene (velocities are per frame of the full-rate clip; key frames move twice as far)
    "pan 320x240": Scene(320, 240, velocity=(2.4, 1.2), disc_speed=(4.0, 3.0), seed=1),
    "fast 320x240": Scene(320, 240, velocity=(6.0, 3.0), disc_speed=(9.0, 7.0), seed=2),
    "pan 960x540": Scene(960, 540, velocity=(3.0, 1.5), disc_speed=(6.0, 4.0), seed=3),
}


def _ctx(out: Path) -> NodeContext:
    return NodeContext(node_id="bench", type_id="bench", output_dir=out)


def duplicate(keys: np.ndarray) -> np.ndarray:
    """Factor 2 by repeating each key frame."""
    out = np.repeat(keys, 2, axis=0)
    return out[:-1]


def blend(keys: np.ndarray) -> np.ndarray:
    """Factor 2 by averaging neighbouring key frames."""
    mids = ((keys[:-1].astype(np.uint16) + keys[1:]) // 2).astype(np.uint8)
    out = np.empty((2 * len(keys) - 1, *keys.shape[1:]), np.uint8)
    out[0::2], out[1::2] = keys, mids
    return out


def node_interpolate(method: str):
    def run(keys: np.ndarray) -> np.ndarray:
        video = Video.from_array(keys, fps=12)
        result = InterpolateVideo().run(_ctx(Path(tempfile.gettempdir())), video=video, factor=2, method=method)
        return np.concatenate(list(result["video"].chunks(16)))[:2 * len(keys) - 1]  # then the last frame held

    return run


METHODS = {"duplicate": duplicate, "linear blend": blend, "interpolate fast": node_interpolate("fast"),
           "interpolate quality": node_interpolate("quality")}


def bench_interpolation(key_count: int) -> list[tuple]:
    rows = []
    for scene_name, scene in SCENES.items():
        truth = scene.clip(2 * key_count - 1)
        keys = truth[0::2]
        for method, fn in METHODS.items():
            start = time.perf_counter()
            out = fn(keys)
            seconds = time.perf_counter() - start
            if out.shape != truth.shape:
                raise SystemExit(f"{method} made {out.shape}, expected {truth.shape}")
            mids = range(1, len(truth), 2)
            psnr = metrics.psnr_from_mse(float(np.mean([metrics.mse(out[i], truth[i]) for i in mids])))
            ssim = float(np.mean([metrics.ssim(out[i], truth[i]) for i in mids]))
            rows.append((scene_name, method, psnr, ssim, len(out) / seconds))
    return rows


# -- encoding ------------------------------------------------------------------------------------


def ensure_ffmpeg() -> str | None:
    found = shutil.which("ffmpeg")
    if found:
        return found
    apt = shutil.which("apt-get")
    if not apt:
        print("ffmpeg is missing and apt-get is not available; skipping the ffmpeg rows", file=sys.stderr)
        return None
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print("installing Debian's ffmpeg with apt-get ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "ffmpeg"]):
        if subprocess.run(prefix + cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            print(f"{' '.join(cmd)} failed; skipping the ffmpeg rows", file=sys.stderr)
            return None
    return shutil.which("ffmpeg")


def ffmpeg_encode(ffmpeg: str, frames: np.ndarray, path: Path, fps: int, crf: int, preset: str) -> None:
    t, h, w, _ = frames.shape
    cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", str(fps), "-i", "-", "-vf", "scale=out_color_matrix=bt709:out_range=tv", "-c:v", "libx264",
           "-crf", str(crf), "-preset", preset, "-pix_fmt", "yuv420p", "-colorspace", "bt709",
           "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for frame in frames:
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("ffmpeg failed")


def save_encode(frames: np.ndarray, folder: Path, fps: int, crf: int, preset: str) -> Path:
    video = Video.from_array(frames, fps=fps)
    out = SaveVideo().run(_ctx(folder), video=video, filename="save.mp4", codec="h264", crf=crf, preset=preset)
    return Path(out["path"])


def decoded_psnr(path: Path, frames: np.ndarray) -> float:
    errors = [metrics.mse(a, b) for a, b in zip(open_video(path).frames(16), frames, strict=True)]
    return metrics.psnr_from_mse(float(np.mean(errors)))


def bench_encode(count: int, crf: int = 18, preset: str = "medium") -> list[tuple]:
    frames = SCENES["pan 960x540"].clip(count)
    ffmpeg = ensure_ffmpeg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        encoders = [("video.save (PyAV)", lambda: save_encode(frames, folder, 24, crf, preset))]
        if ffmpeg:
            target = folder / "ffmpeg.mp4"
            encoders.append(("ffmpeg CLI", lambda: (ffmpeg_encode(ffmpeg, frames, target, 24, crf, preset), target)[1]))
        for _ in range(2):  # interleave, keep each one's best
            for name, fn in encoders:
                start = time.perf_counter()
                path = fn()
                seconds = time.perf_counter() - start
                row = (name, count / seconds, path.stat().st_size / 1024, decoded_psnr(path, frames))
                path.unlink()
                rows.append(row)
    best: dict[str, tuple] = {}
    for row in rows:
        if row[0] not in best or row[1] > best[row[0]][1]:
            best[row[0]] = row
    return list(best.values())


# -- deflicker ----------------------------------------------------------------------------------------------------


def signed_flicker(frames: np.ndarray, amplitude: float, seed: int) -> np.ndarray:
    """Each frame brighter or darker by `amplitude` (a fraction), the sign drawn at random per frame."""
    sign = np.random.default_rng(seed).choice([-1.0, 1.0], len(frames)).astype(np.float32)
    return np.clip(frames * (1 + amplitude * sign)[:, None, None, None] + 0.5, 0, 255).astype(np.uint8)


def ffmpeg_deflicker(ffmpeg: str, frames: np.ndarray, size: int) -> np.ndarray:
    t, h, w, _ = frames.shape
    cmd = [ffmpeg, "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", "24",
           "-i", "-", "-vf", f"deflicker=size={size}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, input=frames.tobytes(), capture_output=True, check=True)
    return np.frombuffer(proc.stdout, np.uint8).reshape(frames.shape)


def node_deflicker(frames: np.ndarray, window: int | None = None) -> np.ndarray:
    from nodes.evaluation.nodes import Deflicker

    params = {p.name: p.default for p in Deflicker.params}
    if window:
        params["window"] = window
    out = Deflicker().run(_ctx(Path(tempfile.gettempdir())), video=Video.from_array(frames, fps=24), **params)
    return out["video"].to_array()


def bench_deflicker(seeds: int = 6) -> list[tuple]:
    """Share of the flicker index removed from a 48-frame 320x240 clip with +-10% flicker of random sign per frame
    (mean and lowest over `seeds` draws), the warp PSNR lost on the clean clip, and the largest shift of a frame's
    mean on a slow fade (50% over the clip) without flicker."""
    from nodes.evaluation.analysis import temporal_metrics

    def summary(frames):
        return temporal_metrics([frames], frames.shape[2], frames.shape[1]).summary

    clean = Scene(320, 240).clip(48)
    fade = np.clip(clean * np.linspace(1.1, 0.6, 48, dtype=np.float32)[:, None, None, None] + 0.5, 0, 255
                   ).astype(np.uint8)
    ways = {"video.deflicker (defaults: window 9)": node_deflicker,
            "video.deflicker window 15": lambda f: node_deflicker(f, 15)}
    ffmpeg = ensure_ffmpeg()
    if ffmpeg:
        ways["ffmpeg deflicker (defaults: size 5, am)"] = lambda f: ffmpeg_deflicker(ffmpeg, f, 5)
        ways["ffmpeg deflicker size 15"] = lambda f: ffmpeg_deflicker(ffmpeg, f, 15)
    clean_psnr = summary(clean)["warp_psnr"]
    fade_means = fade.reshape(48, -1).mean(axis=1)
    rows = []
    for name, fn in ways.items():
        removed = []
        for seed in range(1, seeds + 1):
            flickering = signed_flicker(clean, 0.1, seed)
            removed.append(1 - summary(fn(flickering))["flicker_index"] / summary(flickering)["flicker_index"])
        drop = clean_psnr - summary(fn(clean))["warp_psnr"]
        fade_shift = float(np.abs(fn(fade).reshape(48, -1).mean(axis=1) - fade_means).max())
        rows.append((name, float(np.mean(removed)), min(removed), drop, fade_shift))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=25, help="key frames per interpolation scene")
    parser.add_argument("--encode-frames", type=int, default=120, help="frames to encode (960x540)")
    parser.add_argument("--skip-encode", action="store_true")
    parser.add_argument("--deflicker-only", action="store_true", help="only video.deflicker against ffmpeg's filter")
    args = parser.parse_args()
    if args.deflicker_only:
        print("# 48 frames 320x240, +-10% flicker of random sign per frame, 6 draws")
        print("| deflicker | flicker removed (mean) | lowest | warp PSNR lost on the clean clip dB | "
              "largest frame shift on a slow fade (levels) |")
        print("|---|---|---|---|---|")
        for name, mean, lowest, drop, shift in bench_deflicker():
            print(f"| {name} | {mean:.1%} | {lowest:.1%} | {drop:.2f} | {shift:.2f} |")
        return
    print(f"# {os.cpu_count()} CPUs; interpolation factor 2 from {args.frames} key frames; "
          "PSNR/SSIM on the in-between frames only")
    print(f"{'scene':<14} {'method':<20} {'PSNR dB':>8} {'SSIM':>7} {'out fps':>9}")
    for scene, method, psnr, ssim, fps in bench_interpolation(args.frames):
        print(f"{scene:<14} {method:<20} {psnr:>8.2f} {ssim:>7.4f} {fps:>9.1f}")
    if args.skip_encode:
        return
    print(f"\n# H.264 crf 18 preset medium, {args.encode_frames} frames at 960x540 from memory (best of 2)")
    print(f"{'encoder':<20} {'fps':>8} {'KiB':>8} {'PSNR dB':>8}")
    for name, fps, kib, psnr in bench_encode(args.encode_frames):
        print(f"{name:<20} {fps:>8.1f} {kib:>8.0f} {psnr:>8.2f}")


if __name__ == "__main__":
    main()
