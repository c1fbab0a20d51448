"""Wan VACE through diffusion.sample gives the frames of diffusers' WanVACEPipeline called directly with the same
clip, mask, references and settings: text to video with references, a control video, outpainting under a mask,
and first/last frame; and inputs that cannot fit are refused with one clear line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import add_image_source, add_video_source, max_level_diff, moving_texture, pipeline_graph
from helpers import to_uint8 as float_to_uint8

from nodegraph import Link, NodeInstance, Scheduler, ValidationError, validate
from nodegraph.mask import Mask
from nodes.diffusion.loading import pipeline_dtype

SIZE, FRAMES = 32, 5
SAMPLE = dict(width=SIZE, height=SIZE, frames=FRAMES, steps=2, guidance=4.0, seed=5)
DIRECT = dict(prompt="a cat dances", negative_prompt="blurry", width=SIZE, height=SIZE, num_frames=FRAMES,
              num_inference_steps=2, guidance_scale=4.0)
MASKS: dict[str, Mask] = {}


@pytest.fixture(scope="module")
def vace(tiny_model):
    return tiny_model("wan_vace")


@pytest.fixture(scope="module")
def direct_pipe(vace):
    from diffusers import WanVACEPipeline

    pipe = WanVACEPipeline.from_pretrained(str(vace), **pipeline_dtype(torch.float32))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def direct(pipe, output_type: str = "np", **kwargs):
    """The pipeline's frames (uint8), or with output_type "latent" its latents, for these inputs."""
    from PIL import Image as PILImage

    for name in ("video", "reference_images"):
        if name in kwargs:
            kwargs[name] = [PILImage.fromarray(f) for f in kwargs[name]]
    if "mask" in kwargs:
        kwargs["mask"] = [PILImage.fromarray(m, mode="L") for m in kwargs["mask"]]
    out = pipe(generator=torch.Generator("cpu").manual_seed(5), output_type=output_type, **dict(DIRECT, **kwargs))
    return out.frames if output_type == "latent" else float_to_uint8(out.frames[0])


def differs(latent, pipe, **kwargs) -> bool:
    """Whether the graph's latent differs from the direct call's with `kwargs` (the sampled latents show what a
    tiny random VAE's decoder flattens)."""
    return float((latent.tensor - direct(pipe, "latent", **kwargs)).abs().max()) > 1e-3


def add_mask_source(registry, graph, node_id: str, frames: np.ndarray, to: str, port: str) -> None:
    from nodegraph.node import Node, Param, Port
    from nodegraph.types import MASK

    if registry.get("test.mask") is None:
        class TestMask(Node):
            """A fixed test mask."""

            type_id = "test.mask"
            outputs = (Port("mask", MASK),)
            params = (Param("name", str, default=""),)

            def run(self, ctx, *, name):
                return {"mask": MASKS[name]}

        registry.register(TestMask)
    MASKS[node_id] = Mask.from_array(frames, fps=16)
    graph.add_node(NodeInstance(node_id, "test.mask", {"name": node_id}))
    graph.connect(Link(node_id, "mask", to, port))


def graph_frames(registry, vace, tmp_path, sample=None, **inputs) -> tuple[np.ndarray, object]:
    """The decoded frames and the sampled latent of the graph with `inputs` connected to diffusion.sample."""
    graph = pipeline_graph({"source": str(vace)}, dict(SAMPLE, **(sample or {})))
    for port, value in inputs.items():
        node_id = f"{port}_{tmp_path.name}"
        if port == "mask":
            add_mask_source(registry, graph, node_id, value, "sample", port)
        elif value.ndim == 4:
            add_video_source(registry, graph, node_id, value, "sample", port)
        else:
            add_image_source(registry, graph, node_id, value, "sample", port)
    result = Scheduler(registry, output_dir=tmp_path).run(graph, ["decode", "sample"]).raise_for_status()
    return result.outputs["decode"]["video"].to_array(), result.outputs["sample"]["latent"]


