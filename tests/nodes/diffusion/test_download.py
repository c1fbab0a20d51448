"""Fetching models: what a download asks the hub for, and finding cached ids (no network: the hub is stubbed)."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub.utils import EntryNotFoundError

from nodes.diffusion import catalog, loading


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A stand-in hub: records snapshot_download's arguments; `pipelines` lists ids with a model_index.json."""
    calls = {"snapshot": [], "pipelines": set()}

    def hf_hub_download(repo_id, filename, **_):
        if filename == "model_index.json" and repo_id in calls["pipelines"]:
            return str(tmp_path / "model_index.json")
        raise EntryNotFoundError(f"{filename} not in {repo_id}")

    def snapshot_download(repo_id, **kwargs):
        calls["snapshot"].append((repo_id, kwargs))
        return str(tmp_path / repo_id.replace("/", "--"))

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hf_hub_download)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(catalog, "cached_snapshot", lambda model_id: None)
    return calls


def test_a_pipeline_download_skips_the_top_level_checkpoints(hub):
    hub["pipelines"].add("Lightricks/LTX-Video")
    folder = loading.fetch_folder("Lightricks/LTX-Video", None)
    ((repo, kwargs),) = hub["snapshot"]
    assert repo == "Lightricks/LTX-Video" and folder.name == "Lightricks--LTX-Video"
    assert kwargs["allow_patterns"] == ["model_index.json", "*/*"]  # component folders, not root *.safetensors
    assert "*.msgpack" in kwargs["ignore_patterns"] and "*.onnx" in kwargs["ignore_patterns"]


def test_a_single_component_repo_downloads_its_top_level_files(hub):
    loading.fetch_folder("guoyww/animatediff-motion-adapter-v1-5-2", None, pipeline=False)
    ((_, kwargs),) = hub["snapshot"]
    assert "allow_patterns" not in kwargs


def test_a_cached_motion_adapter_is_found_by_its_config(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    snapshot = cache / "models--someone--motion-adapter" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (cache / "models--someone--motion-adapter" / "refs").mkdir()
    (cache / "models--someone--motion-adapter" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.file_download.HF_HUB_CACHE", str(cache), raising=False)
    found = catalog.cached_snapshot("someone/motion-adapter")
    assert found is not None and Path(found).resolve() == snapshot.resolve()
