"""A job's per-node JSON, from the engine's run-state reducer: the shape clients have always read, and a skipped
node says so and why."""

from __future__ import annotations

from nodegraph import events as ev
from nodegraph.run_state import RunState
from server.worker import job_nodes


def test_the_job_view_of_a_run_with_every_kind_of_node():
    run = RunState()
    for event in (ev.RunStarted(run_id=1, nodes=("cached", "clip", "boom", "muted", "later")),
                  ev.NodeFinished(run_id=1, node_id="cached", cached=True),
                  ev.NodeStarted(run_id=1, node_id="clip", type_id="video.resize"),
                  ev.NodeProgress(run_id=1, node_id="clip", done=4, total=8),
                  ev.NodeFinished(run_id=1, node_id="clip", seconds=0.12345678),
                  ev.NodeStarted(run_id=1, node_id="boom", type_id="test.boom"),
                  ev.NodeSkipped(run_id=1, node_id="muted", reason="muted"),
                  ev.NodeFailed(run_id=1, node_id="boom", error="the widget exploded"),
                  ev.RunFinished(run_id=1, status="failed")):
        run.apply(event)
    assert job_nodes(run) == {
        "cached": {"state": "cached", "done": 0, "total": 0, "seconds": 0.0},
        "clip": {"state": "done", "done": 4, "total": 8, "type": "video.resize", "seconds": 0.123457},
        "boom": {"state": "failed", "done": 0, "total": 0, "type": "test.boom", "error": "the widget exploded"},
        "muted": {"state": "skipped", "done": 0, "total": 0, "reason": "muted"},  # says why, not "pending"
        "later": {"state": "pending", "done": 0, "total": 0},
    }
