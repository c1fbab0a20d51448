"""Fetching models: what a download asks the hub for, and finding cached ids (no network: the hub is stubbed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.utils import EntryNotFoundError

from nodegraph.errors import MissingModelError
from nodes.diffusion import catalog, loading
from nodes.diffusion.loading import hub_unreachable


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A stand-in hub: records snapshot_download's arguments; `pipelines` lists ids with a model_index.json;
    `fail`, when set, is what every request raises."""
    calls = {"snapshot": [], "pipelines": set(), "fail": None}

    def hf_hub_download(repo_id, filename, **_):
        if calls["fail"] is not None:
            raise calls["fail"]
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
    monkeypatch.setattr(loading, "hub_unreachable", lambda: None)
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


def _hub_error(cls, message):
    response = SimpleNamespace(headers={}, request=None, status_code=401)
    return cls(message, response=response)


@pytest.mark.parametrize(("error", "advice"), [
    (lambda: LocalEntryNotFoundError("An error happened while trying to locate the files on the Hub, and we "
                                     "cannot find the appropriate snapshot folder.\nPlease check your internet "
                                     "connection and try again."), "could not be reached"),
    (lambda: _hub_error(GatedRepoError, "401 Client Error.\n\nCannot access gated repo for url https://x.\n"
                        "Access to model a/b is restricted."), "hf auth login"),
    (lambda: _hub_error(RepositoryNotFoundError, "404 Client Error.\n\nRepository Not Found for url https://x."),
     "check the id"),
    (lambda: RuntimeError("disk full\nwhile writing a blob"), "RuntimeError: disk full"),
], ids=["unreachable", "gated", "not-found", "other"])
def test_a_failed_download_is_one_line_with_what_to_do(hub, error, advice):
    hub["fail"] = error()
    with pytest.raises(MissingModelError) as caught:
        loading.fetch_folder("someone/video-model", None)
    message = str(caught.value)
    assert "\n" not in message
    assert advice in message and "fetch it with: hf download someone/video-model" in message
    assert hub["snapshot"] == []  # an unreachable hub is not asked a second time for the whole repo


def test_an_unreachable_hub_fails_at_once_without_the_hub_clients_retries(hub, monkeypatch):
    import httpx

    asked = []

    def head(url, **kwargs):
        asked.append((url, kwargs["timeout"]))
        raise httpx.ConnectError("[Errno -2] Name or service not known")

    monkeypatch.setattr(httpx, "head", head)
    monkeypatch.setattr(loading, "hub_unreachable", hub_unreachable)
    hub["fail"] = AssertionError("the hub client was asked")
    with pytest.raises(MissingModelError) as caught:
        loading.fetch_folder("someone/video-model", None)
    assert "could not be reached ([Errno -2] Name or service not known)" in str(caught.value)
    assert "\n" not in str(caught.value) and hub["snapshot"] == []
    assert asked == [(huggingface_hub.constants.ENDPOINT, loading.HUB_PROBE_TIMEOUT_S)]


def test_a_hub_that_answers_at_all_counts_as_reachable(monkeypatch):
    import httpx

    monkeypatch.setattr(httpx, "head", lambda url, **kwargs: httpx.Response(503))
    assert hub_unreachable() is None
