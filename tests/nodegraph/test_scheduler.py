"""Scheduler: partial runs, content-keyed caching, modes, cancellation, failures, streams, events."""

from __future__ import annotations

import threading
import tracemalloc

import pytest

from nodegraph import NodeExecutionError, Scheduler
from nodegraph.cache import OutputCache, ResourceCache
from nodegraph.events import NodeFailed, NodeFinished, NodePreview, NodeProgress, NodeStarted, RunFinished

from .fakes import PULLS, Gate, make_graph


def chain():
    return make_graph(
        [("n", "test.number", {"value": 2}), ("s", "test.scale", {"factor": 3}), ("out", "test.sink", {}),
         ("side", "test.number", {"value": 5}), ("out2", "test.sink", {"label": "side"})],
        [("n.value", "s.a"), ("s.value", "out.value"), ("side.value", "out2.value")])


def test_runs_outputs_and_their_ancestors(scheduler, calls):
    result = scheduler.run(chain())
    assert result.ok
    assert result.outputs["out"]["text"] == "out=6.0"
    assert sorted(calls) == ["n", "out", "out2", "s", "side"]


def test_targets_run_only_what_they_need(scheduler, calls):
    result = scheduler.run(chain(), targets=["s"])
    assert result.ok and sorted(calls) == ["n", "s"]


def test_second_run_executes_nothing_and_param_change_reruns_downstream_only(scheduler, calls):
    graph = chain()
    scheduler.run(graph)
    calls.clear()
    second = scheduler.run(graph)
    assert calls == [] and second.executed == []
    assert sorted(second.cached) == ["n", "out", "out2", "s", "side"]
    graph.nodes["s"].params["factor"] = 4
    third = scheduler.run(graph)
    assert calls == ["s", "out"]
    assert third.outputs["out"]["text"] == "out=8.0"


def test_sink_only_param_change_reruns_only_the_sink(scheduler, calls):
    graph = chain()
    scheduler.run(graph)
    calls.clear()
    graph.nodes["out"].params["label"] = "renamed"
    scheduler.run(graph)
    assert calls == ["out"]


def test_cache_is_keyed_by_content_not_node_id(scheduler, calls):
    scheduler.run(chain())
    calls.clear()
    twin = make_graph([("other", "test.number", {"value": 2}), ("x", "test.scale", {"factor": 3}),
                       ("y", "test.sink", {})], [("other.value", "x.a"), ("x.value", "y.value")])
    result = scheduler.run(twin)
    assert calls == [] and result.outputs["y"]["text"] == "out=6.0"


def test_cache_budget_evicts_least_recently_used():
    cache = OutputCache(budget_bytes=1000)
    import numpy as np

    cache.put("a", {"v": np.zeros(400, np.uint8)})
    cache.put("b", {"v": np.zeros(400, np.uint8)})
    cache.get("a")
    cache.put("c", {"v": np.zeros(400, np.uint8)})
    assert "a" in cache and "c" in cache and "b" not in cache
    assert cache.nbytes <= 1000
    cache.put("huge", {"v": np.zeros(5000, np.uint8)})
    assert "huge" not in cache and "a" in cache


def test_mute_skips_node_and_everything_that_needs_it(scheduler, calls):
    graph = chain()
    graph.nodes["s"].mode = "mute"
    result = scheduler.run(graph)
    assert result.ok
    assert sorted(calls) == ["n", "out2", "side"]
    assert sorted(result.skipped) == ["out", "s"]


def test_mute_feeding_an_optional_input_leaves_it_unconnected(scheduler, calls):
    graph = make_graph([("a", "test.number", {"value": 1}), ("b", "test.number", {"value": 10}),
                        ("add", "test.add", {}), ("out", "test.sink", {})],
                       [("a.value", "add.a"), ("b.value", "add.b"), ("add.value", "out.value")])
    graph.nodes["b"].mode = "mute"
    assert scheduler.run(graph).outputs["out"]["text"] == "out=1.0"


def test_bypass_passes_the_first_matching_input_through(scheduler, calls):
    graph = chain()
    graph.nodes["s"].mode = "bypass"
    result = scheduler.run(graph)
    assert result.outputs["out"]["text"] == "out=2.0"
    assert "s" not in calls


