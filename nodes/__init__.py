"""Kinograph's built-in node library.

Each sub-package has one job and a `register(registry)` function. Heavy libraries
(torch, diffusers, cv2, av) are imported inside functions, never at module import.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger("kinograph.nodes")

PACKS = ("values", "io", "video", "motion", "diffusion", "evaluation", "upscale")
PACKS += ("audio",)


def register(registry) -> None:
    """Register every built-in node pack that is present."""
    for name in PACKS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
            module.register(registry)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # pack not part of this build
            _report(registry, name, exc)
        except Exception as exc:  # one broken pack must not take the others down
            _report(registry, name, exc)


def _report(registry, name: str, exc: Exception) -> None:
    message = f"built-in node pack {name!r} failed to load: {type(exc).__name__}: {exc}"
    log.warning(message)
    errors = getattr(registry, "pack_errors", None)
    if errors is not None:
        errors.append(message)