def test_text_to_video_with_a_reference_image_matches_direct_call(registry, vace, direct_pipe, tmp_path):
    reference = moving_texture(1, 24, 40, seed=3)[0]  # any size: VACE letterboxes it
    frames, latent = graph_frames(registry, vace, tmp_path, sample=dict(conditioning_scale=0.5),
                                  reference=reference)
    expected = direct(direct_pipe, reference_images=[reference], conditioning_scale=0.5)
    assert frames.shape == (FRAMES, SIZE, SIZE, 3)
    assert max_level_diff(frames, expected) <= 1
    with_it = direct(direct_pipe, "latent", reference_images=[reference], conditioning_scale=0.5)
    assert latent.tensor.shape[2] == with_it.shape[2] - 1  # the reference's latent frame is not part of the clip
    assert differs(latent, direct_pipe, conditioning_scale=0.5)  # the reference took part


def test_a_control_video_steers_the_clip_as_in_the_direct_call(registry, vace, direct_pipe, tmp_path):
    control = moving_texture(FRAMES, SIZE, SIZE, seed=4)  # a depth, pose or edge clip, to the model
    frames, latent = graph_frames(registry, vace, tmp_path, sample=dict(frames=81), control=control)  # the clip's
    expected = direct(direct_pipe, video=list(control))
    assert frames.shape == (FRAMES, SIZE, SIZE, 3)
    assert max_level_diff(frames, expected) <= 1
    assert differs(latent, direct_pipe)  # the control took part


def test_outpainting_keeps_the_video_outside_the_mask_as_in_the_direct_call(registry, vace, direct_pipe, tmp_path):
    source = moving_texture(FRAMES, SIZE, SIZE, seed=6)
    mask = np.zeros((FRAMES, SIZE, SIZE), np.uint8)
    mask[:, :, :8] = mask[:, :, -8:] = 255  # borders to fill, as video.pad marks them
    frames, latent = graph_frames(registry, vace, tmp_path, video=source, mask=mask)
    composed = np.where(mask[..., None] == 255, np.uint8(128), source)  # grey where made, as VACE's users give it
    expected = direct(direct_pipe, video=list(composed), mask=list(mask))
    assert max_level_diff(frames, expected) <= 1
    assert differs(latent, direct_pipe, video=[np.full_like(source[0], 128)] * FRAMES, mask=list(mask))  # kept
    assert differs(latent, direct_pipe, video=list(source), mask=list(mask))  # and grey where made anew


def test_keeping_a_video_under_a_mask_counts_every_step_from_the_start(registry, vace, tmp_path):
    """VACE denoises the whole schedule (strength is for video-to-video): the progress total is the step count
    from the first event on, not the steps x strength a video-to-video run takes."""
    from nodegraph.events import NodeProgress

    scheduler = Scheduler(registry, output_dir=tmp_path)
    events = []
    scheduler.subscribe(events.append)
    graph = pipeline_graph({"source": str(vace)}, dict(SAMPLE, steps=4, strength=0.5))
    add_video_source(registry, graph, "kept", moving_texture(FRAMES, SIZE, SIZE, seed=6), "sample", "video")
    mask = np.zeros((FRAMES, SIZE, SIZE), np.uint8)
    mask[:, :, :8] = 255
    add_mask_source(registry, graph, f"border_{tmp_path.name}", mask, "sample", "mask")
    scheduler.run(graph, ["sample"]).raise_for_status()
    progress = [(e.done, e.total) for e in events if isinstance(e, NodeProgress) and e.node_id == "sample"]
    assert progress == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


