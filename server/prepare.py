"""Turn a submitted job into a runnable workflow, refusing it with the CLI's messages when it is not."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from nodegraph.confine import readable_folders
from nodegraph.errors import Issue, ValidationError
from nodegraph.graph import Graph
from nodegraph.overrides import apply_overrides
from nodegraph.prepare import SERVER_WORDING, prepare_run
from nodegraph.registry import NodeRegistry
from nodegraph.workflow import dumps_workflow, parse_workflow

from .schemas import JobRequest
from .webhooks import host_problem

MAX_NODES = 2000


def prepare_job(request: JobRequest, registry: NodeRegistry, input_dirs: list[Path], output_root: Path | None = None,
                webhook_hosts: Sequence[str] = ()) -> tuple[Graph, str]:
    """The validated graph and its workflow text (paths made absolute). WorkflowError/ValidationError if invalid."""
    issues: list[Issue] = []
    if request.webhook_url is not None and not _is_http_url(request.webhook_url):
        issues.append(Issue(f"{request.webhook_url!r} is not an http(s) URL; give one such as "
                            "'https://example.com/hook'", field="webhook_url"))
    elif request.webhook_url is not None:
        problem = host_problem(request.webhook_url, webhook_hosts)
        if problem:
            issues.append(Issue(problem, field="webhook_url"))
    base = Path(request.base_dir).expanduser() if request.base_dir else (input_dirs[0] if input_dirs else None)
    if base is not None and not base.is_absolute():
        issues.append(Issue(f"{request.base_dir!r} must be an absolute folder", field="base_dir"))
        base = None
    if issues:
        raise ValidationError(issues)

    nodes = request.workflow.get("nodes")
    if isinstance(nodes, list) and len(nodes) > MAX_NODES:
        raise ValidationError(Issue(f"the workflow has {len(nodes)} nodes, above the server's limit of {MAX_NODES}; "
                                    "split it into smaller jobs", field="nodes"))
    graph = parse_workflow(request.workflow, registry, base_dir=base, read_dirs=readable_folders(input_dirs))
    # flattens subgraphs; relative paths in the overrides are the job's, not the server's working folder's
    apply_overrides(graph, request.overrides, registry, relative_to=base)
    if len(graph.nodes) > MAX_NODES:
        raise ValidationError(Issue(f"the workflow has {len(graph.nodes)} nodes with its subgraphs' inside, above "
                                    f"the server's limit of {MAX_NODES}; split it into smaller jobs", field="nodes"))
    prepare_run(graph, registry, request.targets, output_root, input_dirs=input_dirs, quality=request.quality,
                wording=SERVER_WORDING)
    return graph, dumps_workflow(graph, registry, absolute_paths=True)


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port outside 0-65535
        return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0
    except ValueError:  # "http://[::1", "http://h:99999/": urlsplit and .port raise rather than answer
        return False
