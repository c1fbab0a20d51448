"""Pipeline components from single files: the denoiser, the text encoder, the VAE and the image encoder, as
ComfyUI users have them, converted to the diffusers and transformers classes of the family's Diffusers configs."""

from __future__ import annotations

import re
from pathlib import Path

from nodegraph.api import UsageError

from .checkpoints import PART_PREFIXES, strip_prefix

# What loads, per component, named as ComfyUI's model folders hold it (the README has the full table).
WORKS = {
    "denoiser": "a Wan or LTX-Video file in the original or ComfyUI layout (fp16, bf16, fp8_e4m3fn, fp8_scaled, "
                "GGUF), an SD 1.5 checkpoint (AnimateDiff), or any denoiser saved from diffusers",
    "text_encoder": "umt5_xxl_fp16 / umt5_xxl_fp8_e4m3fn_scaled (Wan), t5xxl_fp16 / t5xxl_fp8_e4m3fn(_scaled) "
                    "(LTX-Video, CogVideoX), Wan's original models_t5_umt5-xxl-enc, a CLIP-L text encoder "
                    "(AnimateDiff), or one saved from transformers",
    "vae": "wan_2.1_vae (Wan 2.1 and 2.2 A14B), the VAE inside an LTX-Video checkpoint, an SD 1.5 VAE, or one "
           "saved from diffusers",
    "image_encoder": "clip_vision_h in transformers' layout (Wan I2V), or one saved from transformers",
}
PARAM_OF = {"denoiser": "source", "text_encoder": "text_encoder", "vae": "vae", "image_encoder": "image_encoder"}

# diffusers classes whose from_single_file converter finds its part by this prefix in a whole checkpoint.
CONVERTER_PREFIX = {"AutoencoderKLLTXVideo": "vae.", "AutoencoderKL": "first_stage_model.",
                    "UNet2DConditionModel": "model.diffusion_model."}

# Wan's original UMT5 release (models_t5_umt5-xxl-enc-bf16.pth) -> transformers' names.
WAN_T5_NAMES = (
    (r"^token_embedding\.", "shared."),
    (r"^norm\.", "encoder.final_layer_norm."),
    (r"^blocks\.(\d+)\.norm1\.", r"encoder.block.\1.layer.0.layer_norm."),
    (r"^blocks\.(\d+)\.attn\.([qkvo])\.", r"encoder.block.\1.layer.0.SelfAttention.\2."),
    (r"^blocks\.(\d+)\.pos_embedding\.embedding\.", r"encoder.block.\1.layer.0.SelfAttention.relative_attention_bias."),
    (r"^blocks\.(\d+)\.norm2\.", r"encoder.block.\1.layer.1.layer_norm."),
    (r"^blocks\.(\d+)\.ffn\.gate\.0\.", r"encoder.block.\1.layer.1.DenseReluDense.wi_0."),
    (r"^blocks\.(\d+)\.ffn\.fc1\.", r"encoder.block.\1.layer.1.DenseReluDense.wi_1."),
    (r"^blocks\.(\d+)\.ffn\.fc2\.", r"encoder.block.\1.layer.1.DenseReluDense.wo."),
)


def load_component(component: str, name: str, spec: list, state: dict, folder: Path, dtype, file: Path,
                   quantization=None, keep_dtypes: bool = False):
    """Component `name` (whose model_index entry is `spec`) of the pipeline in `folder`, weights from `state`."""
    library, class_name = spec[0], spec[1]
    if library == "transformers":
        if quantization is not None:
            raise UsageError(f"{file.name}: GGUF files are read for the denoiser only; give the {component} as "
                             ".safetensors")
        return _transformers_model(component, class_name, state, folder / name, dtype, file)
    return _diffusers_model(component, name, class_name, state, folder, dtype, file, quantization, keep_dtypes)


def _refusal(component: str, file: Path, class_name: str, why: str) -> UsageError:
    return UsageError(f"{PARAM_OF[component]} {file.name}: {why}, so it does not load into {class_name}; what "
                      f"loads: {WORKS[component]}")