def test_first_and_last_frame_match_the_direct_call(registry, vace, direct_pipe, tmp_path):
    first, last = moving_texture(2, SIZE, SIZE, seed=7)
    frames, latent = graph_frames(registry, vace, tmp_path, image=first, last_image=last)
    clip = np.full((FRAMES, SIZE, SIZE, 3), 128, np.uint8)  # diffusers' own first-last-frame example
    clip[0], clip[-1] = first, last
    mask = np.full((FRAMES, SIZE, SIZE), 255, np.uint8)
    mask[0] = mask[-1] = 0
    expected = direct(direct_pipe, video=list(clip), mask=list(mask))
    assert max_level_diff(frames, expected) <= 1
    clip[0] = clip[-1] = 128
    assert differs(latent, direct_pipe, video=list(clip), mask=list(mask))  # the stills took part


def test_control_inputs_on_a_model_that_takes_none_fail_validation(registry, tiny_model):
    graph = pipeline_graph({"source": str(tiny_model("wan"))}, SAMPLE)
    add_video_source(registry, graph, "depth_on_wan", np.zeros((FRAMES, SIZE, SIZE, 3), np.uint8), "sample",
                     "control")
    with pytest.raises(ValidationError, match="Wan 2.1 / 2.2 takes no control; load a Wan VACE model"):
        validate(graph, registry)


def test_keyframes_on_wan_vace_fail_validation_instead_of_being_ignored(registry, vace):
    graph = pipeline_graph({"source": str(vace)}, SAMPLE)
    graph.add_node(NodeInstance("pin", "keyframe", {"frame": 0, "strength": 1.0}))
    add_image_source(registry, graph, "pin_pic", np.zeros((SIZE, SIZE, 3), np.uint8), "pin", "image")
    graph.connect(Link("pin", "keyframes", "sample", "keyframes"))
    with pytest.raises(ValidationError, match="Wan VACE takes no keyframes"):
        validate(graph, registry)


def test_a_video_without_a_mask_fails_validation_saying_what_to_connect(registry, vace):
    graph = pipeline_graph({"source": str(vace)}, SAMPLE)
    add_video_source(registry, graph, "unmasked", np.zeros((FRAMES, SIZE, SIZE, 3), np.uint8), "sample", "video")
    with pytest.raises(ValidationError, match="connect a mask .* or connect the clip to control"):
        validate(graph, registry)


def test_a_control_video_of_another_size_fails_validation(registry, vace, tmp_path):
    from nodegraph import Video
    from nodes.io.video_write import available_encoder, encode_video

    path = encode_video(Video.from_array(np.zeros((FRAMES, 48, 64, 3), np.uint8), 16), tmp_path / "depth.mp4",
                        "h264", available_encoder("h264"), preset="ultrafast")
    graph = pipeline_graph({"source": str(vace)}, SAMPLE)
    graph.add_node(NodeInstance("depth", "video.load", {"path": str(path)}))
    graph.connect(Link("depth", "video", "sample", "control"))
    with pytest.raises(ValidationError, match="control is 64x48 but the video made is 32x32; resize it"):
        validate(graph, registry)


@pytest.mark.parametrize("inputs, message", [
    (dict(control=(10, SIZE)), r"the clips' frame count 10 does not suit Wan VACE: it takes 4k\+1 frames"),
    (dict(control=(FRAMES, SIZE), mask=(9, SIZE)), r"the clips differ in length \(control 5, mask 9 frames\)"),
    (dict(image=(1, 16)), "image is 16x16 but the video made is 32x32; resize it"),
])
def test_clips_that_do_not_fit_fail_before_sampling(registry, vace, tmp_path, inputs, message):
    arrays = {}
    for port, (count, side) in inputs.items():
        if port == "mask":
            arrays[port] = np.zeros((count, side, side), np.uint8)
        elif port == "image":
            arrays[port] = np.zeros((side, side, 3), np.uint8)
        else:
            arrays[port] = np.zeros((count, side, side, 3), np.uint8)
    with pytest.raises(Exception, match=message):
        graph_frames(registry, vace, tmp_path, **arrays)


WORKFLOWS = ("wan_vace_depth_video_to_video", "wan_vace_outpainting")


