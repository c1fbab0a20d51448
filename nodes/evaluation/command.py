"""`kinograph eval VIDEO [--reference VIDEO] [--window N] [--json] [--plot PNG]`: print a clip's quality metrics."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager

EXIT_OK, EXIT_INVALID = 0, 2


class EvalCommand:
    name = "eval"
    help = "measure a video's temporal quality (and PSNR/SSIM against a reference)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from .thresholds import describe_thresholds

        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = describe_thresholds()
        parser.add_argument("video", help="the video file to measure")
        parser.add_argument("--reference", metavar="VIDEO", help="a ground-truth video: adds PSNR and SSIM")
        parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
        parser.add_argument("--plot", metavar="PNG", help="draw the per-frame curves into this image file")
        parser.add_argument("--prompt", help="also score how well the frames show this text (prompt alignment)")
        parser.add_argument("--alignment-model", metavar="MODEL", default=None,
                            help="the CLIP or SigLIP model that scores --prompt (a folder or a Hugging Face id; "
                                 "default $KINOGRAPH_ALIGNMENT_MODEL, else openai/clip-vit-base-patch32)")
        parser.add_argument("--watermark", nargs="?", const="kinograph", default=None, metavar="TEXT",
                            help="also look for an invisible watermark (video.watermark) carrying TEXT "
                                 "(default: kinograph), and say how many of its bits survive")
        parser.add_argument("--watermark-method", choices=("dwtDctSvd", "dwtDct"), default="dwtDctSvd",
                            help="the method the mark was made with (default dwtDctSvd, as video.watermark's)")
        parser.add_argument("--watermark-strength", type=int, default=60, metavar="N",
                            help="the strength the mark was made with (default 60, as video.watermark's)")
        parser.add_argument("--window", type=int, metavar="N", default=0,
                            help="also measure every window of N frames on its own, to see quality change over time")

    def run(self, args: argparse.Namespace) -> int:
        from nodegraph.api import KinographError

        if args.window and args.window < 2:
            print(f"kinograph eval: --window {args.window}: a window needs at least 2 frames", file=sys.stderr)
            return EXIT_INVALID
        try:
            with _progress_bar() as progress:
                result = evaluate(args.video, args.reference, progress, window=args.window, prompt=args.prompt,
                                  alignment_model=args.alignment_model, watermark=args.watermark,
                                  watermark_method=args.watermark_method, watermark_strength=args.watermark_strength)
            if args.plot:
                from .plot import save_plot

                save_plot(_all_curves(result), args.plot, title=f"kinograph eval {args.video}")
        except (KinographError, OSError, ValueError) as exc:
            print(f"kinograph eval: {exc}", file=sys.stderr)
            return EXIT_INVALID
        if args.json:
            print(json.dumps(result_json(result), indent=2))
        else:
            print_tables(result, args.video)
        return EXIT_OK


@contextmanager
def _progress_bar():
    """A transient progress bar on stderr when it is a terminal; yields report(label, done, total) or None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, int] = {}

        def report(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total or None)
            bar.update(tasks[label], completed=done, total=max(total, done) or None)

        yield report


