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
