"""Test-only stand-in for the few torchvision names spandrel imports when it is imported.

spandrel imports torchvision at import time (two of its architectures, LaMa and RestoreFormer, take
`InterpolationMode`, `rotate` and `normalize` from `torchvision.transforms.functional`). On a user's machine
torchvision is installed beside a matching torch and this module is never used. On the CI machines the CPU
build of torch has no torchvision that loads, so the tests import spandrel through `import_spandrel()`:
when torchvision cannot be imported, these stand-ins are put in `sys.modules` just long enough for spandrel's
import, then removed again, so nothing else (transformers, diffusers) ever sees a torchvision. Every spandrel
code path the tests use (loading, architecture detection, ESRGAN and Compact inference) is spandrel's own.
Not shipped: the product imports spandrel plainly and says how to install torchvision when it is missing.
"""

from __future__ import annotations

import enum
import importlib
import sys
import types

STANDIN_NAMES = ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel, as torchvision's normalize does for a (..., C, H, W) tensor."""
    import torch

    mean = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    return tensor.sub_(mean).div_(std) if inplace else (tensor - mean) / std


def rotate(*args, **kwargs):
    raise NotImplementedError("the test stand-in for torchvision does not rotate; LaMa models need torchvision")


def torchvision_loads() -> bool:
    try:
        importlib.import_module("torchvision")
    except Exception:  # not installed, or installed for another torch ("operator torchvision::nms does not exist")
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        return False
    return True


def import_spandrel():
    """Import spandrel, with the stand-in in place only while it imports and only if torchvision does not load."""
    if "spandrel" in sys.modules or torchvision_loads():
        return importlib.import_module("spandrel")
    functional = types.ModuleType("torchvision.transforms.functional")
    functional.InterpolationMode = InterpolationMode
    functional.normalize = normalize
    functional.rotate = rotate
    transforms = types.ModuleType("torchvision.transforms")
    transforms.functional = functional
    root = types.ModuleType("torchvision")
    root.transforms = transforms
    modules = dict(zip(STANDIN_NAMES, (root, transforms, functional), strict=True))
    sys.modules.update(modules)
    try:
        return importlib.import_module("spandrel")
    finally:
        for name in STANDIN_NAMES:
            if sys.modules.get(name) is modules[name]:
                del sys.modules[name]
