"""Mapping ComfyUI's model side: loaders, LoRAs and sampling patches -> model.load (with its text encoder, VAE and
image encoder files) and model.lora; the model-sampling shift goes to the sampler."""

from __future__ import annotations

from dataclasses import dataclass

from .comfy_graph import CNode
from .mapper import Mapper, as_float, as_text
from .releases import CLIP_TYPES, family_of, release_of

LOADERS = {"UNETLoader": "unet_name", "UnetLoaderGGUF": "unet_name", "CheckpointLoaderSimple": "ckpt_name",
           "ImageOnlyCheckpointLoader": "ckpt_name"}
DTYPES = {"default": "auto", "fp8_e4m3fn": "float8_e4m3fn", "fp8_e4m3fn_fast": "float8_e4m3fn"}
LORAS = ("LoraLoaderModelOnly", "LoraLoader")


@dataclass
class ModelRef:
    ref: str  # "kid.model" the sampler takes
    load: str  # the model.load node
    shift: CNode | None = None  # the ModelSamplingSD3 whose shift the sampler takes


def model_chain(m: Mapper, src: CNode, slot: int) -> ModelRef:
    return m.memoized(("model", src.id, slot), lambda: _model_chain(m, src, slot))


def _model_chain(m: Mapper, src: CNode, slot: int) -> ModelRef:
    if src.type in LOADERS and slot == 0:
        load = model_load(m, src)
        return ModelRef(f"{load}.model", load)
    if src.type == "ModelSamplingSD3":
        inner = model_chain(m, *m.need(src, "model"))
        if src.mode == "bypass":
            m.mark(src, inner.load)
            m.approx(src, "bypassed in ComfyUI: the model's own shift is kept")
            return inner
        return ModelRef(inner.ref, inner.load, src)
    if src.type in ("ModelSamplingLTXV", "VideoLinearCFGGuidance"):
        inner = model_chain(m, *m.need(src, "model"))
        m.mark(src, inner.load)
        what = ("max_shift/base_shift: LTX-Video's own shift schedule is used" if src.type == "ModelSamplingLTXV"
                else "min_cfg: the guidance stays constant over the frames")
        m.approx(src, what)
        return inner
    if src.type in LORAS and slot == 0:
        inner = model_chain(m, *m.need(src, "model"))
        kid = m.add("lora", "model.lora", src)
        m.param(kid, "source", src, "lora_name", as_text)
        m.param(kid, "strength", src, "strength_model", as_float)
        if src.type == "LoraLoader" and src.widgets.get("strength_clip", 0) not in (0, 0.0):
            m.approx(src, f"strength_clip {src.widgets.get('strength_clip')}: the LoRA is applied to the denoiser "
                          "only, not the text encoder")
        m.link(inner.ref, f"{kid}.model")
        return ModelRef(f"{kid}.model", inner.load, inner.shift)
    raise m.refuse(src, "no Kinograph counterpart for this model node")


def model_load(m: Mapper, loader: CNode) -> str:
    def make() -> str:
        kid = m.add("model", "model.load", loader)
        name = m.param(kid, "source", loader, LOADERS[loader.type], as_text)
        params = m.nodes[kid]["params"]
        dtype = str(loader.widgets.get("weight_dtype", "default"))
        params["dtype"] = DTYPES.get(dtype, "auto")
        if dtype not in DTYPES:
            m.approx(loader, f"weight_dtype {dtype!r}: loaded as auto (Kinograph stores fp8 as e4m3fn only)")
        family = "svd" if loader.type == "ImageOnlyCheckpointLoader" else family_of(name)
        if family:
            params["family"] = family
        note_release(m, name)
        return kid

    return m.memoized(("load", loader.id), make)


def note_release(m: Mapper, name: str) -> None:
    repo = release_of(name)
    if repo:
        m.memo.setdefault("releases", {})[name] = repo


