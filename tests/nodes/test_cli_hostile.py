"""`kinograph run` against hostile input: a workflow from someone else's video stays in --output-dir, inputs are
named; SIGTERM ends a run as cleanly as Ctrl+C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from nodegraph.media import Video
from nodes.io.codecs import available_encoder
from nodes.io.video_write import encode_video

REPO = Path(__file__).resolve().parents[2]


def their_video(folder: Path, filename: str) -> Path:
    """A tiny clip whose embedded workflow re-encodes itself to `filename`."""
    workflow = {"format": "kinograph.workflow", "version": 1, "name": "theirs",
                "nodes": [{"id": "load", "type": "video.load", "params": {"path": "their.mp4"}},
                          {"id": "save", "type": "video.save", "params": {"filename": filename}}],
                "links": [{"from": "load.video", "to": "save.video"}]}
    clip = Video.from_array(np.zeros((3, 16, 16, 3), np.uint8), 24.0)
    return encode_video(clip, folder / "their.mp4", "h264", available_encoder("h264"), workflow=json.dumps(workflow))


def kinograph(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nodegraph.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_a_video_whose_workflow_writes_outside_the_output_folder_is_refused(tmp_path):
    home = tmp_path / "downloads"
    home.mkdir()
    video = their_video(home, "../../escaped.mp4")
    done = kinograph("run", str(video), "--output-dir", "out", cwd=home)
    assert done.returncode == 2, done.stderr
    assert "save.filename" in done.stderr and "climbs out of the output folder" in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*.mp4")) == ["their.mp4"]
    check = kinograph("validate", str(video), cwd=home)
    assert check.returncode == 2 and "climbs out" in check.stderr


def test_a_run_of_a_workflow_from_a_video_names_the_files_it_reads(tmp_path):
    video = their_video(tmp_path, "copy.mp4")
    done = kinograph("run", str(video), "--output-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"it reads these files:\n  {video}" in done.stderr
    assert (tmp_path / "out" / "copy.mp4").is_file()


def test_sigterm_during_a_run_leaves_no_part_files(tmp_path):
    rng = np.random.default_rng(0)
    noise = Video.from_array(rng.integers(0, 255, (240, 128, 128, 3), dtype=np.uint8), 24.0)
    source = encode_video(noise, tmp_path / "noise.mp4", "h264", available_encoder("h264"), preset="ultrafast")
    workflow = {"format": "kinograph.workflow", "version": 1,
                "nodes": [{"id": "load", "type": "video.load", "params": {"path": str(source)}},
                          {"id": "save", "type": "video.save", "params": {"filename": "slow.mp4", "preset": "veryslow",
                                                                          "crf": 0}}],
                "links": [{"from": "load.video", "to": "save.video"}]}
    (tmp_path / "wf.json").write_text(json.dumps(workflow))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "nodegraph.cli", "run", "wf.json", "--output-dir", "out"],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    deadline = time.monotonic() + 60
    while not list(out.glob(".*.part")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(out.glob(".*.part")), "the run never started writing"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "cancelled" in stderr and list(out.iterdir()) == []
