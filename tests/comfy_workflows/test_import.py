"""kinograph import: ComfyUI's UI and API formats mapped onto Kinograph's nodes."""

from __future__ import annotations

import pytest

from comfy_workflows import UnmappedNodesError, import_data, import_file
from nodegraph.workflow import parse_workflow

from .conftest import WORKFLOWS, load


def by_type(workflow: dict, type_id: str) -> list[dict]:
    return [n for n in workflow["nodes"] if n["type"] == type_id]


def links(workflow: dict) -> set[tuple[str, str]]:
    return {(lk["from"], lk["to"]) for lk in workflow["links"]}


def test_wan_text_to_video_maps_to_five_nodes_with_positions_titles_groups_and_notes(registry):
    result = import_file(WORKFLOWS / "wan21_t2v.json")
    wf = result.workflow
    graph = parse_workflow(wf, registry)  # loads as a Kinograph workflow
    assert sorted(n.type for n in graph.nodes.values()) == ["diffusion.sample", "latent.decode", "model.load",
                                                           "text.encode", "video.save"]
    [load_] = by_type(wf, "model.load")
    assert load_["params"] == {"source": "wan2.1_t2v_1.3B_fp16.safetensors", "dtype": "auto", "family": "wan",
                               "text_encoder": "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
                               "vae": "wan_2.1_vae.safetensors"}
    [sample] = by_type(wf, "diffusion.sample")
    assert sample["params"] == {"shift": 8.0, "seed": 42, "steps": 30, "guidance": 6.0, "scheduler": "unipc",
                                "width": 832, "height": 480, "frames": 33}
    [encode] = by_type(wf, "text.encode")
    assert encode["params"] == {"prompt": "a red fox trots through fresh snow",
                                "negative_prompt": "blurry, low quality"}
    assert encode["title"] == "Positive Prompt" and encode["ui"] == {"x": 420.0, "y": 180.0}
    [decode] = by_type(wf, "latent.decode")
    assert decode["params"]["fps"] == 16.0  # CreateVideo's frame rate
    [save] = by_type(wf, "video.save")
    assert save["params"] == {"codec": "h264", "filename": "video/ComfyUI.mp4"}
    assert links(wf) == {("model_37.model", "encode_6.model"), ("model_37.model", "sample_3.model"),
                         ("encode_6.conditioning", "sample_3.conditioning"), ("model_37.model", "decode_8.model"),
                         ("sample_3.latent", "decode_8.latent"), ("decode_8.video", "save_50.video")}
    assert wf["groups"] == [{"title": "Models", "nodes": ["model_37"], "ui": {"x": 0.0, "y": 0.0, "w": 380.0,
                                                                                   "h": 480.0}}]
    assert wf["notes"][0]["text"] == "Wan 2.1 text to video, 1.3B."
    assert wf["meta"]["model_releases"]["wan2.1_t2v_1.3B_fp16.safetensors"] == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    # the seed's hidden "control after generate" value was read (and said to be dropped), not taken as steps
    assert any("'randomize'" in what for _, what in result.report.approximated)
    assert not result.report.dropped


def test_reroutes_primitives_folded_math_bypass_and_mute():
    result = import_file(WORKFLOWS / "wan21_t2v_features.json")
    wf = result.workflow
    [sample] = by_type(wf, "diffusion.sample")
    assert sample["params"]["steps"] == 25  # switch(True) -> on_true -> 10 * 2 + 5
    assert sample["params"]["seed"] == 1234
    [value] = by_type(wf, "value.int")
    assert value["params"] == {"value": 1234} and value["title"] == "Seed"
    assert (f"{value['id']}.value", f"{sample['id']}.seed") in links(wf)
    [lora] = by_type(wf, "model.lora")
    assert lora["mode"] == "bypass" and lora["title"] == "Style LoRA"
    assert ("model_37.model", f"{lora['id']}.model") in links(wf)  # the reroutes are spliced out
    assert (f"{lora['id']}.model", f"{sample['id']}.model") in links(wf)
    muted = [n for n in by_type(wf, "video.save") if n.get("mode") == "mute"]
    assert [n["params"]["filename"] for n in muted] == ["video/muted.mp4"]
    assert [n["text"] for n in wf["notes"]] == ["Wan 2.1 text to video, 1.3B.", "# Read me\nThe seed is a primitive."]
    dropped = dict(result.report.dropped)
    assert dropped["70 Reroute"] == dropped["71 Reroute"] == "reroute spliced out"
    assert dropped["80 SomeoneElsesNode"] == "muted and not needed by any output"
    folded = {c: k for c, k in result.report.mapped if k.startswith("folded")}
    assert folded["75 SimpleMath+"] == "folded: 'a * 2 + 5' folded to 25"
    assert "74 PrimitiveInt" in folded and dropped["77 PrimitiveInt"] == "not needed by any output"  # unused branch
    assert not any("'randomize'" in what for _, what in result.report.approximated)  # the seed comes from a primitive


