"""text.encode: prompt embeddings for one model, computed once and reused across seeds and sizes."""

from __future__ import annotations

from nodegraph.api import CONDITIONING, MODEL, Node, NodeContext, Param, Port

from .families import adapter
from .lora import applied
from .values import Conditioning, ModelHandle


class TextEncode(Node):
    """Encode a prompt and a negative prompt with the model's text encoder."""

    type_id = "text.encode"
    widgets = ("prompt", "negative_prompt")
    category = "Conditioning"
    title = "Encode Prompt"
    inputs = (Port("model", MODEL),)
    outputs = (Port("conditioning", CONDITIONING),)
    # Its prompt embeddings change with a LoRA only when the LoRA has text-encoder parts: a strength sweep of a
    # LoRA made for the denoiser (most video LoRAs) encodes the prompt once.
    narrows = ("model",)
    params = (
        Param("prompt", str, default="", kind="multiline", tooltip="What the video should show."),
        Param("negative_prompt", str, default="", kind="multiline", tooltip="What the video should avoid."),
    )

    @classmethod
    def narrowed_key(cls, port: str, value: ModelHandle) -> list:
        return [[lora.digest, lora.strength] for lora in value.loras if lora.changes_text]

    def run(self, ctx: NodeContext, model: ModelHandle, *, prompt: str, negative_prompt: str) -> dict:
        import torch

        family = adapter(model.family)
        if not family.uses_text:
            if prompt.strip() or negative_prompt.strip():
                ctx.warn(f"{family.title} takes no text prompt; the prompt is ignored")
            return {"conditioning": Conditioning(model.family, {}, prompt, negative_prompt)}
        loaded = model.acquire(ctx)
        with loaded.lock, applied(loaded, model, ctx.warn), torch.inference_mode():
            # where model.load placed the pipeline (with offload, where its hooks run it): asking diffusers for
            # _execution_device walks every module, milliseconds each time
            device = torch.device(loaded.device)
            embeds = family.encode(loaded.pipe, prompt, negative_prompt, device)
        embeds = {k: (v.detach() if v is not None else None) for k, v in embeds.items()}
        return {"conditioning": Conditioning(model.family, embeds, prompt, negative_prompt)}
