"""Client-side rendering: progress bars while waiting for a job, and the job table."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from nodegraph import events as ev

from .client import Client, ServerError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130
TERMINAL = ("succeeded", "failed", "cancelled")
RECONNECT_TRIES = 30

_EVENTS = {"node_started": ev.NodeStarted, "node_progress": ev.NodeProgress, "node_finished": ev.NodeFinished,
           "node_failed": ev.NodeFailed, "node_message": ev.NodeMessage,
           "node_skipped": ev.NodeSkipped}


def _reporter(document: dict):
    """Progress bars labelled from the workflow (no node packs needed: labels only)."""
    from nodegraph.graph import Graph
    from nodegraph.progress import ProgressReporter
    from nodegraph.registry import NodeRegistry
    from nodegraph.workflow import parse_workflow

    registry = NodeRegistry()
    try:
        graph = parse_workflow(document, registry)
    except Exception:  # the server already accepted the workflow
        graph = Graph()
    return ProgressReporter(graph, registry)


def _to_event(name: str, data: dict) -> ev.Event | None:
    cls = _EVENTS.get(name)
    if cls is None:
        return None
    fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "kind"}
    return cls(**fields)


def wait_for_job(client: Client, job_id: str, document: dict, download: Path | None = None) -> int:
    """Follow a job's events with progress bars until it ends; Ctrl+C cancels it (twice: stop waiting)."""
    reporter = None
    status, cancelling, failures = None, False, 0
    try:
        while status is None:
            try:
                if reporter is None:
                    reporter = _reporter(document).__enter__()
                for name, data in client.events(job_id):
                    failures = 0
                    if name == "job" and data.get("status") in TERMINAL:
                        status = data["status"]
                    elif name == "end":
                        status = data.get("status")
                        break
                    elif (event := _to_event(name, data)) is not None:
                        reporter.on_event(event)
                if status is None:  # the server closed the stream (restarting?): follow it again
                    failures += 1
                    time.sleep(0.5)
            except KeyboardInterrupt:
                if cancelling:
                    print(f"\nstopped waiting; job {job_id} may still be cancelling", file=sys.stderr)
                    return EXIT_CANCELLED
                cancelling = True
                print("\ncancelling... (press Ctrl+C again to stop waiting)", file=sys.stderr)
                try:
                    client.cancel(job_id)
                except ServerError as exc:
                    if exc.status_code != 409:
                        print(f"error: {exc}", file=sys.stderr)
            except ServerError as exc:
                failures += 1
                if failures > RECONNECT_TRIES or exc.status_code in (401, 404):
                    print(f"error: {exc}", file=sys.stderr)
                    return EXIT_FAILED
                time.sleep(1.0)
            if failures > RECONNECT_TRIES:
                print(f"error: lost job {job_id}: the server keeps closing its event stream", file=sys.stderr)
                return EXIT_FAILED
    finally:
        if reporter is not None:
            reporter.__exit__(None, None, None)
    return _finish(client, job_id, download)


def _finish(client: Client, job_id: str, download: Path | None) -> int:
    try:
        job = client.job(job_id)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for note in job["notes"]:
        print(f"note: {note}", file=sys.stderr)
    for output in job["outputs"]:
        if download is not None:
            try:
                print(client.download(output["url"], download / output["path"]))
            except ServerError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_FAILED
        else:
            print(client.url + output["url"])
    if job["status"] == "cancelled":
        print("error: cancelled; results computed so far stay cached on the server", file=sys.stderr)
        return EXIT_CANCELLED
    if job["status"] == "failed":
        print(f"error: {job['error']}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def print_jobs(listing: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    counts = ", ".join(f"{n} {s}" for s, n in listing["counts"].items() if n)
    table = Table(title=f"jobs ({counts or 'none'})")
    for column in ("id", "status", "priority", "name", "submitted", "took", "reruns"):
        table.add_column(column, no_wrap=column != "name")
    for job in listing["jobs"]:
        took = ""
        if job["started_at"] and job["finished_at"]:
            took = f"{job['finished_at'] - job['started_at']:.2f}s"
        submitted = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job["submitted_at"]))
        table.add_row(job["id"], job["status"], str(job["priority"]), job["name"], submitted, took,
                      str(job["reruns"] or ""))
    Console().print(table)
