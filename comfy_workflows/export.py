"""Kinograph graph -> ComfyUI API-format prompt ({id: {class_type, inputs, _meta}}), for graphs whose every node
has a ComfyUI counterpart. A graph with others is refused with the full list. The main ComfyUI node of each
Kinograph node keeps the Kinograph id, so importing the prompt again gives the same graph."""

from __future__ import annotations

from typing import Any

from nodegraph.errors import Issue, ValidationError
from nodegraph.graph import Graph
from nodegraph.registry import NodeRegistry

from .sample_rules import SAMPLERS
from .video_rules import RESIZE_METHODS

NATIVE_FPS = {"wan": 16.0, "ltx": 25.0, "cogvideox": 8.0, "animatediff": 8.0, "svd": 7.0}
CLIP_TYPE = {"wan": "wan", "ltx": "ltxv"}
SAMPLER_NAMES = {ours: theirs for theirs, ours in reversed(list(SAMPLERS.items()))}
DEFAULT_SAMPLER = {"wan": "uni_pc", "ltx": "euler"}
METHOD_NAMES = {ours: theirs for theirs, ours in RESIZE_METHODS.items()}


class ExportError(ValidationError):
    headline = "nodes have no ComfyUI counterpart; nothing was written"


class _Skip(Exception):
    """A muted node, or one that needs one: left out of the prompt, as ComfyUI leaves muted nodes out."""


class _Exporter:
    def __init__(self, graph: Graph, registry: NodeRegistry):
        self.graph, self.registry = graph, registry
        self.prompt: dict[str, dict] = {}
        self.outs: dict[tuple[str, str], dict[str, Any]] = {}  # (node, port) -> what ComfyUI wires it as
        self.problems: list[Issue] = []
        self.skipped: set[str] = set()

    def params(self, node_id: str) -> dict:
        node = self.graph.nodes[node_id]
        cls = self.registry.get(node.type)
        values = {p.name: p.default for p in cls.params} if cls else {}
        values.update(node.params)
        return values

    def add(self, comfy_id: str, class_type: str, inputs: dict, title: str = "") -> str:
        entry: dict[str, Any] = {"class_type": class_type, "inputs": inputs}
        if title:
            entry["_meta"] = {"title": title}
        self.prompt[comfy_id] = entry
        return comfy_id

    def fed(self, node_id: str, port: str) -> dict[str, Any] | None:
        link = self.graph.link_into(node_id, port)
        if link is None:
            return None
        if link.src in self.skipped:
            raise _Skip
        return self.outs.get((link.src, link.src_port))

    def need(self, node_id: str, port: str) -> dict[str, Any]:
        found = self.fed(node_id, port)
        if found is None:
            raise _Refuse(f"its input {port!r} is not connected")
        return found

    def widget(self, node_id: str, name: str, value: Any) -> Any:
        """A param's value, or the link from the value node that feeds it."""
        link = self.graph.link_into(node_id, name)
        if link is not None:
            source = self.graph.nodes[link.src]
            if source.type.startswith("value.") and (link.src, "value") in self.outs:
                return self.outs[(link.src, "value")]["value"]
        return value

    def family(self, model: dict) -> str:
        return model.get("family", "wan")


class _Refuse(Exception):
    pass


def export_prompt(graph: Graph, registry: NodeRegistry) -> dict[str, dict]:
    """The ComfyUI API prompt of `graph` (its subgraphs flattened: inner nodes are named instance/inner);
    ExportError lists every node without a ComfyUI counterpart."""
    if graph.subgraphs or any(node.type.startswith("subgraph:") for node in graph.nodes.values()):
        from nodegraph.flatten import flatten

        graph = flatten(graph, registry)
    ex = _Exporter(graph, registry)
    for node_id in _order(graph):
        node = graph.nodes[node_id]
        rule = RULES.get(node.type)
        if node.mode == "mute":
            ex.skipped.add(node_id)
            continue
        try:
            if node.mode == "bypass":
                _bypass(ex, node_id)
            elif rule is None:
                raise _Refuse("no ComfyUI counterpart")
            else:
                rule(ex, node_id, ex.params(node_id))
        except _Skip:
            ex.skipped.add(node_id)
        except _Refuse as exc:
            ex.problems.append(Issue(f"{node.type}: {exc}", node_id))
    if ex.problems:
        raise ExportError(ex.problems)
    return ex.prompt


def _order(graph: Graph) -> list[str]:
    remaining = {nid: {lk.src for lk in graph.links if lk.dst == nid and lk.src in graph.nodes} for nid in graph.nodes}
    order: list[str] = []
    while remaining:
        ready = [nid for nid, deps in remaining.items() if not deps - set(order)]
        if not ready:
            raise ExportError("the graph has a cycle; remove it before exporting")
        for nid in ready:
            order.append(nid)
            del remaining[nid]
    return order


