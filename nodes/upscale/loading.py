"""upscale.load: an upscale model file read without unpickling code, its architecture detected by spandrel."""

from __future__ import annotations

import os
import pickle
import threading
from dataclasses import dataclass, field
from typing import Any

from nodegraph.api import (
    UPSCALE_MODEL,
    Node,
    NodeContext,
    Param,
    Port,
    UsageError,
    file_fingerprint,
    parameter_nbytes,
)

SAFE_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
FILE_FILTER = "Upscale models (*.safetensors *.pth *.pt *.ckpt)"


def import_spandrel():
    """spandrel, or one line saying what to install."""
    try:
        import spandrel
    except ModuleNotFoundError as exc:
        if exc.name == "spandrel":
            raise UsageError("learned upscaling needs spandrel, which is not installed; "
                             "install it with: pip install 'kinograph[upscale]'") from None
        if (exc.name or "").split(".")[0] == "torchvision":
            raise UsageError(_torchvision_advice("torchvision is not installed")) from None
        raise
    except (ImportError, RuntimeError) as exc:  # a torchvision built for another torch fails while importing
        raise UsageError(_torchvision_advice(f"torchvision does not load ({exc})")) from None
    return spandrel


def _torchvision_advice(problem: str) -> str:
    import torch

    return (f"spandrel needs torchvision, and {problem}; install the torchvision build made for your torch "
            f"{torch.__version__} (the two are released as a pair: install them from the same index)")


def read_state_dict(path: str) -> dict:
    """The tensors of a weights file: safetensors as is, pickled checkpoints only through weights_only loading."""
    import torch

    name = os.path.basename(path)
    suffix = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise UsageError(f"upscale model file {path!r} does not exist; check the path")
    if suffix in SAFE_SUFFIXES:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(path, device="cpu")
        except (SafetensorError, OSError) as exc:
            raise UsageError(f"{name} is not a readable safetensors file ({exc}); download it again") from None
    if suffix not in PICKLE_SUFFIXES:
        raise UsageError(f"{name} is not a model file Kinograph reads; use a .safetensors (preferred) or "
                         f"{'/'.join(PICKLE_SUFFIXES)} file")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{name} holds more than tensors and is not unpickled (weights-only loading refused it: "
                         f"{first}); use the model's .safetensors file") from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise UsageError(f"{name} is not a readable checkpoint ({exc}); download it again") from None
    if not isinstance(loaded, dict):
        raise UsageError(f"{name} holds a {type(loaded).__name__}, not a state dict of weights; "
                         "use the model's .safetensors file")
    return loaded


def supported_architectures(spandrel) -> str:
    names = sorted({support.architecture.name for support in spandrel.MAIN_REGISTRY.architectures()})
    return ", ".join(names)


@dataclass(eq=False)
class LoadedUpscaler:
    """A spandrel model in the resource cache, moved to the device and precision each call asks for."""

    descriptor: Any
    placement: tuple = ("cpu", None)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def resource_nbytes(self) -> int:
        return parameter_nbytes(self.descriptor.model)

    def __call__(self, batch, device: str, dtype):
        """Upscale a (B, C, H, W) batch in [0, 1] (already on `device` in `dtype`)."""
        with self.lock:
            if self.placement != (device, dtype):
                self.descriptor.to(device).to(dtype)
                self.placement = (device, dtype)
            return self.descriptor(batch)


def load_upscaler(path: str) -> LoadedUpscaler:
    spandrel = import_spandrel()
    name = os.path.basename(path)
    state_dict = read_state_dict(path)
    try:
        descriptor = spandrel.ModelLoader(device="cpu").load_from_state_dict(state_dict)
    except spandrel.UnsupportedModelError:
        raise UsageError(f"{name} is not a model architecture spandrel knows; it reads "
                         f"{supported_architectures(spandrel)}") from None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise UsageError(f"{name} is a {descriptor.architecture.name} model for {descriptor.purpose}, which needs "
                         "a mask; upscale.load takes super-resolution and restoration models")
    if descriptor.input_channels != 3 or descriptor.output_channels != 3:
        raise UsageError(f"{name} takes {descriptor.input_channels} and gives {descriptor.output_channels} "
                         "channels; Kinograph upscales RGB frames, so it needs a 3-channel model")
    descriptor.eval()
    return LoadedUpscaler(descriptor, ("cpu", descriptor.dtype))


@dataclass(frozen=True, eq=False)
class UpscaleModel:
    """What upscale.load outputs: the model's facts, and how to get the loaded model from the resource cache."""

    key: str
    path: str
    architecture: str
    scale: int
    minimum: int
    multiple_of: int
    square: bool
    tiling: str  # supported | discouraged | internal
    supports_half: bool
    supports_bfloat16: bool

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def size_rule(self) -> str:
        rules = []
        if self.minimum > 1:
            rules.append(f"at least {self.minimum} px")
        if self.multiple_of > 1:
            rules.append(f"sides a multiple of {self.multiple_of} (padded)")
        if self.square:
            rules.append("square input (padded)")
        return ", ".join(rules) or "any size"

    def describe(self) -> str:
        return f"{self.name}: {self.architecture}, x{self.scale}, input {self.size_rule}, tiling {self.tiling}"

    def acquire(self, ctx: NodeContext) -> LoadedUpscaler:
        if ctx.resources is None:
            return load_upscaler(self.path)
        return ctx.resources.get_or_load(self.key, lambda: load_upscaler(self.path))

    def cache_nbytes(self) -> int:
        return 0  # the weights live in the resource cache

    def __repr__(self) -> str:
        return f"UpscaleModel({self.describe()})"


def describe_upscaler(path: str, key: str, loaded: LoadedUpscaler) -> UpscaleModel:
    d = loaded.descriptor
    req = d.size_requirements
    return UpscaleModel(key=key, path=path, architecture=d.architecture.name, scale=int(d.scale),
                        minimum=int(req.minimum), multiple_of=int(req.multiple_of), square=bool(req.square),
                        tiling=d.tiling.name.lower(), supports_half=bool(d.supports_half),
                        supports_bfloat16=bool(d.supports_bfloat16))


class LoadUpscaleModel(Node):
    """Load an upscale model file (ESRGAN, Real-ESRGAN, SwinIR, DAT, OmniSR, ... as spandrel detects it)."""

    type_id = "upscale.load"
    widgets = ("source",)
    category = "Upscaling"
    title = "Load Upscale Model"
    outputs = (Port("model", UPSCALE_MODEL),)
    params = (
        Param("source", str, default="", kind="path", file_filter=FILE_FILTER, models=("upscale_models",),
              tooltip="The model file (or its name in the models folder's upscale_models/): .safetensors "
                      "preferred; .pth/.pt/.ckpt are read with weights-only loading (no code is unpickled)."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[str]:
        if not params.get("source"):
            return ["source is empty; set it to an upscale model file (.safetensors or .pth)"]
        return []

    @classmethod
    def fingerprint(cls, params: dict[str, Any]) -> Any:
        return file_fingerprint(params.get("source", ""))

    def run(self, ctx: NodeContext, *, source: str) -> dict:
        fingerprint = file_fingerprint(source)
        key = f"upscale:{os.path.abspath(source)}:{fingerprint}"
        if ctx.resources is not None:
            loaded = ctx.resources.get_or_load(key, lambda: load_upscaler(source))
        else:
            loaded = load_upscaler(source)
        model = describe_upscaler(source, key, loaded)
        ctx.info(model.describe())
        return {"model": model}
