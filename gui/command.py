"""`kinograph gui [WORKFLOW]`: open the editor (PySide6 is imported only when it runs)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from nodegraph import models_dir


class GuiCommand:
    name = "gui"
    help = "open the editor, optionally on a workflow (or a video Kinograph saved)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("workflow", nargs="?", help="workflow file, or a video with an embedded workflow")
        parser.add_argument("--screenshot", metavar="PNG", help="open, frame the graph, save a screenshot, exit")
        parser.add_argument("--run", action="store_true", help="with --screenshot: run the workflow first")
        parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
        parser.add_argument("--output-dir", default="outputs", help="where runs write files (default: ./outputs)")
        parser.add_argument("--timeout", type=float, default=300.0, help="with --run: give up after this many s")
        models_dir.add_argument(parser)

    def run(self, args: argparse.Namespace) -> int:
        if args.screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        models_dir.configure(args.models_dir)  # a folder that is not one: one line, exit 2
        from .app import make_app
        from .main_window import MainWindow
        from .models_folders import apply_models_folders

        app = make_app()
        apply_models_folders(args.models_dir)  # after make_app: the saved folders live in the app's QSettings
        window = MainWindow(device=args.device, output_dir=args.output_dir, restore_layout=not args.screenshot)
        # Unsaved work from a crash is offered first, whatever was asked for; taking it back keeps it open
        # rather than the file named on the command line, which stays a click away in Open Recent.
        recovered = not args.screenshot and window.offer_recovery()
        if args.workflow and not recovered:
            if not window.open_file(args.workflow, ask=False):
                print(f"kinograph: cannot open {args.workflow}", file=sys.stderr)
                if args.screenshot:
                    return 2
        elif args.workflow:
            window.log.add("info", f"Kept the recovered work open; {args.workflow} was not opened")
        window.show()
        if not args.screenshot:
            return app.exec()
        return take_screenshot(app, window, args.screenshot, run=args.run, timeout=args.timeout)


def take_screenshot(app, window, path: str, *, run: bool = False, timeout: float = 300.0) -> int:
    """Optionally run the graph, frame it, and save the window as a PNG. Returns an exit code."""
    window.resize(1600, 1000)
    _pump(app, 0.3)
    status = 0
    if run and window.run_all():
        deadline = time.monotonic() + timeout
        while not window.runner.idle and time.monotonic() < deadline:
            _pump(app, 0.05)
        result = window.runner.last_result
        status = 0 if result is not None and result.ok else 1
        outputs = [n for n in window.graph.nodes if n in window.runner.outputs]
        shown = next((n for n in reversed(outputs) if _has_picture(window.runner.outputs[n])), None)
        if shown:
            window.select_nodes([shown])
            _pump(app, 1.5)
    window.view.frame_all()
    _pump(app, 0.3)
    window.grab().save(path)
    print(path)
    window.stack.set_clean()
    window.close()
    return status


def _has_picture(outputs: dict) -> bool:
    from .preview_panel import pick_visual

    return pick_visual(outputs) is not None


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


COMMAND = GuiCommand()