def _diffusers_model(component, name, class_name, state, folder, dtype, file, quantization, keep_dtypes):
    import diffusers
    from accelerate import init_empty_weights
    from diffusers.loaders.single_file_model import SINGLE_FILE_LOADABLE_CLASSES

    cls = getattr(diffusers, class_name)
    config = cls.load_config(str(folder), subfolder=name)
    with init_empty_weights():
        expected = set(cls.from_config(config).state_dict())
    weights = strip_prefix(state, PART_PREFIXES[component])
    in_diffusers_names = expected <= set(weights)
    if in_diffusers_names:
        weights = {key: weights[key] for key in expected}
    elif class_name not in SINGLE_FILE_LOADABLE_CLASSES:
        raise _refusal(component, file, class_name, "its weights are not in diffusers' names and diffusers has no "
                       f"converter for {class_name} files")
    elif class_name in CONVERTER_PREFIX:
        prefix = CONVERTER_PREFIX[class_name]
        weights = {(key if key.startswith(prefix) else prefix + key): tensor
                   for key, tensor in strip_prefix(state, PART_PREFIXES[component]).items()}
    loadable = class_name in SINGLE_FILE_LOADABLE_CLASSES
    if quantization is not None and not loadable:
        raise _refusal(component, file, class_name, "diffusers reads GGUF only for the classes its single-file "
                       "loader knows (Wan, LTX-Video, SD 1.5 UNet)")
    if loadable and not in_diffusers_names and keep_dtypes and quantization is None:
        convert = SINGLE_FILE_LOADABLE_CLASSES[class_name]["checkpoint_mapping_fn"]
        try:
            weights = convert(checkpoint=dict(weights), config=config)
        except (KeyError, ValueError, RuntimeError, IndexError) as exc:
            raise _refusal(component, file, class_name, f"diffusers could not convert it "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]})") from exc
    if not loadable or (keep_dtypes and quantization is None):
        # Assigned as stored: fp8 storage keeps an fp8 file's weights without a bf16 or fp32 copy on the way.
        with init_empty_weights():
            model = cls.from_config(config)
        model.load_state_dict({key: weights[key] for key in expected if key in weights}, strict=False, assign=True)
        if not keep_dtypes:
            model.to(dtype)
        model.eval()
    else:
        try:
            model = cls.from_single_file(weights, config=str(folder), subfolder=name, torch_dtype=dtype,
                                         quantization_config=quantization)
        except (KeyError, ValueError, RuntimeError, IndexError) as exc:
            raise _refusal(component, file, class_name, f"diffusers could not convert it "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]})") from exc
    if quantization is None:
        own_weights(model, state)
    missing = [key for key, tensor in model.state_dict().items() if tensor.is_meta]
    if missing:
        raise _refusal(component, file, class_name, f"{len(missing)} of its weights are missing (e.g. {missing[0]}); "
                       "it is another model's file")
    return model


def text_encoder_weights(state: dict, component: str) -> dict:
    """A text or image encoder's tensors in transformers' names (prefixes of whole checkpoints and ComfyUI's
    saves taken off; Wan's original UMT5 names renamed)."""
    weights = strip_prefix(state, PART_PREFIXES[component])
    if "token_embedding.weight" in weights and any(key.startswith("blocks.") for key in weights):
        renamed = {}
        for key, tensor in weights.items():
            for pattern, replacement in WAN_T5_NAMES:
                key, count = re.subn(pattern, replacement, key)
                if count:
                    break
            renamed[key] = tensor
        weights = renamed
    if "shared.weight" in weights and "encoder.embed_tokens.weight" not in weights:
        weights["encoder.embed_tokens.weight"] = weights["shared.weight"]  # tied in T5
    return weights


def _transformers_model(component, class_name, state, subfolder: Path, dtype, file):
    import transformers
    from accelerate import init_empty_weights

    cls = getattr(transformers, class_name)
    config = cls.config_class.from_pretrained(str(subfolder))
    with init_empty_weights():
        model = cls(config)
    expected = model.state_dict()
    weights = text_encoder_weights(state, component)
    missing = [key for key in expected if key not in weights]
    if missing:
        found = len(expected) - len(missing)
        raise _refusal(component, file, class_name, f"{found} of its {len(expected)} weights are there (missing "
                       f"e.g. {missing[0]}); it is another encoder's file or layout")
    for key, tensor in expected.items():
        if tuple(weights[key].shape) != tuple(tensor.shape):
            raise _refusal(component, file, class_name, f"{key} is {tuple(weights[key].shape)}, the config wants "
                           f"{tuple(tensor.shape)}; it is another size of model")
    target = dtype if dtype is not None and dtype.is_floating_point else None
    model.load_state_dict({key: weights[key].to(target or expected[key].dtype) for key in expected}, strict=True,
                          assign=True)
    own_weights(model, state)
    model.eval()
    return model


def own_weights(model, state: dict) -> None:
    """Copy the weights still viewing the file's memory map when others were converted (an fp8 file loaded as bf16,
    say): a few norms and biases left as views would keep the whole mapped file resident beside the converted
    copy. When nothing was converted, the map is the weights and stays."""
    import torch

    stored = [tensor for tensor in state.values() if isinstance(tensor, torch.Tensor)]
    kept = {t.dtype for t in list(model.parameters()) + list(model.buffers()) if t is not None}
    if {t.dtype for t in stored if t.is_floating_point()} <= kept:
        return
    pointers = {tensor.data_ptr() for tensor in stored}
    for module in model.modules():
        for group in (module._parameters, module._buffers):
            for name, tensor in list(group.items()):
                if tensor is not None and tensor.numel() and tensor.data_ptr() in pointers:
                    copy = tensor.data.clone()
                    group[name] = torch.nn.Parameter(copy, requires_grad=False) if isinstance(
                        tensor, torch.nn.Parameter) else copy


def motion_adapter_from_file(path: Path, dtype, folder: Path | None = None):
    """An AnimateDiff motion module (the original mm_sd_v15*.ckpt/.safetensors, or diffusers' names); its config
    from `folder`'s motion_adapter/ when it has one, else from the reference repo diffusers names (local cache)."""
    import diffusers

    from .checkpoints import read_checkpoint

    state = read_checkpoint(path, dtype).state
    where = {"config": str(folder), "subfolder": "motion_adapter"} if folder is not None and (
        folder / "motion_adapter" / "config.json").is_file() else {}
    try:
        return diffusers.MotionAdapter.from_single_file(state, torch_dtype=dtype, local_files_only=True, **where)
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"motion_adapter {path.name}: diffusers could not read it as an AnimateDiff motion module "
                         f"({str(exc).splitlines()[0][:160]}); give mm_sd_v15_v2 or a MotionAdapter folder or id, "
                         "and keep its reference repo's config in the local cache") from exc
