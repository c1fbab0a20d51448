"""Mapping ComfyUI's sampling side: a KSampler (or a KSamplerAdvanced high/low pair), its positive and negative
CLIPTextEncode, and the empty-latent or image-to-video node feeding it -> text.encode + diffusion.sample."""

from __future__ import annotations

from .comfy_graph import CNode
from .mapper import Mapper, as_float, as_int, as_text
from .model_rules import ModelRef, image_encoder, low_noise_chain, model_chain, text_encoder, vae

SAMPLERS = {"euler": "euler", "euler_ancestral": "euler_a", "heun": "heun", "uni_pc": "unipc", "uni_pc_bh2": "unipc",
            "dpmpp_2m": "dpm++ 2m", "dpmpp_2m_sde": "dpm++ 2m sde", "dpmpp_2m_sde_gpu": "dpm++ 2m sde",
            "ddim": "ddim", "lcm": "lcm"}
PLAIN_SCHEDULES = ("simple", "normal", "sgm_uniform", "beta")
EMPTY_LATENTS = ("EmptyHunyuanLatentVideo", "EmptyLTXVLatentVideo")
# node type -> (latent output slot, frames widget, first-frame input, last-frame input, clip vision inputs)
IMAGE_TO_VIDEO = {
    "WanImageToVideo": (2, "length", "start_image", None, ("clip_vision_output",)),
    "WanFirstLastFrameToVideo": (2, "length", "start_image", "end_image",
                                 ("clip_vision_start_image", "clip_vision_end_image")),
    "LTXVImgToVideo": (2, "length", "image", None, ()),
    "Wan22ImageToVideoLatent": (0, "length", "start_image", None, ()),
    "SVD_img2vid_Conditioning": (2, "video_frames", "init_image", None, ("clip_vision",)),
}
CONDITIONING_PASSES = ("WanImageToVideo", "WanFirstLastFrameToVideo", "LTXVImgToVideo", "LTXVConditioning")


def sampler(m: Mapper, final: CNode) -> tuple[str, ModelRef]:
    """The diffusion.sample a KSampler (or the low half of a KSamplerAdvanced pair) becomes."""
    return m.memoized(("sample", final.id), lambda: _sampler(m, final))


def _sampler(m: Mapper, final: CNode) -> tuple[str, ModelRef]:
    first, pair = final, False
    if final.type == "KSamplerAdvanced":
        feed = m.source(final, "latent_image")
        if feed is not None and feed[0].type == "KSamplerAdvanced":
            first, pair = feed[0], True
    model = model_chain(m, *m.need(first, "model"))
    kid = m.add("sample", "diffusion.sample", final)
    m.mark(first, kid)
    if model.shift is not None:
        m.param(kid, "shift", model.shift, "shift", as_float)
        m.mark(model.shift, kid)
    seed_name = "noise_seed" if first.type == "KSamplerAdvanced" else "seed"
    seed = m.param(kid, "seed", first, seed_name, as_int)
    control = first.controls.get(seed_name)
    if control not in (None, "fixed") and m.source(first, seed_name) is None:
        m.approx(first, f"control after generate {control!r} is not kept; the seed stays {seed}")
    steps = m.param(kid, "steps", first, "steps", as_int)
    m.param(kid, "guidance", first, "cfg", as_float)
    _scheduler(m, kid, first, model)
    if pair:
        _pair(m, kid, first, final, model, steps)
    elif first.type == "KSamplerAdvanced":
        start, end = first.widgets.get("start_at_step", 0), first.widgets.get("end_at_step", 10000)
        if start or (isinstance(end, int) and isinstance(steps, int) and end < steps):
            m.approx(first, f"steps {start} to {end} of {steps}: Kinograph runs them all")
    latent = m.need(first, "latent_image")
    mode = _latent(m, kid, model, *latent)
    denoise = first.widgets.get("denoise", 1.0)
    if mode == "v2v":
        m.param(kid, "strength", first, "denoise", as_float)
    elif isinstance(denoise, (int, float)) and denoise < 1.0:
        m.approx(first, f"denoise {denoise}: it starts from noise (denoise 1) without a source video")
    positive = _prompt(m, model.load, kid, *m.need(first, "positive"))
    negative = _prompt(m, model.load, kid, *m.need(first, "negative"))
    encode = _encode(m, model, positive, negative, m.need(first, "positive")[0])
    m.link(f"{encode}.conditioning", f"{kid}.conditioning")
    m.link(model.ref, f"{kid}.model")
    return kid, model


def _scheduler(m: Mapper, kid: str, node: CNode, model: ModelRef) -> None:
    from nodes.diffusion.families import FAMILIES, adapter

    name = str(node.widgets.get("sampler_name", ""))
    schedule = str(node.widgets.get("scheduler", ""))
    choice = SAMPLERS.get(name, "default")
    family = m.nodes[model.load]["params"].get("family")
    if family in FAMILIES and choice not in adapter(family).schedulers:
        choice = "default"
    m.nodes[kid]["params"]["scheduler"] = choice
    if choice == "default" or SAMPLERS.get(name) != choice:
        m.approx(node, f"sampler {name!r}: the model's own sampler is used")
    if schedule not in PLAIN_SCHEDULES:
        m.approx(node, f"scheduler {schedule!r}: the sampler's own spacing of the noise levels is used")


