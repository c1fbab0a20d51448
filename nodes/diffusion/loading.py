"""model.load: a diffusers pipeline from a folder, a Hugging Face id or a single checkpoint file."""

from __future__ import annotations

import re
from pathlib import Path

from nodegraph.api import MODEL, MissingModelError, Node, NodeContext, Param, Port, UsageError

from . import catalog
from .families import FAMILIES, adapter
from .files import build_pipeline, file_problems, resolve_config
from .quantization import FP8_STORAGE
from .values import LoadedModel, ModelHandle

DTYPES = ("auto", "bfloat16", "float16", "float32", FP8_STORAGE)
OFFLOADS = ("none", "model", "sequential", "group")


def resolve_device(device: str) -> str:
    import torch

    if device in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(name: str, device: str):
    import torch

    if name == FP8_STORAGE:  # stored in fp8, computed in bf16
        return torch.bfloat16
    if name == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, name)


def pipeline_dtype(dtype) -> dict:
    """The dtype keyword for a pipeline's from_pretrained. diffusers 0.40 renamed it from torch_dtype to dtype and
    warns about the old name on every load; older releases know only torch_dtype. (Single models keep
    torch_dtype.)"""
    import diffusers

    release = tuple(int(part) for part in re.findall(r"\d+", diffusers.__version__)[:2])
    return {"dtype": dtype} if release >= (0, 40) else {"torch_dtype": dtype}


def _missing(model_id: str, why: str, pipeline: bool) -> MissingModelError:
    return MissingModelError(f"model {model_id!r} is not on this machine ({why}); fetch it with: "
                             f"{catalog.fetch_command(model_id, pipeline)}")


def fetch_folder(source: str, ctx: NodeContext | None, pipeline: bool = True) -> Path:
    """The local folder of `source`, downloading a Hugging Face id when allowed."""
    path = Path(source).expanduser()
    if path.exists():
        return path
    if not catalog.is_hf_id(source):
        raise UsageError(f"model source {source!r} is neither a folder, a file nor a Hugging Face id "
                         "(owner/name); check the path")
    cached = catalog.cached_snapshot(source)
    if cached is not None:
        return cached
    if catalog.offline():
        raise _missing(source, "not in the local Hugging Face cache and HF_HUB_OFFLINE is set", pipeline)
    unreachable = hub_unreachable()
    if unreachable:
        raise _missing(source, f"the Hugging Face Hub could not be reached ({unreachable}): check the network, or "
                               "fetch it on a machine that can", pipeline)
    try:
        return download(source, ctx)
    except Exception as exc:  # not found, no network, gated: all mean the weights are not here
        raise _missing(source, download_problem(exc), pipeline) from exc


def hub_unreachable() -> str | None:
    """Why the Hugging Face Hub cannot be reached (no network, no name lookup, refused, timed out), or None.
    One quick request: the hub client retries a failed connection for 20 s or more before it gives up, printing a
    warning for every try. Any answer, an error status included, counts as reachable."""
    import httpx
    from huggingface_hub import constants

    try:
        httpx.head(constants.ENDPOINT, timeout=HUB_PROBE_TIMEOUT_S)
    except httpx.TransportError as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def download_problem(exc: Exception) -> str:
    """One line on why a download failed and what to do (the hub's own messages run to several lines)."""
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    if isinstance(exc, GatedRepoError):
        return "it is gated: accept its terms on its Hugging Face page, then log in with `hf auth login`"
    if isinstance(exc, RepositoryNotFoundError):
        return ("the Hugging Face Hub has no model by that id, or it is private: check the id, or log in with "
                "`hf auth login`")
    if isinstance(exc, (LocalEntryNotFoundError, ConnectionError, TimeoutError)) or any(
            word in type(exc).__name__ for word in ("Connect", "Timeout")):
        return "the Hugging Face Hub could not be reached: check the network, or fetch it on a machine that can"
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"download failed: {type(exc).__name__}" + (f": {first}" if first else "")


HUB_PROBE_TIMEOUT_S = 10.0

# Weights for other frameworks, never read when loading with torch.
IGNORED_DOWNLOADS = ["*.msgpack", "*.h5", "*.onnx", "*.onnx_data", "*.ot"]


