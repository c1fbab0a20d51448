"""Tiny randomly initialised pipelines of every family, built offline from configs in seconds."""

from __future__ import annotations

from pathlib import Path

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def t5_tokenizer():
    from transformers import T5Tokenizer

    pieces = ["<pad>", "</s>", "<unk>"] + ["\u2581" + c for c in LETTERS] + list(LETTERS) + ["\u2581"]
    return T5Tokenizer(vocab=[(p, -float(i)) for i, p in enumerate(pieces)], extra_ids=0)


def t5_encoder(d_model: int = 32):
    import torch
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    config = T5Config(vocab_size=64, d_model=d_model, d_ff=37, d_kv=8, num_layers=1, num_heads=4,
                      relative_attention_num_buckets=8, is_encoder_decoder=False)
    return T5EncoderModel(config)


def clip_tokenizer():
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in LETTERS:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def clip_text_encoder(hidden: int = 32):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, hidden_size=hidden, intermediate_size=37,
                            layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, pad_token_id=1,
                            vocab_size=64)
    return CLIPTextModel(config)


def wan(image_to_video: bool = False):
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanPipeline,
        WanTransformer3DModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36 if image_to_video else 16,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    parts = dict(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
                 text_encoder=t5_encoder(), tokenizer=t5_tokenizer())
    if image_to_video:
        return WanImageToVideoPipeline(image_encoder=None, image_processor=None, **parts)
    return WanPipeline(**parts)


def _wan_transformer(channels: int, seed: int = 0):
    import torch
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=channels,
        out_channels=channels, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32)


def wan22_ti2v():
    """Wan 2.2 TI2V-5B's layout: a patchified residual VAE (16x spatial) and per-token timesteps
    (expand_timesteps), one model for text- and image-to-video."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=4, decoder_base_dim=4, z_dim=8, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True], is_residual=True, in_channels=12,
                           out_channels=12, patch_size=2, scale_factor_spatial=16, scale_factor_temporal=4,
                           latents_mean=[0.1 * i for i in range(8)], latents_std=[1.0 + 0.1 * i for i in range(8)])
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0)
    return WanPipeline(transformer=_wan_transformer(8), vae=vae, scheduler=scheduler, text_encoder=t5_encoder(),
                       tokenizer=t5_tokenizer(), expand_timesteps=True)


def wan22_a14b():
    """Wan 2.2 A14B's layout: a high-noise expert hands the last steps to a low-noise one (boundary_ratio)."""
    base = wan(False)
    return type(base)(transformer=base.transformer, transformer_2=_wan_transformer(16, seed=1), vae=base.vae,
                      scheduler=base.scheduler, text_encoder=base.text_encoder, tokenizer=base.tokenizer,
                      boundary_ratio=0.875)


def ltx(image_to_video: bool = False):
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
                                             num_layers=1, caption_channels=32)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(latent_channels=8, block_out_channels=(8, 8, 8, 8),
                                decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
                                decoder_layers_per_block=(1, 1, 1, 1, 1),
                                spatio_temporal_scaling=(True, True, False, False),
                                decoder_spatio_temporal_scaling=(True, True, False, False),
                                decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4,
                                upsample_factor=(1, 1, 1, 1), timestep_conditioning=False,
                                patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False)
    cls = LTXImageToVideoPipeline if image_to_video else LTXPipeline
    return cls(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
               text_encoder=t5_encoder(), tokenizer=t5_tokenizer())


def cogvideox():
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    return CogVideoXPipeline(transformer=transformer, vae=vae, scheduler=CogVideoXDDIMScheduler(),
                             text_encoder=t5_encoder(), tokenizer=t5_tokenizer())


def cogvideox_i2v():
    """CogVideoX image-to-video: the image latents are concatenated, so the transformer takes twice the channels;
    rotary and learned positions as the real 5B-I2V model uses (rope needs a head size of 16 or more)."""
    import torch
    from diffusers import CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel

    base = cogvideox()
    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True)
    return CogVideoXImageToVideoPipeline(transformer=transformer, vae=base.vae, scheduler=base.scheduler,
                                         text_encoder=base.text_encoder, tokenizer=base.tokenizer)