def _bypass(ex: _Exporter, node_id: str) -> None:
    ex.graph.nodes[node_id]
    for port in ("model", "video"):
        found = ex.fed(node_id, port)
        if found is not None:
            ex.outs[(node_id, port)] = found
            return
    raise _Refuse("bypassed, and ComfyUI's prompt cannot pass anything through it")


def _title(ex: _Exporter, node_id: str) -> str:
    return ex.graph.nodes[node_id].title


def _model_load(ex: _Exporter, kid: str, p: dict) -> None:
    from nodes.diffusion.catalog import is_hf_id

    source = str(p.get("source") or "")
    if not source or is_hf_id(source) or not source.lower().endswith((".safetensors", ".gguf", ".ckpt", ".pt",
                                                                       ".pth", ".sft")):
        raise _Refuse(f"source {source!r} is a Diffusers folder or Hugging Face id; ComfyUI loads model files: set "
                      "source to the model's file (and text_encoder and vae to theirs)")
    if p.get("motion_adapter"):
        raise _Refuse("motion_adapter: ComfyUI's AnimateDiff lives in a node pack Kinograph does not write")
    family = p.get("family", "auto")
    if family == "auto":
        from .releases import family_of

        family = family_of(source) or "wan"
    dtype = {"float8_e4m3fn": "fp8_e4m3fn"}.get(p.get("dtype"), "default")
    title = _title(ex, kid)
    encoder, vae = p.get("text_encoder") or "", p.get("vae") or ""
    if family == "svd":
        ex.add(kid, "ImageOnlyCheckpointLoader", {"ckpt_name": source}, title)
        out = {"model": [kid, 0], "clip_vision": [kid, 1], "vae": [kid, 2]}
    elif not encoder and not vae:
        ex.add(kid, "CheckpointLoaderSimple", {"ckpt_name": source}, title)
        out = {"model": [kid, 0], "clip": [kid, 1], "vae": [kid, 2]}
    elif encoder and vae:
        loader = "UnetLoaderGGUF" if source.lower().endswith(".gguf") else "UNETLoader"
        inputs = {"unet_name": source} if loader == "UnetLoaderGGUF" else {"unet_name": source, "weight_dtype": dtype}
        ex.add(kid, loader, inputs, title)
        ex.add(f"{kid}_clip", "CLIPLoader", {"clip_name": encoder, "type": CLIP_TYPE.get(family, "wan"),
                                             "device": "default"})
        ex.add(f"{kid}_vae", "VAELoader", {"vae_name": vae})
        out = {"model": [kid, 0], "clip": [f"{kid}_clip", 0], "vae": [f"{kid}_vae", 0]}
    else:
        raise _Refuse("ComfyUI loads a split model from three files: set both text_encoder and vae (or neither, "
                      "for a checkpoint holding all three)")
    if p.get("image_encoder"):
        ex.add(f"{kid}_clip_vision", "CLIPVisionLoader", {"clip_name": p["image_encoder"]})
        out["clip_vision"] = [f"{kid}_clip_vision", 0]
    out["family"] = family
    ex.outs[(kid, "model")] = out


def _lora(ex: _Exporter, kid: str, p: dict) -> None:
    model = ex.need(kid, "model")
    if not p.get("same_for_low_noise", True):
        raise _Refuse("a separate low-noise strength has no single ComfyUI LoRA node")
    ex.add(kid, "LoraLoaderModelOnly", {"model": model["model"], "lora_name": ex.widget(kid, "source", p["source"]),
                                        "strength_model": ex.widget(kid, "strength", p["strength"])}, _title(ex, kid))
    ex.outs[(kid, "model")] = dict(model, model=[kid, 0])


def _encode(ex: _Exporter, kid: str, p: dict) -> None:
    model = ex.need(kid, "model")
    if model.get("family") == "svd":
        raise _Refuse("Stable Video Diffusion takes no text; its ComfyUI graph (SVD_img2vid_Conditioning) is not "
                      "written")
    if "clip" not in model:
        raise _Refuse("its model has no text encoder ComfyUI can load")
    ex.add(kid, "CLIPTextEncode", {"text": ex.widget(kid, "prompt", p["prompt"]), "clip": model["clip"]},
           _title(ex, kid))
    ex.add(f"{kid}_negative", "CLIPTextEncode", {"text": ex.widget(kid, "negative_prompt", p["negative_prompt"]),
                                                 "clip": model["clip"]})
    ex.outs[(kid, "conditioning")] = {"positive": [kid, 0], "negative": [f"{kid}_negative", 0]}


