"""Cheap live previews: a linear latent-to-RGB map, fitted once per model from a colour chart.

The chart (solid colour blocks) goes through the model's own VAE encoder once; a least-squares fit
from latent channels to the block colours then turns every step's latents into a rough RGB clip with
one small matrix product, far below the cost of a denoising step.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("kinograph.diffusion")

PREVIEW_SIDE = 256
_PALETTE = np.array([
    [0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255],
    [255, 0, 255], [128, 128, 128], [64, 32, 16], [200, 120, 60], [40, 120, 200], [120, 200, 80],
    [230, 180, 200], [90, 60, 140], [20, 80, 60],
], dtype=np.float32) / 255.0


def colour_chart(block: int) -> np.ndarray:
    """A 4x4 grid of solid colour blocks, float RGB in [0, 1], shaped (4*block, 4*block, 3)."""
    grid = _PALETTE.reshape(4, 4, 3)
    return np.repeat(np.repeat(grid, block, axis=0), block, axis=1)


def fit_preview_map(adapter, pipe, configs: dict) -> np.ndarray:
    """(C + 1, 3) weights mapping sampling-space latent channels (plus a bias) to RGB in [0, 1]."""
    import torch

    block = max(8, adapter.size_rules(configs).multiple) * 2
    chart = colour_chart(block)
    pixels = torch.from_numpy(chart).permute(2, 0, 1)[None, :, None] * 2.0 - 1.0
    with torch.inference_mode():
        z = adapter.encode_pixels(pipe, pixels).float().cpu()[0, :, 0]  # (C, h, w)
    c, h, w = z.shape
    target = torch.nn.functional.interpolate(torch.from_numpy(chart).permute(2, 0, 1)[None], size=(h, w),
                                             mode="area")[0]
    x = torch.cat([z.reshape(c, -1).T, torch.ones(h * w, 1)], dim=1).double()
    y = target.reshape(3, -1).T.double()
    ridge = 1e-3 * torch.eye(c + 1, dtype=torch.float64)
    weights = torch.linalg.solve(x.T @ x + ridge, x.T @ y)
    return weights.float().numpy()


def preview_clip(latents: np.ndarray, weights: np.ndarray | None, repeats: list[int], scale: int) -> np.ndarray:
    """A uint8 clip (F, H, W, 3) from float latents (1, C, T, h, w): every frame, at preview size."""
    z = latents[0]  # (C, T, h, w)
    if weights is not None and weights.shape[0] == z.shape[0] + 1:
        rgb = np.einsum("cthw,ck->thwk", z, weights[:-1]) + weights[-1]
    else:  # no fit: show the first three channels, stretched
        first = np.moveaxis(z[:3], 0, -1)
        lo, hi = float(first.min()), float(first.max())
        rgb = (first - lo) / (hi - lo + 1e-6)
    frames = (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if len(repeats) == frames.shape[0] and any(r != 1 for r in repeats):
        frames = np.repeat(frames, repeats, axis=0)
    if scale > 1:
        frames = np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)
    return np.ascontiguousarray(frames)


def preview_scale(latent_h: int, latent_w: int, factor: int) -> int:
    return max(1, min(factor, PREVIEW_SIDE // max(latent_h, latent_w, 1)))


def ensure_preview_map(loaded, adapter) -> np.ndarray | None:
    """The model's latent-to-RGB fit, made on first use and kept with the loaded model."""
    if loaded.preview_map is None:
        try:
            loaded.preview_map = fit_preview_map(adapter, loaded.pipe, loaded.configs)
        except Exception as exc:  # previews are best effort; sampling must go on
            log.debug("preview calibration failed for %s: %s", adapter.name, exc)
            loaded.preview_map = False
    return loaded.preview_map if loaded.preview_map is not False else None
