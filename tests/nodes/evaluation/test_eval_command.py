"""`kinograph eval`: tables, JSON, plots, and one clear line with exit 2 for files it cannot read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nodegraph.cli import main
from nodes.evaluation import synthetic
from nodes.evaluation.plot import COLOURS, render_curves

from .clips import clean_clip, write_video


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval_cmd")
    clean = clean_clip()[:16]
    return {
        "clean": write_video(folder / "clean.mp4", clean),
        "flicker": write_video(folder / "flicker.mp4", synthetic.gain_flicker(clean, 0.08)),
        "small": write_video(folder / "small.mp4", np.ascontiguousarray(clean[:, :48, :64])),
    }


def _bad_files(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    return {"missing": tmp_path / "missing.mp4", "empty": empty, "not a video": text, "folder": tmp_path}


@pytest.mark.parametrize("case", ["missing", "empty", "not a video", "folder"])
def test_unreadable_input_exits_2_with_one_line(tmp_path, capsys, case):
    path = _bad_files(tmp_path)[case]
    assert main(["eval", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], err
    assert "Traceback" not in err


def test_json_output_with_reference(videos, capsys):
    assert main(["eval", str(videos["flicker"]), "--reference", str(videos["clean"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    temporal, compare = result["temporal"], result["compare"]
    assert list(temporal) == list(compare) == ["summary", "curves"]  # the METRICS value's JSON form
    assert list(temporal["summary"]) == ["warp_psnr", "flicker_index", "mean_motion", "frozen_ratio", "motion_spike",
                                         "occluded_ratio", "frames"]
    assert list(compare["summary"]) == ["psnr", "psnr_min", "ssim", "ssim_min", "frames"]
    assert temporal["summary"]["flicker_index"] > 1.0
    assert len(temporal["curves"]["flicker"]) == 16
    assert 20 < compare["summary"]["psnr"] < 45 and 0.5 < compare["summary"]["ssim"] < 1.0
    assert len(compare["curves"]["ssim"]) == 16


def test_table_output_names_the_metrics(videos, capsys):
    assert main(["eval", str(videos["clean"])]) == 0
    out = capsys.readouterr().out
    for name in ("warp_psnr", "flicker_index", "mean_motion", "frozen_ratio", "motion_spike"):
        assert name in out


def test_reference_of_another_size_exits_2(videos, capsys):
    assert main(["eval", str(videos["clean"]), "--reference", str(videos["small"])]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "128x96" in err and "64x48" in err


def test_plot_is_written(videos, tmp_path, capsys):
    import cv2

    target = tmp_path / "curves.png"
    assert main(["eval", str(videos["flicker"]), "--plot", str(target), "--json"]) == 0
    image = cv2.imread(str(target))
    assert image is not None and image.shape[0] > 400
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # curves and text, not a blank canvas


@pytest.mark.parametrize("name", ["no/such/dir.png", "curves.txt"])
def test_plot_to_an_unwritable_path_exits_2(videos, tmp_path, capsys, name):
    assert main(["eval", str(videos["clean"]), "--plot", str(tmp_path / name)]) == 2
    assert "could not write the plot" in capsys.readouterr().err


def test_rising_curve_is_drawn_rising():
    image = render_curves({"rise": list(range(50))}, width=400, panel_height=200)
    ys, xs = np.nonzero(np.all(image == COLOURS[0], axis=-1))
    left, right = ys[xs < 150].mean(), ys[xs > 250].mean()
    assert left > right + 40  # image rows grow downwards
