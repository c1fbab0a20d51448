"""MagCache: ratios measured once per model and settings with neutral inputs, saved, reused; steps skipped."""

from __future__ import annotations

import json

import pytest
from helpers import max_level_diff, pipeline_graph, run_frames

from nodegraph import Scheduler, ValidationError, validate
from nodegraph.events import NodeMessage, NodeProgress

SAMPLE = dict(width=32, height=32, frames=9, steps=10, guidance=5.0, seed=1)
MAG = dict(SAMPLE, acceleration="mag_cache")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("KINOGRAPH_CACHE_DIR", str(folder))
    return folder


class Watch:
    """A scheduler's sample-node progress and messages, and how often the transformer's blocks really ran."""

    def __init__(self, scheduler: Scheduler, folder: str):
        self.events = []
        scheduler.subscribe(self.events.append, previews=False)
        result = scheduler.run(pipeline_graph({"source": folder}, SAMPLE), ["model"])
        pipe = scheduler.resources.get(result.outputs["model"]["model"].key).pipe
        blocks = getattr(pipe.transformer, "blocks", None) or pipe.transformer.transformer_blocks
        self.computed = 0
        # a submodule of a block: a step MagCache skips never calls it
        blocks[0].attn1.register_forward_hook(lambda *_: setattr(self, "computed", self.computed + 1))

    def take(self):
        progress = [(e.done, e.total) for e in self.events if isinstance(e, NodeProgress) and e.node_id == "sample"]
        notes = [e.message for e in self.events if isinstance(e, NodeMessage) and e.node_id == "sample"]
        computed, self.computed = self.computed, 0
        self.events.clear()
        return progress, notes, computed


@pytest.mark.parametrize("family", ["wan", "ltx", "cogvideox"])
def test_mag_cache_measures_the_model_once_then_skips_steps(registry, tiny_model, tmp_path, cache_dir, family):
    folder = str(tiny_model(family))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    watch = Watch(scheduler, folder)
    plain = run_frames(scheduler, pipeline_graph({"source": folder}, SAMPLE))
    _, _, plain_computed = watch.take()

    first = run_frames(scheduler, pipeline_graph({"source": folder}, MAG))
    progress, notes, _ = watch.take()
    assert any("measuring" in n for n in notes)
    assert progress[-1] == (20, 20)  # the measuring pass and the run, as one bar
    saved = list((cache_dir / "mag_cache").glob("*.json"))
    assert len(saved) == 1 and len(json.loads(saved[0].read_text())["ratios"]) == 10
    assert first.shape == plain.shape
    assert abs(first.astype(float).mean() - plain.astype(float).mean()) < 2.0  # the same picture, approximately

    # another prompt and seed: nothing measured again, and fewer transformer passes than the plain run
    run_frames(scheduler, pipeline_graph({"source": folder}, dict(MAG, seed=2), prompt="a green hill"))
    progress, notes, computed = watch.take()
    assert not notes and progress[-1] == (10, 10)
    assert 0 < computed < plain_computed

    # a new session reads the saved ratios
    fresh = Scheduler(registry, output_dir=tmp_path)
    watch = Watch(fresh, folder)
    run_frames(fresh, pipeline_graph({"source": folder}, dict(MAG, seed=3)))
    progress, notes, computed = watch.take()
    assert not notes and progress[-1] == (10, 10) and computed < plain_computed


def test_mag_cache_results_depend_on_the_inputs_only_not_on_which_run_measured(registry, tiny_model, tmp_path,
                                                                                monkeypatch):
    """The ratios come from neutral inputs, so a cached mag_cache result is right whatever ran before."""
    folder = str(tiny_model("wan"))
    monkeypatch.setenv("KINOGRAPH_CACHE_DIR", str(tmp_path / "one"))
    one = Scheduler(registry, output_dir=tmp_path)
    run_frames(one, pipeline_graph({"source": folder}, dict(MAG, seed=7), prompt="a red kite"))  # measures
    after = run_frames(one, pipeline_graph({"source": folder}, dict(MAG, seed=2), prompt="a green hill"))

    monkeypatch.setenv("KINOGRAPH_CACHE_DIR", str(tmp_path / "two"))
    two = Scheduler(registry, output_dir=tmp_path)
    direct = run_frames(two, pipeline_graph({"source": folder}, dict(MAG, seed=2), prompt="a green hill"))
    assert max_level_diff(after, direct) == 0

    def saved(name):
        (path,) = (tmp_path / name / "mag_cache").glob("*.json")
        return json.loads(path.read_text())["ratios"]

    assert saved("one") == saved("two")  # measured from other prompts and seeds, the same ratios