def _pair(m: Mapper, kid: str, high: CNode, low: CNode, model: ModelRef, steps) -> None:
    """Wan 2.2 A14B's experts as two KSamplerAdvanced: the high-noise one runs to end_at_step, the low one on."""
    switch = high.widgets.get("end_at_step")
    if not isinstance(switch, int) or isinstance(switch, bool):
        raise m.refuse(high, f"end_at_step {switch!r} is not a step number")
    m.nodes[kid]["params"]["low_noise_from_step"] = switch
    repo = m.memo.get("releases", {}).get(m.nodes[model.load]["params"].get("source", ""))
    if repo:  # the second expert is that repo's transformer_2
        m.nodes[model.load]["params"]["config"] = repo
    if low.widgets.get("start_at_step") != switch:
        m.approx(low, f"start_at_step {low.widgets.get('start_at_step')}: the low-noise expert takes over at step "
                      f"{switch}, where the high-noise one stops")
    for name in ("steps", "cfg"):
        if low.widgets.get(name) != high.widgets.get(name):
            m.approx(low, f"{name} {low.widgets.get(name)} of the low-noise sampler: the high-noise one's "
                          f"{high.widgets.get(name)} is used for both")
    low_noise_chain(m, *m.need(low, "model"), model, kid)
    for name in ("positive", "negative"):
        feed = m.source(low, name)
        if feed is not None:
            _prompt(m, model.load, kid, *feed)


def _prompt(m: Mapper, load: str, sample: str, src: CNode, slot: int) -> CNode | None:
    """The CLIPTextEncode behind a conditioning input (through image-to-video nodes), or None for a zeroed one."""
    seen = 0
    while seen < 64:
        seen += 1
        if src.type == "CLIPTextEncode":
            text_encoder(m, load, *m.need(src, "clip"))
            return src
        if src.type == "SVD_img2vid_Conditioning" and slot in (0, 1):  # the image is the conditioning: no text
            return None
        if src.type == "ConditioningZeroOut":
            m.mark(src, sample)
            m.approx(src, "a zeroed conditioning becomes an empty prompt")
            return None
        if src.type in CONDITIONING_PASSES and slot in (0, 1):
            m.mark(src, sample)
            if src.type == "LTXVConditioning":
                m.approx(src, f"frame_rate {src.widgets.get('frame_rate')}: LTX-Video's own rate is used")
            src, slot = m.need(src, "positive" if slot == 0 else "negative")
            continue
        raise m.refuse(src, "no Kinograph counterpart for this conditioning node")
    raise m.refuse(src, "conditioning runs through more than 64 nodes")


def _encode(m: Mapper, model: ModelRef, positive: CNode | None, negative: CNode | None, fallback: CNode) -> str:
    """One text.encode for a positive and negative prompt (an empty one where there is no text)."""
    def make() -> str:
        kid = m.add("encode", "text.encode", positive or negative or fallback)
        if positive is None:
            m.nodes[kid]["params"]["prompt"] = ""
        if positive is not None:
            m.param(kid, "prompt", positive, "text", as_text)
        if negative is not None:
            m.mark(negative, kid)
            m.param(kid, "negative_prompt", negative, "text", as_text)
        else:
            m.nodes[kid]["params"]["negative_prompt"] = ""
        m.link(f"{model.load}.model", f"{kid}.model")
        return kid

    key = ("encode", positive.id if positive else fallback.id, negative.id if negative else "")
    return m.memoized(key, make)


def _latent(m: Mapper, kid: str, model: ModelRef, src: CNode, slot: int) -> str:
    """Size, frames and the images or video a sampler starts from; returns the mode (t2v, i2v, v2v)."""
    from .video_rules import image_ref, video_ref

    if src.type == "EmptyLatentImage":
        raise m.refuse(src, "a batch of still images: Kinograph generates video (use an empty video latent)")
    if src.type in EMPTY_LATENTS:
        _size(m, kid, src, "length")
        return "t2v"
    if src.type in IMAGE_TO_VIDEO and slot == IMAGE_TO_VIDEO[src.type][0]:
        _, frames, first, last, vision = IMAGE_TO_VIDEO[src.type]
        _size(m, kid, src, frames)
        for port, name in (("image", first), ("last_image", last)):
            feed = m.source(src, name) if name else None
            if feed is not None:
                m.link(image_ref(m, *feed), f"{kid}.{port}")
        for name in vision:
            feed = m.source(src, name)
            if feed is not None:
                image_encoder(m, model.load, *feed)
        feed = m.source(src, "vae")
        if feed is not None:
            vae(m, model.load, *feed)
        if src.type == "LTXVImgToVideo" and src.widgets.get("strength", 1.0) != 1.0:
            m.approx(src, f"strength {src.widgets.get('strength')}: the first frame is kept as given (strength 1)")
        if src.type == "SVD_img2vid_Conditioning":
            defaults = {"motion_bucket_id": 127, "fps": 6, "augmentation_level": 0.0}
            changed = [f"{k} {src.widgets.get(k)}" for k, v in defaults.items() if src.widgets.get(k, v) != v]
            if changed:
                m.approx(src, ", ".join(changed) + ": the pipeline's defaults are used")
        return "i2v" if m.source(src, first) is not None else "t2v"
    if src.type == "VAEEncode":
        m.mark(src, kid)
        m.link(video_ref(m, *m.need(src, "pixels")), f"{kid}.video")
        feed = m.source(src, "vae")
        if feed is not None:
            vae(m, model.load, *feed)
        return "v2v"
    raise m.refuse(src, "no Kinograph counterpart for this latent node")


def _size(m: Mapper, kid: str, src: CNode, frames: str) -> None:
    m.mark(src, kid)
    m.param(kid, "width", src, "width", as_int)
    m.param(kid, "height", src, "height", as_int)
    m.param(kid, "frames", src, frames, as_int)
    batch = src.widgets.get("batch_size", 1)
    if frames != "batch_size" and batch not in (1, None):
        m.approx(src, f"batch_size {batch}: one video per run (queue several runs instead)")
