"""model.lora: a LoRA on top of a loaded model, active only while that model works for it.

The base pipeline in the resource cache is shared: a LoRA is loaded into it once per file content as a named
diffusers (PEFT) adapter, switched on with its strengths for one sampling or encoding call under the model's lock,
and switched off again, so every other user of the base sees the plain weights.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

from nodegraph.api import MODEL, MissingModelError, Node, NodeContext, Param, Port, UsageError

from . import catalog
from .families import adapter
from .values import LoadedModel, LoraSpec, ModelHandle

PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl")
MAX_ADAPTERS = 8  # LoRA files kept loaded in one base model; the least recently used beyond this are dropped
ADAPTER_PREFIX = "kinograph_"


# -- finding the file --------------------------------------------------------------------------------------------

def lora_file(source: str, ctx: NodeContext | None = None) -> Path:
    """The local .safetensors file `source` names: a path, or a Hugging Face id ("owner/name" holding one
    .safetensors file, or "owner/name/path/in/repo.safetensors"), fetched when allowed."""
    source = source.strip()
    path = Path(source).expanduser()
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise UsageError(f"LoRA {source!r} is a pickle file, which can run code when loaded; use a .safetensors "
                         "file (convert it once with a trusted tool)")
    if path.is_file():
        if path.suffix.lower() != ".safetensors":
            raise UsageError(f"LoRA {source!r} is not a .safetensors file; give a .safetensors LoRA")
        return path
    if path.is_dir():
        found = sorted(path.glob("*.safetensors"))
        if len(found) == 1:
            return found[0]
        raise UsageError(f"LoRA folder {source!r} holds {len(found)} .safetensors files; name one of them"
                         + (f" ({', '.join(f.name for f in found[:5])})" if found else ""))
    parts = source.split("/")
    if len(parts) < 2 or not catalog.is_hf_id("/".join(parts[:2])):
        raise UsageError(f"LoRA {source!r} is neither a .safetensors file nor a Hugging Face id; check the path")
    repo, filename = "/".join(parts[:2]), "/".join(parts[2:])
    if filename and not filename.lower().endswith(".safetensors"):
        raise UsageError(f"LoRA {source!r} does not name a .safetensors file in {repo}; give one")
    return _hub_file(repo, filename, source)


def _hub_file(repo: str, filename: str, source: str) -> Path:
    from huggingface_hub import try_to_load_from_cache

    from .loading import download_problem, hub_unreachable

    if filename:
        cached = try_to_load_from_cache(repo, filename)
        if isinstance(cached, str):
            return Path(cached)
    else:
        snapshot = _cached_snapshot(repo)
        names = sorted(p.name for p in snapshot.glob("*.safetensors")) if snapshot else []
        if len(names) == 1:
            return snapshot / names[0]
    fetch = f"hf download {repo}" + (f" {filename}" if filename else "")
    if catalog.offline():
        raise MissingModelError(f"LoRA {source!r} is not on this machine (HF_HUB_OFFLINE is set); fetch it with: "
                                f"{fetch}")
    unreachable = hub_unreachable()
    if unreachable:
        raise MissingModelError(f"LoRA {source!r} is not on this machine and the Hugging Face Hub could not be "
                                f"reached ({unreachable}); fetch it with: {fetch}")
    from huggingface_hub import HfApi, hf_hub_download

    try:
        if not filename:
            names = [n for n in HfApi().list_repo_files(repo) if n.lower().endswith(".safetensors")]
            if len(names) != 1:
                listed = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
                raise UsageError(f"{repo} holds {len(names)} .safetensors files; name one as "
                                 f"{repo}/<file> ({listed or 'none'})")
            filename = names[0]
        return Path(hf_hub_download(repo, filename))
    except UsageError:
        raise
    except Exception as exc:
        raise MissingModelError(f"LoRA {source!r} could not be fetched ({download_problem(exc)})") from exc


def _cached_snapshot(repo: str) -> Path | None:
    """The local snapshot folder of a Hugging Face repo's main revision (a LoRA repo has no config to look up)."""
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE) / ("models--" + repo.replace("/", "--"))
    try:
        revision = (folder / "refs" / "main").read_text().strip()
    except OSError:
        return None
    snapshot = folder / "snapshots" / revision
    return snapshot if snapshot.is_dir() else None


_digests: dict[tuple, str] = {}
_digests_lock = threading.Lock()


