"""An imported ComfyUI Wan 2.1 text-to-video workflow, its models replaced by tiny random ones through the models
folder, gives the frames of the same graph built by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers import run_frames
from test_model_files import wan_files  # noqa: F401 (fixture: ComfyUI's split Wan files)

from nodegraph import Graph, Link, NodeInstance, Scheduler, models_dir
from nodegraph.workflow import parse_workflow

WORKFLOW = Path(__file__).parents[2] / "comfy_workflows" / "workflows" / "wan21_t2v_tiny.json"


def test_imported_wan_workflow_gives_the_hand_built_graphs_frames(registry, wan_files, tmp_path,  # noqa: F811
                                                                  monkeypatch):
    from comfy_workflows import import_file

    monkeypatch.delenv(models_dir.ENV, raising=False)
    models = tmp_path / "ComfyUI" / "models"
    names = {"diffusion_models": ("wan2.1_t2v_1.3B_fp16.safetensors", "denoiser"),
             "text_encoders": ("umt5_xxl_fp8_e4m3fn_scaled.safetensors", "text_encoder"),
             "vae": ("wan_2.1_vae.safetensors", "vae")}
    for kind, (name, key) in names.items():
        (models / kind).mkdir(parents=True)
        (models / kind / name).symlink_to(wan_files[key])
    models_dir.set_models_dirs([models])
    try:
        result = import_file(WORKFLOW)
        imported = parse_workflow(result.workflow, registry, base_dir=tmp_path)
        loads = [n for n in imported.nodes.values() if n.type == "model.load"]
        assert len(loads) == 1 and loads[0].params["source"] == names["diffusion_models"][0]
        loads[0].params.update(config=str(wan_files["folder"]), dtype="float32")  # as --set would
        decode = next(n.id for n in imported.nodes.values() if n.type == "latent.decode")
        scheduler = Scheduler(registry, output_dir=tmp_path / "out")
        frames = run_frames(scheduler, imported, decode)

        hand = Graph("by hand", tmp_path)
        hand.add_node(NodeInstance("model", "model.load", {
            "source": names["diffusion_models"][0], "config": str(wan_files["folder"]), "family": "wan",
            "dtype": "float32", "text_encoder": names["text_encoders"][0], "vae": names["vae"][0]}))
        hand.add_node(NodeInstance("encode", "text.encode", {"prompt": "a red fox trots through fresh snow",
                                                             "negative_prompt": "blurry, low quality"}))
        hand.add_node(NodeInstance("sample", "diffusion.sample", {
            "width": 32, "height": 32, "frames": 5, "steps": 2, "guidance": 5.0, "seed": 7, "shift": 3.0,
            "scheduler": "unipc"}))
        hand.add_node(NodeInstance("decode", "latent.decode", {"fps": 16.0}))
        for link in (Link("model", "model", "encode", "model"), Link("model", "model", "sample", "model"),
                     Link("encode", "conditioning", "sample", "conditioning"),
                     Link("model", "model", "decode", "model"), Link("sample", "latent", "decode", "latent")):
            hand.connect(link)
        expected = run_frames(Scheduler(registry, output_dir=tmp_path / "out2"), hand)
    finally:
        models_dir.set_models_dirs([])
    assert frames.shape == expected.shape == (5, 32, 32, 3)
    assert np.array_equal(frames, expected)
    assert frames.std() > 0  # real frames, not a blank clip
