"""video.upscale and image.upscale: a learned upscaler over frames, tiled, batched and streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from nodegraph.api import (
    DEFAULT_CHUNK,
    IMAGE,
    UPSCALE_MODEL,
    VIDEO,
    Image,
    Node,
    NodeContext,
    Param,
    Port,
    UsageError,
    Video,
)

from .loading import UpscaleModel
from .tiling import (
    MIN_TILE,
    TilePlan,
    bytes_per_input_pixel,
    is_out_of_memory,
    memory_budget,
    release_memory,
    run_tiled,
)

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
MAX_SIDE = 16384
MAX_BATCH = 8
PREVIEW_SECONDS = 0.5


def output_size(width: int, height: int, model: UpscaleModel, scale: float) -> tuple[int, int]:
    factor = scale or model.scale
    return max(1, round(width * factor)), max(1, round(height * factor))


def resolve_device(device: str) -> str:
    import torch

    if device in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_precision(precision: str, model: UpscaleModel, device: str):
    import torch

    if precision == "auto":
        if device.startswith("cuda"):
            if model.supports_half:
                return torch.float16
            if model.supports_bfloat16 and torch.cuda.is_bf16_supported():
                return torch.bfloat16
        return torch.float32
    if precision == "fp16" and not model.supports_half:
        raise UsageError(f"{model.name} ({model.architecture}) does not run in fp16; set precision to fp32 or auto")
    if precision == "bf16" and not model.supports_bfloat16:
        raise UsageError(f"{model.name} ({model.architecture}) does not run in bf16; set precision to fp32 or auto")
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


class FrameUpscaler:
    """Upscales chunks of uint8 frames through one model: batched, tiled, finding its tile size when asked."""

    def __init__(self, ctx: NodeContext, model: UpscaleModel, width: int, height: int, *, tile: int, overlap: int,
                 scale: float, precision: str):
        import torch

        self.ctx = ctx
        self.model = model
        self.width, self.height = width, height
        self.out_size = output_size(width, height, model, scale)
        self.overlap = overlap
        self.device = resolve_device(ctx.device)
        self.dtype = resolve_precision(precision, model, self.device)
        self.upscaler = model.acquire(ctx)
        element = torch.empty((), dtype=self.dtype).element_size()
        self.pixel_cost = bytes_per_input_pixel(self.upscaler.descriptor.model, model.scale, element)
        self.plan = self._first_plan(tile)
        self.announced = False
        self.last_preview = 0.0

    def _first_plan(self, tile: int) -> TilePlan:
        budget = memory_budget(self.device)
        if tile:
            return TilePlan(tile, self._batch_for(tile, budget), automatic=False)
        side = max(self.width, self.height)
        if self.model.tiling != "supported" or self.pixel_cost * self.width * self.height <= budget:
            return TilePlan(0, self._batch_for(0, budget), automatic=True)
        tile = MIN_TILE
        while tile * 2 < side and self.pixel_cost * (tile * 2) ** 2 <= budget:
            tile *= 2
        return TilePlan(tile, self._batch_for(tile, budget), automatic=True)

    def _batch_for(self, tile: int, budget: int) -> int:
        pixels = tile * tile if tile else self.width * self.height
        return int(max(1, min(MAX_BATCH, budget // max(1, self.pixel_cost * pixels))))

    def _shrink(self, exc: BaseException, tried: int) -> None:
        """Out of memory with `tried` frames at a time: half as many, then half the tile; past the smallest tile,
        say what to do."""
        plan = self.plan
        release_memory(self.device)
        if tried > 1:
            plan.batch = tried // 2
            return
        side = plan.tile or max(self.width, self.height)
        if not plan.automatic or side // 2 < max(MIN_TILE, self.model.minimum):
            hint = "set tile to 0 (automatic)" if not plan.automatic else "use a smaller clip or another device"
            raise UsageError(f"out of memory upscaling {self.width}x{self.height} frames with "
                             f"{f'{side} px tiles' if plan.tile else 'whole frames'} on {self.device}; {hint}") \
                from exc
        plan.tile = side // 2

    def upscale(self, frames: np.ndarray) -> Iterator[np.ndarray]:
        """Yield the upscaled frames of a (k, H, W, 3) uint8 chunk, a batch at a time, shaped (b, H', W', 3)."""
        import torch

        start = 0
        while start < len(frames):
            count = min(self.plan.batch, len(frames) - start)
            try:
                with torch.inference_mode():
                    out = self._run(frames[start:start + count])
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                self._shrink(exc, count)
                continue
            if self.plan.automatic and not self.announced:
                self.announced = True
                self.ctx.info(f"automatic tile: {self.tile_text()}, {self.plan.batch} frame(s) at a time")
            start += count
            yield out

    def tile_text(self) -> str:
        return f"{self.plan.tile} px" if self.plan.tile else "whole frame"

    def _preview_partial(self, out, total) -> None:
        """While a frame's tiles come in, show the part done so far (at most every PREVIEW_SECONDS)."""
        import time

        import torch

        now = time.monotonic()
        if not self.ctx.wants_previews or now - self.last_preview < PREVIEW_SECONDS:
            return
        self.last_preview = now
        step = max(1, max(out.shape[-2:]) // 256)
        partial = (out[0, :, ::step, ::step] / total[0, :, ::step, ::step].clamp(min=1e-6)).clamp(0, 1)
        snapshot = partial.mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()  # a copy of its own
        self.ctx.preview(snapshot)

    def _run(self, frames: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2)
        x = x.to(self.dtype).div_(255)
        y = run_tiled(lambda t: self.upscaler(t, self.device, self.dtype), x, self.model.scale, self.plan.tile,
                      self.overlap, self.ctx.check_cancelled, self._preview_partial)
        w, h = self.out_size
        if y.shape[-2:] != (h, w):
            y = F.interpolate(y.float(), size=(h, w), mode="bicubic", align_corners=False, antialias=True)
        y = y.float().clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return y.permute(0, 2, 3, 1).cpu().numpy()


TILE_TIP = ("Tile size in input pixels; 0 = automatic: the largest tile that fits the device's free memory "
            "(the whole frame when it fits), halved on out-of-memory.")
OVERLAP_TIP = "Pixels neighbouring tiles share; their outputs cross-fade there so no seam shows."
SCALE_TIP = ("Output size factor; 0 = the model's own. Otherwise the model's output is resampled to this "
             "factor (a x4 model serving a x2 target).")
PRECISION_TIP = "auto: fp16 (or bf16) on a GPU where the model supports it, fp32 on the CPU."

UPSCALE_PARAMS = (
    Param("tile", int, default=0, min=0, max=MAX_SIDE, step=64, tooltip=TILE_TIP),
    Param("overlap", int, default=32, min=0, max=512, step=8, tooltip=OVERLAP_TIP),
    Param("scale", float, default=0.0, min=0.0, max=16.0, step=0.5, tooltip=SCALE_TIP),
    Param("precision", str, default="auto", choices=PRECISIONS, tooltip=PRECISION_TIP),
)


def check_tiling(params: dict[str, Any]) -> list[str]:
    tile, overlap = params.get("tile", 0), params.get("overlap", 0)
    problems = []
    if 0 < tile < MIN_TILE:
        problems.append(f"tile {tile} is below {MIN_TILE} px; use 0 (automatic) or at least {MIN_TILE}")
    elif tile and overlap * 2 >= tile:
        problems.append(f"overlap {overlap} is half the tile ({tile}) or more; use an overlap below {tile // 2}")
    return problems


def check_upscale(model: UpscaleModel | None, width: int, height: int, tile: int, scale: float, what: str):
    if model is None:
        raise UsageError(f"{what} needs a model on its 'model' input; connect an upscale.load")
    w, h = output_size(width, height, model, scale)
    if max(w, h) > MAX_SIDE:
        raise UsageError(f"upscaling {width}x{height} gives {w}x{h}, larger than {MAX_SIDE} pixels a side; "
                         "set a smaller scale")
    if tile and model.tiling == "internal":
        raise UsageError(f"{model.name} ({model.architecture}) tiles internally; set tile to 0")
    if tile and tile < model.minimum:
        raise UsageError(f"{model.name} needs input tiles of at least {model.minimum} px; set tile to "
                         f"{model.minimum} or more, or 0")
    return w, h


class _ModelUpscale(Node):
    """What video.upscale and image.upscale share: category, params and their checks."""

    category = "Upscaling"
    params = UPSCALE_PARAMS

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[str]:
        return check_tiling(params)


class UpscaleVideo(_ModelUpscale):
    """Upscale every frame with a learned model, tiled and streamed in chunks."""

    type_id = "video.upscale"
    widgets = ("scale", "tile")
    title = "Upscale Video (model)"
    inputs = (Port("video", VIDEO), Port("model", UPSCALE_MODEL))
    outputs = (Port("video", VIDEO),)

    def run(self, ctx: NodeContext, *, video: Video, model: UpscaleModel, tile: int, overlap: int, scale: float,
            precision: str) -> dict:
        if video is None:
            raise UsageError("video.upscale needs a video on its 'video' input; connect one")
        w, h = check_upscale(model, video.width, video.height, tile, scale, "video.upscale")
        settings = dict(tile=tile, overlap=overlap, scale=scale, precision=precision)

        def source() -> Iterator[np.ndarray]:
            engine = FrameUpscaler(ctx, model, video.width, video.height, **settings)
            for block in video.chunks(DEFAULT_CHUNK):
                for out in engine.upscale(block):
                    yield from (out[i:i + 1] for i in range(len(out)))  # a frame at a time: progress per frame

        return {"video": video.with_source(source, width=w, height=h)}


class UpscaleImage(_ModelUpscale):
    """Upscale a picture with a learned model, tiled."""

    type_id = "image.upscale"
    widgets = ("scale",)
    title = "Upscale Image (model)"
    inputs = (Port("image", IMAGE), Port("model", UPSCALE_MODEL))
    outputs = (Port("image", IMAGE),)

    def run(self, ctx: NodeContext, *, image: Image, model: UpscaleModel, tile: int, overlap: int, scale: float,
            precision: str) -> dict:
        if image is None:
            raise UsageError("image.upscale needs an image on its 'image' input; connect one")
        check_upscale(model, image.width, image.height, tile, scale, "image.upscale")
        engine = FrameUpscaler(ctx, model, image.width, image.height, tile=tile, overlap=overlap, scale=scale,
                               precision=precision)
        ctx.progress(0, 1)
        out = np.concatenate(list(engine.upscale(image.array[None])))[0]
        ctx.progress(1, 1)
        ctx.preview(out)
        return {"image": Image(out)}
