"""Fixtures for the ComfyUI importer: the workflows in ComfyUI's formats kept in workflows/, and the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).parent / "workflows"


def load(name: str):
    return json.loads((WORKFLOWS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def registry():
    from nodegraph.registry import default_registry

    return default_registry()