def svd():
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32)
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
        timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                                       latent_channels=4, layers_per_block=1)
    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=1, num_attention_heads=2, image_size=224,
        intermediate_size=37, patch_size=32))
    return StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=CLIPImageProcessor(crop_size=32, size=32))


def animatediff():
    import torch
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(8, 8), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=2)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(8, 8), in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=2)
    torch.manual_seed(0)
    adapter = MotionAdapter(block_out_channels=(8, 8), motion_layers_per_block=1, motion_norm_num_groups=2,
                            motion_num_attention_heads=4)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False)
    return AnimateDiffPipeline(unet=unet, scheduler=scheduler, vae=vae, motion_adapter=adapter,
                               text_encoder=clip_text_encoder(), tokenizer=clip_tokenizer(), feature_extractor=None,
                               image_encoder=None)


def wan_comfy():
    """Wan 2.1 text-to-video with a VAE of the real topology (two residual blocks a level, dims 1-2-4-4), so that
    diffusers' converter of the original Wan VAE names (ComfyUI's wan_2.1_vae.safetensors) fits it."""
    import torch
    from diffusers import AutoencoderKLWan

    base = wan(False)
    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=4, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                           temperal_downsample=[False, True, True])
    return type(base)(transformer=base.transformer, vae=vae, scheduler=base.scheduler,
                      text_encoder=base.text_encoder, tokenizer=base.tokenizer)


BUILDERS = {
    "svd": svd,
    "animatediff": animatediff,
    "ltx": lambda: ltx(False),
    "ltx_i2v": lambda: ltx(True),
    "cogvideox": cogvideox,
    "cogvideox_i2v": cogvideox_i2v,
    "wan": lambda: wan(False),
    "wan_i2v": lambda: wan(True),
    "wan22_ti2v": wan22_ti2v,
    "wan22_a14b": wan22_a14b,
    "wan_comfy": wan_comfy,
}


def build(name: str, folder: Path) -> Path:
    """Build tiny model `name`, save it with save_pretrained under `folder`, return its path."""
    target = folder / name
    if not (target / "model_index.json").exists():
        BUILDERS[name]().save_pretrained(str(target))
    return target


# -- LoRAs: random low-rank updates of a tiny model, saved in the layouts people have them in ----------------------

WAN_LORA_TARGETS = r"blocks\.\d+\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)$|blocks\.\d+\.ffn\.net\.(0\.proj|2)$"
LTX_LORA_TARGETS = r"transformer_blocks\.\d+\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)$"
UNET_LORA_TARGETS = r"attentions\.\d+\.transformer_blocks\.\d+\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)$"


def random_lora(model, targets: str, rank: int = 4, seed: int = 0) -> dict:
    """{module path: (down (rank, in), up (out, rank))} for the Linear modules of `model` matching `targets`."""
    import re

    import torch

    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and re.search(targets, name):
            down = torch.randn(rank, module.in_features, generator=generator) / module.in_features ** 0.5
            up = torch.randn(module.out_features, rank, generator=generator) * 1.5 / rank ** 0.5
            out[name] = (down, up)
    assert out, f"no module of {type(model).__name__} matches {targets}"
    return out


def diffusers_layout(pairs: dict, prefix: str = "transformer") -> dict:
    """diffusers/PEFT keys: `transformer.blocks.0.attn1.to_q.lora_A.weight` (alpha = rank, so scale 1)."""
    state = {}
    for name, (down, up) in pairs.items():
        state[f"{prefix}.{name}.lora_A.weight"] = down.contiguous()
        state[f"{prefix}.{name}.lora_B.weight"] = up.contiguous()
    return state


WAN_ORIGINAL_NAMES = (("attn1.to_out.0", "self_attn.o"), ("attn2.to_out.0", "cross_attn.o"),
                      ("attn1.to_", "self_attn."), ("attn2.to_", "cross_attn."), ("ffn.net.0.proj", "ffn.0"),
                      ("ffn.net.2", "ffn.2"))


