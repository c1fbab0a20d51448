"""The workflow ComfyUI embeds in the PNG, WebP and video files it saves is imported from them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from comfy_workflows import ComfyImportError, import_file

from .conftest import load

UI = load("wan21_t2v.json")
API = load("many_nodes_api.json")


def png_with(path, **texts):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(path, pnginfo=info)
    return path


def test_png_text_chunks_carry_the_ui_workflow_before_the_api_prompt(tmp_path):
    path = png_with(tmp_path / "ComfyUI_00001_.png", prompt=json.dumps(API), workflow=json.dumps(UI))
    result = import_file(path)
    assert result.kind == "png" and result.format == "ui"  # the UI workflow, with its layout, wins
    assert any(n["type"] == "diffusion.sample" and n["params"]["seed"] == 42 for n in result.workflow["nodes"])
    only_prompt = import_file(png_with(tmp_path / "api.png", prompt=json.dumps(API)))
    assert only_prompt.format == "api"


def test_webp_exif_fields_carry_the_workflow_as_comfyui_writes_them(tmp_path):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "workflow:" + json.dumps(UI)  # ComfyUI's SaveAnimatedWEBP: Make, then Model for the prompt
    exif[0x0110] = "prompt:" + json.dumps(API)
    path = tmp_path / "ComfyUI_00001_.webp"
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (0, 255)]
    frames[0].save(path, save_all=True, append_images=frames[1:], exif=exif, duration=100)
    result = import_file(path)
    assert result.kind == "webp" and result.format == "ui"
    assert len(result.workflow["nodes"]) == 5


def test_video_metadata_carries_the_workflow(tmp_path):
    import av

    path = tmp_path / "ComfyUI_00001_.mp4"
    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as container:
        container.metadata["workflow"] = json.dumps(UI)
        container.metadata["prompt"] = json.dumps(API)
        stream = container.add_stream("libx264", rate=8)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for value in (0, 255):
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), value, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    result = import_file(path)
    assert result.kind == "video" and result.format == "ui"


def test_an_image_without_a_workflow_says_so(tmp_path):
    with pytest.raises(ComfyImportError, match="carries no ComfyUI workflow"):
        import_file(png_with(tmp_path / "plain.png", Title="a photo"))
