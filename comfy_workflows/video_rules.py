"""Mapping ComfyUI's image and video side: VAE decode (+ CreateVideo's frame rate) -> latent.decode, loads, resizes,
learned upscalers, and the save and preview nodes -> video.save, video.save_frames, video.preview."""

from __future__ import annotations

import re

from .comfy_graph import CNode
from .mapper import Mapper, as_float, as_int, as_text

RESIZE_METHODS = {"lanczos": "lanczos", "bicubic": "bicubic", "area": "area", "nearest-exact": "nearest"}
VHS_FORMATS = {"video/h264-mp4": ("h264", ".mp4"), "video/h265-mp4": ("h265", ".mp4"),
               "video/webm": ("vp9", ".webm"), "video/av1-webm": ("av1", ".webm"), "video/ProRes": ("prores", ".mov"),
               "video/ffv1-mkv": ("ffv1", ".mkv")}


def video_ref(m: Mapper, src: CNode, slot: int, fps: tuple[CNode, str] | None = None) -> str:
    """The Kinograph VIDEO output ("kid.video") a ComfyUI frame batch or VIDEO comes from; `fps` is the node and
    widget giving the frame rate, which goes to the decode it comes from."""
    t = src.type
    if t == "CreateVideo":
        ref = video_ref(m, *m.need(src, "images"), fps=(src, "fps"))
        m.mark(src, ref.split(".")[0])
        return ref
    if t == "GetVideoComponents" and slot == 0:
        ref = video_ref(m, *m.need(src, "video"), fps=fps)
        m.mark(src, ref.split(".")[0])
        return ref
    if t in ("VAEDecode", "VAEDecodeTiled"):
        kid = _decode(m, src)
        if fps is not None:
            current = m.nodes[kid]["params"].get("fps")
            wanted, _ = m.value(*fps)
            if current not in (None, 0.0) and current != wanted:
                m.approx(fps[0], f"fps {wanted}: {kid} already decodes at {current} fps for another output")
            else:
                m.param(kid, "fps", fps[0], fps[1], as_float)
        return f"{kid}.video"
    if fps is not None and t not in ("ImageScale", "ImageScaleBy", "ImageUpscaleWithModel"):
        m.approx(fps[0], f"fps {fps[0].widgets.get(fps[1])}: the frame rate of the source is kept")
        fps = None
    return m.memoized(("video", src.id, slot), lambda: _video(m, src, slot, fps))


def _video(m: Mapper, src: CNode, slot: int, fps) -> str:
    t = src.type
    if t == "LoadVideo":
        kid = m.add("video", "video.load", src)
        m.param(kid, "path", src, "file", as_text)
        return f"{kid}.video"
    if t == "VHS_LoadVideoPath" and slot == 0:
        kid = m.add("video", "video.load", src)
        m.param(kid, "path", src, "video", as_text)
        m.param(kid, "start_frame", src, "skip_first_frames", as_int)
        m.param(kid, "max_frames", src, "frame_load_cap", as_int)
        changed = [f"{k} {src.widgets.get(k)}" for k, v in (("force_rate", 0), ("custom_width", 0),
                                                            ("custom_height", 0), ("select_every_nth", 1))
                   if src.widgets.get(k, v) not in (v, None)]
        if changed:
            m.approx(src, ", ".join(changed) + ": the video is read as it is")
        return f"{kid}.video"
    if t == "ImageUpscaleWithModel":
        kid = m.add("upscale", "video.upscale", src)
        m.link(_upscaler(m, *m.need(src, "upscale_model")), f"{kid}.model")
        m.link(video_ref(m, *m.need(src, "image"), fps=fps), f"{kid}.video")
        return f"{kid}.video"
    if t in ("ImageScale", "ImageScaleBy"):
        kid = m.add("resize", "video.resize", src)
        method = str(src.widgets.get("upscale_method", "lanczos"))
        m.nodes[kid]["params"]["method"] = RESIZE_METHODS.get(method, "bicubic")
        if method not in RESIZE_METHODS:
            m.approx(src, f"upscale_method {method!r}: bicubic")
        if t == "ImageScale":
            m.param(kid, "width", src, "width", as_int)
            m.param(kid, "height", src, "height", as_int)
            if src.widgets.get("crop", "disabled") != "disabled":
                m.approx(src, f"crop {src.widgets.get('crop')!r}: the frame is scaled to the size, not cropped")
        else:
            m.param(kid, "scale", src, "scale_by", as_float)
        m.link(video_ref(m, *m.need(src, "image"), fps=fps), f"{kid}.video")
        return f"{kid}.video"
    raise m.refuse(src, "no Kinograph counterpart for this image or video node")