def test_failure_names_the_node_and_keeps_computed_results_cached(scheduler, calls):
    graph = make_graph([("n", "test.number", {"value": 2}), ("bad", "test.boom", {}), ("out", "test.sink", {}),
                        ("ok", "test.sink", {})], [("n.value", "bad.a"), ("bad.value", "out.value"),
                                                   ("n.value", "ok.value")])
    failures = []
    scheduler.subscribe(lambda e: isinstance(e, NodeFailed) and failures.append(e))
    result = scheduler.run(graph)
    assert result.status == "failed"
    err = result.error
    assert isinstance(err, NodeExecutionError)
    assert (err.node_id, err.type_id) == ("bad", "test.boom")
    assert "RuntimeError: the widget exploded" in str(err)
    assert isinstance(err.cause, RuntimeError)
    assert [f.node_id for f in failures] == ["bad"]
    calls.clear()
    graph.nodes["bad"].type = "test.scale"  # the user fixes the graph
    result = scheduler.run(graph)
    assert result.ok and "n" not in calls


def test_error_while_a_stream_is_pulled_names_the_producing_node(scheduler, calls):
    graph = make_graph([("src", "test.frames", {"count": 40, "fail_at": 30}), ("inv", "test.invert", {}),
                        ("drain", "test.drain", {})], [("src.video", "inv.video"), ("inv.video", "drain.video")])
    result = scheduler.run(graph)
    assert result.status == "failed"
    assert result.error.node_id == "src"
    assert "frame 30 is corrupt" in str(result.error)


def test_linked_param_value_drives_two_nodes(scheduler):
    graph = make_graph([("seed", "value.int", {"value": 4}), ("n", "test.number", {"value": 1}),
                        ("s1", "test.scale", {}), ("s2", "test.scale", {}), ("o1", "test.sink", {}),
                        ("o2", "test.sink", {})],
                       [("seed.value", "s1.factor"), ("seed.value", "s2.factor"), ("n.value", "s1.a"),
                        ("n.value", "s2.a"), ("s1.value", "o1.value"), ("s2.value", "o2.value")])
    result = scheduler.run(graph)
    assert result.outputs["o1"]["text"] == result.outputs["o2"]["text"] == "out=4.0"
    graph.nodes["seed"].params["value"] = 50
    result = scheduler.run(graph)
    assert result.status == "failed" and result.error.node_id in ("s1", "s2")
    assert "above the maximum 10" in str(result.error)


def test_cancel_stops_at_next_check_and_keeps_caches(registry, tmp_path, calls):
    scheduler = Scheduler(registry, output_dir=tmp_path)
    graph = make_graph([("n", "test.number", {"value": 1}), ("g", "test.gate", {}), ("out", "test.sink", {})],
                       [("n.value", "g.a"), ("g.value", "out.value")])
    Gate.started.clear()
    Gate.release.clear()
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", scheduler.run(graph)))
    worker.start()
    assert Gate.started.wait(5)
    scheduler.cancel()
    worker.join(5)
    assert box["r"].status == "cancelled"
    assert "out" not in calls
    Gate.release.set()
    calls.clear()
    result = scheduler.run(graph)
    assert result.ok and calls == ["g", "out"]  # n came from the cache


def test_a_stream_cut_off_by_cancel_is_not_reported_finished(scheduler):
    graph = make_graph([("src", "test.frames", {"count": 400}), ("slow", "test.slow", {}),
                        ("drain", "test.drain", {})], [("src.video", "slow.video"), ("slow.video", "drain.video")])
    events = []

    def cancel_midway(event):
        events.append(event)
        if isinstance(event, NodeProgress) and event.node_id == "drain" and event.done >= 16:
            scheduler.cancel()

    scheduler.subscribe(cancel_midway)
    result = scheduler.run(graph)
    assert result.status == "cancelled"
    finished = {e.node_id for e in events if isinstance(e, NodeFinished)}
    assert not finished & {"src", "slow", "drain"}
    assert isinstance(events[-1], RunFinished) and events[-1].status == "cancelled"


def test_events_in_order_with_progress_previews_and_timings(scheduler):
    graph = make_graph([("src", "test.frames", {"count": 24}), ("drain", "test.drain", {})],
                       [("src.video", "drain.video")])
    seen = []
    scheduler.subscribe(seen.append)
    result = scheduler.run(graph)
    kinds = [e.kind for e in seen]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert isinstance(seen[-1], RunFinished) and seen[-1].status == "succeeded"
    started = [e.node_id for e in seen if isinstance(e, NodeStarted)]
    assert started == ["src", "drain"]
    progress = [(e.done, e.total) for e in seen if isinstance(e, NodeProgress) and e.node_id == "drain"]
    assert progress[-1] == (24, 24)
    assert any(isinstance(e, NodePreview) and e.node_id == "src" for e in seen)
    finished = {e.node_id: e for e in seen if isinstance(e, NodeFinished)}
    assert finished["drain"].seconds > 0 and not finished["drain"].cached
    assert set(result.seconds) == {"src", "drain"}


