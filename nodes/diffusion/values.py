"""Values on MODEL, CONDITIONING and LATENT wires."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from nodegraph.api import parameter_nbytes


@dataclass(eq=False)
class LoadedModel:
    """A pipeline in the resource cache, with what the nodes need to drive it."""

    family: str
    pipe: Any
    device: str
    dtype: Any
    configs: dict[str, dict]
    model_index: dict
    modes: tuple[str, ...]
    lock: threading.RLock = field(default_factory=threading.RLock)
    preview_map: Any = None  # (C+1, 3) latent-to-RGB fit, made on first preview
    derived: dict = field(default_factory=dict)  # (mode, scheduler, shift) -> that pipeline over these weights
    mag_ratios: dict = field(default_factory=dict)  # MagCache calibration key -> measured ratios
    adapters: dict = field(default_factory=dict)  # LoRA content digest -> adapter name in pipe, least recent first

    def pipeline(self, adapter, mode: str, scheduler: str, shift: float = 0.0):
        """The pipeline for `mode` with `scheduler` (and flow `shift`, 0 for the model's own) over the loaded
        components, built once and kept."""
        key = (mode, scheduler, float(shift))
        if key not in self.derived:
            self.derived[key] = adapter.pipeline_for(self.pipe, mode, scheduler, shift)
        return self.derived[key]

    def resource_nbytes(self) -> int:
        """What the pipeline's models hold (the resource cache keeps at most two such pipelines)."""
        return parameter_nbytes(*getattr(self.pipe, "components", {}).values()) if self.pipe is not None else 0

    def release(self) -> None:
        self.pipe = None
        self.preview_map = None
        self.derived.clear()
        self.mag_ratios.clear()
        self.adapters.clear()
        try:
            import gc

            import torch

            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass


@dataclass(frozen=True)
class LoraSpec:
    """One LoRA on a MODEL wire: its file, the file's content digest, and how strongly it applies."""

    path: str
    digest: str
    strength: float
    strength_low_noise: float  # Wan 2.2 A14B's second (low-noise) expert
    components: tuple[str, ...] = ()  # the pipeline's parts it changes ("transformer", "text_encoder"), once loaded

    @property
    def changes_text(self) -> bool:
        """Whether it changes what a text encoder makes of a prompt (a kohya file with text-encoder parts)."""
        return any(name.startswith("text_encoder") for name in self.components)

    @property
    def label(self) -> str:
        import os

        return os.path.basename(self.path)


@dataclass(frozen=True, eq=False)
class ModelHandle:
    """What model.load outputs: how to get the loaded pipeline from the resource cache."""

    key: str
    family: str
    source: str
    config: str
    dtype: str
    offload: str
    device: str
    vae_tiling: bool
    motion_adapter: str = ""
    # LoRAs applied on top of the shared base while this handle samples (model.lora); never merged into the base
    loras: tuple[LoraSpec, ...] = ()
    text_encoder: str = ""  # a file, folder or id in place of the model's own (likewise vae, image_encoder)
    vae: str = ""
    image_encoder: str = ""

    def cache_nbytes(self) -> int:
        return 0  # the pipeline lives in the resource cache, not in the output cache

    def acquire(self, ctx) -> LoadedModel:
        """The loaded pipeline, loading it again if the resource cache let it go."""
        from .loading import load_model

        loaded = ctx.resources.get_or_load(self.key, lambda: load_model(self, ctx))
        if loaded.pipe is None:  # released by the cache while this handle was held
            loaded = load_model(self, ctx)
        return loaded

    def __repr__(self) -> str:
        loras = "".join(f" + {lora.label} x{lora.strength:g}" for lora in self.loras)
        return f"ModelHandle({self.family}: {self.source}{loras}, {self.dtype}, {self.device})"


@dataclass(eq=False)
class Conditioning:
    """Prompt embeddings of one family, as keyword arguments its pipelines take."""

    family: str
    embeds: dict[str, Any]
    prompt: str = ""
    negative_prompt: str = ""

    @property
    def nbytes(self) -> int:
        return int(sum(t.numel() * t.element_size() for t in self.embeds.values() if t is not None))

    def __repr__(self) -> str:
        return f"Conditioning({self.family}: {self.prompt[:40]!r})"


@dataclass(eq=False)
class Latent:
    """Sampled latents (B, C, T, H, W) in the family's sampling space, on the CPU, with what decoding needs."""

    family: str
    tensor: Any
    fps: float
    width: int
    height: int
    frames: int
    model_key: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    audio: Any = None  # the sound's latents (B, C, L, mel), for families that make sound (LTX-2)

    @property
    def nbytes(self) -> int:
        sound = 0 if self.audio is None else self.audio.numel() * self.audio.element_size()
        return int(self.tensor.numel() * self.tensor.element_size() + sound)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.tensor.shape)
        return f"Latent({self.family} {shape}, {self.width}x{self.height}, {self.frames} frames)"
