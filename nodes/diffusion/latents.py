"""latent.save / latent.load: safetensors files, so long sampling survives a failed decode."""

from __future__ import annotations

import json
from pathlib import Path

from nodegraph.api import LATENT, STRING, Node, NodeContext, Param, Port, UsageError, file_fingerprint

from .families import FAMILIES
from .values import Latent

FORMAT = "kinograph.latent"


def save_latent(latent: Latent, path: Path) -> None:
    from safetensors.torch import save_file

    meta = {
        "format": FORMAT, "family": latent.family, "fps": repr(latent.fps), "width": str(latent.width),
        "height": str(latent.height), "frames": str(latent.frames), "model_key": latent.model_key,
        "meta": json.dumps(latent.meta, default=str),
    }
    tensors = {"latent": latent.tensor.contiguous()}
    if latent.audio is not None:  # LTX-2's sound
        tensors["audio"] = latent.audio.contiguous()
    save_file(tensors, str(path), metadata=meta)


def load_latent(path: Path) -> Latent:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
            if meta.get("format") != FORMAT or "latent" not in handle.keys():
                raise UsageError(f"{str(path)!r} is not a latent saved by latent.save; pick a file it wrote")
            tensor = handle.get_tensor("latent")
            audio = handle.get_tensor("audio") if "audio" in handle.keys() else None
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"cannot read latent file {str(path)!r}: {exc}") from exc
    family = meta.get("family", "")
    if family not in FAMILIES:
        raise UsageError(f"{str(path)!r} holds a latent of unknown family {family!r}")
    return Latent(family, tensor, fps=float(meta["fps"]), width=int(meta["width"]), height=int(meta["height"]),
                  frames=int(meta["frames"]), model_key=meta.get("model_key", ""),
                  meta=json.loads(meta.get("meta") or "{}"), audio=audio)


class LatentSave(Node):
    """Save a latent to a .safetensors file so it can be decoded later."""

    type_id = "latent.save"
    category = "Input/Output"
    title = "Save Latent"
    is_output = True
    inputs = (Port("latent", LATENT),)
    outputs = (Port("path", STRING),)
    params = (Param("filename", str, default="latent.safetensors", kind="save_path",
                    file_filter="Latents (*.safetensors)", tooltip="File name in the output folder."),)

    @classmethod
    def check(cls, params: dict) -> list[str]:
        name = str(params.get("filename", ""))
        if not name.endswith(".safetensors"):
            return [f"filename {name!r} must end with .safetensors (e.g. 'latent.safetensors')"]
        return []

    def run(self, ctx: NodeContext, latent: Latent, *, filename: str) -> dict:
        path = ctx.output_path(filename)
        save_latent(latent, path)
        ctx.record_output(path)
        return {"path": str(path)}


class LatentLoad(Node):
    """Load a latent saved by Save Latent."""

    type_id = "latent.load"
    category = "Input/Output"
    title = "Load Latent"
    outputs = (Port("latent", LATENT),)
    params = (Param("path", str, default="", kind="path", file_filter="Latents (*.safetensors)",
                    tooltip="A .safetensors file written by Save Latent."),)

    @classmethod
    def check(cls, params: dict) -> list[str]:
        if not str(params.get("path", "")).strip():
            return ["path is empty; pick a .safetensors file written by latent.save"]
        return []

    @classmethod
    def fingerprint(cls, params: dict):
        return file_fingerprint(params.get("path", ""))

    def run(self, ctx: NodeContext, *, path: str) -> dict:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"latent file {path!r} does not exist; check the path")
        return {"latent": load_latent(file)}
