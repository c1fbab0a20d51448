"""Prompt alignment: how well each frame of a clip matches a text, scored by a CLIP-family model (CLIP or
SigLIP through transformers): the cosine of the text's and the frame's embeddings, per sampled frame."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nodegraph.api import Metrics, MissingModelError, UsageError, parameter_nbytes

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
DEFAULT_SAMPLES = 16
MODEL_SETTING = "KINOGRAPH_ALIGNMENT_MODEL"  # the model `kinograph run`'s alignment check and `eval --prompt` use


def default_model() -> str:
    """The alignment model by default: $KINOGRAPH_ALIGNMENT_MODEL (a folder or an id), else DEFAULT_MODEL."""
    return os.environ.get(MODEL_SETTING, "").strip() or DEFAULT_MODEL


@dataclass
class Scorer:
    """A loaded text–image model and its processor."""

    model: Any
    processor: Any
    source: str

    def resource_nbytes(self) -> int:
        return parameter_nbytes(self.model)

    def text_embedding(self, text: str):
        import torch

        inputs = self.processor(text=[text], return_tensors="pt", padding="max_length" if self._siglip else True,
                                truncation=True)
        with torch.inference_mode():
            features = self.model.get_text_features(**inputs)
        return _normalised(features)

    def image_embeddings(self, frames: list[np.ndarray]):
        import torch

        inputs = self.processor(images=list(frames), return_tensors="pt")
        with torch.inference_mode():
            features = self.model.get_image_features(**inputs)
        return _normalised(features)

    @property
    def _siglip(self) -> bool:
        return "siglip" in type(self.model).__name__.lower()


def _normalised(features):
    features = getattr(features, "pooler_output", features)  # some releases return an output object
    return features / features.norm(dim=-1, keepdim=True)


def load_scorer(source: str) -> Scorer:
    """A CLIP or SigLIP model from a folder or a Hugging Face id (the first use of an id downloads it, unless
    HF_HUB_OFFLINE is set). One clear line when it is not there or is no such model."""
    from transformers import AutoModel, AutoProcessor

    try:
        model = AutoModel.from_pretrained(source).eval()
        processor = AutoProcessor.from_pretrained(source)
    except OSError as exc:
        raise MissingModelError(f"alignment model {source!r} could not be loaded ({str(exc).splitlines()[0]}); "
                                f"give a CLIP or SigLIP folder or id, e.g. {DEFAULT_MODEL}, or fetch it with: "
                                f"hf download {source}") from None
    if not (hasattr(model, "get_text_features") and hasattr(model, "get_image_features")):
        raise UsageError(f"{source!r} is a {type(model).__name__}, not a text–image model; give a CLIP or SigLIP "
                         f"model such as {DEFAULT_MODEL}")
    return Scorer(model, processor, source)


def sample_indices(frame_count: int, samples: int) -> list[int]:
    """Up to `samples` frame indices spread evenly over the clip, first and last included."""
    if frame_count <= samples:
        return list(range(frame_count))
    return sorted({round(i * (frame_count - 1) / (samples - 1)) for i in range(samples)})


def alignment_metrics(scorer: Scorer, text: str, frames: Iterable[np.ndarray], frame_count: int,
                      samples: int = DEFAULT_SAMPLES, progress=None) -> Metrics:
    """METRICS: `alignment` (mean) and `alignment_min` over the sampled frames, their curve and indices."""
    if not text.strip():
        raise UsageError("alignment needs the prompt: give it as text, or connect the conditioning it made")
    wanted = set(sample_indices(frame_count, samples))
    picked, indices = [], []
    for i, frame in enumerate(frames):
        if i in wanted:
            picked.append(np.ascontiguousarray(frame))
            indices.append(i)
            if progress is not None:
                progress(len(picked), len(wanted))
    if not picked:
        raise UsageError("the clip has no frames to score")
    text_vec = scorer.text_embedding(text)
    scores = []
    for start in range(0, len(picked), 8):
        scores += (scorer.image_embeddings(picked[start:start + 8]) @ text_vec.T)[:, 0].tolist()
    from .analysis import measured

    summary = {"alignment": float(np.mean(scores)), "alignment_min": float(np.min(scores)), "frames": len(scores)}
    return measured(summary, {"alignment": [float(s) for s in scores]}, frame_indices=indices, prompt=text,
                    model=scorer.source)