def content_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, computed once per file version (path, size, modification and change times:
    a copy over the file with its old modification time still changes the change time)."""
    st = path.stat()
    version = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    with _digests_lock:
        known = _digests.get(version)
    if known:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    with _digests_lock:
        _digests[version] = h.hexdigest()
    return _digests[version]


# -- reading the layout ------------------------------------------------------------------------------------------

def layout_of(keys) -> str:
    """The layout a LoRA state dict's keys are in, as its users name it."""
    keys = list(keys)

    def has(test) -> bool:
        return any(test(k) for k in keys)

    if has(lambda k: "hada_w1" in k or "lokr_w1" in k):
        return "LyCORIS (LoHa/LoKr)"
    if has(lambda k: k.startswith(("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_", "lora_transformer_"))):
        return "kohya/musubi (lora_unet_*)"
    if has(lambda k: k.startswith("diffusion_model.")):
        return "original/ComfyUI (diffusion_model.*)"
    if has(lambda k: k.split(".", 1)[0] in ("transformer", "transformer_2", "unet", "text_encoder")):
        return "diffusers/PEFT"
    if has(lambda k: ".processor." in k):
        return "diffusers attention processors (pre-PEFT)"
    if has(lambda k: ".lora_A." in k or ".lora_down." in k):
        return "PEFT without a model prefix"
    return "not a LoRA layout diffusers knows"


_ORIGINAL_WAN = re.compile(r"\.(self_attn|cross_attn)\.[qkvo]\.|\.ffn\.[02]\.")


def with_model_prefix(state: dict, fam) -> dict:
    """A LoRA saved without any model prefix ("blocks.0...."), given the one diffusers' converters look for."""
    if any(k.split(".", 1)[0] in ("transformer", "transformer_2", "unet", "text_encoder", "diffusion_model")
           or k.startswith("lora_") for k in state):
        return state
    original = fam.original_lora_names and any(_ORIGINAL_WAN.search(k) for k in state)
    prefix = "diffusion_model" if original else fam.denoiser
    return {f"{prefix}.{k}": v for k, v in state.items()}


_LORA_PART = re.compile(r"\.(lora_A|lora_B|lora_down|lora_up|lora|lora_linear_layer|lora_magnitude_vector|alpha"
                        r"|lora_embedding_A|lora_embedding_B)(\.|$)")
# Stable Diffusion's converter still writes attention-processor names: `attn1.processor.to_q_lora.down.weight`
_PROCESSOR_PART = re.compile(r"\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$")
_PROCESSOR_MODULES = {"to_q": "to_q", "to_k": "to_k", "to_v": "to_v", "to_out": "to_out.0"}
_PROCESSOR_TEXT_MODULES = {"to_q": "q_proj", "to_k": "k_proj", "to_v": "v_proj", "to_out": "out_proj"}


def _module_names(converted: dict) -> set[str]:
    """Module paths ("transformer.blocks.0.attn1.to_q") a converted LoRA state dict targets."""
    out = set()
    for key in converted:
        key = key.replace(".processor.", ".")
        match = _PROCESSOR_PART.search(key)
        if match:
            names = _PROCESSOR_TEXT_MODULES if key.startswith("text_encoder") else _PROCESSOR_MODULES
            out.add(f"{key[:match.start()]}.{names[match.group(1)]}")
            continue
        match = _LORA_PART.search(key)
        if match:
            out.add(key[:match.start()])
    return out


# -- loading into the shared pipeline ----------------------------------------------------------------------------

def _lora_modules(pipe) -> dict:
    """The pipeline's LoRA-capable components that are present, by name."""
    names = getattr(pipe, "_lora_loadable_modules", ())
    return {name: getattr(pipe, name) for name in names if getattr(pipe, name, None) is not None}


def _drop(pipe, name: str) -> None:
    from diffusers.loaders.lora_base import delete_adapter_layers
    from diffusers.models.modeling_utils import ModelMixin

    for model in _lora_modules(pipe).values():
        if name not in getattr(model, "peft_config", {}):
            continue
        if isinstance(model, ModelMixin):
            model.delete_adapters(name)
        else:
            delete_adapter_layers(model, name)  # also forgets its config


def _injected(pipe, name: str, modules: set[str]) -> tuple[list[str], list[str]]:
    """(matched, unmatched) module paths of one loaded adapter. A path may carry a prefix the model no longer has
    (`text_model.` of older transformers), so a path matches an adapted module whose name it ends with."""
    adapted: dict[str, set[str]] = {}
    for component, model in _lora_modules(pipe).items():
        adapted[component] = {
            module_name for module_name, module in model.named_modules()
            if any(name in getattr(module, attr, {}) for attr in ("lora_A", "lora_embedding_A"))}
    matched, unmatched = [], []
    for path in sorted(modules):
        component, _, sub = path.partition(".")
        names = adapted.get(component, set())
        holds = sub in names or any(sub.endswith("." + n) or n.endswith("." + sub) for n in names)
        (matched if holds else unmatched).append(path)
    return matched, unmatched