def test_nested_comfyui_subgraphs_become_kinograph_subgraphs_with_the_promoted_widget(registry):
    from nodegraph.flatten import flatten

    result = import_file(WORKFLOWS / "wan21_t2v_nested_subgraphs.json")
    wf = result.workflow
    assert {n["id"]: n["type"] for n in wf["nodes"]} == {
        "model_37": "model.load", "Sampling_90": "subgraph:Sampling", "decode_8": "latent.decode",
        "save_50": "video.save"}
    sampling = wf["subgraphs"]["Sampling"]
    inner = {n["id"]: n for n in sampling["nodes"]}
    assert inner["sample_90_12"]["params"]["steps"] == 12  # the instance's promoted widget, not the inner 20
    assert inner["Prompts_90_10"]["type"] == "subgraph:Prompts"  # the nested one, inside
    assert sampling["params"] == [{"name": "steps", "to": ["sample_90_12.steps"]}]  # promoted here too
    assert [n["id"] for n in wf["subgraphs"]["Prompts"]["nodes"]] == ["encode_90_10_1"]
    assert ("90 subgraph 'Sampling'", "subgraph Sampling (instance Sampling_90)") in result.report.mapped
    graph = flatten(parse_workflow(wf, registry), registry)  # runs as the inlined graph would
    sample = graph.nodes["Sampling_90/sample_90_12"]
    assert (sample.params["width"], sample.params["height"], sample.params["frames"]) == (480, 272, 17)
    assert graph.nodes["Sampling_90/Prompts_90_10/encode_90_10_1"].params["prompt"] == (
        "a red fox trots through fresh snow")
    assert {(lk.from_ref, lk.to_ref) for lk in graph.links} >= {
        ("model_37.model", "Sampling_90/sample_90_12.model"), ("Sampling_90/sample_90_12.latent", "decode_8.latent")}


def test_a_high_low_ksampler_pair_becomes_one_sampler_with_the_expert_switch_step():
    result = import_file(WORKFLOWS / "wan22_i2v_high_low.json")
    wf = result.workflow
    [sample] = by_type(wf, "diffusion.sample")
    assert sample["params"]["low_noise_from_step"] == 10 and sample["params"]["steps"] == 20
    assert sample["params"]["seed"] == 77 and sample["params"]["shift"] == 8.0
    [load_] = by_type(wf, "model.load")
    assert load_["params"]["source"] == "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"
    assert load_["params"]["config"] == "Wan-AI/Wan2.2-I2V-A14B-Diffusers"  # its transformer_2 is the low expert
    assert load_["params"]["dtype"] == "float8_e4m3fn"
    [image] = by_type(wf, "image.load")
    assert image["params"] == {"path": "fox.png"}
    assert (f"{image['id']}.image", f"{sample['id']}.image") in links(wf)
    assert any("low-noise expert" in what for _, what in result.report.approximated)


