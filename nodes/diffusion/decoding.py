"""latent.decode: latents to a lazy Video, decoded when pulled, with out-of-memory fallbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from nodegraph.api import AUDIO, LATENT, MODEL, VIDEO, Node, NodeContext, Param, Port, UsageError, Video

from .families import adapter
from .memory import free_memory, is_out_of_memory
from .values import Latent, ModelHandle

CHUNK_FRAMES = 16
# A decoded clip up to this size is kept once decoded (a 121-frame 1280x704 clip is 327 MB); a longer one streams
# through and is decoded again when pulled again.
KEEP_DECODED_BYTES = 1 << 30


def to_uint8(video) -> np.ndarray:
    """A decoded tensor (B, 3, F, H, W) in [-1, 1] as uint8 frames (F, H, W, 3) of the first clip.

    Made on the tensor's device, so a GPU sends a quarter of the bytes a float clip would take."""
    import torch

    levels = video[0].float().mul(127.5).add_(127.5).clamp_(0.0, 255.0).round_()
    return levels.to(torch.uint8).permute(1, 2, 3, 0).contiguous().cpu().numpy()


class Decoder:
    """Decodes one latent with a family's VAE, falling back to tiling, then to fewer frames at a time."""

    def __init__(self, fam, loaded, latent: Latent, tiling: str, warn: Callable[[str], None],
                 default_tiling: bool):
        self.fam, self.loaded, self.latent, self.warn = fam, loaded, latent, warn
        self.tiling = {"on": True, "off": False}.get(tiling, default_tiling)
        self.default_tiling = default_tiling
        self.frames_per_chunk: int | None = None  # latent frames per decode, once memory forced it

    def _decode(self, latents) -> np.ndarray:
        return to_uint8(self.fam.decode(self.loaded.pipe, latents, self.latent.meta))

    def _decode_in_parts(self, latents, k: int) -> np.ndarray:
        """Decode k latent frames at a time; causal VAEs get the previous frame as context."""
        total = latents.shape[2]
        context = 1 if self.fam.frames_for_latent(2, self.loaded.configs) > 2 else 0
        drop = self.fam.frames_for_latent(1, self.loaded.configs) if context else 0
        parts = []
        for start in range(0, total, k):
            if start == 0 or not context:
                parts.append(self._decode(latents[:, :, start:start + k]))
            else:
                parts.append(self._decode(latents[:, :, start - context:start + k])[drop:])
        return np.concatenate(parts)

    def decode_all(self) -> np.ndarray:
        import torch

        latents = self.latent.tensor
        with self.loaded.lock, torch.inference_mode():
            self.fam.vae_tiling(self.loaded.pipe, self.tiling)
            try:
                if self.frames_per_chunk:
                    return self._decode_in_parts(latents, self.frames_per_chunk)
                try:
                    return self._decode(latents)
                except Exception as exc:
                    if not is_out_of_memory(exc):
                        raise
                free_memory()
                if not self.tiling:
                    self.warn("out of memory while decoding; retrying with VAE tiling")
                    self.tiling = True
                    self.fam.vae_tiling(self.loaded.pipe, True)
                    try:
                        return self._decode(latents)
                    except Exception as exc:
                        if not is_out_of_memory(exc):
                            raise
                    free_memory()
                k = max(1, latents.shape[2] // 2)
                while True:
                    self.warn(f"out of memory while decoding; retrying {k} latent frame(s) at a time")
                    try:
                        result = self._decode_in_parts(latents, k)
                        self.frames_per_chunk = k
                        return result
                    except Exception as exc:
                        if not is_out_of_memory(exc):
                            raise
                    free_memory()
                    if k == 1:
                        raise UsageError("out of memory even decoding one latent frame at a time; set model.load "
                                         "offload to 'model' or decode a smaller latent")
                    k //= 2
            finally:
                self.fam.vae_tiling(self.loaded.pipe, self.default_tiling)

    def _streamed(self) -> Iterator[np.ndarray]:
        """The family's piece-by-piece decode, in blocks of about CHUNK_FRAMES frames; if memory runs out part
        way, the rest comes from `decode_all` (with its tiling and smaller-part fallbacks)."""
        import torch

        emitted, pending = 0, []
        pieces = started = None
        while True:
            try:
                with self.loaded.lock, torch.inference_mode():  # held per piece: another clip may stream in between
                    if started is None:
                        started = pieces = self.fam.decode_stream(self.loaded.pipe, self.latent.tensor,
                                                                  self.latent.meta)
                    piece = next(pieces, None) if pieces is not None else None
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                free_memory()
                pieces = None
            if pieces is None:  # this VAE cannot stream (its tiling is on, say), or memory ran out part way
                yield from self._whole(skip=emitted)  # what was pending is made again, with the rest
                return
            if piece is not None:
                pending.append(to_uint8(piece))
            if pending and (piece is None or sum(len(p) for p in pending) >= CHUNK_FRAMES):
                block = pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending = []
                emitted += len(block)
                yield block
            if piece is None:
                return

    def _whole(self, skip: int = 0) -> Iterator[np.ndarray]:
        frames = self.decode_all()
        for start in range(skip, len(frames), CHUNK_FRAMES):
            yield frames[start:start + CHUNK_FRAMES]

    def stream(self) -> Iterator[np.ndarray]:
        if not self.fam.framewise_decode and not self.frames_per_chunk and not self.tiling:
            yield from self._streamed()
            return
        if self.fam.framewise_decode and not self.frames_per_chunk:
            self.frames_per_chunk = CHUNK_FRAMES
        if self.fam.framewise_decode:
            total = self.latent.tensor.shape[2]
            step = self.frames_per_chunk
            for start in range(0, total, step):
                part = Latent(self.latent.family, self.latent.tensor[:, :, start:start + step], self.latent.fps,
                              self.latent.width, self.latent.height, 0, meta=self.latent.meta)
                yield Decoder(self.fam, self.loaded, part, "on" if self.tiling else "off", self.warn,
                              self.default_tiling).decode_all()
            return
        yield from self._whole()


class LatentDecode(Node):
    """Decode a latent into video frames with the model's VAE (when the frames are pulled), and its sound for
    families that make sound (LTX-2)."""

    type_id = "latent.decode"
    widgets = ("fps",)
    category = "Rendering"
    title = "Decode Latent"
    inputs = (Port("model", MODEL), Port("latent", LATENT))
    outputs = (Port("video", VIDEO),)
    outputs += (Port("audio", AUDIO, tooltip="The sound, for families that make it (LTX-2); empty for the others, "
                     "which video.save takes as no sound track and video.concat as silence."),)
    params = (
        Param("tiling", str, default="auto", choices=("auto", "on", "off"),
              tooltip="VAE tiling; auto follows model.load and turns on by itself when memory runs out."),
        Param("fps", float, default=0.0, min=0.0, max=240.0, tooltip="Frame rate; 0 means the family's native rate."),
    )

    def run(self, ctx: NodeContext, model: ModelHandle, latent: Latent, *, tiling: str, fps: float) -> dict:
        fam = adapter(model.family)
        if latent.family != model.family:
            raise UsageError(f"the latent was sampled by a {latent.family} model but this model is "
                             f"{model.family}; decode it with a {latent.family} model")
        loaded = model.acquire(ctx)
        decoder = Decoder(fam, loaded, latent, tiling, ctx.warn, model.vae_tiling)

        def source() -> Iterator[np.ndarray]:
            current = model.acquire(ctx)
            decoder.loaded = current
            yield from decoder.stream()

        frames = fam.frames_for_latent(latent.tensor.shape[2], loaded.configs)
        video = Video(source, fps=fps or latent.fps or fam.native_fps, width=latent.width, height=latent.height,
                      frame_count=frames)
        video.same_thread = True  # decoded under the model's lock, which a sampler pulling these frames may hold
        # decoded once: a second consumer, or a later run that changes only what is downstream, reuses the frames
        return {"video": video.computed_once(KEEP_DECODED_BYTES), "audio": decode_sound(fam, loaded, latent)}


def decode_sound(fam, loaded, latent: Latent):
    """The latent's sound as an Audio value (decoded now: it is small beside the picture), or None (no sound, as
    video.load gives for a silent file) when the family makes none."""
    if not fam.sound or latent.audio is None:
        return None
    import torch

    from nodegraph.api import Audio

    with loaded.lock, torch.inference_mode():
        samples, rate = fam.decode_audio(loaded.pipe, latent.audio)
    return Audio.from_array(samples, rate)
