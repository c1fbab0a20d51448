"""The default workflow against the FFmpeg command line doing the same job: wall time, CPU time, smoothness.

    .venv/bin/python bench/classic.py                 # 5 alternating pairs after one warm-up pair
    .venv/bin/python bench/classic.py --pairs 9
    .venv/bin/python bench/classic.py --print-command # the FFmpeg command line alone, to time it elsewhere

`resources/workflows/animate_image.json` turns a 384x216 picture into 72 frames of a push-in with a slight pan
(ease in and out), doubles the frame rate to 48 fps by motion interpolation (144 frames), upscales 2x with
lanczos to 768x432 and encodes H.264 crf 18, preset medium. The FFmpeg line does the same steps with its own
filters: zoompan (the same zoom, pan and easing, as expressions of the output frame number), minterpolate (its
motion-compensated default), scale with lanczos and libx264 at the same settings. minterpolate stops short of
the last input frame, so the last frame is held a few times more first (tpad) and the output cut at 144, as
`video.interpolate` makes n x factor frames.

Both run as whole processes (`kinograph run` as a user types it, start-up included), alternately A B A B so
that a busy or drifting machine slows both alike; the ratio is taken pair by pair and its median is the figure.
CPU is the child's user + system time: above its wall time, the process kept more than one core busy. The
smoothness figures are `kinograph eval` of each output: motion spike (1 = evenly paced motion; 2 = a dropped
frame) and stalled pairs (frames that repeat where the motion goes on).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "resources" / "workflows" / "animate_image.json"


def kinograph_command() -> list[str]:
    """`kinograph` from the environment running this script."""
    script = Path(sys.executable).parent / "kinograph"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from nodegraph.cli import main; main()"]


def ffmpeg_command(output: Path, ffmpeg: str = "ffmpeg") -> list[str]:
    """The FFmpeg command line doing the default workflow's job, built from the workflow's own params."""
    nodes = {node["id"]: node for node in json.loads(WORKFLOW.read_text())["nodes"]}
    picture = (WORKFLOW.parent / nodes["load"]["params"]["path"]).resolve()
    cam = nodes["camera"]["params"]
    factor = nodes["interpolate"]["params"]["factor"]
    scale = nodes["upscale"]["params"]["scale"]
    save = nodes["save"]["params"]
    if cam["easing"] != "ease_in_out" or cam["rotate_deg"]:
        raise SystemExit("the workflow's camera move changed: update ffmpeg_command to match it")
    import cv2

    shape = cv2.imread(str(picture)).shape
    height, width = shape[:2]
    frames, fps = cam["frames"], cam["fps"]
    out_frames = frames * factor  # video.interpolate keeps the duration: the last frame is held factor times
    u = f"(0.5-0.5*cos(PI*on/{frames - 1}))"  # the ease_in_out progress at output frame `on`
    zoom = f"{cam['zoom_from']}*pow({cam['zoom_to'] / cam['zoom_from']}\\,{u})"  # geometric, as motion.camera's
    # zoompan's x, y: the top left of the visible window; the camera centre travels pan * size over the move
    x = f"iw/2{cam['pan_x']:+}*iw*{u}-iw/zoom/2"
    y = f"ih/2{cam['pan_y']:+}*ih*{u}-ih/zoom/2"
    chain = ",".join([
        f"zoompan=z='{zoom}':x='{x}':y='{y}':d={frames}:s={width}x{height}:fps={fps:g}",
        f"tpad=stop_mode=clone:stop={factor + 1}",
        f"minterpolate=fps={fps * factor:g}",
        f"scale={round(width * scale)}:{round(height * scale)}:flags=lanczos",
    ])
    return [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(picture), "-vf", chain,
            "-frames:v", str(out_frames), "-c:v", "libx264", "-crf", str(save["crf"]), "-preset", save["preset"],
            "-pix_fmt", "yuv420p", str(output)]


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `cmd` as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def smoothness(path: Path) -> dict:
    proc = subprocess.run(kinograph_command() + ["eval", str(path), "--json"], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"kinograph eval {path} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["temporal"]["summary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=5, help="timed pairs (after one warm-up pair)")
    parser.add_argument("--print-command", action="store_true", help="print the FFmpeg command line and stop")
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is not installed; install it (Debian: apt-get install ffmpeg) and run again")
    if args.print_command:
        print(shlex.join(ffmpeg_command(Path("ffmpeg.mp4"))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours_dir = folder / "kinograph"
        ours = kinograph_command() + ["run", str(WORKFLOW), "--output-dir", str(ours_dir)]
        theirs = ffmpeg_command(folder / "ffmpeg.mp4", ffmpeg)
        # as installed for a user, Python keeps compiled bytecode: the warm-up pair writes it where this machine's
        # environment says not to (PYTHONDONTWRITEBYTECODE would make every run compile Kinograph's source again)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        rows: list[tuple[float, float, float, float]] = []
        for i in range(args.pairs + 1):
            shutil.rmtree(ours_dir, ignore_errors=True)  # each run writes animate.mp4 afresh, not animate_0001
            a, b = timed(ours, env), timed(theirs)
            if i:  # the first pair warms the disk cache and is not counted
                rows.append((*a, *b))
            print(f"... pair {i}{' (warm-up)' if not i else ''}: kinograph {a[0]:.2f} s, ffmpeg {b[0]:.2f} s",
                  file=sys.stderr)
        ours_file = next(ours_dir.glob("*.mp4"))
        quality = {"kinograph run": smoothness(ours_file), "ffmpeg": smoothness(folder / "ffmpeg.mp4")}
    ratios = [a / b for a, _, b, _ in rows]
    med = statistics.median
    walls = {"kinograph run": [r[0] for r in rows], "ffmpeg": [r[2] for r in rows]}
    cpus = {"kinograph run": [r[1] for r in rows], "ffmpeg": [r[3] for r in rows]}
    print(f"# {WORKFLOW.relative_to(ROOT)} against FFmpeg's filters, {args.pairs} alternating pairs, "
          f"{os.cpu_count()} CPUs; medians")
    print("| command | wall s | CPU s | CPU / wall | motion spike | stalled pairs | warp PSNR dB | frames |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("kinograph run", "ffmpeg"):
        q = quality[name]
        wall, cpu = med(walls[name]), med(cpus[name])
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {cpu / wall:.2f} | {q['motion_spike']:.2f} | "
              f"{q['frozen_ratio']:.1%} | {q['warp_psnr']:.1f} | {q['frames']:.0f} |")
    print(f"\nkinograph / ffmpeg wall time, pair by pair: median {med(ratios):.2f}x "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