def test_api_format_covers_ltx_svd_wan_flf_gguf_v2v_and_the_savers(registry):
    result = import_file(WORKFLOWS / "many_nodes_api.json")
    wf = result.workflow
    parse_workflow(wf, registry)
    nodes = {n["id"]: n for n in wf["nodes"]}
    assert nodes["model_1"]["params"]["family"] == "ltx"
    assert nodes["lora_3"]["params"] == {"source": "ltx_detail.safetensors", "strength": 0.7}
    assert nodes["sample_12"]["params"]["guidance"] == 3.0 and ("value_11.value", "sample_12.guidance") in links(wf)
    assert nodes["decode_13"]["params"]["tiling"] == "on"
    assert nodes["resize_16"]["params"] == {"method": "area", "scale": 0.5}
    assert nodes["save_17"]["params"] == {"codec": "vp9", "filename": "ltx/boat.webm", "crf": 30}
    assert nodes["decode_13"]["params"]["fps"] == 25.0  # SaveWEBM's fps, through the resize and upscale
    flf = nodes["sample_33"]["params"]
    assert flf["frames"] == 81 and flf["scheduler"] == "dpm++ 2m"  # length = 20 * 4 + 1, folded
    assert {("image_24.image", "sample_33.image"), ("image_25.image", "sample_33.last_image")} <= links(wf)
    assert nodes["model_20"]["params"]["image_encoder"] == "clip_vision_h.safetensors"
    assert nodes["encode_28"]["params"] == {"prompt": "a flower opens", "negative_prompt": ""}
    assert nodes["model_40"]["params"]["family"] == "svd"
    assert nodes["sample_63"]["params"]["strength"] == 0.6 and ("video_60.video", "sample_63.video") in links(wf)
    assert nodes["frames_65"]["type"] == "video.save_frames"
    assert nodes["video_66"]["params"] == {"path": "/clips/in.mp4", "start_frame": 4, "max_frames": 48}
    assert nodes["save_58"]["params"]["filename"] == "ti2v.mp4" and nodes["decode_57"]["params"]["fps"] == 24.0
    assert nodes["preview_18"]["type"] == "video.preview"
    # sound: a sound file, a loaded video's sound through CreateVideo, and a loaded video saved as it is
    assert nodes["audio_90"]["params"] == {"path": "music.wav"} and ("audio_90.audio", "save_76.audio") in links(wf)
    assert ("video_66.audio", "save_68.audio") in links(wf) and ("video_60.audio", "save_91.audio") in links(wf)


def test_nodes_the_outputs_need_without_a_counterpart_are_all_listed_and_nothing_is_mapped():
    with pytest.raises(UnmappedNodesError) as caught:
        import_data(load("unmapped_api.json"), source="unmapped_api.json")
    listed = {(nid, ntype) for nid, ntype, _title, _why in caught.value.nodes}
    assert listed == {("2", "WanVideoSampler"), ("3", "RIFE VFI"), ("6", "Fancy Save"), ("83", "EmptyLatentImage")}
    assert "Kijai sampler" in str(caught.value)


def test_every_node_type_the_table_names_is_mapped_by_some_test_workflow():
    from comfy_workflows.table import known_types

    mapped = set()
    for name in ("wan21_t2v.json", "wan21_t2v_features.json", "wan21_t2v_nested_subgraphs.json",
                 "wan22_i2v_high_low.json", "many_nodes_api.json"):
        report = import_file(WORKFLOWS / name).report
        mapped |= {label.split(" ")[1] for label, _ in report.mapped if " " in label}
    unmapped_in_tests = set(known_types()) - mapped - {"EmptyLatentImage"}  # refused by design
    assert not unmapped_in_tests


def test_promoted_widgets_as_the_newer_frontend_saves_them_keep_the_inner_values():
    """The newer frontend lists promoted widgets in the instance's proxyWidgets and keeps their values on the inner
    nodes (the instance's widgets_values is empty)."""
    data = load("wan21_t2v_nested_subgraphs.json")
    instance = next(n for n in data["nodes"] if n["id"] == 90)
    instance["widgets_values"] = []
    instance["properties"]["proxyWidgets"] = [["12", "steps"], ["12", "control_after_generate"]]
    wf = import_data(data).workflow
    sampling = wf["subgraphs"]["Sampling"]
    assert next(n for n in sampling["nodes"] if n["id"] == "sample_90_12")["params"]["steps"] == 20
    assert sampling["params"] == [{"name": "steps", "to": ["sample_90_12.steps"]}]


