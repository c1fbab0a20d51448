"""latent.upscale: the LTX latent upsampler (LTX-2, LTX-Video 0.9.x), the middle of the two-stage path: sample
small, upscale the latent, refine it at low strength (diffusion.sample's latent input), decode."""

from __future__ import annotations

from pathlib import Path

from nodegraph.api import LATENT, MODEL, Node, NodeContext, Param, Port, UsageError, file_fingerprint

from . import catalog
from .families import adapter
from .values import Latent, ModelHandle

# family -> (the upsampler's model class, the diffusers pipeline that runs it)
UPSAMPLERS = {
    "ltx2": ("LTX2LatentUpsamplerModel", "LTX2LatentUpsamplePipeline"),
    "ltx": ("LTXLatentUpsamplerModel", "LTXLatentUpsamplePipeline"),
}
SUBFOLDER = "latent_upsampler"
# what an upsampler download fetches from a repo: the upsampler's own files, never a pipeline's other weights
UPSAMPLER_FILES = ["config.json", "diffusion_pytorch_model*.safetensors", f"{SUBFOLDER}/*", "model_index.json"]


def upsampler_folder(source: str, ctx: NodeContext | None) -> Path:
    """The folder with the upsampler's config.json: `source` itself, or its latent_upsampler/ subfolder; a
    Hugging Face id is fetched (only the upsampler's files) unless it is cached."""
    from .loading import _missing, download_problem, hub_unreachable

    path = Path(source).expanduser()
    if not path.exists():
        if not catalog.is_hf_id(source):
            raise UsageError(f"upsampler {source!r} is neither a folder nor a Hugging Face id (owner/name); check "
                             "the path")
        cached = catalog.cached_snapshot(source)
        if cached is not None:
            path = cached
        else:
            why = ("HF_HUB_OFFLINE is set" if catalog.offline() else hub_unreachable())
            if why:
                raise _missing(source, f"not in the local Hugging Face cache: {why}", False)
            try:
                from huggingface_hub import snapshot_download

                path = Path(snapshot_download(source, allow_patterns=UPSAMPLER_FILES))
            except Exception as exc:
                raise _missing(source, download_problem(exc), False) from exc
    for folder in (path / SUBFOLDER, path):
        if (folder / "config.json").is_file():
            return folder
    raise UsageError(f"{source!r} holds no latent upsampler (no config.json, nor {SUBFOLDER}/config.json); give "
                     "the upsampler's folder or id (for LTX-2: Lightricks/LTX-2, whose latent_upsampler/ it is)")


def load_upsampler(folder: Path, family: str, device: str, dtype):
    class_name = catalog.read_json(folder / "config.json").get("_class_name", "")
    wanted = UPSAMPLERS[family][0]
    if class_name != wanted:
        fits = next((f for f, (c, _) in UPSAMPLERS.items() if c == class_name), None)
        what = f"an {adapter(fits).title} upsampler" if fits else f"a {class_name or 'model of unknown class'}"
        raise UsageError(f"{str(folder)!r} is {what}, but the model is {adapter(family).title}, which takes a "
                         f"{wanted}; pick the upsampler made for this model")
    import diffusers.pipelines.ltx
    import diffusers.pipelines.ltx2

    cls = getattr(diffusers.pipelines.ltx2 if family == "ltx2" else diffusers.pipelines.ltx, wanted)
    return cls.from_pretrained(str(folder), torch_dtype=dtype).to(device).eval()