def test_streams_keep_memory_bounded_regardless_of_length(scheduler):
    def peak_for(count):
        graph = make_graph([("src", "test.frames", {"count": count, "size": 128}), ("inv", "test.invert", {}),
                            ("drain", "test.drain", {})], [("src.video", "inv.video"), ("inv.video", "drain.video")])
        scheduler.cache.clear()
        tracemalloc.start()
        result = scheduler.run(graph)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert result.outputs["drain"]["count"] == count
        return peak

    short, long = peak_for(100), peak_for(2000)
    clip_bytes = 2000 * 128 * 128 * 3
    assert long < clip_bytes / 20
    assert long < short * 1.5 + 256 * 1024


def test_resource_cache_loads_once_and_releases_least_recent():
    released = []

    class Handle:
        def __init__(self, name):
            self.name = name

        def release(self):
            released.append(self.name)

    cache = ResourceCache(max_items=2)
    a = cache.get_or_load("a", lambda: Handle("a"))
    assert cache.get_or_load("a", lambda: pytest.fail("loaded twice")) is a
    cache.get_or_load("b", lambda: Handle("b"))
    cache.get_or_load("a", lambda: Handle("a"))
    cache.get_or_load("c", lambda: Handle("c"))
    assert released == ["b"] and cache.loads == 3


