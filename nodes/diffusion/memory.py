"""Out-of-memory handling: advice while sampling, fallbacks while decoding."""

from __future__ import annotations


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a CUDA (or other accelerator) out-of-memory error."""
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def sampling_oom_advice(model, width: int, height: int, frames: int) -> str:
    free_memory()
    tips = []
    if model.offload == "none":
        tips.append("set model.load offload to 'model' (or 'sequential'/'group' for the least memory)")
    elif model.offload == "model":
        tips.append("set model.load offload to 'sequential' or 'group'")
    tips.append(f"use fewer frames than {frames}")
    tips.append(f"use a smaller size than {width}x{height}")
    if model.dtype == "float32":
        tips.append("use dtype bfloat16")
    return ("the GPU ran out of memory while sampling; the model is still loaded. Try: " + "; ".join(tips))
