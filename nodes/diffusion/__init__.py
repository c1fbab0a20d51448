"""Video diffusion nodes on diffusers: load a model, encode a prompt, sample, decode, save latents.

Family-specific knowledge (pipeline classes, latent layout, sizes, frame rates) lives in
`families/`; the nodes here stay generic. torch and diffusers are imported inside functions.
"""

from __future__ import annotations

from .conditioning import TextEncode
from .decoding import LatentDecode
from .keyframes import KeyframeNode
from .latent_upscale import LatentUpscale
from .latents import LatentLoad, LatentSave
from .loading import ModelLoad
from .lora import ModelLora
from .sampling import DiffusionSample

NODES = (ModelLoad, ModelLora, TextEncode, DiffusionSample, LatentDecode, LatentSave, LatentLoad)
NODES += (KeyframeNode, LatentUpscale)  # LTX keyframes and the two-stage path


def register(registry) -> None:
    registry.register_all(NODES)
    registry.services.fetch_plan = _fetch_plan
    registry.services.fetch_model = _fetch_model


def _fetch_plan(model_id: str):
    from .fetching import fetch_plan

    return fetch_plan(model_id)


def _fetch_model(model_id: str, progress=None, cancelled=None):
    from .fetching import fetch_model

    return fetch_model(model_id, progress, cancelled)
