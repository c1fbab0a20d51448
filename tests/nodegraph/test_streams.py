"""The stream ledger: the one rule for when a lazy stream counts as finished, and its seconds."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import pytest

from nodegraph import Node, Param, Port, Scheduler, Video
from nodegraph.streams import StreamLedger
from nodegraph.types import INT, VIDEO

from .fakes import make_graph


def ledger(links: list[tuple[str, str]], order: list[str]) -> StreamLedger:
    sources: dict[str, set[str]] = {n: set() for n in order}
    for src, dst in links:
        sources[dst].add(src)
    return StreamLedger(sources, order)


def ids(ends) -> list[str]:
    return [e.node_id for e in ends]


def test_a_stream_that_feeds_nothing_ends_when_it_is_returned():
    book = ledger([], ["src"])
    (end,) = book.opened("src", "video: clip", 0.5)
    assert (end.node_id, end.summary, end.seconds, end.finished) == ("src", "video: clip", 0.5, True)
    assert not book.is_open("src")


def test_a_chain_of_streams_ends_upstream_first_when_the_node_pulling_it_finishes():
    book = ledger([("src", "mid"), ("mid", "save")], ["src", "mid", "save"])
    assert book.opened("src", "", 0.0) == []
    assert book.opened("mid", "", 0.0) == []  # mid is a stream too: it keeps src open until it ends
    assert ids(book.finished("save")) == ["src", "mid"]


def test_a_stream_feeding_two_nodes_ends_after_both():
    book = ledger([("src", "a"), ("src", "b")], ["src", "a", "b"])
    book.opened("src", "", 0.0)
    assert book.finished("a") == []
    assert ids(book.finished("b")) == ["src"]


def test_a_stream_fed_by_a_value_node_ends_on_its_own_consumers_only():
    book = ledger([("load", "camera"), ("camera", "save")], ["load", "camera", "save"])
    assert book.finished("load") == []  # load returned a picture: nothing of it is a stream
    book.opened("camera", "", 0.0)
    assert ids(book.finished("save")) == ["camera"]


def test_seconds_from_any_thread_count_until_the_stream_ends():
    book = ledger([("src", "save")], ["src", "save"])
    book.opened("src", "", 0.25)
    workers = [threading.Thread(target=lambda: [book.add_seconds("src", 0.001) for _ in range(500)])
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    (end,) = book.finished("save")
    assert abs(end.seconds - 2.25) < 1e-9
    book.add_seconds("src", 5.0)  # a pull after the end (a preview's) is nobody's run time
    assert not book.is_open("src")


def test_what_is_open_when_the_run_ends_ends_with_it():
    order = ["a", "b", "c", "d"]
    links = [("a", "b"), ("b", "d"), ("c", "d")]
    failed = ledger(links, order)
    for node_id in ("a", "b"):
        failed.opened(node_id, "", 0.0)
    # b's own code failed while d pulled it: a did its part, b did not finish
    assert [(e.node_id, e.finished) for e in failed.close(cancelled=False, failed="b")] == [("a", True),
                                                                                            ("b", False)]
    cancelled = ledger(links, order)
    cancelled.opened("a", "", 0.0)
    assert [(e.node_id, e.finished) for e in cancelled.close(cancelled=True, failed=None)] == [("a", False)]
    assert cancelled.close(cancelled=True, failed=None) == []


# -- stages in parallel, through the scheduler -------------------------------------------------------------


class Counted(Node):
    """A lazy clip of single frames that counts the frames it makes; `lock`: each frame is made under LOCK, and
    the clip says so (same_thread), as a model's decode does."""

    type_id = "test.counted"
    outputs = (Port("video", VIDEO),)
    params = (Param("count", int, default=8, min=1, max=10000), Param("lock", bool, default=False))

    def run(self, ctx, *, count, lock):
        def frames():
            for i in range(count):
                with LOCK if lock else contextlib.nullcontext():
                    MADE.append(i)
                    yield np.full((8, 8, 3), i % 256, np.uint8)

        video = Video.from_frames(frames, fps=24, width=8, height=8, frame_count=count)
        video.same_thread = lock
        return {"video": video}


class Busy(Node):
    """Passes frames through, sleeping per chunk and noting when it worked (sleep needs no core: the intervals
    overlap only if the stages run at the same time)."""

    type_id = "test.busy"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (Param("delay", float, default=0.05, min=0.0, max=5.0),)

    def run(self, ctx, *, video, delay):
        def work(block):
            started = time.monotonic()
            time.sleep(delay)
            WORKED.append((ctx.node_id, started, time.monotonic()))
            return block

        return {"video": video.map_chunks(work, chunk=4)}


