"""Small test nodes that exercise the engine without torch, Qt or media libraries."""

from __future__ import annotations

import threading

import numpy as np

from nodegraph import Graph, Link, NodeInstance
from nodegraph.media import Video
from nodegraph.node import Node, Param, Port
from nodegraph.types import FLOAT, INT, STRING, VIDEO

CALLS: list[str] = []
PULLS: list[str] = []  # test.frames: each time a node's frames are computed


class Number(Node):
    """Emits a number."""

    type_id = "test.number"
    outputs = (Port("value", FLOAT),)
    params = (Param("value", float, default=1.0, min=-100.0, max=100.0),)

    def run(self, ctx, *, value):
        CALLS.append(ctx.node_id)
        return {"value": value}


class Add(Node):
    """Adds two numbers; `b` is optional."""

    type_id = "test.add"
    inputs = (Port("a", FLOAT), Port("b", FLOAT, optional=True))
    outputs = (Port("value", FLOAT),)
    params = (Param("offset", float, default=0.0),)

    def run(self, ctx, *, a, b, offset):
        CALLS.append(ctx.node_id)
        return {"value": a + (b or 0.0) + offset}


class Scale(Node):
    """Multiplies by an int factor that may come from a link."""

    type_id = "test.scale"
    inputs = (Port("a", FLOAT),)
    outputs = (Port("value", FLOAT),)
    params = (Param("factor", int, default=2, min=1, max=10),
              Param("mode", str, default="mul", choices=("mul", "neg")))

    def run(self, ctx, *, a, factor, mode):
        CALLS.append(ctx.node_id)
        return {"value": a * factor if mode == "mul" else -a}


class Sink(Node):
    """An output node that records what it got."""

    type_id = "test.sink"
    is_output = True
    inputs = (Port("value", FLOAT),)
    outputs = (Port("text", STRING),)
    params = (Param("label", str, default="out"),)

    def run(self, ctx, *, value, label):
        CALLS.append(ctx.node_id)
        return {"text": f"{label}={value}"}


class Boom(Node):
    """Always fails."""

    type_id = "test.boom"
    inputs = (Port("a", FLOAT),)
    outputs = (Port("value", FLOAT),)

    def run(self, ctx, *, a):
        CALLS.append(ctx.node_id)
        raise RuntimeError("the widget exploded")


class Frames(Node):
    """A lazy clip of `count` frames whose pixel value is the frame index."""

    type_id = "test.frames"
    outputs = (Port("video", VIDEO),)
    params = (Param("count", int, default=10, min=1, max=100000), Param("size", int, default=8, min=1, max=4096),
              Param("fail_at", int, default=-1, min=-1, max=100000),
              Param("once", bool, default=False, tooltip="computed once (Video.computed_once)"))

    def run(self, ctx, *, count, size, fail_at, once):
        CALLS.append(ctx.node_id)

        def frames():
            PULLS.append(ctx.node_id)
            for i in range(count):
                if i == fail_at:
                    raise ValueError(f"frame {i} is corrupt")
                yield np.full((size, size, 3), i % 256, np.uint8)

        video = Video.from_frames(frames, fps=24, width=size, height=size, frame_count=count)
        return {"video": video.computed_once(1 << 20) if once else video}


class Slow(Node):
    """Passes frames through, sleeping a little per chunk (work done while the stream is pulled)."""

    type_id = "test.slow"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)

    def run(self, ctx, *, video):
        import time

        def work(block):
            time.sleep(0.02)
            return block

        return {"video": video.map_chunks(work)}


class Invert(Node):
    """Inverts frames, streaming."""

    type_id = "test.invert"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)

    def run(self, ctx, *, video):
        CALLS.append(ctx.node_id)
        return {"video": video.map_chunks(lambda block: 255 - block)}


class Drain(Node):
    """Pulls a clip chunk by chunk; outputs its frame count and the largest chunk seen."""

    type_id = "test.drain"
    is_output = True
    inputs = (Port("video", VIDEO),)
    outputs = (Port("count", INT), Port("checksum", INT))
    params = (Param("crf", int, default=18, min=0, max=51),)

    def run(self, ctx, *, video, crf):
        CALLS.append(ctx.node_id)
        count = checksum = 0
        for block in video.chunks(8):
            ctx.check_cancelled()
            count += len(block)
            checksum += int(block[:, 0, 0, 0].sum())
            ctx.progress(count, video.frame_count)
        return {"count": count, "checksum": checksum}


class Gate(Node):
    """Waits on an event so tests can cancel mid-run."""

    type_id = "test.gate"
    inputs = (Port("a", FLOAT),)
    outputs = (Port("value", FLOAT),)
    started = threading.Event()
    release = threading.Event()

    def run(self, ctx, *, a):
        CALLS.append(ctx.node_id)
        Gate.started.set()
        while not Gate.release.wait(0.01):
            ctx.check_cancelled()
        ctx.check_cancelled()
        return {"value": a}


class WriteText(Node):
    """An output node that writes its number to a text file in the output folder."""

    type_id = "test.write"
    is_output = True
    inputs = (Port("value", FLOAT),)
    outputs = (Port("path", STRING),)
    params = (Param("filename", str, default="value.txt", kind="save_path"),)

    def run(self, ctx, *, value, filename):
        CALLS.append(ctx.node_id)
        path = ctx.output_path(filename)
        path.write_text(str(value))
        ctx.record_output(path)
        return {"path": str(path)}


TEST_NODES = (Number, Add, Scale, Sink, Boom, Frames, Slow, Invert, Drain, Gate, WriteText)


def make_graph(nodes: list[tuple[str, str, dict]], links: list[tuple[str, str]] = ()) -> Graph:
    """Build a graph from (id, type, params) and ("a.port", "b.port") pairs."""
    graph = Graph("test")
    for node_id, type_id, params in nodes:
        graph.add_node(NodeInstance(node_id, type_id, dict(params)))
    for src, dst in links:
        s, sp = src.split(".", 1)
        d, dp = dst.split(".", 1)
        graph.connect(Link(s, sp, d, dp))
    return graph