def audio_ref(m: Mapper, src: CNode, slot: int) -> str:
    """The Kinograph AUDIO output a ComfyUI AUDIO comes from: a sound file, or a loaded video's sound."""
    if src.type == "LoadAudio" and slot == 0:
        def make() -> str:
            kid = m.add("audio", "audio.load", src)
            m.param(kid, "path", src, "audio", as_text)
            return f"{kid}.audio"

        return m.memoized(("audio", src.id), make)
    if (src.type, slot) in (("GetVideoComponents", 1), ("VHS_LoadVideoPath", 2)):
        feed = (src, 0) if src.type == "VHS_LoadVideoPath" else m.need(src, "video")
        video = video_ref(m, *feed)
        m.mark(src, video.split(".")[0])
        if not m.nodes[video.split(".")[0]]["type"] == "video.load":
            raise m.refuse(src, "its sound comes from a video Kinograph makes, not one it loads")
        return video.split(".")[0] + ".audio"
    raise m.refuse(src, "no Kinograph counterpart for this audio node")


def _sound(m: Mapper, kid: str, node: CNode, name: str) -> None:
    """The sound a saver's frames come with (CreateVideo's or the saver's own audio input) goes to video.save."""
    feed = m.source(node, name)
    if feed is None:
        return
    if feed[0].type == "CreateVideo":
        feed = m.source(feed[0], "audio")
        if feed is not None:
            m.link(audio_ref(m, *feed), f"{kid}.audio")
    elif feed[0].type == "LoadVideo":  # a loaded video saved as it is keeps its sound
        m.link(video_ref(m, *feed).split(".")[0] + ".audio", f"{kid}.audio")


def _decode(m: Mapper, src: CNode) -> str:
    def make() -> str:
        from .model_rules import vae
        from .sample_rules import sampler

        latent, slot = m.need(src, "samples")
        if latent.type not in ("KSampler", "KSamplerAdvanced"):
            raise m.refuse(latent, "no Kinograph counterpart for this latent node (a decode takes a sampler's "
                                   "latent)")
        sample, model = sampler(m, latent)
        kid = m.add("decode", "latent.decode", src, {"tiling": "on" if src.type == "VAEDecodeTiled" else "auto"})
        feed = m.source(src, "vae")
        if feed is not None:
            vae(m, model.load, *feed)
        m.link(f"{model.load}.model", f"{kid}.model")
        m.link(f"{sample}.latent", f"{kid}.latent")
        if src.type == "VAEDecodeTiled":
            m.approx(src, "tile sizes: Kinograph picks its own tiles")
        return kid

    return m.memoized(("decode", src.id), make)


def _upscaler(m: Mapper, src: CNode, slot: int) -> str:
    if src.type != "UpscaleModelLoader":
        raise m.refuse(src, "no Kinograph counterpart for this upscale model node")

    def make() -> str:
        kid = m.add("upscaler", "upscale.load", src)
        m.param(kid, "source", src, "model_name", as_text)
        return f"{kid}.model"

    return m.memoized(("upscaler", src.id), make)


