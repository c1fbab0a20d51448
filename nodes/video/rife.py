"""RIFE 4.x frame interpolation (Huang et al., "Real-Time Intermediate Flow Estimation for Video Frame
Interpolation", ECCV 2022; the 4.x models of the Practical-RIFE releases), written for Kinograph.

No maintained library loads a local RIFE weights file without downloading, so the network is built here and
shaped by the weights it is given: the number of flow blocks, their widths, whether a feature encoder is present
(4.7 and later) and whether a block hands features on to the next (4.2x) are all read from the state dict.
The ResConv generation is supported: 4.5, 4.6, 4.7-4.9, 4.10-4.18 and 4.2x.

The network estimates, coarse to fine, the flow from the wanted moment to both frames and a blend mask: each
block sees the frames (and their encoded features) warped by the flow so far, at a lower resolution, and
adds a correction. The result is the two warped frames mixed by the mask.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from nodegraph.api import UsageError

WEIGHT_SUFFIXES = (".pkl", ".pth", ".pt", ".ckpt", ".safetensors")
LEAKY = 0.2


def _nn():
    import torch
    import torch.nn.functional as F
    from torch import nn

    return torch, nn, F


def backward_warp(image, flow):
    """Sample `image` at each pixel displaced by `flow` (pixels, x then y), clamping at the borders."""
    torch, _, F = _nn()
    _, _, h, w = flow.shape
    ys = torch.linspace(-1.0, 1.0, h, device=flow.device, dtype=flow.dtype)
    xs = torch.linspace(-1.0, 1.0, w, device=flow.device, dtype=flow.dtype)
    base_y, base_x = torch.meshgrid(ys, xs, indexing="ij")
    gx = base_x + flow[:, 0] * (2.0 / max(w - 1, 1))
    gy = base_y + flow[:, 1] * (2.0 / max(h - 1, 1))
    grid = torch.stack((gx, gy), dim=-1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def build_network(state: dict[str, Any], name: str):
    """A RIFE 4.x network shaped by `state` (keys without any "module." prefix), weights loaded."""
    torch, nn, F = _nn()

    class ResidualConv(nn.Module):
        def __init__(self, width: int):
            super().__init__()
            self.conv = nn.Conv2d(width, width, 3, 1, 1)
            self.beta = nn.Parameter(torch.ones((1, width, 1, 1)))

        def forward(self, x):
            return F.leaky_relu(self.conv(x) * self.beta + x, LEAKY)

    def conv_act(cin: int, cout: int):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(LEAKY))

    class FlowBlock(nn.Module):
        def __init__(self, cin: int, width: int, depth: int, cout: int):
            super().__init__()
            self.conv0 = nn.Sequential(conv_act(cin, width // 2), conv_act(width // 2, width))
            self.convblock = nn.Sequential(*(ResidualConv(width) for _ in range(depth)))
            self.lastconv = nn.Sequential(nn.ConvTranspose2d(width, 4 * cout, 4, 2, 1), nn.PixelShuffle(2))

        def forward(self, x, flow, scale: int):
            if scale != 1:
                x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
            if flow is not None:
                if scale != 1:
                    flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
                x = torch.cat((x, flow), 1)
            out = self.lastconv(self.convblock(self.conv0(x)))
            if scale != 1:
                out = F.interpolate(out, scale_factor=scale, mode="bilinear", align_corners=False)
            return out[:, :4] * scale, out[:, 4:5], out[:, 5:]

    def encoder_layers() -> list[tuple[int, torch.Tensor]]:
        """(position, weight) of the feature encoder's convolutions, in order, whichever way it was saved."""
        heads = {int(m.group(1)): state[k] for k in state if (m := re.fullmatch(r"encode\.cnn(\d+)\.weight", k))}
        if heads:  # 4.2x: named convolutions with an activation after each but the last
            return [(2 * i, heads[i]) for i in sorted(heads)]
        return sorted((int(m.group(1)), state[k]) for k in state
                      if (m := re.fullmatch(r"encode\.(\d+)\.weight", k)))

    class IFNet(nn.Module):
        def __init__(self):
            super().__init__()
            layers = encoder_layers()
            self.encoded = int(layers[-1][1].shape[1]) if layers else 0
            if layers:
                modules: list[nn.Module] = []
                for i, (position, weight) in enumerate(layers):
                    while len(modules) < position:
                        modules.append(nn.LeakyReLU(LEAKY))
                    if i == len(layers) - 1:
                        modules.append(nn.ConvTranspose2d(weight.shape[0], weight.shape[1], 4, 2, 1))
                    else:
                        modules.append(nn.Conv2d(weight.shape[1], weight.shape[0], 3, 2 if i == 0 else 1, 1))
                self.encode = nn.Sequential(*modules)
            count = 1 + max(int(m.group(1)) for k in state if (m := re.match(r"block(\d+)\.", k)))
            blocks = []
            for i in range(count):
                cin = int(state[f"block{i}.conv0.0.0.weight"].shape[1])
                width = int(state[f"block{i}.conv0.1.0.weight"].shape[0])
                depth = len({k.split(".")[2] for k in state if k.startswith(f"block{i}.convblock.")})
                cout = int(state[f"block{i}.lastconv.0.weight"].shape[1]) // 4
                blocks.append(FlowBlock(cin, width, depth, cout))
            self.blocks = nn.ModuleList(blocks)
            first = 7 + 2 * self.encoded
            self.carried = int(state["block1.conv0.0.0.weight"].shape[1]) - (first + 1 + 4) if count > 1 else 0
            if int(state["block0.conv0.0.0.weight"].shape[1]) != first or not 0 <= self.carried <= cout - 5:
                raise UsageError(f"{name} has RIFE blocks of a layout Kinograph does not know; use a RIFE 4.5-4.26 "
                                 "model (4.7 or 4.9 are common choices)")
            self.accumulate_mask = not self.encoded  # before 4.7 each block corrected the mask; later ones replace it
            self.scales = [2 ** (count - 1 - i) for i in range(count)]
            self.pad = 8 * self.scales[0]

        def forward(self, img0, img1, t):
            b, _, h, w = img0.shape
            time_map = t.view(-1, 1, 1, 1).expand(b, 1, h, w).to(img0.dtype)
            feat0 = self.encode(img0) if self.encoded else None
            feat1 = self.encode(img1) if self.encoded else None
            flow = mask = carry = None
            warped0, warped1 = img0, img1
            for block, scale in zip(self.blocks, self.scales, strict=True):
                if flow is None:
                    parts = [img0, img1] + ([feat0, feat1] if self.encoded else []) + [time_map]
                    flow, mask, carry = block(torch.cat(parts, 1), None, scale)
                else:
                    parts = [warped0, warped1]
                    if self.encoded:
                        parts += [backward_warp(feat0, flow[:, :2]), backward_warp(feat1, flow[:, 2:4])]
                    parts += [time_map, mask] + ([carry[:, :self.carried]] if self.carried else [])
                    delta, new_mask, carry = block(torch.cat(parts, 1), flow, scale)
                    flow = flow + delta
                    mask = mask + new_mask if self.accumulate_mask else new_mask
                warped0, warped1 = backward_warp(img0, flow[:, :2]), backward_warp(img1, flow[:, 2:4])
            weight = torch.sigmoid(mask)
            return warped0 * weight + warped1 * (1 - weight)

    net = IFNet()
    renamed = {_module_key(k): v for k, v in state.items()}
    wanted = net.state_dict().keys()
    missing = [k for k in wanted if k not in renamed]
    if missing:
        raise UsageError(f"{name} lacks RIFE weights such as {missing[0]!r}; it is not a complete RIFE 4.x model")
    net.load_state_dict({k: renamed[k] for k in wanted})
    return net.eval()