def set_component(m: Mapper, load: str, part: str, node: CNode, name: str) -> None:
    params = m.nodes[load]["params"]
    current = params.get(part)
    if current and current != name:
        m.approx(node, f"{part} {name!r} not used: {load} already takes {current!r} (one per model)")
        m.mark(node, load)
        return
    m.param(load, part, node, {"text_encoder": "clip_name", "vae": "vae_name", "image_encoder": "clip_name"}[part],
            as_text)
    m.mark(node, load)
    note_release(m, name)


def text_encoder(m: Mapper, load: str, src: CNode, slot: int) -> None:
    """The CLIP a text encoder node takes: its file goes to model.load's text_encoder."""
    if src.type in ("CLIPLoader", "CLIPLoaderGGUF"):
        set_component(m, load, "text_encoder", src, str(src.widgets.get("clip_name", "")))
        family = CLIP_TYPES.get(str(src.widgets.get("type", "")))
        params = m.nodes[load]["params"]
        if family and "family" not in params:
            params["family"] = family
    elif src.type in ("CheckpointLoaderSimple",) and slot == 1:
        m.mark(src, load)
    elif src.type == "LoraLoader" and slot == 1:
        m.mark(src, m.where.get(src.id, load))
        text_encoder(m, load, *m.need(src, "clip"))
    else:
        raise m.refuse(src, "no Kinograph counterpart for this text encoder node")


def vae(m: Mapper, load: str, src: CNode, slot: int) -> None:
    if src.type == "VAELoader":
        set_component(m, load, "vae", src, str(src.widgets.get("vae_name", "")))
    elif src.type in ("CheckpointLoaderSimple", "ImageOnlyCheckpointLoader") and slot == 2:
        m.mark(src, m.where.get(src.id, load))
    else:
        raise m.refuse(src, "no Kinograph counterpart for this VAE node")


def image_encoder(m: Mapper, load: str, src: CNode, slot: int) -> None:
    """CLIPVisionEncode(CLIPVisionLoader) -> model.load's image_encoder."""
    if src.type == "CLIPVisionEncode":
        m.mark(src, load)
        image_encoder(m, load, *m.need(src, "clip_vision"))
    elif src.type == "CLIPVisionLoader":
        set_component(m, load, "image_encoder", src, str(src.widgets.get("clip_name", "")))
    elif src.type == "ImageOnlyCheckpointLoader" and slot == 1:
        m.mark(src, m.where.get(src.id, load))
    else:
        raise m.refuse(src, "no Kinograph counterpart for this image encoder node")


def low_noise_chain(m: Mapper, src: CNode, slot: int, high: ModelRef, sample: str) -> None:
    """The low-noise half of a Wan 2.2 high/low pair: Kinograph loads the second expert from the config's
    transformer_2, so its nodes are noted, not built."""
    seen = 0
    while src is not None and seen < 64:
        seen += 1
        if src.type in LOADERS:
            m.mark(src, high.load)
            m.approx(src, "the low-noise expert is read from the Wan 2.2 A14B Diffusers config's transformer_2 "
                          f"(set {high.load}.config), not from this file")
            note_release(m, str(src.widgets.get(LOADERS[src.type], "")))
            return
        if src.type in LORAS:
            m.mark(src, high.load)
            m.approx(src, "a LoRA on the low-noise expert alone is not applied (model.lora applies one LoRA to "
                          "both experts)")
        elif src.type == "ModelSamplingSD3":
            m.mark(src, sample)
            if high.shift is not None and src.widgets.get("shift") != high.shift.widgets.get("shift"):
                m.approx(src, f"shift {src.widgets.get('shift')} of the low-noise expert: one shift for both")
        elif src.type in ("ModelSamplingLTXV", "VideoLinearCFGGuidance"):
            m.mark(src, sample)
        else:
            raise m.refuse(src, "no Kinograph counterpart for this model node")
        feed = m.source(src, "model")
        src, slot = feed if feed else (None, 0)