class LockedDrain(Node):
    """Pulls its clip while holding LOCK, as a sampler pulls its input video under its model's lock."""

    type_id = "test.locked_drain"
    is_output = True
    inputs = (Port("video", VIDEO),)
    outputs = (Port("count", INT),)

    def run(self, ctx, *, video):
        with LOCK:
            return {"count": len(video.to_array())}


LOCK = threading.RLock()
MADE: list[int] = []
WORKED: list[tuple[str, float, float]] = []


@pytest.fixture
def stage_registry(registry):
    registry.register_all((Counted, Busy, LockedDrain))
    MADE.clear()
    WORKED.clear()
    return registry


def run_in_time(scheduler, graph, seconds=30.0):
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("result", scheduler.run(graph)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert "result" in box, "the run did not end: stages wait on each other"
    return box["result"]


def test_the_stages_of_a_chain_work_at_the_same_time(stage_registry, tmp_path):
    graph = make_graph([("src", "test.counted", {"count": 24}), ("a", "test.busy", {"delay": 0.1}),
                        ("b", "test.busy", {"delay": 0.02}), ("drain", "test.drain", {})],
                       [("src.video", "a.video"), ("a.video", "b.video"), ("b.video", "drain.video")])
    result = run_in_time(Scheduler(stage_registry, output_dir=tmp_path), graph)
    assert result.outputs["drain"]["count"] == 24
    a = [(s, e) for node, s, e in WORKED if node == "a"]
    b = [(s, e) for node, s, e in WORKED if node == "b"]
    assert len(a) == len(b) == 6
    assert any(sa < eb and sb < ea for sa, ea in a for sb, eb in b)  # a made chunk k+1 while b worked on k
    # each stage is charged its own work (b: 6 x 0.02 s), not its wait for the slower stage before it (6 x 0.1 s)
    assert 0.1 <= result.seconds["b"] < 0.4 <= result.seconds["a"]


def test_a_pull_that_stops_after_one_block_makes_nothing_ahead(stage_registry, tmp_path):
    graph = make_graph([("src", "test.counted", {"count": 100})])
    video = Scheduler(stage_registry, output_dir=tmp_path).run(graph, targets=["src"]).outputs["src"]["video"]
    assert video.first_frame().shape == (8, 8, 3)
    assert MADE == [0]


def test_a_stream_made_under_a_lock_its_puller_holds_is_made_on_the_pullers_thread(stage_registry, tmp_path):
    graph = make_graph([("src", "test.counted", {"count": 40, "lock": True}), ("busy", "test.busy", {"delay": 0}),
                        ("drain", "test.locked_drain", {})],
                       [("src.video", "busy.video"), ("busy.video", "drain.video")])
    result = run_in_time(Scheduler(stage_registry, output_dir=tmp_path), graph)
    assert result.ok and result.outputs["drain"]["count"] == 40


def test_a_cancel_stops_every_stage_and_leaves_no_thread_behind(stage_registry, tmp_path):
    graph = make_graph([("src", "test.counted", {"count": 400}), ("a", "test.busy", {"delay": 0.2}),
                        ("b", "test.busy", {"delay": 0.01}), ("drain", "test.drain", {})],
                       [("src.video", "a.video"), ("a.video", "b.video"), ("b.video", "drain.video")])
    scheduler = Scheduler(stage_registry, output_dir=tmp_path)
    before = threading.active_count()
    threading.Timer(0.5, scheduler.cancel).start()
    started = time.monotonic()
    result = run_in_time(scheduler, graph)
    assert result.status == "cancelled"
    assert time.monotonic() - started < 5
    assert len(MADE) < 400
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before


def test_an_error_in_a_stage_names_it_and_stops_the_others(stage_registry, tmp_path):
    graph = make_graph([("src", "test.frames", {"count": 40, "fail_at": 20}), ("a", "test.busy", {"delay": 0}),
                        ("b", "test.busy", {"delay": 0}), ("drain", "test.drain", {})],
                       [("src.video", "a.video"), ("a.video", "b.video"), ("b.video", "drain.video")])
    before = threading.active_count()
    result = run_in_time(Scheduler(stage_registry, output_dir=tmp_path), graph)
    assert result.status == "failed" and result.error.node_id == "src"
    assert "frame 20 is corrupt" in str(result.error)
    assert threading.active_count() == before
