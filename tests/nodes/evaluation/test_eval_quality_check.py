"""check_quality on written files: clean clips pass, defective ones are flagged by the right metric."""

from __future__ import annotations

import numpy as np
import pytest

import nodes.evaluation as evaluation
from nodegraph import NodeRegistry
from nodegraph.errors import ValidationError
from nodes.evaluation import synthetic
from nodes.evaluation.quality_check import check_quality

from .clips import clean_clip, write_video

# file stem -> (make frames from the clean clip, the metric that must be flagged)
DEFECTIVE = {
    "flicker": (lambda c: synthetic.gain_flicker(c, 0.06), "flicker_index"),
    "blotches": (lambda c: synthetic.blotches(c, 90), "warp_psnr"),
    "noise": (lambda c: synthetic.noise(c, 24), "warp_psnr"),
    "frozen": (lambda c: synthetic.freeze(c, 4, every=6), "frozen_ratio"),
    "dropped": (lambda c: synthetic.drop(c, 1), "motion_spike"),
    "still": (lambda c: np.repeat(c[:1], len(c), axis=0), "mean_motion"),
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quality")
    clean = clean_clip()
    paths = {"clean": write_video(folder / "clean.mp4", clean)}
    for stem, (make, _) in DEFECTIVE.items():
        paths[stem] = write_video(folder / f"{stem}.mp4", make(clean))
    return paths


@pytest.fixture(scope="module")
def warnings(clips):
    return check_quality(list(clips.values()))


def _for(warnings: list[str], path) -> list[str]:
    return [w for w in warnings if w.startswith(f"{path}:")]


def test_clean_clip_passes(clips, warnings):
    assert _for(warnings, clips["clean"]) == []


@pytest.mark.parametrize("stem", list(DEFECTIVE))
def test_defective_clip_is_flagged_by_its_metric(clips, warnings, stem):
    metric = DEFECTIVE[stem][1]
    mine = _for(warnings, clips[stem])
    assert any(f": {metric} " in w for w in mine), (stem, warnings)


def test_non_video_paths_are_skipped(tmp_path, clips):
    (tmp_path / "frame.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "workflow.json").write_text("{}")
    assert check_quality([tmp_path / "frame.png", tmp_path / "workflow.json", clips["clean"]]) == []


def test_unreadable_video_gives_one_warning_naming_it(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video")
    (warning,) = check_quality([broken])
    assert str(broken) in warning and "not a readable video" in warning


def test_thresholds_are_overridable_by_name_and_alias(clips):
    flicker = [clips["flicker"]]
    assert check_quality(flicker)
    assert check_quality(flicker, {"flicker_index": 50}) == []
    assert check_quality(flicker, {"flicker": "50"}) == []
    strict = check_quality([clips["clean"]], {"warp_psnr": 60})
    assert len(strict) == 1 and "warp_psnr" in strict[0] and "below the threshold 60" in strict[0]


def test_bad_threshold_overrides_are_rejected_with_the_known_names():
    with pytest.raises(ValidationError, match="unknown quality threshold 'flickr'.*flicker_index"):
        check_quality([], {"flickr": 1})
    with pytest.raises(ValidationError, match="not a number"):
        check_quality([], {"flicker": "high"})


def test_thresholds_and_their_defaults_are_in_the_eval_help(capsys):
    from nodegraph.cli import main
    from nodes.evaluation.thresholds import ALIASES, THRESHOLDS

    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = capsys.readouterr().out
    for name, (default, _, _) in THRESHOLDS.items():
        assert f"{name} {'below' if THRESHOLDS[name][1] == 'min' else 'above'} {default:g}" in text
    assert all(alias in text for alias in ALIASES)
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "kinograph eval --help" in capsys.readouterr().out  # run's help says where the list is


def test_pack_registers_the_service():
    registry = NodeRegistry()
    evaluation.register(registry)
    assert registry.services.check_quality is check_quality
    assert registry.services.check_quality_thresholds({"nope": 1})
    assert {"eval.temporal", "eval.compare", "video.deflicker"} <= {cls.type_id for cls in registry}


def _reencode_workflow(tmp_path, source) -> str:
    import json

    doc = {"format": "kinograph.workflow", "version": 1, "name": "re-encode",
           "nodes": [{"id": "load", "type": "video.load", "params": {"path": str(source)}},
                     {"id": "save", "type": "video.save", "params": {"filename": "out.mp4"}}],
           "links": [{"from": "load.video", "to": "save.video"}]}
    path = tmp_path / "reencode.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_run_flags_a_defective_clip_and_a_threshold_implies_the_check(clips, tmp_path, capsys):
    from nodegraph.cli import main

    flicker = _reencode_workflow(tmp_path, clips["flicker"])
    assert main(["run", flicker, "--output-dir", str(tmp_path / "a"), "--check-quality"]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "flicker_index" in err and "out.mp4" in err

    clean = _reencode_workflow(tmp_path, clips["clean"])
    assert main(["run", clean, "--output-dir", str(tmp_path / "b"), "--quality-threshold", "motion=1000"]) == 0
    err = capsys.readouterr().err
    assert "mean_motion" in err and "below the threshold 1000" in err


def test_a_bad_threshold_is_refused_before_anything_runs(clips, tmp_path, capsys):
    from nodegraph.cli import main

    workflow = _reencode_workflow(tmp_path, clips["clean"])
    for setting, words in (("flickr=2", "unknown quality threshold 'flickr'"), ("flicker=high", "NAME=NUMBER")):
        assert main(["run", workflow, "--output-dir", str(tmp_path / "out"), "--quality-threshold", setting]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused up front: nothing was rendered


def test_a_sweep_checks_every_variant_and_names_the_one_that_fails(clips, tmp_path, capsys):
    from nodegraph.cli import main

    workflow = _reencode_workflow(tmp_path, clips["clean"])
    out = tmp_path / "sweep"
    code = main(["run", workflow, "--output-dir", str(out), "--check-quality",
                 "--sweep", f"load.path={clips['clean']},{clips['flicker']}"])
    err = capsys.readouterr().err
    assert code == 0, err
    flagged = [line for line in err.splitlines() if line.startswith("warning:")]
    assert flagged and all(line.startswith("warning: 2_path-") for line in flagged), err  # the flickering one
    assert any("flicker_index" in line for line in flagged)
    assert main(["run", workflow, "--output-dir", str(tmp_path / "bad"), "--quality-threshold", "flickr=2",
                 "--sweep", f"load.path={clips['clean']},{clips['flicker']}"]) == 2
    assert "unknown quality threshold 'flickr'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