def download(model_id: str, ctx: NodeContext | None) -> Path:
    """Fetch what loading `model_id` reads. A pipeline repo gets model_index.json and its component folders,
    not the single-file checkpoints many repos also keep at the top (LTX-Video's alone are tens of GB)."""
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    try:
        hf_hub_download(model_id, "model_index.json")
        patterns = {"allow_patterns": ["model_index.json", "*/*"]}
    except LocalEntryNotFoundError:  # the hub is out of reach: trying the whole repo would only fail again
        raise
    except EntryNotFoundError:  # a single component (a MotionAdapter, say): its files sit at the top
        patterns = {}
    return Path(snapshot_download(model_id, tqdm_class=_progress_bar(ctx), ignore_patterns=IGNORED_DOWNLOADS,
                                  **patterns))


def _progress_bar(ctx: NodeContext | None):
    from tqdm.auto import tqdm

    class NodeProgress(tqdm):
        def update(self, n=1):
            out = super().update(n)
            if ctx is not None and self.total:
                ctx.progress(int(self.n), int(self.total))
            return out

    return NodeProgress


def load_model(handle: ModelHandle, ctx: NodeContext) -> LoadedModel:
    """Load the pipeline a handle names, place it on its device and apply its offload mode."""
    import torch

    family = handle.family
    pipe, dtype = build_pipeline(handle, ctx)
    pipe.set_progress_bar_config(disable=True)
    found = catalog.family_of_class(type(pipe).__name__)
    if found is not None and found != family:
        raise UsageError(f"{handle.source!r} is a {found} model, but family is set to {family!r}; "
                         f"set family to {found!r} or auto")
    if family == "animatediff" and getattr(pipe, "motion_adapter", None) is None and "motion_adapter" not in (
            pipe.components):
        raise UsageError("AnimateDiff needs a motion adapter: set motion_adapter (e.g. "
                         "guoyww/animatediff-motion-adapter-v1-5-2) or load a full AnimateDiff pipeline")
    _place(pipe, handle, ctx)
    vae = getattr(pipe, "vae", None)
    if vae is not None:  # asking diffusers each time walks every module (milliseconds per decode)
        vae.kinograph_execution_device = torch.device(handle.device)
        vae.kinograph_dtype = vae.dtype
    if handle.vae_tiling:
        adapter(family).vae_tiling(pipe, True)
    configs = adapter(family).configs_of(pipe)
    index = dict(pipe.config)
    index["_class_name"] = type(pipe).__name__
    modes = adapter(family).model_modes(index, configs)
    return LoadedModel(family=family, pipe=pipe, device=handle.device, dtype=dtype, configs=configs,
                       model_index=index, modes=modes)


def _place(pipe, handle: ModelHandle, ctx: NodeContext) -> None:
    import torch

    if handle.offload == "none" or not handle.device.startswith("cuda"):
        if handle.offload != "none":
            ctx.warn(f"offload {handle.offload!r} is ignored: there is no GPU, the model runs on the CPU")
        pipe.to(handle.device)
    elif handle.offload == "model":
        pipe.enable_model_cpu_offload()
    elif handle.offload == "sequential":
        pipe.enable_sequential_cpu_offload()
    else:
        pipe.enable_group_offload(onload_device=torch.device(handle.device), offload_type="leaf_level")


