"""Tiled inference with feathered overlaps, and the automatic tile size: try, halve on out-of-memory.

Tiles overlap by `overlap` input pixels. Each tile's output is weighted by a ramp that rises across the overlap
on the sides it shares with a neighbour (and stays flat on the frame's own edges), and the sum is divided by
the summed weights, so neighbouring tiles cross-fade instead of meeting at a seam.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass

MIN_TILE = 32
CPU_BUDGET_SHARE = 0.5  # of the memory the system says is available
GPU_BUDGET_SHARE = 0.8  # of the device's free memory


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of `tile` pixels covering `length`, neighbours overlapping by at least `overlap`
    (the last one by more, so that it ends at the edge)."""
    if tile >= length:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def ramp(torch, size: int, feather: int, rise: bool, fall: bool, device):
    """1-D weights over a tile's output: rising across `feather` pixels at a side shared with a neighbour, falling at
    a shared end. The outer quarter of the overlap gets no weight (the model saw no context there), the middle
    half rises linearly, so two neighbours' weights always sum to at least one."""
    weight = torch.ones(size, device=device)
    feather = min(feather, size // 2)
    if feather > 0:
        position = (torch.arange(feather, device=device, dtype=torch.float32) + 0.5) / feather
        edge = ((position - 0.25) / 0.5).clamp_(0, 1)
        if rise:
            weight[:feather] = edge
        if fall:
            weight[size - feather:] = edge.flip(0)
    return weight


def is_out_of_memory(exc: BaseException) -> bool:
    """An accelerator's out-of-memory error, or the CPU allocator's refusal."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "not enough memory" in text)


def release_memory(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def memory_budget(device: str) -> int:
    """Bytes an upscale may use on `device`: a share of what is free now."""
    import torch

    if device.startswith("cuda"):
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        reserved_idle = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int((free + reserved_idle) * GPU_BUDGET_SHARE)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(int(line.split()[1]) * 1024 * CPU_BUDGET_SHARE)
    except OSError:
        pass
    pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(pages * CPU_BUDGET_SHARE)


def bytes_per_input_pixel(module, scale: int, element_size: int) -> int:
    """A generous estimate of the activation memory one input pixel costs: the widest layer's features, held
    twice (a layer's input and output), at the output resolution."""
    widest = 3
    for param in module.parameters():
        if param.ndim >= 2:
            widest = max(widest, int(param.shape[0]))
    return 2 * widest * element_size * (scale * scale + 1)


@dataclass
class TilePlan:
    """How a batch goes through the model: `tile` input pixels a side (0 = the whole frame), `batch` frames."""

    tile: int
    batch: int
    automatic: bool


def run_tiled(model: Callable, x, scale: int, tile: int, overlap: int, check_cancelled: Callable[[], None],
              on_tile: Callable | None = None):
    """`model` over a (B, C, H, W) batch in tiles of `tile` pixels (0 = whole), blended over `overlap` pixels.
    `on_tile(out, total)` is called after each tile with the weighted sum so far and its weights."""
    import torch

    _, channels, height, width = x.shape
    if tile == 0 or (tile >= height and tile >= width):
        check_cancelled()
        return model(x)
    th, tw = min(tile, height), min(tile, width)
    ys, xs = tile_starts(height, th, overlap), tile_starts(width, tw, overlap)
    out = torch.zeros((x.shape[0], channels, height * scale, width * scale), device=x.device, dtype=torch.float32)
    total = torch.zeros((1, 1, height * scale, width * scale), device=x.device, dtype=torch.float32)
    feather = overlap * scale
    for y in ys:
        wy = ramp(torch, th * scale, feather, y > 0, y + th < height, x.device)
        for x0 in xs:
            check_cancelled()
            piece = model(x[:, :, y:y + th, x0:x0 + tw]).float()
            wx = ramp(torch, tw * scale, feather, x0 > 0, x0 + tw < width, x.device)
            weight = wy[:, None] * wx[None, :]
            rows, cols = slice(y * scale, (y + th) * scale), slice(x0 * scale, (x0 + tw) * scale)
            out[:, :, rows, cols] += piece * weight
            total[:, :, rows, cols] += weight
            if on_tile is not None:
                on_tile(out, total)
    return out / total

