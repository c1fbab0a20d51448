"""upscale.load, video.upscale and image.upscale on tiny spandrel models: loading rules, frames equal to spandrel
called directly, seamless tiling, automatic tile size, cancellation, resampling."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import tiny_upscalers
from tiny_upscalers import direct

from nodegraph.cache import ResourceCache
from nodegraph.errors import CancelledError, UsageError
from nodegraph.media import Image, Video
from nodegraph.node import NodeContext
from nodes.upscale import LoadUpscaleModel, UpscaleImage, UpscaleVideo
from nodes.upscale.loading import LoadedUpscaler

try:
    from ..synth import psnr, texture_frame
except ImportError:  # tests/nodes is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from synth import psnr, texture_frame


def context(messages: list | None = None, resources=None, cancelled=None) -> NodeContext:
    emit = (lambda node, level, text: messages.append(text)) if messages is not None else None
    return NodeContext("up", "test", device="cpu", resources=resources if resources is not None else ResourceCache(),
                       _emit_message=emit, _is_cancelled=cancelled)


def load(path, ctx=None):
    return LoadUpscaleModel().run(ctx or context(), source=str(path))["model"]


def upscale(video: Video, model, ctx=None, **params) -> np.ndarray:
    settings = UpscaleVideo.defaults() | params
    out = UpscaleVideo().run(ctx or context(), video=video, model=model, **settings)["video"]
    frames = np.concatenate(list(out.chunks(5)))
    assert frames.shape == (out.frame_count, out.height, out.width, 3)
    return frames


def clip(frames: int, size: int, seed: int = 3) -> np.ndarray:
    return np.stack([texture_frame(size, size, offset=(1.5 * i, 0.5 * i), seed=seed) for i in range(frames)])


# -- upscale.load ----------------------------------------------------------------------------------


def test_load_reports_architecture_scale_and_size_rules(upscaler_file):
    messages = []
    model = load(upscaler_file("esrgan"), context(messages))
    assert (model.architecture, model.scale, model.tiling) == ("ESRGAN", 4, "supported")
    assert messages == ["tiny_esrgan.safetensors: ESRGAN, x4, input at least 2 px, tiling supported"]
    assert load(upscaler_file("compact")).architecture == "RealESRGAN Compact"


def test_a_pth_checkpoint_loads_through_weights_only_loading(upscaler_file):
    model = load(upscaler_file("compact", ".pth"))
    assert (model.architecture, model.scale) == ("RealESRGAN Compact", 2)


def test_a_checkpoint_that_pickles_code_is_refused(tmp_path):
    import torch

    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(1), "hook": _Payload()}, path)
    with pytest.raises(UsageError, match=r"evil.pth holds more than tensors and is not unpickled") as info:
        load(path)
    assert "\n" not in str(info.value)


class _Payload:
    def __reduce__(self):
        return (print, ("unpickled code ran",))


def test_an_unknown_file_gets_one_line_naming_it_and_what_spandrel_reads(tmp_path):
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "mystery.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, str(path))
    with pytest.raises(UsageError) as info:
        load(path)
    text = str(info.value)
    assert text.startswith("mystery.safetensors is not a model architecture spandrel knows; it reads ")
    assert "ESRGAN" in text and "SwinIR" in text and "DAT" in text and "\n" not in text


def test_a_missing_or_foreign_file_is_named(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load(tmp_path / "nope.safetensors")
    other = tmp_path / "notes.txt"
    other.write_text("hi")
    with pytest.raises(UsageError, match=r"notes.txt is not a model file .* \.safetensors"):
        load(other)
    assert LoadUpscaleModel.check({"source": ""}) == [
        "source is empty; set it to an upscale model file (.safetensors or .pth)"]


def test_loaded_models_live_in_the_resource_cache(upscaler_file):
    cache = ResourceCache()
    first, second = load(upscaler_file("esrgan"), context(resources=cache)), load(upscaler_file("esrgan"),
                                                                                  context(resources=cache))
    loaded = first.acquire(context(resources=cache))
    assert loaded is second.acquire(context(resources=cache))
    assert cache.loads == 1
    # a light resource: it stays loaded beside a diffusion model instead of pushing it out
    from nodegraph.cache import LIGHT_RESOURCE_BYTES

    assert 0 < loaded.resource_nbytes() < LIGHT_RESOURCE_BYTES


# -- video.upscale -----------------------------------------------------------------------------------


def test_frames_equal_spandrel_called_directly_frame_by_frame(upscaler_file):
    frames = clip(5, 40)
    path = upscaler_file("esrgan")
    ours = upscale(Video.from_array(frames, 16.0), load(path))
    assert ours.shape == (5, 160, 160, 3)
    assert np.abs(ours.astype(int) - direct(path, frames).astype(int)).max() <= 1


@pytest.mark.slow
def test_tiled_with_overlap_matches_untiled_without_seams(upscaler_file, tmp_path):
    """A 256x256 frame in 160 px tiles: within 0.5 dB of untiled against the true high-resolution frame, and no
    seam in the difference image (written to tiled_difference.png for a look: a seam is a line along which
    the difference is high)."""
    model = load(upscaler_file("esrgan_x2"))
    frames = clip(1, 256)
    truth = texture_frame(512, 512, seed=3)[None]
    whole = upscale(Video.from_array(frames, 8.0), model, tile=0)
    tiled = upscale(Video.from_array(frames, 8.0), model, tile=160, overlap=32)
    assert abs(psnr(tiled, truth) - psnr(whole, truth)) <= 0.5
    assert psnr(tiled, whole) >= 45.0
    diff = np.abs(tiled.astype(np.float32) - whole.astype(np.float32)).mean(axis=(0, 3))
    _save_difference(diff, tmp_path / "tiled_difference.png")
    assert worst_line(diff) < 0.5  # grey levels, averaged along the worst row or column
    hard = upscale(Video.from_array(frames, 8.0), model, tile=128, overlap=0)
    assert worst_line(np.abs(hard.astype(np.float32) - whole.astype(np.float32)).mean(axis=(0, 3))) > 2.0


def worst_line(diff: np.ndarray) -> float:
    """The mean difference along the worst row or column: a seam shows as one such line."""
    return float(max(diff.mean(axis=0).max(), diff.mean(axis=1).max()))


def _save_difference(diff: np.ndarray, path) -> None:
    import cv2

    cv2.imwrite(str(path), np.clip(diff * 20, 0, 255).astype(np.uint8))  # x20, so a level of difference shows


def test_scale_resamples_the_models_output(upscaler_file):
    frames = clip(2, 32)
    model = load(upscaler_file("esrgan"))
    half = upscale(Video.from_array(frames, 8.0), model, scale=2.0)
    assert half.shape == (2, 64, 64, 3)
    full = upscale(Video.from_array(frames, 8.0), model)
    import cv2

    shrunk = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in full])
    assert psnr(half, shrunk) > 30


def test_automatic_tile_halves_on_out_of_memory(upscaler_file, monkeypatch):
    import torch

    original = LoadedUpscaler.__call__
    sizes = []

    def fits_48(self, batch, device, dtype):
        sizes.append(tuple(batch.shape))
        if max(batch.shape[-2:]) > 48 or batch.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, batch, device, dtype)

    monkeypatch.setattr(LoadedUpscaler, "__call__", fits_48)
    messages = []
    frames = clip(2, 96)
    model = load(upscaler_file("esrgan_x2"))
    out = upscale(Video.from_array(frames, 8.0), model, context(messages), tile=0, overlap=8)
    assert messages[-1] == "automatic tile: 48 px, 1 frame(s) at a time"
    assert sizes[:3] == [(2, 3, 96, 96), (1, 3, 96, 96), (1, 3, 48, 48)]  # whole frames two at a time, one, tiles
    monkeypatch.setattr(LoadedUpscaler, "__call__", original)
    whole = upscale(Video.from_array(frames, 8.0), model)
    assert psnr(out, whole) > 35


def test_an_explicit_tile_that_runs_out_of_memory_says_what_to_do(upscaler_file, monkeypatch):
    import torch

    def oom(self, batch, device, dtype):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(LoadedUpscaler, "__call__", oom)
    with pytest.raises(UsageError, match=r"out of memory upscaling 64x64 frames with 64 px tiles on cpu; "
                                         r"set tile to 0 \(automatic\)"):
        upscale(Video.from_array(clip(1, 64), 8.0), load(upscaler_file("esrgan")), tile=64, overlap=8)


def test_cancel_stops_within_a_frames_tiles(upscaler_file, monkeypatch):
    original = LoadedUpscaler.__call__
    calls = []

    def counted(self, batch, device, dtype):
        calls.append(1)
        return original(self, batch, device, dtype)

    monkeypatch.setattr(LoadedUpscaler, "__call__", counted)
    ctx = context(cancelled=lambda: len(calls) >= 3)
    with pytest.raises(CancelledError):
        upscale(Video.from_array(clip(2, 128), 8.0), load(upscaler_file("esrgan_x2")), ctx, tile=32, overlap=8)
    assert len(calls) == 3  # of the 25 tiles of the first frame


def test_validation_refuses_a_tiny_tile_and_an_overlap_of_half_the_tile():
    assert UpscaleVideo.check({"tile": 16, "overlap": 4}) == [
        "tile 16 is below 32 px; use 0 (automatic) or at least 32"]
    assert UpscaleImage.check({"tile": 64, "overlap": 32}) == [
        "overlap 32 is half the tile (64) or more; use an overlap below 32"]
    assert UpscaleVideo.check({"tile": 0, "overlap": 32}) == []


def test_bf16_precision_runs_close_to_fp32(upscaler_file):
    frames = clip(1, 32)
    model = load(upscaler_file("esrgan"))
    assert psnr(upscale(Video.from_array(frames, 8.0), model, precision="bf16"),
                upscale(Video.from_array(frames, 8.0), model, precision="fp32")) > 25


# -- image.upscale ---------------------------------------------------------------------------------------


def test_image_upscale_gives_the_frame_video_upscale_gives(upscaler_file):
    frame = clip(1, 48)
    model = load(upscaler_file("compact"))
    image = UpscaleImage().run(context(), image=Image(frame[0]), model=model,
                               **UpscaleImage.defaults())["image"]
    assert (image.width, image.height) == (96, 96)
    assert np.array_equal(image.array, upscale(Video.from_array(frame, 8.0), model)[0])


def test_tiny_models_are_built_by_spandrels_own_classes():
    assert type(tiny_upscalers.build("esrgan")).__module__.startswith("spandrel.")


# -- streaming memory ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak resident set from /proc")
def test_a_thousand_frames_peak_at_the_memory_of_a_hundred(tmp_path):
    import subprocess

    probe = Path(__file__).with_name("memory_probe.py")
    proc = subprocess.run([sys.executable, str(probe), str(tmp_path), "100", "1000"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [list(map(int, line.split())) for line in proc.stdout.split("\n") if line.strip()][1:]
    (_, peak_100, above_100), (_, peak_1000, above_1000) = rows
    assert abs(peak_1000 - peak_100) <= 0.15 * peak_100
    assert above_1000 - above_100 < 16 * 2**20, f"{above_100 / 2**20:.1f} MiB above the start for 100 frames, " \
                                                f"{above_1000 / 2**20:.1f} MiB for 1,000"


def test_without_a_working_torchvision_upscale_load_says_what_to_install(upscaler_file):
    from nodes.upscale.loading import import_spandrel

    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in ("spandrel", "torchvision")}
    try:
        for name in saved:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # what an environment without torchvision gives spandrel's import
        with pytest.raises(UsageError) as info:
            import_spandrel()
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] in ("spandrel", "torchvision")]:
            del sys.modules[name]
        sys.modules.update(saved)
    text = str(info.value)
    assert text.startswith("spandrel needs torchvision, and torchvision is not installed; install the torchvision "
                           "build made for your torch") and "\n" not in text
    assert load(upscaler_file("compact")).architecture == "RealESRGAN Compact"  # spandrel is back as it was


def test_a_tiled_frame_shows_its_tiles_as_they_come_in(upscaler_file, monkeypatch):
    import nodes.upscale.nodes as upscale_nodes

    monkeypatch.setattr(upscale_nodes, "PREVIEW_SECONDS", 0.0)
    previews = []
    ctx = context()
    ctx._emit_preview = lambda node, frames, fps: previews.append(np.array(frames))
    frames = clip(1, 64)
    out = upscale(Video.from_array(frames, 8.0), load(upscaler_file("compact")), ctx, tile=32, overlap=8)
    assert len(previews) == 9  # one per tile of the 3 x 3
    assert previews[0].shape == (128, 128, 3)
    assert not np.array_equal(previews[0], out[0]) and np.array_equal(previews[-1], out[0])