def test_settings_that_change_the_schedule_are_measured_apart(registry, tiny_model, tmp_path, cache_dir):
    folder = str(tiny_model("wan"))
    scheduler = Scheduler(registry, output_dir=tmp_path)
    run_frames(scheduler, pipeline_graph({"source": folder}, MAG))
    run_frames(scheduler, pipeline_graph({"source": folder}, dict(MAG, steps=6)))
    run_frames(scheduler, pipeline_graph({"source": folder}, dict(MAG, seed=9)))  # the seed is not a setting
    ratios = sorted(len(json.loads(p.read_text())["ratios"]) for p in (cache_dir / "mag_cache").glob("*.json"))
    assert ratios == [6, 10]


def test_a_damaged_saved_calibration_is_measured_again_with_a_warning(registry, tiny_model, tmp_path, cache_dir):
    folder = str(tiny_model("ltx"))
    run_frames(Scheduler(registry, output_dir=tmp_path), pipeline_graph({"source": folder}, MAG))
    (saved,) = (cache_dir / "mag_cache").glob("*.json")
    saved.write_text('{"ratios": [1.0, "oops"')  # cut short, as by a crash

    scheduler = Scheduler(registry, output_dir=tmp_path)
    events = []
    scheduler.subscribe(events.append, previews=False)
    frames = run_frames(scheduler, pipeline_graph({"source": folder}, MAG))
    messages = [(e.level, e.message) for e in events if isinstance(e, NodeMessage)]
    assert any(level == "warning" and str(saved) in text for level, text in messages)
    assert frames.shape == (9, 32, 32, 3)
    assert len(json.loads(saved.read_text())["ratios"]) == 10  # written again, whole


def test_cancel_while_measuring_saves_nothing_and_the_next_run_measures(registry, tiny_model, tmp_path, cache_dir):
    folder = str(tiny_model("wan"))
    scheduler = Scheduler(registry, output_dir=tmp_path)

    def on_event(event):
        if isinstance(event, NodeProgress) and event.node_id == "sample" and event.done == 3:
            scheduler.cancel()

    stop = scheduler.subscribe(on_event, previews=False)
    result = scheduler.run(pipeline_graph({"source": folder}, MAG), ["decode"])
    assert result.status == "cancelled"
    assert not list(cache_dir.glob("mag_cache/*.json"))
    stop()
    frames = run_frames(scheduler, pipeline_graph({"source": folder}, MAG))
    assert frames.shape == (9, 32, 32, 3) and len(list(cache_dir.glob("mag_cache/*.json"))) == 1


def test_mag_cache_on_a_family_without_it_is_a_validation_error(registry, tiny_model):
    graph = pipeline_graph({"source": str(tiny_model("animatediff"))},
                           dict(width=16, height=16, frames=8, steps=2, acceleration="mag_cache"))
    with pytest.raises(ValidationError, match="acceleration 'mag_cache' is not available for AnimateDiff"):
        validate(graph, registry)


def test_mag_cache_refuses_a_model_that_hands_over_to_a_second_transformer(registry, tiny_model):
    graph = pipeline_graph({"source": str(tiny_model("wan22_a14b"))}, MAG)
    with pytest.raises(ValidationError, match="hands its last steps to a second.*use first_block_cache or none"):
        validate(graph, registry)


def test_out_of_memory_while_measuring_gives_the_sampling_advice(registry, tiny_model, tmp_path, cache_dir,
                                                                  monkeypatch):
    import diffusers
    import torch

    def boom(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, MAG)
    with monkeypatch.context() as patch:
        patch.setattr(diffusers.WanPipeline, "__call__", boom)
        result = scheduler.run(graph, ["decode"])
    assert result.status == "failed" and "offload" in result.error.message
    assert not list(cache_dir.glob("mag_cache/*.json"))
    assert run_frames(scheduler, graph).shape == (9, 32, 32, 3) and scheduler.resources.loads == 1


def test_a_new_revision_of_a_hugging_face_model_is_measured_again(tmp_path, monkeypatch):
    """Ratios belong to weights: an id's snapshot folder (named by its revision) is part of what they are kept
    under, so updating the download does not reuse the old model's ratios."""
    from huggingface_hub import constants

    from nodes.diffusion.magcache import calibration_key
    from nodes.diffusion.values import ModelHandle

    repo = tmp_path / "hub" / "models--kino--tiny-wan"
    for revision in ("0123abcd", "4567ef01"):
        (repo / "snapshots" / revision).mkdir(parents=True)
        (repo / "snapshots" / revision / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    (repo / "refs").mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    handle = ModelHandle(key="k", family="wan", source="kino/tiny-wan", config="", dtype="auto", offload="none",
                         device="cpu", vae_tiling=False)
    settings = dict(steps=10, width=32, height=32)
    (repo / "refs" / "main").write_text("0123abcd")
    first = calibration_key(handle, settings)
    assert calibration_key(handle, settings) == first
    assert calibration_key(handle, dict(settings, steps=12)) != first
    (repo / "refs" / "main").write_text("4567ef01")
    assert calibration_key(handle, settings) != first
