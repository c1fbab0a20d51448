"""Video diffusion nodes on diffusers: load a model, encode a prompt, sample, decode, save latents.

Family-specific knowledge (pipeline classes, latent layout, sizes, frame rates) lives in
`families/`; the nodes here stay generic. torch and diffusers are imported inside functions.
"""

from __future__ import annotations

from .conditioning import TextEncode
from .decoding import LatentDecode
from .latents import LatentLoad, LatentSave
from .loading import ModelLoad
from .lora import ModelLora
from .sampling import DiffusionSample

NODES = (ModelLoad, ModelLora, TextEncode, DiffusionSample, LatentDecode, LatentSave, LatentLoad)


def register(registry) -> None:
    registry.register_all(NODES)
