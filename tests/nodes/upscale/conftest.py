"""Fixtures for the upscale pack: tiny random upscale models built from spandrel's own architecture classes,
saved as a user's model files are, and loaded back through upscale.load."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import pytest  # noqa: E402
import tiny_upscalers  # noqa: E402


@pytest.fixture(scope="session")
def upscaler_file(tmp_path_factory):
    """upscaler_file(kind="esrgan", suffix=".safetensors") -> path of a saved tiny model (built once)."""
    folder = tmp_path_factory.mktemp("upscale_models")
    return lambda kind="esrgan", suffix=".safetensors": tiny_upscalers.save(kind, folder, suffix)