def wan_original_layout(pairs: dict, alpha: float = 2.0) -> dict:
    """The original Wan / ComfyUI keys: `diffusion_model.blocks.0.self_attn.q.lora_down.weight` with an alpha, the
    up weights scaled so the update equals the diffusers layout's."""
    import torch

    state = {}
    for name, (down, up) in pairs.items():
        for new, old in WAN_ORIGINAL_NAMES:
            name = name.replace(new, old)
        rank = down.shape[0]
        state[f"diffusion_model.{name}.lora_down.weight"] = down.contiguous()
        state[f"diffusion_model.{name}.lora_up.weight"] = (up * rank / alpha).contiguous()
        state[f"diffusion_model.{name}.alpha"] = torch.tensor(alpha)
    return state


def save_lora(state: dict, path: Path) -> Path:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


CLIP_LORA_TARGETS = r"encoder\.layers\.\d+\.self_attn\.(q_proj|k_proj|v_proj|out_proj)$"


def kohya_layout(pairs: dict, prefix: str, alpha: float = 2.0) -> dict:
    """kohya keys: `lora_unet_down_blocks_0_..._to_q.lora_down.weight` (or `lora_te_` for the text encoder), with an
    alpha, the up weights scaled so the update equals the diffusers layout's."""
    import torch

    state = {}
    for name, (down, up) in pairs.items():
        key = f"{prefix}_{name.replace('.', '_')}"
        state[f"{key}.lora_down.weight"] = down.contiguous()
        state[f"{key}.lora_up.weight"] = (up * down.shape[0] / alpha).contiguous()
        state[f"{key}.alpha"] = torch.tensor(alpha)
    return state


# -- control and newer families (issue 18): Wan VACE, HunyuanVideo 1.5 ----------------------------------------------


def wan_vace():
    """Wan VACE: the tiny Wan's VAE and text encoder, a transformer with VACE control blocks after layers 0 and 2."""
    import torch
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    base = wan(False)
    torch.manual_seed(0)
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=3, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, vace_layers=[0, 2], vace_in_channels=96)  # 96: kept and made latents, 8x8 mask
    return WanVACEPipeline(transformer=transformer, vae=base.vae, scheduler=base.scheduler,
                           text_encoder=base.text_encoder, tokenizer=base.tokenizer)


def wan22_vace_a14b():
    """Wan 2.2's VACE with two experts (the Fun VACE A14B layout): the tiny VACE, a second VACE transformer for the
    low-noise steps, and the boundary between them."""
    import torch
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    base = wan_vace()
    torch.manual_seed(1)
    low = WanVACETransformer3DModel(**dict(base.transformer.config))
    return WanVACEPipeline(transformer=base.transformer, transformer_2=low, vae=base.vae, scheduler=base.scheduler,
                           text_encoder=base.text_encoder, tokenizer=base.tokenizer, boundary_ratio=0.875)


QWEN_CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def qwen_tokenizer():
    """A byte-level Qwen2 tokenizer (one token a byte, no merges) with the chat markers and a chat template."""
    from transformers import Qwen2Tokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {c: i for i, c in enumerate(bytes_to_unicode().values())}
    for marker in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        vocab[marker] = len(vocab)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def hunyuan_video15(image_to_video: bool = False):
    """HunyuanVideo 1.5: a 3-layer Qwen2.5-VL text model and a ByT5 encoder, a one-block transformer, an 8x VAE;
    the image-to-video model adds a SigLIP image encoder."""
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15ImageToVideoPipeline,
        HunyuanVideo15Pipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from transformers import ByT5Tokenizer, Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel, T5Config, T5EncoderModel

    tokenizer = qwen_tokenizer()
    torch.manual_seed(0)
    marker = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    text_encoder = Qwen2_5_VLTextModel(Qwen2_5_VLTextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=2048, bos_token_id=marker, eos_token_id=marker,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2]}))
    tokenizer_2 = ByT5Tokenizer()
    torch.manual_seed(0)
    text_encoder_2 = T5EncoderModel(T5Config(vocab_size=len(tokenizer_2), d_model=32, d_ff=37, d_kv=8, num_layers=1,
                                             num_heads=4, relative_attention_num_buckets=8, is_encoder_decoder=False))
    torch.manual_seed(0)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9, out_channels=4, num_attention_heads=2, attention_head_dim=16, num_layers=1,
        num_refiner_layers=1, mlp_ratio=2.0, text_embed_dim=32, text_embed_2_dim=32, image_embed_dim=32,
        rope_axes_dim=(4, 6, 6), target_size=32, task_type="i2v" if image_to_video else "t2v")
    torch.manual_seed(0)
    vae = AutoencoderKLHunyuanVideo15(latent_channels=4, block_out_channels=(16, 16, 16, 16), layers_per_block=1,
                                      spatial_compression_ratio=8, temporal_compression_ratio=4)
    parts = dict(text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer, vae=vae,
                 scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=text_encoder_2,
                 tokenizer_2=tokenizer_2, guider=ClassifierFreeGuidance(guidance_scale=6.0))
    if not image_to_video:
        return HunyuanVideo15Pipeline(**parts)
    from transformers import SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel

    torch.manual_seed(0)
    encoder = SiglipVisionModel(SiglipVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                                                   num_attention_heads=2, image_size=32, patch_size=8))
    processor = SiglipImageProcessor(size={"height": 32, "width": 32})
    return HunyuanVideo15ImageToVideoPipeline(image_encoder=encoder, feature_extractor=processor, **parts)


