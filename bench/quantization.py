"""Quantized weights: load time, process peak memory and resident weight bytes of Wan 2.1 T2V 1.3B's denoiser (the
published config, random weights), loaded the way model.load loads a denoiser file (every weight then read once,
as a run would), from:

- a bf16 .safetensors file, kept in bf16 (the baseline);
- the same file with dtype float8_e4m3fn (weights stored in fp8, computed in bf16 by diffusers' layerwise casting);
- a ComfyUI-style fp8_e4m3fn file, with fp8 storage, and loaded as bf16 (what dtype bfloat16 does with it);
- GGUF Q8_0 and Q4_0 files (diffusers' GGUF quantizer, computing in bf16).

    .venv/bin/python bench/quantization.py [--work DIR] [--repeats 2]

Each load runs in its own fresh process (one at a time), so peak memory is that load's alone; the process's RSS
after importing torch and diffusers is reported as the baseline. Files are written once under --work (about 6.5 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

WAN_13B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16, out_channels=16,
               text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
               qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
# variant: (file, model.load dtype)
VARIANTS = {
    "bf16 file, bf16": ("wan2.1_t2v_1.3B_bf16.safetensors", "bfloat16"),
    "bf16 file, fp8 storage": ("wan2.1_t2v_1.3B_bf16.safetensors", "float8_e4m3fn"),
    "fp8_e4m3fn file, fp8 storage": ("wan2.1_t2v_1.3B_fp8_e4m3fn.safetensors", "float8_e4m3fn"),
    "fp8_e4m3fn file, bf16": ("wan2.1_t2v_1.3B_fp8_e4m3fn.safetensors", "bfloat16"),
    "GGUF Q8_0": ("wan2.1_t2v_1.3B-Q8_0.gguf", "bfloat16"),
    "GGUF Q4_0": ("wan2.1_t2v_1.3B-Q4_0.gguf", "bfloat16"),
}


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def prepare(work: Path) -> None:
    """The config folder and the four files (skipped when present)."""
    import gguf
    import numpy as np
    import torch
    from diffusers import WanTransformer3DModel
    from safetensors.torch import save_file

    config = work / "config" / "transformer"
    targets = [work / name for name, _ in VARIANTS.values()]
    if (config / "config.json").is_file() and all(path.is_file() for path in targets):
        return
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    model = WanTransformer3DModel(**WAN_13B)
    torch.set_default_dtype(torch.float32)
    model.save_config(str(config))
    state = {key: tensor.contiguous() for key, tensor in model.state_dict().items()}
    del model
    save_file(state, str(work / VARIANTS["bf16 file, bf16"][0]))
    save_file({key: (tensor.to(torch.float8_e4m3fn) if tensor.ndim >= 2 else tensor) for key, tensor in state.items()},
              str(work / VARIANTS["fp8_e4m3fn file, bf16"][0]))
    for variant in ("GGUF Q8_0", "GGUF Q4_0"):
        qtype = getattr(gguf.GGMLQuantizationType, variant.split()[1])
        writer = gguf.GGUFWriter(str(work / VARIANTS[variant][0]), arch="wan")
        block = gguf.GGML_QUANT_SIZES[qtype][0]
        for key, tensor in state.items():  # as city96's converter: 2-D weights quantized, the rest F32 (F16 here)
            array = tensor.float().numpy()
            if array.ndim == 2 and array.shape[-1] % block == 0 and array.size > 1024:
                data = gguf.quants.quantize(array, qtype)
                writer.add_tensor(key, data, raw_shape=data.shape, raw_dtype=qtype)
            else:
                writer.add_tensor(key, np.ascontiguousarray(array, dtype=np.float16 if array.ndim > 1 else np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def touch(model) -> None:
    """Read one byte of every page of every weight: safetensors maps the file, and a weight counts in memory (as it
    will once the model runs) only after it is read."""
    import torch

    for tensor in list(model.parameters()) + list(model.buffers()):
        plain = torch.Tensor.as_subclass(tensor.detach(), torch.Tensor).contiguous()
        plain.reshape(-1).view(torch.uint8)[::4096].sum()


def measure(work: Path, variant: str) -> dict:
    """One load, in this (fresh) process."""
    import diffusers  # noqa: F401 - imported before the baseline is taken, as model.load's process has it
    import torch

    from nodes.diffusion.checkpoints import read_checkpoint
    from nodes.diffusion.quantization import gguf_config, storage_dtypes, store_in_fp8
    from nodes.diffusion.single_file import load_component

    baseline = rss_mb()
    file, dtype_choice = VARIANTS[variant]
    path = work / file
    storage, compute = storage_dtypes(dtype_choice, torch.bfloat16)
    start = time.perf_counter()
    checkpoint = read_checkpoint(path, storage or compute)
    quantization = gguf_config(compute) if checkpoint.gguf else None
    model = load_component("denoiser", "transformer", ["diffusers", "WanTransformer3DModel"],
                           checkpoint.part("denoiser"), work / "config", compute, path, quantization,
                           keep_dtypes=storage is not None)
    del checkpoint
    if storage is not None:
        store_in_fp8(model, storage, compute)
    touch(model)
    seconds = time.perf_counter() - start
    weights = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"variant": variant, "seconds": seconds, "baseline_mb": baseline, "peak_mb": peak,
            "after_mb": rss_mb(), "weights_mb": weights / 2**20, "file_mb": path.stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/kinograph_bench_quantization"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:  # in its own process: building the model takes memory the measurements must not share
        args.work.mkdir(parents=True, exist_ok=True)
        prepare(args.work)
        return
    if args.measure:
        print(json.dumps(measure(args.work, args.measure)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, __file__, "--work", str(args.work), "--prepare"], check=True)
    rows = {}
    for _ in range(args.repeats):
        for variant in VARIANTS:
            out = subprocess.run([sys.executable, __file__, "--work", str(args.work), "--measure", variant],
                                 check=True, capture_output=True, text=True).stdout
            rows.setdefault(variant, []).append(json.loads(out.strip().splitlines()[-1]))
    base = rows["bf16 file, bf16"]
    base_peak = statistics.median(r["peak_mb"] - r["baseline_mb"] for r in base)
    base_weights = statistics.median(r["weights_mb"] for r in base)
    base_seconds = statistics.median(r["seconds"] for r in base)
    print("| variant | file MB | load s | load s / bf16 | weights in memory MB | / bf16 | load peak over baseline MB "
          "| / bf16 | RSS after load MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for variant, runs in rows.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = statistics.median(r["peak_mb"] - r["baseline_mb"] for r in runs)
        weights = statistics.median(r["weights_mb"] for r in runs)
        after = statistics.median(r["after_mb"] for r in runs)
        print(f"| {variant} | {runs[0]['file_mb']:,.0f} | {seconds:.2f} | {seconds / base_seconds:.2f} | "
              f"{weights:,.0f} | {weights / base_weights:.2f} | {peak:,.0f} | {peak / base_peak:.2f} | {after:,.0f} |")
    baseline = statistics.median(r["baseline_mb"] for r in base)
    print(f"\nbaseline RSS (python, torch, diffusers imported): {baseline:,.0f} MB; median of {args.repeats} fresh "
          "processes per variant")


if __name__ == "__main__":
    main()
