"""What each video codec choice means: encoders to try, containers, pixel format, options."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")

CONTAINER_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


@dataclass(frozen=True)
class CodecSpec:
    """One `codec` choice of video.save."""

    name: str
    encoders: tuple[str, ...]  # tried in order; the first the PyAV build has is used
    extensions: tuple[str, ...]  # containers that can hold it; the first is the default
    pix_fmt: str
    even_width: bool  # chroma subsampling needs an even width
    even_height: bool
    crf_max: int | None  # None: crf does not apply (lossless or fixed-quality codec)
    description: str
    max_side: int | None = None  # the encoder refuses wider or taller frames


CODECS: dict[str, CodecSpec] = {
    "h264": CodecSpec("h264", ("libx264",), (".mp4", ".mov", ".mkv"), "yuv420p", True, True, 51,
                      "H.264, plays everywhere", max_side=16384),
    "h265": CodecSpec("h265", ("libx265",), (".mp4", ".mov", ".mkv"), "yuv420p", True, True, 51,
                      "H.265/HEVC, smaller files than H.264"),
    "vp9": CodecSpec("vp9", ("libvpx-vp9",), (".webm", ".mkv"), "yuv420p", True, True, 63, "VP9 for the web"),
    "av1": CodecSpec("av1", ("libsvtav1", "libaom-av1"), (".mkv", ".mp4", ".webm"), "yuv420p", True, True, 63,
                     "AV1, smallest files, slow to encode"),
    "prores": CodecSpec("prores", ("prores_ks",), (".mov",), "yuv422p10le", True, False, None,
                        "ProRes 422 HQ (10-bit) for editing; crf is ignored"),
    "ffv1": CodecSpec("ffv1", ("ffv1",), (".mkv",), "bgr0", False, False, None,
                      "FFV1, lossless RGB; crf and preset are ignored"),
}


def available_encoder(codec: str) -> str | None:
    """The first encoder of `codec` that the installed PyAV/FFmpeg build has, or None."""
    return first_encoder(CODECS[codec].encoders)


@functools.cache
def first_encoder(encoders: tuple[str, ...]) -> str | None:
    """The first of `encoders` (picture or sound) the installed PyAV/FFmpeg build has, or None."""
    from av.codec.codec import Codec

    for name in encoders:
        try:
            Codec(name, "w")
        except Exception:
            continue
        return name
    return None


def container_for(filename: str, codec: str) -> tuple[str, str | None]:
    """(file name with an extension, problem or None): adds the default extension when there is none."""
    spec = CODECS[codec]
    suffix = Path(filename).suffix.lower()
    if not suffix:
        return filename + spec.extensions[0], None
    if suffix not in spec.extensions:
        fits = ", ".join(spec.extensions)
        better = str(Path(filename).with_suffix(spec.extensions[0]))
        return filename, (f"'filename' {filename!r} does not fit codec {codec!r}: {codec} goes in {fits}; "
                          f"name it {better!r} or choose another codec")
    return filename, None


def check_settings(filename: str | None, codec: str | None, crf: int | None) -> list[str]:
    """Problems with video.save params (those that are set), each with its fix."""
    problems = []
    if codec not in CODECS:
        return problems  # the param's own choices check reports it
    spec = CODECS[codec]
    if filename is not None:
        if not filename.strip() or filename.endswith(("/", "\\")):
            problems.append("'filename' is empty; give a name such as 'video.mp4'")
        else:
            problem = container_for(filename, codec)[1]
            if problem:
                problems.append(problem)
    if crf is not None and spec.crf_max is not None and crf > spec.crf_max:
        problems.append(f"crf {crf} is above {spec.crf_max}, the highest {codec} accepts; use 0 (best) to "
                        f"{spec.crf_max} (smallest); 18 is visually lossless for most clips")
    return problems


def check_frame_size(codec: str, width: int, height: int) -> str | None:
    """Why `codec` cannot encode width x height frames, or None."""
    spec = CODECS[codec]
    if spec.max_side is not None and max(width, height) > spec.max_side:
        return (f"frame size {width}x{height} is larger than {codec} encodes ({spec.max_side} pixels a side); "
                f"resize to at most {spec.max_side} a side before saving, or use codec 'ffv1' or 'vp9'")
    odd = [name for name, size, need in (("width", width, spec.even_width), ("height", height, spec.even_height))
           if need and size % 2]
    if not odd:
        return None
    w, h = width + width % 2 * spec.even_width, height + height % 2 * spec.even_height
    return (f"frame size {width}x{height} has an odd {' and '.join(odd)}, which {codec} ({spec.pix_fmt}) cannot "
            f"store; resize or crop to an even size such as {w}x{h} before saving, or use codec 'ffv1'")


def encoder_options(encoder: str, crf: int, preset: str, frame_count: int = 0) -> dict[str, str]:
    """FFmpeg private options for `encoder` at this quality and speed (for a clip of `frame_count` frames)."""
    speed = PRESETS.index(preset)  # 0 fastest .. 8 slowest
    if encoder in ("libx264", "libx265"):
        options = {"crf": str(crf), "preset": preset}
        if encoder == "libx265":
            options["x265-params"] = "log-level=error"
            if frame_count < 8:  # x265 can emit a garbage DTS with B-frames in 1-2 frame clips; mp4 rejects it
                options["x265-params"] += ":bframes=0"
        return options
    if encoder == "libvpx-vp9":
        options = {"crf": str(crf), "b": "0", "row-mt": "1"}
        if speed <= 2:
            options.update(deadline="realtime", **{"cpu-used": str(8 - speed)})
        else:
            options.update(deadline="good", **{"cpu-used": str(8 - speed)})
        return options
    if encoder == "libsvtav1":
        return {"crf": str(crf), "preset": str((12, 11, 10, 9, 8, 7, 5, 3, 1)[speed])}
    if encoder == "libaom-av1":
        return {"crf": str(crf), "b": "0", "cpu-used": str((8, 8, 7, 6, 5, 4, 3, 2, 1)[speed]), "row-mt": "1"}
    if encoder == "prores_ks":
        return {"profile": "3"}  # 422 HQ
    if encoder == "ffv1":
        return {"level": "3", "slicecrc": "1"}
    return {}