def _sample(ex: _Exporter, kid: str, p: dict) -> None:
    model, cond = ex.need(kid, "model"), ex.need(kid, "conditioning")
    family = ex.family(model)
    for name, default in (("low_noise_from_step", 0), ("sigmas", ""), ("acceleration", "none")):
        if p.get(name) not in (default, None):
            raise _Refuse(f"{name} {p[name]!r} has no counterpart in ComfyUI's core sampler nodes")
    model_in = model["model"]
    if p.get("shift"):
        ex.add(f"{kid}_shift", "ModelSamplingSD3", {"model": model_in, "shift": ex.widget(kid, "shift", p["shift"])})
        model_in = [f"{kid}_shift", 0]
    size = {"width": ex.widget(kid, "width", p["width"]), "height": ex.widget(kid, "height", p["height"]),
            "length": ex.widget(kid, "frames", p["frames"]), "batch_size": 1}
    image, last, video = ex.fed(kid, "image"), ex.fed(kid, "last_image"), ex.fed(kid, "video")
    positive, negative, denoise = cond["positive"], cond["negative"], 1.0
    if video is not None:
        ex.add(f"{kid}_latent", "VAEEncode", {"pixels": video["images"], "vae": model["vae"]})
        denoise = ex.widget(kid, "strength", p["strength"])
    elif image is not None:
        kind = "LTXVImgToVideo" if family == "ltx" else ("WanFirstLastFrameToVideo" if last else "WanImageToVideo")
        inputs = dict(positive=positive, negative=negative, vae=model["vae"], **size)
        if kind == "LTXVImgToVideo":
            inputs.update(image=image["image"], strength=1.0)
        else:
            inputs["start_image"] = image["image"]
            if last:
                inputs["end_image"] = last["image"]
            if "clip_vision" in model:
                ex.add(f"{kid}_vision", "CLIPVisionEncode", {"clip_vision": model["clip_vision"],
                                                             "image": image["image"], "crop": "none"})
                inputs["clip_vision_start_image" if last else "clip_vision_output"] = [f"{kid}_vision", 0]
        ex.add(f"{kid}_latent", kind, inputs)
        positive, negative = [f"{kid}_latent", 0], [f"{kid}_latent", 1]
    else:
        kind = "EmptyLTXVLatentVideo" if family == "ltx" else "EmptyHunyuanLatentVideo"
        ex.add(f"{kid}_latent", kind, size)
    latent_slot = 0 if video is not None or image is None else 2
    scheduler = p.get("scheduler", "default")
    sampler = SAMPLER_NAMES.get(scheduler) or DEFAULT_SAMPLER.get(family, "euler")
    ex.add(kid, "KSampler", {"model": model_in, "seed": ex.widget(kid, "seed", p["seed"]),
                             "steps": ex.widget(kid, "steps", p["steps"]),
                             "cfg": ex.widget(kid, "guidance", p["guidance"]), "sampler_name": sampler,
                             "scheduler": "simple", "positive": positive, "negative": negative,
                             "latent_image": [f"{kid}_latent", latent_slot], "denoise": denoise}, _title(ex, kid))
    ex.outs[(kid, "latent")] = {"latent": [kid, 0], "vae": model["vae"], "family": family}


def _decode(ex: _Exporter, kid: str, p: dict) -> None:
    latent, model = ex.need(kid, "latent"), ex.need(kid, "model")
    ex.add(kid, "VAEDecodeTiled" if p.get("tiling") == "on" else "VAEDecode",
           {"samples": latent["latent"], "vae": model["vae"], **({"tile_size": 512, "overlap": 64,
                                                                   "temporal_size": 64, "temporal_overlap": 8}
                                                                  if p.get("tiling") == "on" else {})},
           _title(ex, kid))
    fps = p.get("fps") or NATIVE_FPS.get(latent.get("family", "wan"), 16.0)
    ex.outs[(kid, "video")] = {"images": [kid, 0], "fps": ex.widget(kid, "fps", fps)}


def _save(ex: _Exporter, kid: str, p: dict) -> None:
    video, audio = ex.need(kid, "video"), ex.fed(kid, "audio")
    filename, codec = str(p["filename"]), p["codec"]
    stem = filename.rsplit(".", 1)[0] if "." in filename.rsplit("/", 1)[-1] else filename
    if codec == "h264":
        ex.add(f"{kid}_video", "CreateVideo", {"images": video["images"], "fps": video["fps"],
                                               **({"audio": audio["audio"]} if audio else {})})
        ex.add(kid, "SaveVideo", {"video": [f"{kid}_video", 0], "filename_prefix": stem, "format": "mp4",
                                  "codec": "h264"}, _title(ex, kid))
    elif codec in ("vp9", "av1") and audio:
        raise _Refuse("ComfyUI's Save WEBM writes no sound: set codec h264 to keep the audio input")
    elif codec in ("vp9", "av1"):
        ex.add(kid, "SaveWEBM", {"images": video["images"], "filename_prefix": stem, "codec": codec,
                                 "fps": video["fps"], "crf": float(p["crf"])}, _title(ex, kid))
    else:
        raise _Refuse(f"codec {codec!r}: ComfyUI's core savers write H.264 MP4 or VP9/AV1 WebM")


