"""The run-state reducer: what every consumer shows of a run's nodes, from hand-made and real event sequences."""

from __future__ import annotations

from nodegraph import events as ev
from nodegraph.run_state import CACHED, DONE, FAILED, QUEUED, RUNNING, SKIPPED, STOPPED, RunState

from .fakes import Gate, make_graph


def fold(events) -> tuple[RunState, list[tuple[str, ...]]]:
    state = RunState()
    return state, [state.apply(e) for e in events]


def test_a_run_with_a_cached_node_a_done_node_and_progress():
    state, changed = fold([
        ev.RunStarted(run_id=1, nodes=("load", "move", "save")),
        ev.NodeFinished(run_id=1, node_id="load", cached=True),
        ev.NodeStarted(run_id=1, node_id="move", type_id="video.camera"),
        ev.NodeProgress(run_id=1, node_id="move", done=3, total=10),
        ev.NodeMessage(run_id=1, node_id="move", message="slow"),
        ev.NodePreview(run_id=1, node_id="move", source=None),
        ev.NodeFinished(run_id=1, node_id="move", seconds=1.5, summary="10 frames"),
        ev.RunFinished(run_id=1, status="succeeded"),
    ])
    assert changed == [("load", "move", "save"), ("load",), ("move",), ("move",), (), (), ("move",), ()]
    load, move, save = (state.nodes[n] for n in ("load", "move", "save"))
    assert (load.state, load.type_id, load.seconds) == (CACHED, "", 0.0)
    assert (move.state, move.type_id, move.done, move.total, move.seconds, move.summary) == (
        DONE, "video.camera", 3, 10, 1.5, "10 frames")
    assert save.state == QUEUED and state.unfinished() == ["save"] and state.status == "succeeded"


def test_a_failing_node_and_what_it_held_back():
    state, _ = fold([
        ev.RunStarted(run_id=4, nodes=("a", "boom", "after", "muted")),
        ev.NodeSkipped(run_id=4, node_id="muted", reason="muted"),
        ev.NodeFinished(run_id=4, node_id="a", seconds=0.1),
        ev.NodeStarted(run_id=4, node_id="boom", type_id="test.boom"),
        ev.NodeFailed(run_id=4, node_id="boom", error="the widget exploded", type_id="test.boom"),
        ev.RunFinished(run_id=4, status="failed"),
    ])
    assert state.nodes["boom"].state == FAILED and state.nodes["boom"].message == "the widget exploded"
    assert state.nodes["muted"].state == SKIPPED and state.nodes["muted"].message == "muted"
    assert state.unfinished() == ["after"] and state.status == "failed"
    assert state.nodes["a"].ended and state.nodes["boom"].ended and not state.nodes["after"].ended


def test_progress_after_the_run_or_from_another_run_is_not_the_runs():
    state, _ = fold([
        ev.RunStarted(run_id=2, nodes=("clip",)),
        ev.NodeStarted(run_id=2, node_id="clip"),
        ev.NodeProgress(run_id=1, node_id="clip", done=9, total=9),  # an older run's stream
        ev.RunFinished(run_id=2, status="cancelled"),
    ])
    late = ev.NodeProgress(run_id=2, node_id="clip", done=5, total=9)  # pulled by a preview after the cancel
    assert not state.follows(late) and state.apply(late) == ()
    clip = state.nodes["clip"]
    assert (clip.state, clip.done, clip.total) == (STOPPED, 0, 0) and state.status == "cancelled"
    assert clip.ended and clip.message == "the run was cancelled while it ran" and state.unfinished() == []


def test_events_of_a_run_joined_midway_are_taken():
    """A job's event stream carries no run ids nor run_started: every node appears as its events come."""
    state, changed = fold([ev.NodeStarted(node_id="x", type_id="t"), ev.NodeProgress(node_id="x", done=1, total=2)])
    assert changed == [("x",), ("x",)] and (state.nodes["x"].state, state.nodes["x"].done) == (RUNNING, 1)


def test_a_new_run_starts_from_scratch():
    state, _ = fold([ev.RunStarted(run_id=1, nodes=("a", "b")), ev.NodeFailed(run_id=1, node_id="a", error="x"),
                     ev.RunFinished(run_id=1, status="failed"), ev.RunStarted(run_id=2, nodes=("a",))])
    assert list(state.nodes) == ["a"] and state.nodes["a"].state == QUEUED and state.status == "running"


