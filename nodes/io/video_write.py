"""Encode a streamed Video to a file with PyAV, chunk by chunk, with the workflow embedded."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from nodegraph.api import AUDIO, STRING, VIDEO, Audio, Node, NodeContext, Param, Port, UsageError, Video

from ..audio.writing import TRACK_FORMATS, SoundTrack, encoder_for
from .codecs import (
    CODECS,
    CONTAINER_FORMATS,
    PRESETS,
    available_encoder,
    check_frame_size,
    check_settings,
    container_for,
    encoder_options,
)
from .images import claim
from .metadata import WORKFLOW_KEY
from .provenance import stamp

CHUNK_BYTES = 64 * 1024 * 1024  # frames pulled per step are capped at about this much memory


def frame_rate(fps: float) -> Fraction:
    """An exact rate for the container: 29.97... becomes 30000/1001, 24.0 stays 24."""
    return Fraction(fps).limit_denominator(1001)


def chunk_frames(width: int, height: int) -> int:
    return max(1, min(16, CHUNK_BYTES // max(1, width * height * 3)))


def encode_video(video: Video, path: Path, codec: str, encoder: str, *, crf: int = 18, preset: str = "medium",
                 workflow: str | None = None, audio: Audio | None = None,
                 on_frames: Callable[[int], None] | None = None) -> Path:
    """Write `video` to `path` (never overwriting: a temporary name, renamed at the end). Returns the path.

    `audio`, when given, becomes a sound track (AAC in MP4/MOV, Opus in WebM/Matroska) cut or padded to the
    picture's length and encoded step by step with the frames, so neither is ever held whole.
    `on_frames(done)` is called after each chunk; it may raise (e.g. to cancel), which removes the partial file.
    """
    import av
    import numpy as np
    from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

    spec = CODECS[codec]
    fmt = CONTAINER_FORMATS[path.suffix.lower()]
    sound_spec = TRACK_FORMATS[fmt] if audio is not None else None
    sound_encoder = encoder_for(sound_spec, f"sound in {path.suffix}") if sound_spec else None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    if encoder == "libsvtav1":
        os.environ.setdefault("SVT_LOG", "1")  # errors only; SVT prints a banner otherwise
    yuv = spec.pix_fmt.startswith("yuv")
    try:
        options = {"movflags": "use_metadata_tags+faststart"} if fmt in ("mp4", "mov") else {}
        with av.open(str(tmp), "w", format=fmt, options=options) as container:
            if workflow:
                container.metadata[WORKFLOW_KEY] = workflow
            container.metadata["comment"] = "Made with Kinograph; open this file in Kinograph to get its workflow"
            stream = container.add_stream(encoder, rate=frame_rate(video.fps))
            stream.width, stream.height, stream.pix_fmt = video.width, video.height, spec.pix_fmt
            stream.codec_context.options = encoder_options(encoder, crf, preset, video.frame_count)
            if encoder == "libx264":  # frame threads, as the ffmpeg tool uses (PyAV's default slices compress less)
                stream.codec_context.thread_type = "FRAME"
            if encoder == "libx265" and fmt in ("mp4", "mov"):
                stream.codec_tag = "hvc1"  # what Apple players look for
            if yuv:  # BT.709, limited range, and say so in the stream so players decode the same colours
                cc = stream.codec_context
                cc.colorspace, cc.color_range = Colorspace.ITU709, ColorRange.MPEG
                cc.color_primaries, cc.color_trc = 1, 1
            track = None
            if audio is not None:
                audio = audio.with_duration(video.duration)  # the picture's length wins
                track = SoundTrack(container, audio, sound_spec, sound_encoder)
            done = 0
            convert = VideoReformatter()  # one conversion context for the clip, not one per frame
            for block in video.chunks(chunk_frames(video.width, video.height)):
                for rgb in block:
                    # read in place: the conversion below makes the copy the encoder keeps
                    frame = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(rgb), format="rgb24")
                    if yuv:
                        frame = convert.reformat(frame, format=spec.pix_fmt, dst_colorspace=Colorspace.ITU709,
                                                 dst_color_range=ColorRange.MPEG)
                    else:
                        frame = convert.reformat(frame, format=spec.pix_fmt)
                    frame.pts = done
                    done += 1
                    container.mux(stream.encode(frame))
                if track is not None:  # the sound up to the end of these frames, interleaved with them
                    track.feed_until(round(done / video.fps * audio.sample_rate))
                if on_frames:
                    on_frames(done)
            if done == 0:
                raise UsageError("the video has no frames; nothing to save")
            container.mux(stream.encode())
            if track is not None:  # as long as the frames there were (fewer than declared, from a damaged file)
                track.finish(round(done / video.fps * audio.sample_rate))
        return claim(tmp, path)
    except av.error.FFmpegError as exc:  # the encoder's or muxer's own words, with the file they were about
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path.name!r} ({codec} with {encoder}, {video.width}x{video.height}): "
                         f"{exc.strerror or exc}; try another codec or frame size") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class SaveVideo(Node):
    """Encode a video to a file in the output folder, with the workflow embedded in it."""

    type_id = "video.save"
    widgets = ("filename", "crf")
    category = "Input/Output"
    title = "Save Video"
    is_output = True
    inputs = (
        Port("video", VIDEO),
        Port("audio", AUDIO, optional=True,
             tooltip="Sound to put beside the picture: AAC in .mp4/.mov, Opus in .webm/.mkv. It is cut or padded "
                     "with silence to the picture's length."),
    )
    outputs = (Port("path", STRING),)
    params = (
        Param("filename", str, default="video.mp4", kind="save_path",
              file_filter="Video (*.mp4 *.mov *.mkv *.webm)",
              tooltip="File name in the output folder. Its extension must fit the codec (h264/h265: .mp4 .mov "
                      ".mkv; vp9: .webm .mkv; av1: .mkv .mp4 .webm; prores: .mov; ffv1: .mkv); without one, "
                      "the codec's default is added. A counter is added when the file exists."),
        Param("codec", str, default="h264", choices=tuple(CODECS),
              tooltip="; ".join(f"{c.name}: {c.description}" for c in CODECS.values())),
        Param("crf", int, default=18, min=0, max=63,
              tooltip="Quality: lower is better and bigger. 0 to 51 for h264/h265, 0 to 63 for vp9/av1; "
                      "ignored by prores and ffv1."),
        Param("preset", str, default="medium", choices=PRESETS,
              tooltip="Encoder speed: slower presets make smaller files at the same quality."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        return check_settings(params.get("filename"), params.get("codec"), params.get("crf"))

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> None:
        size = inputs.get("video")
        problem = check_frame_size(params["codec"], *size) if size and params.get("codec") in CODECS else None
        if problem:
            raise ValueError(problem)
        return None

    def run(self, ctx: NodeContext, *, video: Video, filename: str, codec: str, crf: int, preset: str,
            audio: Audio | None = None) -> dict:
        problems = self.check({"filename": filename, "codec": codec, "crf": crf})
        if problems:
            raise UsageError("; ".join(problems))
        if video is None:
            raise UsageError("no video arrived on the 'video' input; connect a VIDEO output to it")
        encoder = available_encoder(codec)
        if encoder is None:
            tried = ", ".join(CODECS[codec].encoders)
            others = [c for c in CODECS if available_encoder(c)]
            raise UsageError(f"this PyAV/FFmpeg build has no {codec} encoder (looked for {tried}); choose another "
                             f"codec ({', '.join(others)}) or install an FFmpeg build of PyAV that has it")
        problem = check_frame_size(codec, video.width, video.height)
        if problem:
            raise UsageError(problem)
        if video.frame_count == 0:
            raise UsageError("the video has no frames; nothing to save")
        target = ctx.output_path(container_for(filename, codec)[0])
        workflow = ctx.workflow_json() if ctx.workflow_json else None
        total = video.frame_count

        def on_frames(done: int) -> None:
            ctx.progress(min(done, total), total)  # also raises when the run is cancelled

        ctx.progress(0, total)
        if audio is not None and abs(audio.duration - video.duration) > 1 / video.fps:
            ending = "cut" if audio.duration > video.duration else "padded with silence"
            ctx.warn(f"the sound lasts {audio.duration:.3f} s and the picture {video.duration:.3f} s "
                     f"({video.frame_count} frames @ {video.fps:g} fps): the sound is {ending} to the picture's "
                     "length; trim one or the other to match")
        path = encode_video(video, target, codec, encoder, crf=crf, preset=preset, workflow=workflow, audio=audio,
                            on_frames=on_frames)
        stamp(ctx, path, workflow)
        ctx.record_output(path)
        return {"path": str(path)}