def _load_video(ex: _Exporter, kid: str, p: dict) -> None:
    if p.get("start_frame") or p.get("max_frames"):
        raise _Refuse("start_frame and max_frames have no counterpart in ComfyUI's Load Video")
    ex.add(kid, "LoadVideo", {"file": p["path"]}, _title(ex, kid))
    ex.add(f"{kid}_frames", "GetVideoComponents", {"video": [kid, 0]})
    ex.outs[(kid, "video")] = {"images": [f"{kid}_frames", 0], "fps": [f"{kid}_frames", 2]}
    ex.outs[(kid, "audio")] = {"audio": [f"{kid}_frames", 1]}


def _load_audio(ex: _Exporter, kid: str, p: dict) -> None:
    ex.add(kid, "LoadAudio", {"audio": p["path"]}, _title(ex, kid))
    ex.outs[(kid, "audio")] = {"audio": [kid, 0]}


def _load_image(ex: _Exporter, kid: str, p: dict) -> None:
    ex.add(kid, "LoadImage", {"image": p["path"]}, _title(ex, kid))
    ex.outs[(kid, "image")] = {"image": [kid, 0]}


def _resize(ex: _Exporter, kid: str, p: dict) -> None:
    video = ex.need(kid, "video")
    method = METHOD_NAMES.get(p["method"], "lanczos")
    if p["width"] and p["height"]:
        ex.add(kid, "ImageScale", {"image": video["images"], "upscale_method": method, "width": p["width"],
                                   "height": p["height"], "crop": "disabled"}, _title(ex, kid))
    elif not p["width"] and not p["height"]:
        ex.add(kid, "ImageScaleBy", {"image": video["images"], "upscale_method": method, "scale_by": p["scale"]},
               _title(ex, kid))
    else:
        raise _Refuse("one side set and the other following the aspect ratio has no ComfyUI counterpart; set both")
    ex.outs[(kid, "video")] = dict(video, images=[kid, 0])


def _upscaler(ex: _Exporter, kid: str, p: dict) -> None:
    ex.add(kid, "UpscaleModelLoader", {"model_name": p["source"]}, _title(ex, kid))
    ex.outs[(kid, "model")] = {"upscale_model": [kid, 0]}


def _upscale(ex: _Exporter, kid: str, p: dict) -> None:
    video, model = ex.need(kid, "video"), ex.need(kid, "model")
    if p.get("scale"):
        raise _Refuse("scale: ComfyUI's upscaler keeps the model's factor; set scale 0 or add a resize")
    ex.add(kid, "ImageUpscaleWithModel", {"upscale_model": model["upscale_model"], "image": video["images"]},
           _title(ex, kid))
    ex.outs[(kid, "video")] = dict(video, images=[kid, 0])


def _preview(ex: _Exporter, kid: str, p: dict) -> None:
    ex.add(kid, "PreviewImage", {"images": ex.need(kid, "video")["images"]}, _title(ex, kid))


def _frames(ex: _Exporter, kid: str, p: dict) -> None:
    name = str(p["filename"]).replace("_{:05d}.png", "").replace("{:05d}", "").rsplit(".", 1)[0]
    ex.add(kid, "SaveImage", {"images": ex.need(kid, "video")["images"], "filename_prefix": name}, _title(ex, kid))


def _value(class_type: str):
    def rule(ex: _Exporter, kid: str, p: dict) -> None:
        ex.add(kid, class_type, {"value": p["value"]}, _title(ex, kid))
        ex.outs[(kid, "value")] = {"value": [kid, 0]}

    return rule


RULES = {
    "model.load": _model_load, "model.lora": _lora, "text.encode": _encode, "diffusion.sample": _sample,
    "latent.decode": _decode, "video.save": _save, "video.load": _load_video, "audio.load": _load_audio,
    "image.load": _load_image,
    "video.resize": _resize, "upscale.load": _upscaler, "video.upscale": _upscale, "video.preview": _preview,
    "video.save_frames": _frames, "value.int": _value("PrimitiveInt"), "value.float": _value("PrimitiveFloat"),
    "value.string": _value("PrimitiveString"), "value.bool": _value("PrimitiveBoolean"),
}