BUILDERS.update({
    "wan_vace": wan_vace,
    "wan22_vace_a14b": wan22_vace_a14b,
    "hunyuan_video15": lambda: hunyuan_video15(False),
    "hunyuan_video15_i2v": lambda: hunyuan_video15(True),
})
# -- LTX-2: picture and sound (Gemma 3 text encoder, audio VAE, vocoder) and the LTX latent upsamplers ---------------

def gemma_tokenizer():
    from transformers import GemmaTokenizer

    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4, "\u2581": 5}
    for c in LETTERS:
        vocab[c] = len(vocab)
    return GemmaTokenizer(vocab=vocab, merges=[])


def gemma3_encoder(hidden: int = 16, layers: int = 2):
    import torch
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    torch.manual_seed(0)
    text = dict(vocab_size=64, hidden_size=hidden, intermediate_size=32, num_hidden_layers=layers,
                num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=64,
                sliding_window=16, layer_types=["sliding_attention", "full_attention"][:layers])
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=8,
                  patch_size=4)
    config = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4, image_token_index=63,
                          boi_token_index=61, eoi_token_index=62)
    return Gemma3ForConditionalGeneration(config)


def ltx2():
    """LTX-2 text-to-video with sound: 2x spatial and temporal VAE, 4 latent channels, a 2-channel 16 kHz vocoder."""
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    hidden, layers = 16, 2
    text_encoder = gemma3_encoder(hidden, layers)
    torch.manual_seed(0)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=1, qk_norm="rms_norm_across_heads",
        caption_channels=hidden, rope_double_precision=False, rope_type="split")
    torch.manual_seed(0)
    connectors = LTX2TextConnectors(
        caption_channels=hidden, text_proj_in_factor=layers + 1, video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=10000.0,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split")
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    torch.manual_seed(0)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8)
    torch.manual_seed(0)
    vocoder = LTX2Vocoder(
        in_channels=16, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[4, 4], upsample_factors=[2, 2],
        resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]], leaky_relu_negative_slope=0.1,
        output_sampling_rate=16000)
    return LTX2Pipeline(transformer=transformer, vae=vae, audio_vae=audio_vae, text_encoder=text_encoder,
                        scheduler=FlowMatchEulerDiscreteScheduler(), tokenizer=gemma_tokenizer(),
                        connectors=connectors, vocoder=vocoder)


def ltx2_upsampler():
    """LTX-2's latent upsampler (2x spatial) for the tiny LTX-2's 4 latent channels."""
    import torch
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel

    torch.manual_seed(0)
    return LTX2LatentUpsamplerModel(in_channels=4, mid_channels=32, num_blocks_per_stage=1, dims=3,
                                    spatial_upsample=True, temporal_upsample=False, use_rational_resampler=False)


def ltx_upsampler():
    """LTX-Video 0.9.x's latent upsampler (2x spatial) for the tiny LTX-Video's 8 latent channels."""
    import torch
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    torch.manual_seed(0)
    return LTXLatentUpsamplerModel(in_channels=8, mid_channels=32, num_blocks_per_stage=1, dims=3,
                                   spatial_upsample=True, temporal_upsample=False)


BUILDERS.update({"ltx2": ltx2, "ltx2_upsampler": ltx2_upsampler, "ltx_upsampler": ltx_upsampler})
