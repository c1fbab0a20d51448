"""diffusion.sample's step caches (diffusers' hooks), on for one pipeline call and off again after it whatever
happens; MagCache's ratios measured first where they are not kept. Out of memory on the way becomes advice."""

from __future__ import annotations

from contextlib import contextmanager

from nodegraph.api import NodeContext, UsageError

from . import magcache
from .families import SampleInfo
from .memory import is_out_of_memory, sampling_oom_advice
from .schedules import custom_sigmas

# diffusers' default TaylorSeer module patterns are full-matched against names like "blocks.0.attn1" and so match
# nothing in Wan, LTX-Video or CogVideoX: the blocks' attention modules, named explicitly
TAYLORSEER_MODULES = r"(blocks|transformer_blocks)\.\d+\.attn\d*"


@contextmanager
def accelerated(ctx: NodeContext, model, loaded, fam, pipe, acceleration: str, *, request: dict, step,
                denoised: int):
    """Within: `pipe`'s denoisers (Wan 2.2 A14B's second expert too) with the step cache `acceleration` on.

    mag_cache measures its ratios first when neither this session nor the cache folder keeps them for the model
    and `request` (the call's mode and settings), reported as the first `denoised` steps of the progress that
    `step` (the call's step callback) goes on counting. After the block, however it ended: the caches off and
    model offload's hooks freed. Out of memory, measuring or within, becomes the sampling advice.
    """
    denoisers = [d for d in (getattr(pipe, fam.denoiser, None), getattr(pipe, "transformer_2", None))
                 if d is not None]
    try:
        ratios = None
        if acceleration == "mag_cache":
            ratios = mag_ratios(ctx, model, loaded, fam, pipe, request, step, denoised)
        enable(pipe, denoisers, acceleration, ratios)
        yield
    except Exception as exc:
        if is_out_of_memory(exc):
            raise UsageError(sampling_oom_advice(model, request["width"], request["height"],
                                                 request["frames"])) from exc
        raise
    finally:
        disable(denoisers, acceleration)
        free_hooks(loaded.pipe, model.offload)


def mag_ratios(ctx: NodeContext, model, loaded, fam, pipe, request: dict, step, denoised: int) -> list[float]:
    """MagCache's ratios for this model and request; measured first (and reported as the first `denoised`
    steps of the node's progress) when neither this session nor the cache folder has them."""
    import torch

    mode = request["mode"]
    settings = {k: v for k, v in request.items()
                if k != "mode" and (k != "strength" or fam.strength_applies(mode))}

    def calibrate(recorder: magcache.RatioRecorder) -> None:
        info = SampleInfo(mode=mode, width=request["width"], height=request["height"], frames=request["frames"],
                          extra={})
        kwargs = fam.call_kwargs(pipe, mode, width=info.width, height=info.height, frames=info.frames,
                                 steps=request["steps"], guidance=request["guidance"], strength=request["strength"],
                                 **magcache.neutral_inputs(mode, info.width, info.height, info.frames,
                                                           request["has_last"]))
        if fam.uses_text:
            kwargs.update(fam.encode(loaded.pipe, "", "", torch.device(loaded.device)))
        kwargs.update(fam.prepare(pipe, mode, kwargs, info))

        def on_step(pipe, index: int, timestep, callback_kwargs: dict) -> dict:
            recorder.next_step()
            ctx.progress(index + 1, 2 * denoised)
            return callback_kwargs

        with custom_sigmas(pipe, kwargs, request.get("sigmas")):  # the schedule the real call will take
            pipe(**kwargs, generator=torch.Generator("cpu").manual_seed(0), output_type="latent", return_dict=False,
                 callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"])
        step.offset = denoised

    try:
        return magcache.ratios_for(ctx, model, loaded, fam, pipe, mode=mode, settings=settings,
                                   run_calibration=calibrate)
    finally:
        free_hooks(loaded.pipe, model.offload)


def enable(pipe, denoisers: list, acceleration: str, ratios: list[float] | None = None) -> None:
    """Switch the step cache `acceleration` on in each of `denoisers` (MagCache with `ratios`)."""
    if acceleration == "none":
        return
    from diffusers.hooks import FirstBlockCacheConfig, PyramidAttentionBroadcastConfig, TaylorSeerCacheConfig

    for denoiser in denoisers:  # a config each: the hooks keep per-model state
        if acceleration == "mag_cache":
            config = magcache.config(ratios)
        elif acceleration == "first_block_cache":
            blocks = magcache.transformer_blocks(denoiser)
            if blocks is not None and len(blocks) < 2:  # it runs the first block to decide about the rest
                raise UsageError(f"first_block_cache needs a transformer of two blocks or more; this "
                                 f"{type(denoiser).__name__} has {len(blocks)}; use mag_cache or none")
            config = FirstBlockCacheConfig(threshold=0.05)
        elif acceleration == "taylorseer_cache":
            config = TaylorSeerCacheConfig(cache_identifiers=[TAYLORSEER_MODULES],
                                           taylor_factors_dtype=next(denoiser.parameters()).dtype)
        else:
            config = PyramidAttentionBroadcastConfig(
                spatial_attention_block_skip_range=2, spatial_attention_timestep_skip_range=(100, 800),
                current_timestep_callback=lambda: pipe.current_timestep)
        denoiser.enable_cache(config)


def disable(denoisers: list, acceleration: str) -> None:
    """Switch the step caches off again (each denoiser that has one on)."""
    for denoiser in denoisers:
        if acceleration != "none" and getattr(denoiser, "is_cache_enabled", False):
            denoiser.disable_cache()


def free_hooks(pipe, offload: str) -> None:
    """With model offload, hand the GPU back: diffusers' hooks move the last model used back to the CPU."""
    if offload == "model" and pipe is not None:
        pipe.maybe_free_model_hooks()