def _with_upscale_subgraph(mode: int, inner_mode: int = 0) -> dict:
    """The nested-subgraph workflow with an "Upscale" subgraph (a model loader and the upscale by it) between the
    decode and the video, its instance in `mode` (4: bypassed), its nodes in `inner_mode`."""
    import copy
    import json

    doc = copy.deepcopy(json.loads((WORKFLOWS / "wan21_t2v_nested_subgraphs.json").read_text()))
    upscale_id = "5b1f0c2e-0000-4000-8000-000000000003"
    doc["definitions"]["subgraphs"].append({
        "id": upscale_id, "name": "Upscale", "version": 1,
        "inputs": [{"id": "in-image", "name": "image", "type": "IMAGE", "linkIds": [301]}],
        "outputs": [{"id": "out-image", "name": "IMAGE", "type": "IMAGE", "linkIds": [303]}],
        "widgets": [], "inputNode": {"id": -10, "bounding": [0, 0, 120, 60]},
        "outputNode": {"id": -20, "bounding": [600, 0, 120, 60]},
        "nodes": [
            {"id": 1, "type": "UpscaleModelLoader", "pos": [100, 0], "mode": inner_mode, "inputs": [],
             "outputs": [{"name": "UPSCALE_MODEL", "type": "UPSCALE_MODEL", "links": [302]}],
             "widgets_values": ["4x-UltraSharp.pth"]},
            {"id": 2, "type": "ImageUpscaleWithModel", "pos": [300, 0], "mode": inner_mode,
             "inputs": [{"name": "upscale_model", "type": "UPSCALE_MODEL", "link": 302},
                        {"name": "image", "type": "IMAGE", "link": 301}],
             "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [303]}]}],
        "links": [{"id": 301, "origin_id": -10, "origin_slot": 0, "target_id": 2, "target_slot": 1, "type": "IMAGE"},
                  {"id": 302, "origin_id": 1, "origin_slot": 0, "target_id": 2, "target_slot": 0,
                   "type": "UPSCALE_MODEL"},
                  {"id": 303, "origin_id": 2, "origin_slot": 0, "target_id": -20, "target_slot": 0,
                   "type": "IMAGE"}]})
    doc["nodes"].append({"id": 95, "type": upscale_id, "pos": [700, 0], "mode": mode,
                         "inputs": [{"name": "image", "type": "IMAGE", "link": 5}],
                         "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [7]}]})
    create = next(n for n in doc["nodes"] if n["id"] == 49)
    create["inputs"][0]["link"] = 7
    doc["links"] = [[5, 8, 0, 95, 0, "IMAGE"] if lk[0] == 5 else lk for lk in doc["links"]] + [
        [7, 95, 0, 49, 0, "IMAGE"]]
    return doc


def test_a_bypassed_comfyui_subgraph_is_a_bypassed_kinograph_instance_whose_nodes_keep_their_modes(registry):
    from nodegraph.flatten import flatten
    from nodegraph.validate import find_issues

    running = import_data(_with_upscale_subgraph(0)).workflow
    [instance] = [n for n in running["nodes"] if n["type"] == "subgraph:Upscale"]
    assert instance.get("mode", "normal") == "normal"

    result = import_data(_with_upscale_subgraph(4))
    wf = result.workflow
    [instance] = [n for n in wf["nodes"] if n["type"] == "subgraph:Upscale"]
    assert instance["mode"] == "bypass"  # as ComfyUI bypasses a subgraph node: as a whole
    assert all(n.get("mode", "normal") == "normal" for n in wf["subgraphs"]["Upscale"]["nodes"])
    graph = parse_workflow(wf, registry)
    about_it = [issue for issue in find_issues(graph, registry)  # (model files are not on this machine)
                if "bypass" in issue.message or (issue.node_id or "").startswith(instance["id"])]
    assert about_it == []  # before: "cannot bypass" on the loader inside, which has no input to pass on
    flat = flatten(graph, registry)
    [decode] = [n for n in flat.nodes.values() if n.type == "latent.decode"]
    [save] = [n for n in flat.nodes.values() if n.type == "video.save"]
    assert (f"{decode.id}.video", f"{save.id}.video") in {(lk.from_ref, lk.to_ref) for lk in flat.links}

    # A node bypassed on its own inside a bypassed subgraph stays bypassed when the subgraph is switched on.
    wf = import_data(_with_upscale_subgraph(4, inner_mode=4)).workflow
    assert {n.get("mode", "normal") for n in wf["subgraphs"]["Upscale"]["nodes"]} == {"bypass"}