def _module_key(key: str) -> str:
    """A saved key as this module names it: block3.x -> blocks.3.x; encode.cnn2.x -> encode.4.x."""
    key = re.sub(r"^block(\d+)\.", r"blocks.\1.", key)
    return re.sub(r"^encode\.cnn(\d+)\.", lambda m: f"encode.{2 * int(m.group(1))}.", key)


def read_rife_state(path: str) -> dict[str, Any]:
    """The network weights of a RIFE file (Practical-RIFE's flownet.pkl, ComfyUI's rife4x.pth, or safetensors),
    read without unpickling code, with any DataParallel "module." prefix removed."""
    import pickle

    import torch

    name = os.path.basename(path)
    if not os.path.isfile(path):
        raise UsageError(f"RIFE model file {path!r} does not exist; set model to a RIFE 4.x weights file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise UsageError(f"{name} is not a RIFE weights file; use the .pkl/.pth (or .safetensors) of a RIFE 4.x model")
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise UsageError(f"{name} holds more than tensors and is not unpickled (weights-only loading refused it); "
                         "use the official RIFE weights file") from None
    except Exception as exc:
        raise UsageError(f"{name} is not a readable weights file ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict):
        raise UsageError(f"{name} holds a {type(state).__name__}, not RIFE weights")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    if "block0.conv0.0.0.weight" not in state or "block0.convblock.0.beta" not in state:
        raise UsageError(f"{name} is not a RIFE 4.x model (no ResConv flow blocks); use RIFE 4.5-4.26 weights "
                         "(4.7 or 4.9 are common choices)")
    return state


class RifeInterpolator:
    """The in-between frames of a pair of uint8 RGB frames from a loaded RIFE network."""

    def __init__(self, network, device: str):
        self.network = network
        self.device = device

    def between(self, a: np.ndarray, b: np.ndarray, factor: int) -> np.ndarray:
        """The factor - 1 frames strictly between `a` and `b`, shaped (factor - 1, H, W, 3), in one batch."""
        torch, _, F = _nn()
        h, w = a.shape[:2]
        pad = self.network.pad
        ph, pw = -h % pad, -w % pad
        count = factor - 1
        with torch.inference_mode():
            pair = torch.from_numpy(np.stack([a, b])).to(self.device).permute(0, 3, 1, 2).float().div_(255)
            pair = F.pad(pair, (0, pw, 0, ph))
            img0, img1 = pair[0:1].expand(count, -1, -1, -1), pair[1:2].expand(count, -1, -1, -1)
            times = torch.arange(1, factor, device=self.device, dtype=torch.float32) / factor
            out = self.network(img0, img1, times)[:, :, :h, :w]
            out = out.clamp_(0, 1).mul_(255).round_().to(torch.uint8)
            return out.permute(0, 2, 3, 1).cpu().numpy()


def load_rife(path: str, device: str):
    return build_network(read_rife_state(path), os.path.basename(path)).to(device)
