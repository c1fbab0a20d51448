"""RIFE 4.x weights in the published layouts (names and shapes of Practical-RIFE's flownet.pkl), tiny and random,
saved as the official files are: a state dict whose keys carry DataParallel's "module." prefix."""

from __future__ import annotations

from pathlib import Path

# version: (encoder, blocks, block output channels, features a block hands on)
LAYOUTS = {
    "4.6": (None, 4, 6, 0),  # no encoder; the mask is corrected block by block
    "4.7": ("sequential", 4, 6, 0),  # encode = conv (stride 2) + transposed conv
    "4.25": ("head", 5, 13, 8),  # encode.cnn0..3; five blocks; 8 feature channels passed on
}


def rife_state(version: str, width: int = 16, depth: int = 2, seed: int = 0, zero_output: bool = False) -> dict:
    import torch

    generator = torch.Generator().manual_seed(seed)
    encoder, blocks, cout, carried = LAYOUTS[version]
    state = {}

    def put(name, *shape):
        state[f"module.{name}"] = torch.randn(*shape, generator=generator) * 0.05

    encoded = 0
    if encoder == "sequential":
        encoded = 4
        put("encode.0.weight", 8, 3, 3, 3), put("encode.0.bias", 8)
        put("encode.1.weight", 8, encoded, 4, 4), put("encode.1.bias", encoded)
    elif encoder == "head":
        encoded = 8
        put("encode.cnn0.weight", 8, 3, 3, 3), put("encode.cnn0.bias", 8)
        for i in (1, 2):
            put(f"encode.cnn{i}.weight", 8, 8, 3, 3), put(f"encode.cnn{i}.bias", 8)
        put("encode.cnn3.weight", 8, encoded, 4, 4), put("encode.cnn3.bias", encoded)
    for b in range(blocks):
        cin = 7 + 2 * encoded if b == 0 else 7 + 2 * encoded + 1 + 4 + carried
        c = max(8, width // (2 ** min(b, 1)))
        put(f"block{b}.conv0.0.0.weight", c // 2, cin, 3, 3), put(f"block{b}.conv0.0.0.bias", c // 2)
        put(f"block{b}.conv0.1.0.weight", c, c // 2, 3, 3), put(f"block{b}.conv0.1.0.bias", c)
        for j in range(depth):
            put(f"block{b}.convblock.{j}.conv.weight", c, c, 3, 3), put(f"block{b}.convblock.{j}.conv.bias", c)
            state[f"module.block{b}.convblock.{j}.beta"] = torch.ones(1, c, 1, 1)
        put(f"block{b}.lastconv.0.weight", c, 4 * cout, 4, 4), put(f"block{b}.lastconv.0.bias", 4 * cout)
        if zero_output:  # no flow, an even mask: every in-between is the plain average of its two frames
            state[f"module.block{b}.lastconv.0.weight"].zero_()
            state[f"module.block{b}.lastconv.0.bias"].zero_()
    return state


def save_rife(folder: Path, version: str = "4.7", suffix: str = ".pkl", **kwargs) -> Path:
    import torch

    path = Path(folder) / f"rife{version.replace('.', '')}{'_zero' if kwargs.get('zero_output') else ''}{suffix}"
    state = rife_state(version, **kwargs)
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return path