def _listed(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def ensure_adapter(loaded: LoadedModel, spec: LoraSpec, warn) -> str:
    """The adapter name of `spec`'s file in the loaded pipeline, loading the file first if this content is new."""
    name = loaded.adapters.pop(spec.digest, None)
    if name is not None:
        loaded.adapters[spec.digest] = name  # most recently used last
        return name
    from safetensors.torch import load_file

    pipe = loaded.pipe
    fam = adapter(loaded.family)
    if not hasattr(pipe, "load_lora_weights"):
        raise UsageError(f"diffusers has no LoRA loader for {fam.title}; remove model.lora")
    state = with_model_prefix(load_file(str(spec.path)), fam)
    layout = layout_of(state)
    example = next(iter(sorted(state)), "")
    name = ADAPTER_PREFIX + spec.digest[:16]
    what = f"LoRA {spec.label!r} ({layout} layout, keys like {example!r})"

    def fresh() -> dict:  # diffusers' converters scale the tensors they are given in place: each call its own
        return {k: v.clone() for k, v in state.items()}

    try:
        with warnings.catch_warnings():  # several LoRAs in one model is the point here, not a slip to warn about
            warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
            pipe.load_lora_weights(fresh(), adapter_name=name)
            if getattr(pipe, "transformer_2", None) is not None:  # Wan 2.2 A14B: the same LoRA on both experts
                pipe.load_lora_weights(fresh(), adapter_name=name, load_into_transformer_2=True)
        converted = pipe.lora_state_dict(fresh())
    except Exception as exc:
        _drop(pipe, name)
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        if "size mismatch" in reason:
            reason = "its shapes do not fit this model (it was made for another size or version): " + reason[:200]
        raise UsageError(f"{what} cannot be loaded into this {fam.title} model: {reason}") from exc
    if isinstance(converted, tuple):  # Stable Diffusion's loader also returns the network alphas
        converted = converted[0]
    matched, unmatched = _injected(pipe, name, _module_names(converted))
    if not matched:
        _drop(pipe, name)
        raise UsageError(f"{what} matches no module of this {fam.title} model (for example "
                         f"{_listed(unmatched or [example], 2)}); it was made for another model family")
    if unmatched:
        warn(f"{what}: {len(unmatched)} of {len(matched) + len(unmatched)} modules match nothing in this "
             f"{fam.title} model and are left out: {_listed(unmatched)}")
    loaded.adapters[spec.digest] = name
    return name


def _evict(loaded: LoadedModel, keep: set[str]) -> None:
    for digest, name in list(loaded.adapters.items()):
        if len(loaded.adapters) <= MAX_ADAPTERS:
            return
        if name not in keep:
            _drop(loaded.pipe, name)
            del loaded.adapters[digest]


def _switch(pipe, weights: dict[str, dict[str, float]]) -> None:
    """Activate, per component, the named adapters at their strengths; switch components without any off."""
    from diffusers.loaders.lora_base import (
        disable_lora_for_text_encoder,
        enable_lora_for_text_encoder,
        set_adapters_for_text_encoder,
    )
    from diffusers.models.modeling_utils import ModelMixin

    for component, model in _lora_modules(pipe).items():
        if not getattr(model, "peft_config", None):
            continue
        chosen = {n: w for n, w in weights.get(component, {}).items() if n in model.peft_config}
        if isinstance(model, ModelMixin):
            if chosen:
                model.set_adapters(list(chosen), list(chosen.values()))
                model.enable_lora()
            else:
                model.disable_lora()
        elif chosen:
            set_adapters_for_text_encoder(list(chosen), model, list(chosen.values()))
            enable_lora_for_text_encoder(model)
        else:
            disable_lora_for_text_encoder(model)


@contextmanager
def applied(loaded: LoadedModel, handle: ModelHandle, warn):
    """Within: the handle's LoRAs active on the loaded pipeline. Hold `loaded.lock` around it."""
    if not handle.loras:
        yield
        return
    weights: dict[str, dict[str, float]] = {}
    try:  # a freshly loaded adapter starts active: whatever happens, all are off again on the way out
        for spec in handle.loras:
            name = ensure_adapter(loaded, spec, warn)
            for component in _lora_modules(loaded.pipe):
                strength = spec.strength_low_noise if component == "transformer_2" else spec.strength
                slot = weights.setdefault(component, {})
                slot[name] = slot.get(name, 0.0) + strength  # the same file twice adds up
        _evict(loaded, {n for slot in weights.values() for n in slot})
        _switch(loaded.pipe, weights)
        yield
    finally:
        _switch(loaded.pipe, {})


# -- the node ----------------------------------------------------------------------------------------------------

def lora_problems(family: str, configs: dict | None, params: dict) -> list[str]:
    """Problems with applying a LoRA with `params` to a `family` model (configs None when unknown)."""
    fam = adapter(family)
    if not fam.lora_loader:
        return [f"diffusers has no LoRA loader for {fam.title}, so model.lora cannot apply to it; remove model.lora"]
    if configs is not None and "transformer_2" not in configs and not params.get("same_for_low_noise", True):
        return [f"strength_low_noise applies to the second (low-noise) expert of Wan 2.2 A14B; this {fam.title} "
                "model has one denoiser: turn same_for_low_noise back on"]
    return []


class ModelLora(Node):
    """Apply a LoRA to a model: the shared base stays unchanged; chain several to stack them."""

    type_id = "model.lora"
    widgets = ("source", "strength")
    category = "Conditioning"
    title = "LoRA"
    inputs = (Port("model", MODEL),)
    outputs = (Port("model", MODEL),)
    forwards = {"model": "model"}  # the same model with a LoRA on top: checks downstream see the model.load
    params = (
        Param("source", str, default="", kind="path_or_id", models=("loras",), file_filter="LoRA (*.safetensors)",
              tooltip="A .safetensors LoRA (diffusers/PEFT, ComfyUI/original or kohya layout), or a Hugging Face "
                      "id: owner/name, or owner/name/file.safetensors when the repo holds several."),
        Param("strength", float, default=1.0, min=-4.0, max=4.0, step=0.05, tooltip="How strongly it applies."),
        Param("same_for_low_noise", bool, default=True,
              tooltip="Wan 2.2 A14B: the low-noise expert takes `strength` too; off to set its own."),
        Param("strength_low_noise", float, default=1.0, min=-4.0, max=4.0, step=0.05,
              tooltip="Wan 2.2 A14B: the strength on the second (low-noise) expert, when same_for_low_noise is off."),
    )

    @classmethod
    def check(cls, params: dict) -> list[str]:
        source = str(params.get("source", "")).strip()
        if not source:
            return ["source is empty; give a .safetensors LoRA file or a Hugging Face id"]
        suffix = Path(source).suffix.lower()
        if suffix in PICKLE_SUFFIXES:
            return [f"source {source!r} is a pickle file, which can run code when loaded; use a .safetensors LoRA"]
        path = Path(source).expanduser()
        if path.is_file() and suffix != ".safetensors":
            return [f"source {source!r} is not a .safetensors file; give a .safetensors LoRA"]
        if not path.exists() and not catalog.is_hf_id("/".join(source.split("/")[:2])):
            return [f"LoRA {source!r} does not exist; check the path"]
        return []

    @classmethod
    def check_inputs(cls, params: dict, sources: dict) -> list[str]:
        fed = catalog.family_feeding(sources)
        if fed is None:
            return []
        family, info, known = fed
        return lora_problems(family, info.configs if known else None, params)

    @classmethod
    def fingerprint(cls, params: dict):
        """The LoRA file's content: editing the file runs the node (and what it feeds) again."""
        try:
            path = Path(str(params.get("source", "")).strip()).expanduser()
            return content_digest(path) if path.is_file() else None
        except OSError:
            return None

    def run(self, ctx: NodeContext, model: ModelHandle, *, source: str, strength: float, same_for_low_noise: bool,
            strength_low_noise: float) -> dict:
        loaded = model.acquire(ctx)
        problems = lora_problems(model.family, loaded.configs, dict(same_for_low_noise=same_for_low_noise))
        if problems:
            raise UsageError("; ".join(problems))
        path = lora_file(source, ctx)
        spec = LoraSpec(path=str(path), digest=content_digest(path), strength=float(strength),
                        strength_low_noise=float(strength if same_for_low_noise else strength_low_noise))
        out = dataclasses.replace(model, loras=model.loras + (spec,))
        with loaded.lock, applied(loaded, out, ctx.warn):  # read now: a file diffusers cannot use fails here
            name = loaded.adapters[spec.digest]
            changed = tuple(component for component, part in _lora_modules(loaded.pipe).items()
                            if name in getattr(part, "peft_config", {}))
        spec = dataclasses.replace(spec, components=changed)
        return {"model": dataclasses.replace(model, loras=model.loras + (spec,))}
