"""Tiny random upscale models made with spandrel's architecture classes (the real code paths: spandrel detects
their architecture from the saved weights exactly as it does for a downloaded model)."""

from __future__ import annotations

from pathlib import Path

from tests.torchvision_standin import import_spandrel

spandrel = import_spandrel()


def build(kind: str):
    import torch

    torch.manual_seed(0)
    if kind in ("esrgan", "esrgan_x2"):  # RRDB (ESRGAN / Real-ESRGAN layout), 8 features, 1 block
        from spandrel.architectures.ESRGAN import ESRGAN

        return picture_like(ESRGAN(num_filters=8, num_blocks=1, scale=4 if kind == "esrgan" else 2))
    if kind == "compact":  # x2 SRVGG (Real-ESRGAN's compact video models)
        from spandrel.architectures.Compact import Compact

        return Compact(num_feat=8, num_conv=2, upscale=2)
    raise ValueError(kind)


def picture_like(net):
    """Re-draw the random weights so the output varies with the input around mid-grey (spandrel's default
    initialisation gives a nearly flat colour, which would hide tiling seams)."""
    import torch

    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    for conv in convs:
        torch.nn.init.kaiming_normal_(conv.weight, a=0.2)
        torch.nn.init.zeros_(conv.bias)
    with torch.no_grad():
        y = net(torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(1)))
        gain = 0.15 / y.std()
        convs[-1].weight.mul_(gain)
        convs[-1].bias.add_(0.5 - y.mean() * gain)
    return net


def save(kind: str, folder: Path, suffix: str = ".safetensors") -> Path:
    import torch

    path = Path(folder) / f"tiny_{kind}{suffix}"
    if not path.exists():
        state = {k: v.contiguous() for k, v in build(kind).state_dict().items()}
        if suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(state, str(path))
        else:
            torch.save(state, path)
    return path


def direct(path: Path, frames):
    """What spandrel gives called directly on each frame (the way ComfyUI's upscale node calls it), uint8."""
    import numpy as np
    import torch

    model = spandrel.ModelLoader().load_from_file(str(path)).eval()
    out = []
    with torch.inference_mode():
        for frame in frames:
            x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
            y = model(x)
            out.append((y[0].permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy())
    return np.stack(out)
