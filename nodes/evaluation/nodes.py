"""Evaluation nodes: temporal consistency, comparison with a reference, and deflicker."""

from __future__ import annotations

from typing import Any

from nodegraph.api import CONDITIONING, METRICS, VIDEO, Metrics, Node, NodeContext, Param, Port, UsageError, Video

from .analysis import TemporalAnalyzer, compare_metrics
from .deflicker import deflicker_chunks

CHUNK = 16


def _preview_plot(ctx: NodeContext, metrics: Metrics, title: str) -> None:
    from .plot import render_curves

    if not ctx.wants_previews:
        return
    try:
        ctx.preview(render_curves(metrics.curves, width=512, panel_height=96, title=title))
    except Exception as exc:  # a preview must never fail the node
        ctx.log.debug("metrics preview failed: %s", exc)


class TemporalMetrics(Node):
    """Measure flicker, warp error between frames and motion of a clip."""

    type_id = "eval.temporal"
    category = "Evaluation"
    title = "Temporal Metrics"
    is_output = True
    inputs = (Port("video", VIDEO, tooltip="The clip to measure."),)
    outputs = (Port("metrics", METRICS, tooltip="warp_psnr, flicker_index, mean_motion, ... and per-frame curves."),)

    def run(self, ctx: NodeContext, *, video: Video) -> dict[str, Any]:
        if video.frame_count == 1:
            raise UsageError("temporal metrics need at least 2 frames, the video has 1; feed a longer clip")
        analyzer = TemporalAnalyzer(video.width, video.height)
        for chunk in video.chunks(CHUNK):
            for frame in chunk:
                analyzer.add(frame)
            ctx.progress(analyzer.frames, max(video.frame_count, analyzer.frames))
        if analyzer.frames < 2:
            raise UsageError(f"temporal metrics need at least 2 frames, the video has {analyzer.frames}; "
                             "feed a longer clip")
        metrics = analyzer.result()
        _preview_plot(ctx, metrics, "temporal metrics")
        return {"metrics": metrics}


class CompareMetrics(Node):
    """PSNR and SSIM of a clip against a reference clip, per frame and overall."""

    type_id = "eval.compare"
    category = "Evaluation"
    title = "Compare to Reference"
    is_output = True
    inputs = (
        Port("video", VIDEO, tooltip="The clip to score."),
        Port("reference", VIDEO, tooltip="The ground truth, same size and frame count."),
    )
    outputs = (Port("metrics", METRICS, tooltip="psnr, ssim (mean and worst frame) and per-frame curves."),)

    def run(self, ctx: NodeContext, *, video: Video, reference: Video) -> dict[str, Any]:
        if (video.width, video.height) != (reference.width, reference.height):
            raise UsageError(f"the video is {video.width}x{video.height} but the reference is "
                             f"{reference.width}x{reference.height}; resize one so both match")
        if video.frame_count and reference.frame_count and video.frame_count != reference.frame_count:
            raise UsageError(f"the video has {video.frame_count} frames but the reference has "
                             f"{reference.frame_count}; compare clips with the same number of frames")
        total = max(video.frame_count, 1)
        try:
            metrics = compare_metrics(video.frames(CHUNK), reference.frames(CHUNK),
                                      progress=lambda done: ctx.progress(done, max(total, done)))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        _preview_plot(ctx, metrics, "compare")
        return {"metrics": metrics}


class Deflicker(Node):
    """Even out frame-to-frame brightness and colour flicker without touching motion."""

    type_id = "video.deflicker"
    category = "Utility"
    title = "Deflicker"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("strength", float, default=1.0, min=0.0, max=1.0, step=0.05,
              tooltip="1 matches each frame fully to its neighbours' brightness and contrast; 0 leaves it."),
        Param("window", int, default=9, min=3, max=101, step=2,
              tooltip="Frames (odd) whose brightness trend each frame is matched to; longer evens out more "
                      "flicker and slower flicker, but follows quick changes of light less closely."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[str]:
        window = params.get("window", 9)
        if isinstance(window, int) and window % 2 == 0:
            return [f"window must be odd (centred on the frame), got {window}; use {window + 1}"]
        return []

    def run(self, ctx: NodeContext, *, video: Video, strength: float, window: int) -> dict[str, Any]:
        problems = self.check({"window": window})
        if problems:
            raise UsageError(problems[0])

        def source():
            return deflicker_chunks(video.chunks(CHUNK), window=window, strength=strength, chunk=CHUNK)

        return {"video": video.with_source(source)}


class PromptAlignment(Node):
    """How well the clip shows its prompt: a CLIP-family text–image score per sampled frame, with the mean and the
    worst frame."""

    type_id = "eval.alignment"
    category = "Evaluation"
    title = "Prompt Alignment"
    is_output = True
    inputs = (Port("video", VIDEO, tooltip="The clip to score."),
              Port("conditioning", CONDITIONING, optional=True,
                   tooltip="The encoded prompt: its text is scored (instead of the prompt param)."))
    outputs = (Port("metrics", METRICS, tooltip="alignment (mean), alignment_min and the per-frame curve."),)
    params = (
        Param("prompt", str, default="", kind="multiline", tooltip="The text to score; the conditioning's when "
              "one is connected."),
        Param("model", str, default="openai/clip-vit-base-patch32", kind="path_or_id",
              tooltip="A CLIP or SigLIP model: a folder or a Hugging Face id (downloaded on first use)."),
        Param("samples", int, default=16, min=1, max=1000, tooltip="How many frames, spread over the clip, to score."),
    )
    widgets = ("prompt",)

    def run(self, ctx: NodeContext, *, video: Video, conditioning, prompt: str, model: str,
            samples: int) -> dict[str, Any]:
        from .alignment import alignment_metrics, load_scorer

        text = getattr(conditioning, "prompt", "") if conditioning is not None else prompt
        scorer = ctx.resources.get_or_load(f"alignment:{model}", lambda: load_scorer(model))
        metrics = alignment_metrics(scorer, text, video.frames(CHUNK), video.frame_count, samples,
                                    progress=lambda done, total: ctx.progress(done, total))
        _preview_plot(ctx, metrics, "prompt alignment")
        return {"metrics": metrics}


NODES = (TemporalMetrics, CompareMetrics, Deflicker, PromptAlignment)