class ModelLoad(Node):
    """Load a video diffusion model (Wan, LTX-Video, LTX-2, CogVideoX, AnimateDiff, SVD) through diffusers: a Diffusers
    folder or id, one checkpoint file, or separate denoiser, text encoder and VAE files as ComfyUI keeps them."""

    type_id = "model.load"
    widgets = ("source",)
    category = "Conditioning"
    title = "Load Model"
    outputs = (Port("model", MODEL),)
    params = (
        Param("source", str, default="Wan-AI/Wan2.1-T2V-1.3B-Diffusers", kind="path_or_id",
              models=("diffusion_models", "checkpoints", "diffusers"),
              tooltip="A Diffusers-layout folder, a Hugging Face model id, or a checkpoint file (the whole model "
                      "or its denoiser: .safetensors, fp8, GGUF); a name from the models folder will do."),
        Param("config", str, default="", kind="path_or_id",
              tooltip="For a checkpoint file: the Diffusers folder or id with its configs (default: the "
                      "reference repo diffusers names for the file, if it is in the local cache)."),
        Param("family", str, default="auto", choices=("auto",) + FAMILIES,
              tooltip="Model family; auto reads model_index.json or the checkpoint."),
        Param("dtype", str, default="auto", choices=DTYPES,
              tooltip="Weights precision; auto picks per device. float8_e4m3fn stores the denoiser in fp8 and "
                      "computes in bf16 (half the memory of bf16)."),
        Param("offload", str, default="none", choices=OFFLOADS,
              tooltip="Move weights to the CPU between uses to save GPU memory (GPU only)."),
        Param("vae_tiling", bool, default=False, tooltip="Decode in tiles to save memory on large frames."),
        Param("motion_adapter", str, default="", kind="path_or_id", models=("animatediff_models", "diffusers"),
              tooltip="AnimateDiff only: a motion module file, or a MotionAdapter folder or id, to add to a "
                      "Stable Diffusion base model."),
        Param("text_encoder", str, default="", kind="path_or_id", models=("text_encoders",),
              tooltip="Optional: the text encoder as a file (e.g. umt5_xxl_fp16.safetensors), folder or id."),
        Param("vae", str, default="", kind="path_or_id", models=("vae",),
              tooltip="Optional: the VAE as a file (e.g. wan_2.1_vae.safetensors), folder or id."),
        Param("image_encoder", str, default="", kind="path_or_id", models=("clip_vision",),
              tooltip="Optional: the image encoder (Wan I2V's CLIP vision) as a file, folder or id."),
    )

    @classmethod
    def notices(cls, params: dict) -> list[str]:
        """A Hugging Face id that is not in the local cache: said before the run, not 10-30 s into it."""
        found = []
        for name in ("source", "motion_adapter"):
            value = str(params.get(name) or "").strip()
            if value and catalog.is_hf_id(value) and catalog.cached_snapshot(value) is None:
                how = ("HF_HUB_OFFLINE is set, so the run will stop" if catalog.offline()
                       else "the first run downloads it")
                found.append(f"not downloaded: {name} {value!r} is not on this machine; {how}. Fetch it now with: "
                             f"{catalog.fetch_command(value, name == 'source')}")
        return found

    @classmethod
    def check(cls, params: dict) -> list[str]:
        source = str(params.get("source", "")).strip()
        if not source:
            return ["source is empty; give a Diffusers folder, a Hugging Face id (owner/name) or a checkpoint file"]
        problems = file_problems(params)
        config = resolve_config(source, params.get("config", ""))
        info = catalog.describe_source(source, config)
        family = params.get("family", "auto")
        if info is not None and info.family and family != "auto" and info.family != family and not problems:
            problems.append(f"{source!r} is a {info.family} model but family is {family!r}; "
                            f"set family to {info.family!r} or auto")
        return problems

    @classmethod
    def fingerprint(cls, params: dict):
        from nodegraph.api import file_fingerprint

        return [file_fingerprint(params.get(name, "") or "")
                for name in ("source", "text_encoder", "vae", "image_encoder", "motion_adapter")]

    def run(self, ctx: NodeContext, *, source: str, config: str, family: str, dtype: str, offload: str,
            vae_tiling: bool, motion_adapter: str, text_encoder: str = "", vae: str = "",
            image_encoder: str = "") -> dict:
        source = source.strip()
        parts = [value.strip() for value in (text_encoder, vae, image_encoder)]
        config = resolve_config(source, config.strip())
        if family == "auto":
            path = Path(source).expanduser()
            if not path.is_file() and not path.exists():
                fetch_folder(source, ctx)  # makes the snapshot local (or explains how to get it)
            if path.is_file() and not config:
                raise UsageError(file_problems({"source": source})[0])
            info = catalog.describe_source(source, config)
            if info is None or info.family is None:
                name = (info.model_index.get("_class_name") if info else None) or "no model_index.json"
                raise UsageError(f"cannot tell the family of {source!r} ({name}); set family to one of "
                                 f"{', '.join(FAMILIES)}")
            family = info.family
        device = resolve_device(ctx.device)
        key = "|".join([source, config, family, dtype, offload, device, motion_adapter, *parts])
        handle = ModelHandle(key=key, family=family, source=source, config=config, dtype=dtype, offload=offload,
                             device=device, vae_tiling=vae_tiling, motion_adapter=motion_adapter,
                             text_encoder=parts[0], vae=parts[1], image_encoder=parts[2])
        loaded = handle.acquire(ctx)
        adapter(family).vae_tiling(loaded.pipe, vae_tiling)
        return {"model": handle}
