"""audio.load and audio.save."""

from __future__ import annotations

from pathlib import Path

from nodegraph.api import AUDIO, STRING, Audio, Node, NodeContext, Param, Port, UsageError, file_fingerprint

from .reading import AUDIO_FILTER, load_audio, require_audio
from .writing import SOUND_FORMATS, write_sound

SAVE_FILTER = "Sound (" + " ".join(f"*{suffix}" for suffix in SOUND_FORMATS) + ")"


def need_audio(audio: Audio | None, node: str, port: str = "audio") -> Audio:
    if audio is None:
        raise UsageError(f"no sound arrived on {node}'s {port!r} input (a video without sound gives none); "
                         "connect an AUDIO output that carries sound")
    return audio


class LoadAudio(Node):
    """Load the sound of a file: WAV, FLAC, MP3, M4A, Opus, or the sound track of a video (streamed)."""

    type_id = "audio.load"
    widgets = ("path",)
    category = "Input/Output"
    title = "Load Audio"
    outputs = (Port("audio", AUDIO),)
    params = (
        Param("path", str, default="", kind="path", file_filter=AUDIO_FILTER,
              tooltip="A sound file, or a video whose sound to use (timed from its first frame)."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        if "path" in params and not params["path"]:
            return ["no sound file chosen; set 'path' to a sound or video file"]
        return []

    @classmethod
    def fingerprint(cls, params: dict):
        return file_fingerprint(params.get("path") or "")

    def run(self, ctx: NodeContext, *, path: str) -> dict:
        audio = load_audio(require_audio(path))
        ctx.log.info("%s: %r", ctx.node_id, audio)
        return {"audio": audio}


class SaveAudio(Node):
    """Save sound to a file in the output folder: WAV, FLAC, M4A (AAC), Opus, by the name's extension."""

    type_id = "audio.save"
    widgets = ("filename",)
    category = "Input/Output"
    title = "Save Audio"
    is_output = True
    inputs = (Port("audio", AUDIO),)
    outputs = (Port("path", STRING),)
    params = (
        Param("filename", str, default="sound.wav", kind="save_path", file_filter=SAVE_FILTER,
              tooltip="File name in the output folder; its extension picks the format: .wav (16-bit), .flac "
                      "(lossless), .m4a or .aac (AAC), .opus or .ogg (Opus), .mp3. A counter is added when the "
                      "file exists."),
        Param("bitrate", int, default=192, min=16, max=512,
              tooltip="kbit/s for AAC, Opus and MP3; WAV and FLAC are lossless and ignore it."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        filename = params.get("filename")
        if filename is None:
            return []
        if not filename.strip():
            return ["'filename' is empty; give a name such as 'sound.wav'"]
        if Path(filename).suffix.lower() not in SOUND_FORMATS:
            return [f"'filename' {filename!r} must end in one of {', '.join(SOUND_FORMATS)}; the extension "
                    "picks the format"]
        return []

    def run(self, ctx: NodeContext, *, audio: Audio, filename: str, bitrate: int) -> dict:
        problems = self.check({"filename": filename})
        if problems:
            raise UsageError("; ".join(problems))
        audio = need_audio(audio, "audio.save")
        target = ctx.output_path(filename)
        total = audio.sample_count
        workflow = ctx.workflow_json() if ctx.workflow_json else None
        path = write_sound(audio, target, bitrate, on_samples=lambda done: ctx.progress(done, total),
                           workflow=workflow)
        ctx.record_output(path)
        return {"path": str(path)}
