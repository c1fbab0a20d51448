"""LTX-2 (picture and sound), LTX keyframes and the two-stage path through the node graph give what a direct
diffusers call with the same settings gives: frames within one level, sound within 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import add_image_source, add_video_source, max_level_diff, moving_texture, pipeline_graph, to_uint8

from nodegraph import Graph, Link, NodeInstance, Scheduler, ValidationError, validate
from nodes.diffusion.families.ltx2 import refine_sigmas
from nodes.diffusion.loading import pipeline_dtype

SAMPLE = dict(width=32, height=32, frames=9, steps=2, guidance=3.0, seed=5)
PROMPT = dict(prompt="a cat dances", negative_prompt="blurry")


def load(cls_name: str, folder):
    import diffusers

    pipe = getattr(diffusers, cls_name).from_pretrained(str(folder), **pipeline_dtype(torch.float32))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def seeded(seed: int = 5):
    return torch.Generator("cpu").manual_seed(seed)


def run(registry, graph, tmp_path, target: str = "decode") -> dict:
    result = Scheduler(registry, output_dir=tmp_path).run(graph, [target])
    result.raise_for_status()
    return result.outputs[target]


def ltx2_call(pipe, **kwargs):
    """An LTX-2 call as diffusion.sample makes it (32x32, 9 frames, 2 steps, guidance 3, 24 fps)."""
    settings = dict(PROMPT, width=32, height=32, num_frames=9, num_inference_steps=2, guidance_scale=3.0,
                    frame_rate=24.0, generator=seeded(), output_type="np", return_dict=False)
    settings.update(kwargs)
    return pipe(**settings)


def assert_same_picture_and_sound(out: dict, video, audio) -> None:
    frames = out["video"].to_array()
    expected = to_uint8(video[0])
    assert frames.shape == expected.shape
    assert max_level_diff(frames, expected) <= 1
    assert frames.std() > 1.0  # not a blank clip
    sound = out["audio"]
    expected_sound = audio[0].float().T.numpy()  # (channels, n) -> (n, channels)
    assert sound.sample_rate == 16000 and sound.channels == expected_sound.shape[1]
    samples = sound.to_array()
    assert samples.shape == expected_sound.shape
    assert np.abs(samples - expected_sound).max() <= 1e-4
    assert samples.std() > 1e-4  # not silence


def add_keyframe(registry, graph: Graph, node_id: str, pixels: np.ndarray, frame: int, strength: float,
                 after: str | None, to: str | None = "sample") -> None:
    graph.add_node(NodeInstance(node_id, "keyframe", {"frame": frame, "strength": strength}))
    if len(pixels) == 1:
        add_image_source(registry, graph, f"{node_id}_pic", pixels[0], node_id, "image")
    else:
        add_video_source(registry, graph, f"{node_id}_clip", pixels, node_id, "video")
    if after:
        graph.connect(Link(after, "keyframes", node_id, "keyframes"))
    if to:
        graph.connect(Link(node_id, "keyframes", to, "keyframes"))


def test_ltx2_text_to_video_with_sound_matches_direct_call(registry, tiny_model, tmp_path):
    folder = tiny_model("ltx2")
    out = run(registry, pipeline_graph({"source": str(folder)}, SAMPLE), tmp_path)
    video, audio = ltx2_call(load("LTX2Pipeline", folder))
    assert_same_picture_and_sound(out, video, audio)


def test_ltx2_image_to_video_with_sound_matches_direct_call(registry, tiny_model, tmp_path):
    from PIL import Image as PILImage

    folder = tiny_model("ltx2")
    first = moving_texture(1, 32, 32, seed=2)[0]
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    add_image_source(registry, graph, "first", first, "sample", "image")
    out = run(registry, graph, tmp_path)
    video, audio = ltx2_call(load("LTX2ImageToVideoPipeline", folder), image=PILImage.fromarray(first))
    assert_same_picture_and_sound(out, video, audio)


def test_ltx2_keyframes_match_direct_condition_call(registry, tiny_model, tmp_path):
    from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition
    from PIL import Image as PILImage

    folder = tiny_model("ltx2")
    clip = moving_texture(4, 32, 32, seed=3)
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    add_keyframe(registry, graph, "start", clip[:1], 0, 1.0, None, None)
    add_keyframe(registry, graph, "later", clip[1:4], 4, 0.8, "start")
    out = run(registry, graph, tmp_path)
    conditions = [LTX2VideoCondition(frames=PILImage.fromarray(clip[0]), index=0, strength=1.0),
                  LTX2VideoCondition(frames=[PILImage.fromarray(f) for f in clip[1:4]], index=4, strength=0.8)]
    video, audio = ltx2_call(load("LTX2ConditionPipeline", folder), conditions=conditions)
    assert_same_picture_and_sound(out, video, audio)


def test_ltx_video_keyframes_match_direct_condition_call(registry, tiny_model, tmp_path):
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
    from PIL import Image as PILImage

    folder = tiny_model("ltx")
    clip = moving_texture(6, 32, 32, seed=4)
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    add_keyframe(registry, graph, "start", clip[:1], 0, 1.0, None, None)
    add_keyframe(registry, graph, "later", clip[1:6], 4, 0.9, "start")
    frames = run(registry, graph, tmp_path)["video"].to_array()
    conditions = [LTXVideoCondition(image=PILImage.fromarray(clip[0]), frame_index=0, strength=1.0),
                  LTXVideoCondition(video=[PILImage.fromarray(f) for f in clip[1:6]], frame_index=4, strength=0.9)]
    pipe = load("LTXConditionPipeline", folder)
    expected = pipe(conditions=conditions, **ltx_prompt_embeds(folder), width=32, height=32, num_frames=9,
                    num_inference_steps=2, guidance_scale=3.0, frame_rate=25, max_sequence_length=128,
                    generator=seeded(), output_type="np").frames[0]
    assert max_level_diff(frames, to_uint8(expected)) <= 1
    assert frames.std() > 1.0


def ltx_prompt_embeds(folder) -> dict:
    """The prompt as text.encode encodes it for every LTX-Video mode: LTXPipeline's encoder (LTXConditionPipeline's
    own also hands T5 the attention mask, which changes the embeddings a little)."""
    pe, pm, ne, nm = load("LTXPipeline", folder).encode_prompt(**PROMPT, max_sequence_length=128)
    return dict(prompt_embeds=pe, prompt_attention_mask=pm, negative_prompt_embeds=ne,
                negative_prompt_attention_mask=nm)


def two_stage_graph(registry, folder, upsampler, strength: float) -> Graph:
    """sample (32x32) -> latent.upscale -> sample again from the latent at `strength` -> decode (64x64)."""
    graph = pipeline_graph({"source": str(folder)}, SAMPLE)
    graph.disconnect(Link("sample", "latent", "decode", "latent"))
    graph.add_node(NodeInstance("upscale", "latent.upscale", {"upsampler": str(upsampler)}))
    graph.add_node(NodeInstance("refine", "diffusion.sample", dict(SAMPLE, steps=2, strength=strength, seed=6)))
    for link in (Link("model", "model", "upscale", "model"), Link("sample", "latent", "upscale", "latent"),
                 Link("model", "model", "refine", "model"), Link("encode", "conditioning", "refine", "conditioning"),
                 Link("upscale", "latent", "refine", "latent"), Link("refine", "latent", "decode", "latent")):
        graph.connect(link)
    return graph


def test_ltx2_two_stage_upscale_and_refine_matches_direct_calls(registry, tiny_model, tmp_path):
    from diffusers import LTX2LatentUpsamplePipeline
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel

    folder, upsampler = tiny_model("ltx2"), tiny_model("ltx2_upsampler")
    out = run(registry, two_stage_graph(registry, folder, upsampler, 0.5), tmp_path)

    pipe = load("LTX2Pipeline", folder)
    small, sound = ltx2_call(pipe, output_type="latent")
    upsample = LTX2LatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=LTX2LatentUpsamplerModel.from_pretrained(
        str(upsampler)))
    big = upsample(latents=small, height=32, width=32, num_frames=9, output_type="latent", return_dict=False)[0]
    levels = refine_sigmas(0.5, 2)
    video, audio = ltx2_call(pipe, latents=big, audio_latents=sound, noise_scale=levels[0], sigmas=levels,
                             width=64, height=64, generator=seeded(6))
    assert out["video"].width == 64
    assert_same_picture_and_sound(out, video, audio)


def test_ltx_video_two_stage_upscale_and_refine_matches_direct_calls(registry, tiny_model, tmp_path):
    from diffusers import LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    folder, upsampler = tiny_model("ltx"), tiny_model("ltx_upsampler")
    frames = run(registry, two_stage_graph(registry, folder, upsampler, 0.4), tmp_path)["video"].to_array()

    settings = dict(PROMPT, num_frames=9, num_inference_steps=2, guidance_scale=3.0, frame_rate=25,
                    max_sequence_length=128, return_dict=False)
    small = load("LTXPipeline", folder)(width=32, height=32, generator=seeded(), output_type="latent", **settings)[0]
    pipe = load("LTXConditionPipeline", folder)
    upsample = LTXLatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=LTXLatentUpsamplerModel.from_pretrained(
        str(upsampler)))
    small = pipe._unpack_latents(small, 3, 8, 8, 1, 1)
    big = upsample(latents=small, height=32, width=32, output_type="latent", return_dict=False)[0]
    settings.update(ltx_prompt_embeds(folder))
    for key in PROMPT:
        settings.pop(key)
    expected = pipe(latents=big, denoise_strength=0.4, width=64, height=64, generator=seeded(6), output_type="np",
                    **settings)[0][0]
    assert frames.shape == (9, 64, 64, 3)
    assert max_level_diff(frames, to_uint8(expected)) <= 1


def test_a_family_without_sound_decodes_no_sound(registry, tiny_model, tmp_path):
    out = run(registry, pipeline_graph({"source": str(tiny_model("ltx"))}, SAMPLE), tmp_path)
    assert out["audio"] is None and out["video"].frame_count == 9


def test_keyframes_on_a_family_without_them_fail_validation(registry, tiny_model):
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE)
    add_keyframe(registry, graph, "start", moving_texture(1, 32, 32), 0, 1.0, None)
    with pytest.raises(ValidationError, match="takes no keyframes"):
        validate(graph, registry)


def test_a_keyframe_past_the_last_frame_says_where_to_put_it(registry, tiny_model, tmp_path):
    graph = pipeline_graph({"source": str(tiny_model("ltx"))}, SAMPLE)
    add_keyframe(registry, graph, "late", moving_texture(5, 32, 32), 6, 1.0, None)
    result = Scheduler(registry, output_dir=tmp_path).run(graph, ["decode"])
    assert "set its frame to 4 or less" in str(result.error)


def test_image_and_keyframes_together_fail_validation(registry, tiny_model):
    graph = pipeline_graph({"source": str(tiny_model("ltx"))}, SAMPLE)
    add_keyframe(registry, graph, "start", moving_texture(1, 32, 32), 0, 1.0, None)
    add_image_source(registry, graph, "first", moving_texture(1, 32, 32)[0], "sample", "image")
    with pytest.raises(ValidationError, match="pin the image as a keyframe at frame 0"):
        validate(graph, registry)


def test_latent_upscale_of_a_family_without_an_upsampler_fails_validation(registry, tiny_model, tmp_path):
    graph = two_stage_graph(registry, tiny_model("wan"), tmp_path, 0.5)
    with pytest.raises(ValidationError, match="Wan 2.1 / 2.2 has no latent upsampler"):
        validate(graph, registry)


def test_latent_upscale_with_the_wrong_upsampler_names_the_right_kind(registry, tiny_model, tmp_path):
    graph = two_stage_graph(registry, tiny_model("ltx2"), tiny_model("ltx_upsampler"), 0.5)
    result = Scheduler(registry, output_dir=tmp_path).run(graph, ["upscale"])
    assert "is an LTX-Video upsampler, but the model is LTX-2" in str(result.error)


def test_refining_an_ltx_video_latent_takes_its_first_frame_as_a_keyframe_and_a_strength(registry, tiny_model):
    graph = two_stage_graph(registry, tiny_model("ltx"), tiny_model("ltx_upsampler"), 0.0)
    with pytest.raises(ValidationError, match="strength 0 leaves the latent as it is"):
        validate(graph, registry)
    graph.nodes["refine"].params["strength"] = 0.4
    add_image_source(registry, graph, "first", moving_texture(1, 32, 32)[0], "refine", "image")
    with pytest.raises(ValidationError, match="pin the image as a keyframe at frame 0"):
        validate(graph, registry)


def test_a_keyframe_node_needs_exactly_one_picture(registry, tmp_path):
    graph = Graph("t")
    graph.add_node(NodeInstance("k", "keyframe", {"frame": 3}))
    assert "nothing to pin: connect an image" in str(Scheduler(registry, output_dir=tmp_path).run(graph, ["k"]).error)
    add_image_source(registry, graph, "pic", moving_texture(1, 8, 8)[0], "k", "image")
    add_video_source(registry, graph, "clip", moving_texture(3, 8, 8), "k", "video")
    with pytest.raises(ValidationError, match="both image and video are connected"):
        validate(graph, registry)


def test_saved_latent_keeps_its_sound(tmp_path):
    from nodes.diffusion.latents import load_latent, save_latent
    from nodes.diffusion.values import Latent

    latent = Latent("ltx2", torch.randn(1, 4, 3, 2, 2), fps=24.0, width=4, height=4, frames=5,
                    audio=torch.randn(1, 2, 9, 2))
    save_latent(latent, tmp_path / "l.safetensors")
    back = load_latent(tmp_path / "l.safetensors")
    assert torch.equal(back.audio, latent.audio) and torch.equal(back.tensor, latent.tensor)


def test_ltx2_sound_lands_in_the_saved_mp4_as_long_as_the_picture(registry, tiny_model, tmp_path):
    import av

    graph = pipeline_graph({"source": str(tiny_model("ltx2"))}, dict(SAMPLE, frames=17))
    graph.add_node(NodeInstance("save", "video.save", {"filename": "talking.mp4"}))
    graph.connect(Link("decode", "video", "save", "video"))
    graph.connect(Link("decode", "audio", "save", "audio"))
    path = run(registry, graph, tmp_path, "save")["path"]
    with av.open(path) as container:
        picture, sound = container.streams.video[0], container.streams.audio[0]
        assert sound.codec_context.name == "aac"
        frames = sum(1 for _ in container.decode(picture))
        seconds = float(sound.duration * sound.time_base)
    assert frames == 17
    assert abs(seconds - 17 / 24) <= 1 / 24


@pytest.mark.parametrize("name, family", [("ltx2_text_to_video_with_sound", "ltx2"), ("ltx_keyframes", "ltx")])
def test_the_ltx_workflows_name_a_catalogued_release_in_their_description(name, family):
    import json
    from pathlib import Path

    from nodes.diffusion import catalog

    workflow = json.loads((Path(__file__).resolve().parents[3] / "resources" / "workflows" / f"{name}.json")
                          .read_text())
    source = next(n["params"]["source"] for n in workflow["nodes"] if n["type"] == "model.load")
    assert source in [release.model_id for release in catalog.releases(family)]
    assert source in workflow["meta"]["description"]
