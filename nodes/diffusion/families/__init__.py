"""Model family adapters, and finding the family of a model from its files."""

from __future__ import annotations

import importlib

from .base import MODE_NAMES, MODES, FamilyAdapter, SampleInfo, SizeRules

FAMILIES = ("wan", "ltx", "cogvideox", "animatediff", "svd")
# control and newer families (issue 18)
FAMILIES += ("wan_vace", "hunyuan_video15")
FAMILIES += ("ltx2",)  # LTX-2: picture and sound

_loaded: dict[str, FamilyAdapter] = {}


def adapter(name: str) -> FamilyAdapter:
    """The adapter of family `name` (one of FAMILIES)."""
    if name not in FAMILIES:
        raise KeyError(f"unknown model family {name!r}; known families: {', '.join(FAMILIES)}")
    if name not in _loaded:
        _loaded[name] = importlib.import_module(f"{__name__}.{name}").ADAPTER
    return _loaded[name]


def family_of_class(class_name: str) -> str | None:
    """The family whose pipelines include `class_name` (model_index.json `_class_name`)."""
    for name in FAMILIES:
        if class_name in adapter(name).detect_names:
            return name
    return None


__all__ = ["FAMILIES", "MODES", "MODE_NAMES", "FamilyAdapter", "SampleInfo", "SizeRules", "adapter",
           "family_of_class"]
