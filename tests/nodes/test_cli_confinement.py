"""`kinograph run` on a workflow taken from someone else's video: outputs stay in --output-dir, inputs are named."""

from __future__ import annotations

import json
import subprocess
import sys
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