@pytest.fixture(scope="module")
def every_pack():
    import nodes
    from nodegraph import NodeRegistry

    registry = NodeRegistry()
    nodes.register(registry)
    return registry


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_vace_workflows_validate_and_name_their_model(every_pack, name):
    from pathlib import Path

    from nodegraph import load_workflow

    graph = load_workflow(Path(__file__).resolve().parents[3] / "resources" / "workflows" / f"{name}.json",
                          every_pack)
    validate(graph, every_pack)
    assert [n.params["source"] for n in graph.nodes.values() if n.type == "model.load"] == [
        "Wan-AI/Wan2.1-VACE-1.3B-diffusers"]


def test_the_outpainting_workflow_runs_end_to_end_on_a_tiny_model(every_pack, vace, tmp_path):
    from pathlib import Path

    from nodegraph import load_workflow

    graph = load_workflow(Path(__file__).resolve().parents[3] / "resources" / "workflows" /
                          "wan_vace_outpainting.json", every_pack)
    graph.nodes["model"].params.update(source=str(vace), dtype="float32", offload="none")
    graph.nodes["load"].params.update(max_frames=FRAMES)
    graph.nodes["fit"].params.update(width=16, height=32)
    graph.nodes["pad"].params.update(left=8, right=8)
    graph.nodes["sample"].params.update(width=SIZE, height=SIZE, steps=1)
    result = Scheduler(every_pack, output_dir=tmp_path).run(graph, ["decode", "pad"]).raise_for_status()
    made = result.outputs["decode"]["video"].to_array()
    assert made.shape == (FRAMES, SIZE, SIZE, 3)  # 16 wide, padded by 8 each side: the size sampled
    mask = result.outputs["pad"]["mask"].to_array()
    assert (mask[:, :, :8] == 255).all() and (mask[:, :, 8:24] == 0).all()


def test_a_vace_file_in_the_original_layout_is_vace_and_steers_as_the_folder_does(registry, vace, tmp_path,
                                                                                 monkeypatch):
    """wan2.1_vace_*.safetensors as ComfyUI users have it: the original release's names, VACE blocks included. It
    is told from a plain Wan file by its VACE blocks, takes its configs from the VACE repo and takes a control
    video as the folder does."""
    import re

    import huggingface_hub.constants as hf_constants
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers
    from model_files import fake_hub_cache, folder_weights
    from safetensors.torch import save_file
    from test_behaviour import _wan_original_checkpoint

    from nodes.diffusion.files import reference_of

    weights = folder_weights(vace, "transformer")
    named = {re.sub(r"^(vace_blocks\.\d+\.)proj_(in|out)\.", lambda m: m[1] + ("before_proj." if m[2] == "in" else
                                                                                 "after_proj."), k): v
             for k, v in weights.items()}
    original = _wan_original_checkpoint(named)
    assert set(convert_wan_transformer_to_diffusers(dict(original))) == set(weights)  # diffusers reads it back
    path = tmp_path / "wan2.1_vace_tiny_fp16.safetensors"
    save_file(original, str(path))

    reference = reference_of(str(path))
    assert reference is not None and (reference.family, reference.repo) == (
        "wan_vace", "Wan-AI/Wan2.1-VACE-14B-diffusers")  # the tiny model's width is neither 1.3B's nor 14B's
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(fake_hub_cache(tmp_path / "hub", reference.repo, vace)))
    control = moving_texture(FRAMES, SIZE, SIZE, seed=4)
    from_folder, _ = graph_frames(registry, vace, tmp_path / "a", control=control)
    graph = pipeline_graph({"source": str(path), "text_encoder": str(vace / "text_encoder"),
                            "vae": str(vace / "vae")}, dict(SAMPLE))
    add_video_source(registry, graph, "control_file", control, "sample", "control")
    result = Scheduler(registry, output_dir=tmp_path / "b").run(graph, ["decode"]).raise_for_status()
    assert max_level_diff(result.outputs["decode"]["video"].to_array(), from_folder) <= 1
