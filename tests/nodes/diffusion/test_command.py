"""`kinograph models` finds the saved tiny models with their family, modes and size."""

from __future__ import annotations

import argparse
import json


def run_command(argv: list[str], capsys) -> tuple[int, str, str]:
    from nodes.diffusion.command import COMMAND

    parser = argparse.ArgumentParser()
    COMMAND.add_arguments(parser)
    code = COMMAND.run(parser.parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_models_lists_families_modes_and_sizes_as_json(tiny_model, tiny_dir, capsys, monkeypatch):
    for name in ("wan", "wan_i2v", "ltx"):
        tiny_model(name)
    monkeypatch.delenv("KINOGRAPH_MODELS", raising=False)
    code, out, _ = run_command(["--path", str(tiny_dir), "--json", "--no-hf-cache"], capsys)
    assert code == 0
    rows = {r["name"].rsplit("/", 1)[-1]: r for r in json.loads(out)}
    assert rows["wan"]["family"] == "wan" and rows["wan"]["modes"] == ["text-to-video", "video-to-video"]
    assert rows["wan_i2v"]["modes"] == ["image-to-video"]
    assert rows["ltx"]["family"] == "ltx"
    assert all(r["size_bytes"] > 1000 for r in rows.values())


def test_models_reads_kinograph_models_and_prints_a_table(tiny_model, tiny_dir, capsys, monkeypatch):
    tiny_model("wan")
    monkeypatch.setenv("KINOGRAPH_MODELS", str(tiny_dir))
    code, out, _ = run_command(["--no-hf-cache"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["MODEL", "FAMILY", "MODES", "SIZE"]
    assert any(line.split()[1] == "wan" and "KB" in line for line in out.splitlines()[1:])


def test_models_rejects_a_missing_folder(tmp_path, capsys):
    code, _, err = run_command(["--path", str(tmp_path / "nope")], capsys)
    assert code == 2 and "is not a folder" in err


def test_models_lists_a_model_in_the_hugging_face_cache_by_its_id(tiny_model, tmp_path, capsys, monkeypatch):
    import os
    import shutil

    import huggingface_hub

    # The cache's own layout: files live once under blobs/, snapshots/<revision>/ links to them.
    repo = tmp_path / "hub" / "models--kino--tiny-wan"
    snapshot = repo / "snapshots" / "0123abcd"
    for source in tiny_model("wan").rglob("*"):
        if source.is_file():
            rel = source.relative_to(tiny_model("wan"))
            blob = repo / "blobs" / f"{abs(hash(str(rel))):x}"
            blob.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, blob)
            (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(blob, (snapshot / rel).parent), snapshot / rel)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("KINOGRAPH_MODELS", raising=False)
    code, out, _ = run_command(["--json"], capsys)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["kino/tiny-wan"]["family"] == "wan" and rows["kino/tiny-wan"]["size_bytes"] > 1000
    # listing the same snapshot folder by path names the folder, not the id it had in the cache listing
    code, out, _ = run_command(["--json", "--no-hf-cache", "--path", str(snapshot.parent)], capsys)
    assert [r["name"] for r in json.loads(out)] == [str(snapshot)]


def test_models_lists_every_kind_of_a_comfyui_models_folder_with_sizes(tmp_path, capsys, monkeypatch):
    from nodegraph import cli, models_dir

    monkeypatch.delenv("KINOGRAPH_MODELS", raising=False)
    files = {  # name in the folder: (kind, name as params take it, size)
        "diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors": ("diffusion_models", "wan2.1_t2v_1.3B_fp16.safetensors",
                                                              3000),
        "unet/wan/wan2.2_q4.gguf": ("diffusion_models", "wan/wan2.2_q4.gguf", 2048),
        "checkpoints/ltxv-2b.safetensors": ("checkpoints", "ltxv-2b.safetensors", 10),
        "text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors": ("text_encoders",
                                                                 "umt5_xxl_fp8_e4m3fn_scaled.safetensors", 11),
        "clip/clip_l.safetensors": ("text_encoders", "clip_l.safetensors", 12),
        "vae/wan_2.1_vae.safetensors": ("vae", "wan_2.1_vae.safetensors", 13),
        "clip_vision/clip_vision_h.safetensors": ("clip_vision", "clip_vision_h.safetensors", 14),
        "loras/lightx2v_4step.safetensors": ("loras", "lightx2v_4step.safetensors", 15),
        "upscale_models/4x-UltraSharp.pth": ("upscale_models", "4x-UltraSharp.pth", 16),
        "animatediff_models/mm_sd_v15_v2.ckpt": ("animatediff_models", "mm_sd_v15_v2.ckpt", 17),
        "diffusers/tiny-wan/model_index.json": ("diffusers", "tiny-wan", 18),  # a pipeline folder: one entry
        "loras/readme.txt": (None, None, 19),  # not a model
    }
    for name, (_, _, size) in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"{" * size)
    expected = {(kind, name, size) for kind, name, size in files.values() if kind}

    code = cli.main(["models", "--models-dir", str(tmp_path), "--no-hf-cache"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and str(tmp_path) in lines[0] and lines[1].split() == ["KIND", "NAME", "SIZE"]
    assert len(lines) == 2 + len(expected) and {line.split()[0] for line in lines[2:]} == set(models_dir.KINDS)
    assert any(line.split() == ["diffusion_models", "wan2.1_t2v_1.3B_fp16.safetensors", "2.9", "KB"]
               for line in lines)
    code = cli.main(["models", "--path", str(tmp_path), "--no-hf-cache", "--json"])  # the old name still works
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and {(r["kind"], r["name"], r["size_bytes"]) for r in rows} == expected