def test_light_resources_stay_beside_the_heavy_ones_within_their_own_budget():
    """A diffusion model, a depth model, an upscaler and RIFE: the small ones do not push the big one out."""
    from nodegraph.cache import LIGHT_RESOURCE_BYTES

    released = []

    class Tensor:
        def __init__(self, n):
            self.n = n

        def numel(self):
            return self.n

        def element_size(self):
            return 4

    class Module:  # what a torch module offers the cache: its parameters and buffers
        def __init__(self, name, nbytes):
            self.name, self.weights = name, [Tensor(nbytes // 8), Tensor(nbytes // 8)]

        def parameters(self):
            return iter(self.weights)

        def buffers(self):
            return iter(())

        def release(self):
            released.append(self.name)

    class Pipeline:  # a resource that says itself what it holds
        def __init__(self, name):
            self.name = name

        def resource_nbytes(self):
            return 8 * 1024**3

        def release(self):
            released.append(self.name)

    mib = 1024**2
    cache = ResourceCache(max_items=1, light_budget=300 * mib)
    wan = cache.get_or_load("wan", lambda: Pipeline("wan"))
    for name in ("depth", "upscaler", "rife"):
        cache.get_or_load(name, lambda name=name: Module(name, 100 * mib))
    assert released == [] and cache.get_or_load("wan", lambda: pytest.fail("loaded again")) is wan
    cache.get_or_load("other_upscaler", lambda: Module("other_upscaler", 100 * mib))
    assert released == ["depth"]  # the light ones keep to their budget, the oldest going first
    cache.get_or_load("ltx", lambda: Pipeline("ltx"))
    assert released == ["depth", "wan"]  # heavy ones count as before
    huge = Module("clip_giant", LIGHT_RESOURCE_BYTES + mib)  # above the line: heavy, whatever it is
    cache.get_or_load("clip_giant", lambda: huge)
    assert released[-1] == "ltx" and "clip_giant" in cache


def test_output_paths_never_overwrite(tmp_path):
    from nodegraph.node import NodeContext

    ctx = NodeContext("n", "t", output_dir=tmp_path)
    first = ctx.output_path("clip.mp4")
    first.write_bytes(b"x")
    second = ctx.output_path("clip.mp4")
    second.write_bytes(b"y")
    assert first.name == "clip.mp4" and second.name == "clip_0001.mp4"
    assert ctx.output_path("clip.mp4").name == "clip_0002.mp4"


def test_stream_work_is_charged_to_the_node_that_does_it(scheduler):
    graph = make_graph([("src", "test.frames", {"count": 64}), ("slow", "test.slow", {}),
                        ("drain", "test.drain", {})], [("src.video", "slow.video"), ("slow.video", "drain.video")])
    finished = []
    scheduler.subscribe(lambda e: isinstance(e, NodeFinished) and finished.append(e))
    result = scheduler.run(graph)
    # 64 frames in chunks of 16 (map_chunks) -> 4 sleeps of 20 ms inside "slow"
    assert result.seconds["slow"] >= 0.07
    assert result.seconds["drain"] < result.seconds["slow"]
    # streams are reported when the node pulling them is done, upstream first, with all their work counted
    assert [e.node_id for e in finished] == ["src", "slow", "drain"]
    by_id = {e.node_id: e for e in finished}
    assert by_id["slow"].seconds == pytest.approx(result.seconds["slow"])


def test_a_stream_feeding_two_nodes_finishes_after_both(scheduler):
    graph = make_graph([("src", "test.frames", {"count": 32}), ("inv", "test.invert", {}),
                        ("a", "test.drain", {}), ("b", "test.drain", {"crf": 20})],
                       [("src.video", "inv.video"), ("inv.video", "a.video"), ("inv.video", "b.video")])
    finished = []
    scheduler.subscribe(lambda e: isinstance(e, NodeFinished) and finished.append(e.node_id))
    scheduler.run(graph).raise_for_status()
    assert finished.index("inv") > finished.index("a") and finished.index("inv") < finished.index("b")
    assert finished.index("src") < finished.index("inv") and sorted(finished) == ["a", "b", "inv", "src"]


def test_a_computed_once_stream_is_computed_once_for_two_consumers_and_later_runs(scheduler):
    PULLS.clear()
    graph = make_graph([("src", "test.frames", {"count": 32, "once": True}), ("a", "test.drain", {}),
                        ("b", "test.drain", {"crf": 20})], [("src.video", "a.video"), ("src.video", "b.video")])
    first = scheduler.run(graph).raise_for_status()
    graph.nodes["b"].params["crf"] = 30  # only a consumer changes: the frames come from the cache
    second = scheduler.run(graph).raise_for_status()
    assert PULLS == ["src"]
    assert second.executed == ["b"]
    assert second.outputs["b"]["checksum"] == first.outputs["a"]["checksum"] == sum(range(32))
    assert scheduler.cache.nbytes >= 32 * 8 * 8 * 3  # the kept frames count against the cache budget


def test_a_plain_stream_is_computed_by_each_pull(scheduler):
    PULLS.clear()
    graph = make_graph([("src", "test.frames", {"count": 32}), ("a", "test.drain", {}),
                        ("b", "test.drain", {"crf": 20})], [("src.video", "a.video"), ("src.video", "b.video")])
    scheduler.run(graph).raise_for_status()
    assert PULLS == ["src", "src"]


def test_pulling_a_stream_after_the_run_sends_no_events(scheduler):
    graph = make_graph([("src", "test.frames", {"count": 20}), ("inv", "test.invert", {})],
                       [("src.video", "inv.video")])
    result = scheduler.run(graph, targets=["inv"])
    late = []
    scheduler.subscribe(late.append)
    frames = result.outputs["inv"]["video"].to_array()
    assert frames.shape[0] == 20 and int(frames[3, 0, 0, 0]) == 252
    assert late == []


def test_a_preview_given_as_a_renderer_renders_only_when_read_and_once(registry, tmp_path):
    import numpy as np

    from nodegraph.node import Node, Port
    from nodegraph.types import FLOAT

    renders = []

    class Previewing(Node):
        """Hands the scheduler a renderer for each of three previews."""

        type_id = "test.lazy_preview"
        outputs = (Port("value", FLOAT),)

        def run(self, ctx):
            for step in range(3):
                def render(step=step):
                    renders.append(step)
                    return np.full((600, 300, 3), step, np.uint8)
                ctx.preview(render)
            return {"value": 1.0}

    registry.register(Previewing)
    graph = make_graph([("p", "test.lazy_preview", {})], [])
    scheduler = Scheduler(registry, output_dir=tmp_path)
    seen = []
    scheduler.subscribe(seen.append)
    assert scheduler.run(graph, ["p"]).ok
    previews = [e for e in seen if isinstance(e, NodePreview)]
    assert len(previews) == 3 and renders == []  # nobody looked: nothing was rendered
    last = previews[-1]
    assert last.frames.shape == (200, 100, 3) and int(last.frames.max()) == 2  # a thumbnail of its own step
    assert last.frames is last.frames and renders == [2]


def test_previews_go_only_to_subscribers_that_take_them_and_none_are_made_unwatched(tmp_path):
    import numpy as np

    from nodegraph import NodeRegistry
    from nodegraph.node import Node, Port
    from nodegraph.types import FLOAT

    registry = NodeRegistry()
    asked = []

    class Watched(Node):
        """Makes its preview only when someone is watching, as a costly preview should."""

        type_id = "test.watched"
        outputs = (Port("value", FLOAT),)
        deterministic = False

        def run(self, ctx):
            asked.append(ctx.wants_previews)
            ctx.progress(1, 1)
            ctx.preview(np.zeros((4, 4, 3), np.uint8))
            return {"value": 1.0}

    registry.register(Watched)
    graph = make_graph([("w", "test.watched", {})], [])
    scheduler = Scheduler(registry, output_dir=tmp_path)
    terminal = []  # what `kinograph run` subscribes: no pictures
    scheduler.subscribe(terminal.append, previews=False)
    assert scheduler.run(graph, ["w"]).ok
    assert asked == [False]
    assert any(isinstance(e, NodeProgress) for e in terminal) and not any(isinstance(e, NodePreview) for e in terminal)
    editor = []
    unsubscribe = scheduler.subscribe(editor.append)
    assert scheduler.run(graph, ["w"]).ok
    assert asked == [False, True]
    assert [e.node_id for e in editor if isinstance(e, NodePreview)] == ["w"]
    assert not any(isinstance(e, NodePreview) for e in terminal)  # still none for the terminal
    unsubscribe()
    assert scheduler.run(graph, ["w"]).ok and asked == [False, True, False]


def test_nodes_added_downstream_first_still_run_upstream_first(scheduler, calls):
    graph = make_graph(
        [("out", "test.sink", {}), ("s", "test.scale", {"factor": 2}), ("n", "test.number", {"value": 4})],
        [("s.value", "out.value"), ("n.value", "s.a")])
    assert scheduler.plan(graph) == ["n", "s", "out"]
    result = scheduler.run(graph)
    assert result.outputs["out"]["text"] == "out=8.0" and calls == ["n", "s", "out"]


def test_an_edit_after_a_run_changes_what_the_next_run_plans(scheduler, calls):
    graph = make_graph([("n", "test.number", {"value": 4}), ("out", "test.sink", {})], [("n.value", "out.value")])
    assert scheduler.run(graph).outputs["out"]["text"] == "out=4.0"
    from nodegraph import Link, NodeInstance

    graph.add_node(NodeInstance("s", "test.scale", {"factor": 3}))
    graph.connect(Link("n", "value", "s", "a"))
    graph.connect(Link("s", "value", "out", "value"))  # replaces n -> out
    assert scheduler.plan(graph) == ["n", "s", "out"]
    assert scheduler.run(graph).outputs["out"]["text"] == "out=12.0"
    graph.remove_node("s")
    graph.connect(Link("n", "value", "out", "value"))
    assert scheduler.plan(graph) == ["n", "out"]


def writer():
    return make_graph([("n", "test.number", {"value": 2}), ("s", "test.scale", {}), ("w", "test.write", {})],
                      [("n.value", "s.a"), ("s.value", "w.value")])


def test_an_output_node_whose_file_is_gone_writes_it_again(scheduler, calls):
    graph = writer()
    first = scheduler.run(graph)
    (path,) = first.files
    assert path.read_text() == "4.0"
    calls.clear()
    again = scheduler.run(graph)
    assert calls == [] and again.files == [] and again.kept == [path]  # all cached; its file is still there
    path.unlink()
    third = scheduler.run(graph)
    assert calls == ["w"] and path.read_text() == "4.0" and third.executed == ["w"]


def test_an_output_node_cached_for_another_output_folder_writes_into_the_new_one(scheduler, calls, tmp_path):
    graph = writer()
    scheduler.run(graph)
    scheduler.output_dir = tmp_path / "job2"
    calls.clear()
    result = scheduler.run(graph)
    assert calls == ["w"] and (tmp_path / "job2" / "value.txt").read_text() == "4.0"
    assert result.files[0].parent == tmp_path / "job2"


def test_force_runs_the_chosen_nodes_and_what_they_feed_again(scheduler, calls):
    graph = writer()
    scheduler.run(graph)
    calls.clear()
    scheduler.run(graph, force=["s"])
    assert calls == ["s", "w"]
    calls.clear()
    scheduler.run(graph, force=[])
    assert calls == ["n", "s", "w"]


def test_nodes_held_back_by_a_muted_node_are_reported_with_the_reason(scheduler, calls):
    graph = writer()
    graph.nodes["s"].mode = "mute"
    graph.nodes["s"].title = "Triple it"
    events = []
    scheduler.subscribe(events.append)
    result = scheduler.run(graph)
    assert result.ok and result.skipped == ["s", "w"] and calls == ["n"]
    reasons = {e.node_id: e.reason for e in events if e.kind == "node_skipped"}
    assert reasons["s"] == "muted"
    assert reasons["w"] == "not run: it needs Triple it (s), which is muted: unmute it (M)"
