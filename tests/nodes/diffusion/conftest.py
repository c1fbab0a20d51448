"""Fixtures for the diffusion pack: tiny pipelines saved to disk and loaded like a user's models."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402
import tiny_models  # noqa: E402


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny_models")


@pytest.fixture(scope="session")
def tiny_model(tiny_dir):
    """tiny_model(name) -> folder of a saved tiny pipeline (built once per session)."""

    def get(name: str) -> Path:
        return tiny_models.build(name, tiny_dir)

    return get


@pytest.fixture(scope="session")
def registry():
    import nodes
    from nodegraph import NodeRegistry

    reg = NodeRegistry()
    try:
        nodes.register(reg)
    except Exception:  # another pack is mid-edit; the diffusion pack alone is what these tests need
        import nodes.diffusion

        reg = NodeRegistry()
        nodes.diffusion.register(reg)
    return reg
