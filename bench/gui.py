"""Editor speed: open a 500-node workflow, pan it, and the longest event-loop stall during a run.

    .venv/bin/python bench/gui.py [--nodes 500] [--workflow resources/workflows/animate_image.json]

Runs offscreen unless a display is set. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORKFLOW = ROOT / "resources" / "workflows" / "animate_image.json"


def big_workflow(n: int) -> dict:
    """n value nodes in chains of five, each feeding the next one's param through a link."""
    nodes, links = [], []
    for i in range(n):
        kind = "value.int" if i % 5 == 0 else "value.float"
        nodes.append({"id": f"n{i}", "type": kind, "params": {"value": i},
                      "ui": {"x": (i % 5) * 260, "y": (i // 5) * 140}})
        if i % 5:
            links.append({"from": f"n{i - 1}.value", "to": f"n{i}.value"})
    return {"format": "kinograph.workflow", "version": 1, "name": f"{n} nodes", "nodes": nodes, "links": links,
            "groups": [], "meta": {}}


def pipeline_workflow(frames: int) -> dict:
    """The default pipeline (image → camera → interpolate → resize → save), when its file is not there yet."""
    sample = ROOT / "resources" / "images" / "sample.png"
    chain = [("load", "image.load", {"path": str(sample)}, "image"),
             ("camera", "motion.camera", {"frames": frames}, "video"),
             ("interp", "video.interpolate", {"factor": 2}, "video"),
             ("resize", "video.resize", {"scale": 1.0}, "video"),
             ("save", "video.save", {"filename": "bench.mp4", "preset": "ultrafast"}, "path")]
    nodes = [{"id": i, "type": t, "params": p, "ui": {"x": k * 280, "y": 0}} for k, (i, t, p, _) in enumerate(chain)]
    links = [{"from": f"{a[0]}.{a[3]}", "to": f"{b[0]}.{'image' if b[1] == 'motion.camera' else 'video'}"}
             for a, b in zip(chain, chain[1:], strict=False)]
    return {"format": "kinograph.workflow", "version": 1, "name": "pipeline", "nodes": nodes, "links": links,
            "groups": [], "meta": {}}


class StallMeter:
    """A 2 ms timer; the longest gap between its ticks is the longest event-loop stall."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer(interval=2)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.longest = 0.0
        self.ticks = 0

    def start(self):
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        self.ticks += 1

    def stop(self):
        self.timer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--workflow", type=Path, default=DEFAULT_WORKFLOW)
    parser.add_argument("--frames", type=int, default=48, help="camera frames when the default workflow is missing")
    args = parser.parse_args()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import json

    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from gui.app import make_app
    from gui.main_window import MainWindow
    from nodegraph import default_registry

    app = make_app()
    registry = default_registry()
    tmp = Path(tempfile.mkdtemp(prefix="kinograph-bench-"))
    rows: list[tuple[str, str]] = []

    # 1. open a big workflow: time to first paint of the canvas
    big = tmp / "big.json"
    big.write_text(json.dumps(big_workflow(args.nodes)))

    class FirstPaint(QObject):
        at = None

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Paint and self.at is None:
                self.at = time.perf_counter()
            return False

    t0 = time.perf_counter()
    window = MainWindow(registry, output_dir=tmp / "out", restore_layout=False)
    watcher = FirstPaint()
    window.view.viewport().installEventFilter(watcher)
    window.resize(1600, 1000)
    window.open_file(big, ask=False)
    window.show()
    t_open = time.perf_counter()
    while watcher.at is None and time.perf_counter() - t0 < 30:
        app.processEvents()
    rows.append((f"open {args.nodes}-node workflow → first paint", f"{(watcher.at - t0) * 1000:.0f} ms"))
    rows.append(("  of which load + build items", f"{(t_open - t0) * 1000:.0f} ms"))

    # 2. frame time while panning, zoomed out (whole graph) and at 100 %
    view = window.view
    for label, zoom in (("pan, whole graph in view", None), ("pan at 100 % zoom", 1.0)):
        view.frame_all()
        if zoom:
            view.zoom_by(zoom / view.zoom)
        app.processEvents()
        times = []
        for i in range(60):
            step = 12 if (i // 15) % 2 == 0 else -12
            s = time.perf_counter()
            view.pan_by(step, step / 2)
            view.viewport().repaint()
            times.append(time.perf_counter() - s)
        times.sort()
        rows.append((f"{label} (zoom {view.zoom:.2f}): median / worst frame",
                     f"{times[len(times) // 2] * 1000:.1f} / {times[-1] * 1000:.1f} ms"))
    window.stack.set_clean()
    window.close()

    # 3. longest event-loop stall during a run of the default workflow
    wf = args.workflow
    if not wf.exists():
        wf = tmp / "pipeline.json"
        wf.write_text(json.dumps(pipeline_workflow(args.frames)))
    window = MainWindow(registry, output_dir=tmp / "out", restore_layout=False)
    window.resize(1600, 1000)
    window.show()
    if not window.open_file(wf, ask=False):
        print(f"cannot open {wf}", file=sys.stderr)
        return 2
    meter = StallMeter()
    for _ in range(20):
        app.processEvents()
    meter.start()
    t0 = time.perf_counter()
    window.run_all()
    previews = 0

    def count(event):
        nonlocal previews
        previews += type(event).__name__ == "NodePreview"

    window.runner.bridge.event_received.connect(count)
    while not window.runner.idle and time.perf_counter() - t0 < 600:
        app.processEvents()
        time.sleep(0.001)
    meter.stop()
    result = window.runner.last_result
    status = result.status if result is not None else "did not finish"
    rows.append((f"run of {wf.name}: status, wall time", f"{status}, {time.perf_counter() - t0:.1f} s"))
    rows.append(("  longest event-loop stall during the run", f"{meter.longest * 1000:.1f} ms"))
    rows.append(("  previews delivered / dropped as stale", f"{previews} / {window.runner.bridge.dropped}"))
    window.stack.set_clean()
    window.close()
    QApplication.processEvents()

    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown of the Qt objects: only the table matters here