def image_ref(m: Mapper, src: CNode, slot: int) -> str:
    """A single picture (an image-to-video node's first or last frame)."""
    if src.type == "LoadImage" and slot == 0:
        def make() -> str:
            kid = m.add("image", "image.load", src)
            m.param(kid, "path", src, "image", as_text)
            return f"{kid}.image"

        return m.memoized(("image", src.id), make)
    if src.type in ("ImageScale", "ImageScaleBy"):
        ref = image_ref(m, *m.need(src, "image"))
        m.mark(src, ref.split(".")[0])
        m.approx(src, "the sampler scales the image to its own size")
        return ref
    raise m.refuse(src, "no Kinograph counterpart for this image node")


def file_name(prefix, extension: str) -> str:
    """A ComfyUI filename_prefix ("video/ComfyUI", "%date:yyyy-MM-dd%/clip") as a Kinograph file name."""
    text = re.sub(r"%[^%]*%", "", prefix if isinstance(prefix, str) else "")
    parts = [p for p in re.split(r"[\\/]+", text) if p not in ("", ".", "..")]
    return "/".join(parts or ["ComfyUI"]) + extension


def save(m: Mapper, node: CNode) -> None:
    t = node.type
    if t == "SaveVideo":
        kid = m.add("save", "video.save", node, {"codec": "h264"})
        fmt, codec = node.widgets.get("format", "auto"), node.widgets.get("codec", "auto")
        m.nodes[kid]["params"]["filename"] = file_name(node.widgets.get("filename_prefix"), ".mp4")
        if fmt not in ("auto", "mp4") or codec not in ("auto", "h264"):
            m.approx(node, f"format {fmt!r}, codec {codec!r}: saved as H.264 MP4")
        m.link(video_ref(m, *m.need(node, "video")), f"{kid}.video")
        _sound(m, kid, node, "video")
    elif t == "SaveWEBM":
        codec = str(node.widgets.get("codec", "vp9"))
        kid = m.add("save", "video.save", node, {"codec": codec if codec in ("vp9", "av1") else "vp9"})
        m.nodes[kid]["params"]["filename"] = file_name(node.widgets.get("filename_prefix"), ".webm")
        m.param(kid, "crf", node, "crf", lambda v: int(round(as_float(v))))
        m.link(video_ref(m, *m.need(node, "images"), fps=(node, "fps")), f"{kid}.video")
    elif t in ("SaveAnimatedWEBP", "SaveAnimatedPNG"):
        kid = m.add("save", "video.save", node, {"codec": "h264"})
        m.nodes[kid]["params"]["filename"] = file_name(node.widgets.get("filename_prefix"), ".mp4")
        m.approx(node, "an animated WebP/PNG becomes an H.264 MP4")
        m.link(video_ref(m, *m.need(node, "images"), fps=(node, "fps")), f"{kid}.video")
    elif t == "VHS_VideoCombine":
        fmt = str(node.widgets.get("format", "video/h264-mp4"))
        codec, extension = VHS_FORMATS.get(fmt, ("h264", ".mp4"))
        kid = m.add("save", "video.save", node, {"codec": codec})
        m.nodes[kid]["params"]["filename"] = file_name(node.widgets.get("filename_prefix"), extension)
        if fmt not in VHS_FORMATS:
            m.approx(node, f"format {fmt!r}: saved as H.264 MP4")
        m.link(video_ref(m, *m.need(node, "images"), fps=(node, "frame_rate")), f"{kid}.video")
        feed = m.source(node, "audio")
        if feed is not None:
            m.link(audio_ref(m, *feed), f"{kid}.audio")
    elif t == "SaveImage":
        kid = m.add("frames", "video.save_frames", node)
        m.nodes[kid]["params"]["filename"] = file_name(node.widgets.get("filename_prefix"), "_{:05d}.png")
        m.link(video_ref(m, *m.need(node, "images")), f"{kid}.video")
    elif t == "PreviewImage":
        kid = m.add("preview", "video.preview", node)
        m.link(video_ref(m, *m.need(node, "images")), f"{kid}.video")


OUTPUTS = ("SaveVideo", "SaveWEBM", "SaveAnimatedWEBP", "SaveAnimatedPNG", "VHS_VideoCombine", "SaveImage",
           "PreviewImage")
