"""The CLI's progress: one line per node that ends (plain output) or one bar per node (a terminal), from events."""

from __future__ import annotations

import io

from nodegraph import events as ev
from nodegraph.graph import Graph
from nodegraph.progress import ProgressReporter
from nodegraph.registry import NodeRegistry

RUN = (
    ev.RunStarted(run_id=1, nodes=("load", "move", "boom", "muted", "after")),
    ev.NodeSkipped(run_id=1, node_id="muted", reason="muted"),
    ev.NodeFinished(run_id=1, node_id="load", cached=True),
    ev.NodeStarted(run_id=1, node_id="move", type_id="video.camera"),
    ev.NodeProgress(run_id=1, node_id="move", done=2, total=4),
    ev.NodeMessage(run_id=1, node_id="move", level="warning", message="slow disk"),
    ev.NodeProgress(run_id=1, node_id="move", done=4, total=4),
    ev.NodeFinished(run_id=1, node_id="move", seconds=1.25),
    ev.NodeProgress(run_id=1, node_id="move", done=4, total=4),  # a stream reporting once more: no second line
    ev.NodeStarted(run_id=1, node_id="boom", type_id="test.boom"),
    ev.NodeFailed(run_id=1, node_id="boom", error="exploded"),
    ev.NodeSkipped(run_id=1, node_id="after", reason="not run: it needs boom, which did not run"),
    ev.RunFinished(run_id=1, status="failed"),
)


def test_plain_output_has_a_line_per_node_that_ended_and_per_message():
    out = io.StringIO()
    with ProgressReporter(Graph(), NodeRegistry(), stream=out) as reporter:
        for event in RUN:
            reporter.on_event(event)
    assert out.getvalue().splitlines() == [
        "load: cached", "warning: move: slow disk", "move: done in 1.25s", "boom: failed",
        "skipped: after: not run: it needs boom, which did not run"]


def test_each_variant_of_a_sweep_has_its_own_lines():
    out = io.StringIO()
    with ProgressReporter(Graph(), NodeRegistry(), stream=out) as reporter:
        first, second = reporter.for_variant("a"), reporter.for_variant("b")
        for one, two in zip(RUN[:3], RUN[:3], strict=True):
            first(one)
            second(two)
    assert out.getvalue().splitlines() == ["[a] load: cached", "[b] load: cached"]


def test_a_terminal_gets_a_bar_per_node_that_did_work():
    from rich.console import Console

    out = io.StringIO()
    reporter = ProgressReporter(Graph(), NodeRegistry(), stream=out)
    reporter.console = Console(file=out, force_terminal=True, width=100)
    reporter.live = True
    with reporter:
        for event in RUN:
            reporter.on_event(event)
        tasks = {t.description: t for t in reporter._progress.tasks}
    assert set(tasks) == {"load", "move", "boom"}
    assert (tasks["load"].completed, tasks["load"].total, tasks["load"].fields["note"]) == (1, 1, "cached")
    assert (tasks["move"].completed, tasks["move"].total, tasks["move"].fields["note"]) == (4, 4, "1.25s")
    assert tasks["boom"].fields["note"] == "[red]failed"
    assert "slow disk" in out.getvalue() and "not run: it needs boom" in out.getvalue()