def evaluate(video_path: str, reference_path: str | None = None, progress=None, window: int = 0,
             prompt: str | None = None, alignment_model: str | None = None, watermark: str | None = None,
             watermark_method: str = "dwtDctSvd", watermark_strength: int = 60) -> dict:
    """{"temporal": Metrics, "compare": Metrics (with a reference), "windows": [...] (with `window`)} for video
    files. Each window entry holds its first and last frame and the temporal summary of those frames alone.

    `progress(label, done, total)`, when given, is called as frames are measured."""
    from nodegraph.api import UsageError

    from ..io.video_reader import open_video
    from .analysis import compare_metrics, temporal_metrics

    video = open_video(video_path)
    reference = open_video(reference_path) if reference_path else None
    if reference is not None and (video.width, video.height) != (reference.width, reference.height):
        raise UsageError(f"{video_path} is {video.width}x{video.height} but {reference_path} is "
                         f"{reference.width}x{reference.height}; compare videos of the same size")
    result: dict = {}
    try:
        result["temporal"] = temporal_metrics(video.chunks(16), video.width, video.height,
                                              _reporter(progress, "temporal", video.frame_count))
    except ValueError as exc:  # fewer than 2 frames
        raise UsageError(f"{video_path}: {exc}") from None
    if reference is not None:
        result["compare"] = compare_metrics(video.frames(16), reference.frames(16),
                                            _reporter(progress, "compare", video.frame_count))
    if window:
        result["windows"] = windowed_metrics(video, window, _reporter(progress, "windows", video.frame_count))
    from ..io.provenance import read_provenance

    credentials = read_provenance(video_path)
    if credentials is not None:
        result["provenance"] = credentials
    if prompt:
        from .alignment import alignment_metrics, default_model, load_scorer

        scorer = load_scorer(alignment_model or default_model())
        result["alignment"] = alignment_metrics(
            scorer, prompt, video.frames(16), video.frame_count,
            progress=None if progress is None else (lambda done, total: progress("alignment", done, total)))
    if watermark is not None:
        from ..io.watermark import read_watermark

        result["watermark"] = read_watermark(video.frames(16), watermark, watermark_method, watermark_strength)
    return result


def windowed_metrics(video, window: int, report=None) -> list[dict]:
    """The temporal summary of each run of `window` frames measured on its own (a last, shorter run of at least
    two frames too): a clip that starts well and degrades shows it."""
    from .analysis import TemporalAnalyzer

    out: list[dict] = []
    analyzer, start, seen = None, 0, 0

    def close(end: int) -> None:
        if analyzer is not None and analyzer.frames >= 2:
            out.append({"first": start, "last": end, "summary": dict(analyzer.result().summary)})

    for frame in video.frames(16):
        if analyzer is None or analyzer.frames == window:
            close(seen - 1)
            analyzer, start = TemporalAnalyzer(video.width, video.height), seen
        analyzer.add(frame)
        seen += 1
        if report is not None:
            report(seen)
    close(seen - 1)
    return out


def _reporter(progress, label: str, total: int):
    return None if progress is None else (lambda done: progress(label, done, total))


def _all_curves(result: dict) -> dict[str, list[float]]:
    curves: dict[str, list[float]] = {}
    for group in _measured(result).values():
        curves.update(group.curves)
    return curves


def _measured(result: dict) -> dict:
    """The groups of `evaluate`'s result that are METRICS values (not windows, provenance or watermark)."""
    from nodegraph.api import Metrics

    return {name: group for name, group in result.items() if isinstance(group, Metrics)}


def result_json(result: dict) -> dict:
    """`evaluate`'s result as `kinograph eval --json` prints it: each METRICS value in its JSON form."""
    measured = _measured(result)
    return {name: measured[name].to_json() if name in measured else group for name, group in result.items()}


def print_tables(result: dict, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("group")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for group, metrics in _measured(result).items():
        for name, value in metrics.summary.items():
            text = f"{int(value)}" if name == "frames" else f"{value:.4g}"
            table.add_row(group, name, text, metrics.unit(name))
    Console().print(table)
    credentials = result.get("provenance")
    if credentials:
        from ..io.provenance import describe_provenance

        Console().print(describe_provenance(credentials))
    if result.get("watermark"):
        from ..io.watermark import describe_watermark

        Console().print(describe_watermark(result["watermark"]))
    if result.get("windows"):
        names = [n for n in result["windows"][0]["summary"] if n != "frames"]
        windows = Table(title="per window")
        windows.add_column("frames")
        for name in names:
            windows.add_column(name, justify="right")
        for entry in result["windows"]:
            windows.add_row(f"{entry['first']}-{entry['last']}",
                            *(f"{entry['summary'][n]:.4g}" for n in names))
        Console().print(windows)


COMMAND = EvalCommand()
