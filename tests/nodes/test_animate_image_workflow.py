"""The README's main job: `kinograph run resources/workflows/animate_image.json`, checked as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2

from nodegraph import Scheduler, default_registry, load_workflow

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "resources" / "workflows" / "animate_image.json"

# Another process reads the file, so nothing Kinograph holds in memory can stand in for what was written.
PROBE = """
import json, sys, av
with av.open(sys.argv[1]) as c:
    s = c.streams.video[0]
    frames = sum(1 for _ in c.decode(s))
    print(json.dumps({"frames": frames, "fps": float(s.average_rate), "width": s.width, "height": s.height,
                      "codec": s.codec_context.name, "workflow": c.metadata.get("kinograph_workflow")}))
"""


def kinograph(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nodegraph.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def probe(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_default_workflow_writes_143_frames_at_48_fps_twice_the_size_and_runs_again_from_the_mp4(tmp_path):
    first = kinograph("run", str(DEFAULT), "--output-dir", str(tmp_path / "out"), "--check-quality", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "quality check passed for 1 file" in first.stderr and "warning" not in first.stderr
    written = [Path(line) for line in first.stdout.split()]
    assert written == [tmp_path / "out" / "animate.mp4"]

    sample = cv2.imread(str(ROOT / "resources" / "images" / "sample.png"))
    info = probe(written[0])
    assert info["codec"] == "h264"
    assert info["frames"] == 72 * 2 == 144
    assert info["fps"] == 48.0
    assert (info["width"], info["height"]) == (sample.shape[1] * 2, sample.shape[0] * 2)
    embedded = json.loads(info["workflow"])
    assert embedded["format"] == "kinograph.workflow"
    assert {n["type"] for n in embedded["nodes"]} == {
        "image.load", "motion.camera", "video.interpolate", "video.resize", "video.save"}

    again = kinograph("run", str(written[0]), "--output-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [Path(line) for line in again.stdout.split()] == [tmp_path / "out" / "animate_0001.mp4"]
    assert probe(tmp_path / "out" / "animate_0001.mp4")["frames"] == 144


def test_an_unchanged_rerun_executes_nothing_and_a_crf_change_reruns_only_the_save(tmp_path):
    registry = default_registry()
    graph = load_workflow(DEFAULT, registry)
    graph.nodes["camera"].params["frames"] = 12
    scheduler = Scheduler(registry, output_dir=tmp_path)
    first = scheduler.run(graph).raise_for_status()
    assert sorted(first.executed) == sorted(graph.nodes)

    second = scheduler.run(graph).raise_for_status()
    assert second.executed == [] and sorted(second.cached) == sorted(graph.nodes)
    assert second.files == []  # a cached save writes nothing new

    graph.nodes["save"].params["crf"] = 30
    third = scheduler.run(graph).raise_for_status()
    assert third.executed == ["save"]
    assert [p.name for p in third.files] == ["animate_0001.mp4"]
    assert probe(third.files[0])["frames"] == 24