class LatentUpscale(Node):
    """Upscale a latent 2x with the model's latent upsampler (LTX-2, LTX-Video 0.9.x); refine the result at low
    strength with Sample Video's latent input, then decode."""

    type_id = "latent.upscale"
    widgets = ("upsampler",)
    category = "Upscaling"
    title = "Upscale Latent"
    inputs = (Port("model", MODEL), Port("latent", LATENT))
    outputs = (Port("latent", LATENT),)
    params = (
        Param("upsampler", str, default="Lightricks/LTX-2", kind="path_or_id",
              tooltip="The latent upsampler: a folder or Hugging Face id holding it (or its latent_upsampler/ "
                      "subfolder), e.g. Lightricks/LTX-2 for LTX-2, Lightricks/ltxv-spatial-upscaler-0.9.7 for "
                      "LTX-Video 0.9.7 and later."),
        Param("adain_factor", float, default=0.0, min=0.0, max=10.0,
              tooltip="Match the upscaled latent's per-channel statistics to the input's (0 is off; 1 fully)."),
        Param("tone_map", float, default=0.0, min=0.0, max=1.0,
              tooltip="Compress the upscaled latent's dynamic range (0 is off)."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        source = str(params.get("upsampler", "")).strip()
        if not source:
            return ["upsampler is empty; give the latent upsampler's folder or Hugging Face id (e.g. Lightricks/LTX-2)"]
        if not catalog.is_hf_id(source) and not Path(source).expanduser().exists():
            return [f"upsampler {source!r} is neither a folder nor a Hugging Face id (owner/name); check the path"]
        return []

    @classmethod
    def check_inputs(cls, params: dict, sources: dict) -> list[str]:
        fed = catalog.family_feeding(sources)
        if fed is not None and fed[0] not in UPSAMPLERS:
            return [f"{adapter(fed[0]).title} has no latent upsampler (LTX-2 and LTX-Video do); upscale the decoded "
                    "video instead (video.upscale)"]
        return []

    @classmethod
    def fingerprint(cls, params: dict):
        return file_fingerprint(params.get("upsampler", "") or "")

    def run(self, ctx: NodeContext, model: ModelHandle, latent: Latent, *, upsampler: str, adain_factor: float,
            tone_map: float) -> dict:
        import diffusers
        import torch

        if model.family not in UPSAMPLERS:
            raise UsageError(f"{adapter(model.family).title} has no latent upsampler (LTX-2 and LTX-Video do); "
                             "upscale the decoded video instead")
        if latent.family != model.family:
            raise UsageError(f"the latent was sampled by a {latent.family} model but this model is {model.family}; "
                             f"upscale it with a {latent.family} model")
        fam = adapter(model.family)
        loaded = model.acquire(ctx)
        folder = upsampler_folder(upsampler.strip(), ctx)
        key = f"latent-upsampler|{folder}|{model.family}|{loaded.device}|{loaded.dtype}"
        net = ctx.resources.get_or_load(
            key, lambda: load_upsampler(folder, model.family, loaded.device, loaded.dtype))
        pipe_cls = getattr(diffusers, UPSAMPLERS[model.family][1])
        with loaded.lock, torch.inference_mode():
            pipe = pipe_cls(vae=loaded.pipe.vae, latent_upsampler=net)
            pipe.set_progress_bar_config(disable=True)
            kwargs = dict(latents=latent.tensor.to(loaded.device), height=latent.height, width=latent.width,
                          adain_factor=adain_factor, tone_map_compression_ratio=tone_map, output_type="latent",
                          return_dict=False)
            if model.family == "ltx2":  # LTX-2's takes (and gives back) the VAE's own scale
                kwargs.update(num_frames=latent.frames, latents_normalized=True)
            out = pipe(**kwargs)[0]
            if model.family == "ltx2":
                out = fam.normalised(loaded.pipe, out)
            out = out.detach().to("cpu", torch.float32)
        scale_h, scale_w = out.shape[3] / latent.tensor.shape[3], out.shape[4] / latent.tensor.shape[4]
        meta = dict(latent.meta, upscaled=True)
        for name, size in (("latent_height", out.shape[3]), ("latent_width", out.shape[4])):
            if name in meta:
                meta[name] = int(size)
        upscaled = Latent(latent.family, out, fps=latent.fps, width=round(latent.width * scale_w),
                          height=round(latent.height * scale_h),
                          frames=fam.frames_for_latent(out.shape[2], loaded.configs), model_key=latent.model_key,
                          meta=meta, audio=latent.audio)
        return {"latent": upscaled}
