"""Per-node run state, rebuilt from scheduler events: the one reducer the editor, the job server and the CLI read.

`RunState.apply(event)` folds one event in and says which nodes changed. It is pure bookkeeping (no Qt, no I/O,
no clock), so every consumer shows the same thing for the same events; how it looks is the consumer's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import events as ev

QUEUED, RUNNING, DONE, CACHED, FAILED, SKIPPED = "queued", "running", "done", "cached", "failed", "skipped"
STOPPED = "stopped"  # it was running when the run was cancelled or failed elsewhere: its work is not all done
FINISHED = (DONE, CACHED, SKIPPED)  # states a node ends a good run in (failed and stopped nodes ended too, badly)


@dataclass
class NodeState:
    """One node of a run: its state, the progress it last reported, and how it ended."""

    state: str = QUEUED
    type_id: str = ""  # from node_started: a node served from the cache never starts
    done: int = 0
    total: int = 0
    seconds: float | None = None  # when it finished (0.0 for a cached node)
    summary: str = ""
    error: str = ""  # why it failed
    reason: str = ""  # why it was skipped

    @property
    def ended(self) -> bool:
        return self.state in FINISHED or self.state in (FAILED, STOPPED)

    @property
    def message(self) -> str:
        """What a user reads about how it ended badly: the error, or why it did not run or finish."""
        return self.error if self.state == FAILED else self.reason if self.state in (SKIPPED, STOPPED) else ""


class RunState:
    """The nodes of the run being followed, by id (subgraph nodes by their flat id, `instance/inner`)."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeState] = {}
        self.run_id: int | None = None  # the last run that started; None until one does
        self.status = ""  # "running", then the run's end: "succeeded", "failed" or "cancelled"

    def follows(self, event: ev.Event) -> bool:
        """Whether a progress or preview event belongs to the run being followed while it runs. A stream pulled
        after its run (the editor's preview panel) still reports; such reports are not the run's. Before any
        run_started (a job's event stream joined midway) every event is taken."""
        return self.run_id is None or (event.run_id == self.run_id and self.status == "running")

    def apply(self, event: ev.Event) -> tuple[str, ...]:
        """Fold `event` in; the ids of the nodes whose state it changed (none for messages and previews)."""
        if isinstance(event, ev.RunStarted):
            self.run_id, self.status = event.run_id, "running"
            self.nodes = {node_id: NodeState() for node_id in event.nodes}
            return tuple(event.nodes)
        if isinstance(event, ev.RunFinished):
            if self.run_id is not None and event.run_id != self.run_id:
                return ()
            self.status = event.status
            if event.status == "succeeded":
                return ()
            # A node cut off partway (a stream still being pulled) sends no end of its own: the run's end is its.
            why = "the run was cancelled while it ran" if event.status == "cancelled" else (
                "the run stopped while it ran: another node failed")
            stopped = [node_id for node_id, node in self.nodes.items() if node.state == RUNNING]
            for node_id in stopped:
                self.nodes[node_id].state, self.nodes[node_id].reason = STOPPED, why
            return tuple(stopped)
        node_id = getattr(event, "node_id", "")
        if isinstance(event, ev.NodeProgress):
            if not self.follows(event):
                return ()
            node = self._node(node_id)
            node.done, node.total = event.done, event.total
        elif isinstance(event, ev.NodeStarted):
            node = self._node(node_id)
            node.state, node.type_id = RUNNING, event.type_id
        elif isinstance(event, ev.NodeFinished):
            node = self._node(node_id)
            node.state, node.seconds, node.summary = CACHED if event.cached else DONE, event.seconds, event.summary
        elif isinstance(event, ev.NodeFailed):
            node = self._node(node_id)
            node.state, node.error = FAILED, event.error
        elif isinstance(event, ev.NodeSkipped):
            node = self._node(node_id)
            node.state, node.reason = SKIPPED, event.reason
        else:
            return ()
        return (node_id,)

    def _node(self, node_id: str) -> NodeState:
        node = self.nodes.get(node_id)
        if node is None:  # an event of a run whose start was not seen
            node = self.nodes[node_id] = NodeState()
        return node

    def unfinished(self) -> list[str]:
        """Nodes still queued or running (after a cancel or a failure: those the run never got to)."""
        return [node_id for node_id, node in self.nodes.items() if node.state in (QUEUED, RUNNING)]

    def group(self, prefix: str) -> NodeState | None:
        """The state of a subgraph instance from the nodes inside it (flat ids under `prefix/`): running while any
        of them has begun, its progress how many of them have ended, failed with the first inner error, done when
        all have ended. None when the run has no node inside it."""
        inner = [(node_id, node) for node_id, node in self.nodes.items() if node_id.startswith(prefix + "/")]
        if not inner:
            return None
        ended = sum(node.state in FINISHED for _, node in inner)
        failed = next(((node_id, node) for node_id, node in inner if node.state == FAILED), None)
        if failed is not None:
            return NodeState(FAILED, done=ended, total=len(inner), error=f"{failed[0]}: {failed[1].error}")
        stopped = next(((node_id, node) for node_id, node in inner if node.state == STOPPED), None)
        if stopped is not None:
            return NodeState(STOPPED, done=ended, total=len(inner), reason=f"{stopped[0]}: {stopped[1].reason}")
        if ended == len(inner):
            state = DONE
        elif ended or any(node.state == RUNNING for _, node in inner):
            state = RUNNING
        else:
            state = QUEUED
        return NodeState(state, done=ended, total=len(inner))