def test_a_subgraph_instance_is_the_aggregate_of_its_inner_nodes():
    state = RunState()
    state.apply(ev.RunStarted(run_id=1, nodes=("src", "inst/a", "inst/b", "inst/deep/c", "instance2/d")))
    assert state.group("inst").state == QUEUED and (state.group("inst").done, state.group("inst").total) == (0, 3)
    assert state.group("src") is None and state.group("ins") is None
    state.apply(ev.NodeStarted(run_id=1, node_id="inst/a"))
    assert state.group("inst").state == RUNNING
    state.apply(ev.NodeFinished(run_id=1, node_id="inst/a", cached=True))
    state.apply(ev.NodeSkipped(run_id=1, node_id="inst/b", reason="muted"))
    group = state.group("inst")
    assert (group.state, group.done, group.total) == (RUNNING, 2, 3)
    assert state.group("inst/deep").total == 1
    state.apply(ev.NodeFinished(run_id=1, node_id="inst/deep/c", seconds=0.2))
    assert state.group("inst").state == DONE and state.group("instance2").state == QUEUED
    state.apply(ev.NodeFailed(run_id=1, node_id="instance2/d", error="no model"))
    assert state.group("instance2").state == FAILED and state.group("instance2").message == "instance2/d: no model"


def test_a_real_run_streams_run_until_they_have_been_pulled_to_the_end(scheduler):
    """A lazy stream starts, reports progress while the node it feeds pulls it, and finishes when pulled out."""
    graph = make_graph([("src", "test.frames", {"count": 24}), ("inv", "test.invert", {}), ("drain", "test.drain", {})],
                       [("src.video", "inv.video"), ("inv.video", "drain.video")])
    state, seen = RunState(), []

    def on_event(event):
        seen.append((event.kind, getattr(event, "node_id", ""), state.apply(event),
                     {n: s.state for n, s in state.nodes.items()}))

    scheduler.subscribe(on_event)
    scheduler.run(graph)
    assert all(s.state == DONE for s in state.nodes.values()) and state.status == "succeeded"
    assert state.nodes["drain"].done == 24 and state.nodes["drain"].total == 24
    first_pull = next(i for i, s in enumerate(seen) if s[0] == "node_progress" and s[1] == "drain")
    assert seen[first_pull][3] == {"src": RUNNING, "inv": RUNNING, "drain": RUNNING}  # streams run while pulled
    assert [s[1] for s in seen if s[0] == "node_finished"] == ["src", "inv", "drain"]
    scheduler.run(graph)  # now served from the cache
    assert {n: s.state for n, s in state.nodes.items()} == {"src": CACHED, "inv": CACHED, "drain": CACHED}


def test_a_node_a_cancel_cuts_off_ends_stopped_and_the_runs_end_says_which(scheduler):
    import threading

    Gate.started.clear()
    Gate.release.clear()
    graph = make_graph([("n", "test.number", {"value": 1.0}), ("gate", "test.gate", {}), ("out", "test.sink", {})],
                       [("n.value", "gate.a"), ("gate.value", "out.value")])
    state, finished = RunState(), []

    def on_event(event):
        changed = state.apply(event)
        if isinstance(event, ev.RunFinished):
            finished.append(changed)

    scheduler.subscribe(on_event)
    worker = threading.Thread(target=scheduler.run, args=(graph,))
    worker.start()
    assert Gate.started.wait(5)
    scheduler.cancel()
    worker.join(5)
    assert state.status == "cancelled" and finished == [("gate",)]
    gate = state.nodes["gate"]
    assert (gate.state, gate.message) == (STOPPED, "the run was cancelled while it ran")
    assert state.nodes["n"].state == DONE and state.unfinished() == ["out"]


def test_a_subgraph_instance_with_a_node_stopped_inside_shows_stopped():
    state = RunState()
    state.apply(ev.RunStarted(run_id=1, nodes=("inst/a", "inst/b")))
    state.apply(ev.NodeFinished(run_id=1, node_id="inst/a", seconds=0.1))
    state.apply(ev.NodeStarted(run_id=1, node_id="inst/b"))
    assert state.apply(ev.RunFinished(run_id=1, status="failed")) == ("inst/b",)
    group = state.group("inst")
    assert (group.state, group.done, group.total) == (STOPPED, 1, 2)
    assert group.message == "inst/b: the run stopped while it ran: another node failed"
