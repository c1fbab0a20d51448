"""The HTTP API under /v1: a FastAPI app built around a job store, an executor and an event hub."""

from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nodegraph import __version__
from nodegraph import events as ev
from nodegraph.catalogue import node_catalogue
from nodegraph.errors import ValidationError, WorkflowError
from nodegraph.registry import NodeRegistry, default_registry

from . import schemas as s
from .limits import DEFAULT_MAX_BODY, RequestLimits
from .prepare import prepare_job
from .security import resolve_output, seal, token_matches
from .sse import EventHub, event_to_dict, format_sse
from .store import TERMINAL, JobStore
from .webhooks import WebhookSender
from .worker import Executor, LocalExecutor

log = logging.getLogger("kinograph.server")

JOB_ID = r"^[0-9a-f]{16}$"
KEEPALIVE_S = 15.0


@dataclass
class ServerConfig:
    """Everything the app needs; `token=None` turns authentication off (loopback only, see command.py)."""

    db_path: Path
    output_root: Path
    token: str | None
    input_dirs: list[Path] = field(default_factory=list)
    registry: NodeRegistry | None = None
    device: str = "auto"
    # Signs webhooks of jobs that bring no secret of their own. Never the access token: a webhook receiver
    # must not hold the key to the whole server.
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    webhook_attempts: int = 5
    webhook_backoff_s: float = 1.0
    max_body: int = DEFAULT_MAX_BODY  # bytes; a larger request is refused (413) from its headers
    webhook_hosts: list[str] = field(default_factory=list)  # trusted beyond public addresses (--allow-webhook-host)
    # Makes the executor in place of LocalExecutor, with the same arguments (kinograph serve --executor ray)
    executor_factory: Any = None


class Server:
    """The pieces that live as long as the process: store, executor, webhooks, event hub."""

    def __init__(self, config: ServerConfig, executor: Executor | None = None):
        self.config = config
        self.registry = config.registry or default_registry()
        self.store = JobStore(config.db_path)
        self.hub = EventHub()
        self.webhooks = WebhookSender(self.store, config.webhook_secret, attempts=config.webhook_attempts,
                                      backoff_s=config.webhook_backoff_s, allowed_hosts=config.webhook_hosts)
        self.executor = executor or (config.executor_factory or LocalExecutor)(
            self.store, self.registry, config.output_root, publish=self.hub.publish,
            job_ended=self.webhooks.job_ended, device=config.device, watched=self.hub.watched)
        self.input_dirs = [Path(d).expanduser().resolve() for d in config.input_dirs]
        self.closing = asyncio.Event()

    def view(self, job: dict[str, Any]) -> dict[str, Any]:
        nodes = (self.executor.live_nodes(job["id"]) if job["status"] == "running" else None) or job["nodes"]
        hook = None
        if job["webhook_url"]:
            tries = [{"attempt": a.get("attempt"), "at": a.get("at")} for a in job["webhook_attempts"]]
            hook = {"url": job["webhook_url"], "state": job["webhook_state"], "attempts": tries}
        return {
            "id": job["id"], "name": job["name"], "status": job["status"], "priority": job["priority"],
            "submitted_at": job["submitted_at"], "started_at": job["started_at"], "finished_at": job["finished_at"],
            "attempts": job["attempts"], "reruns": job["reruns"], "notes": job["notes"],
            "cancel_requested": bool(job["cancel_requested"]), "error": job["error"], "nodes": nodes,
            "outputs": [dict(o, url=f"/v1/jobs/{job['id']}/outputs/{o['path']}") for o in job["outputs"]],
            "webhook": hook,
        }


bearer = HTTPBearer(auto_error=False, description="The server's token (printed when it was generated).")


def require_token(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    token = request.app.state.server.config.token
    if token is None:
        return
    header = f"Bearer {credentials.credentials}" if credentials else None
    if not token_matches(header, token):
        raise HTTPException(401, "missing or wrong token; send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})


def get_server(request: Request) -> Server:
    return request.app.state.server


ServerDep = Annotated[Server, Depends(get_server)]
JobId = Annotated[str, PathParam(pattern=JOB_ID, description="A job id (16 hex digits).")]
NOT_FOUND = {404: {"model": s.Problem, "description": "No such job"}}


def create_app(config: ServerConfig, executor: Executor | None = None) -> FastAPI:
    server = Server(config, executor)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        server.closing = asyncio.Event()
        server.executor.start()
        server.webhooks.start()
        try:
            yield
        finally:
            server.closing.set()
            await run_in_threadpool(server.executor.stop)
            server.webhooks.stop()

    app = FastAPI(title="Kinograph job server", version=__version__, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.server = server
    app.add_middleware(RequestLimits, token=config.token, max_body=config.max_body)
    app.include_router(_public_routes())
    app.include_router(_job_routes(), dependencies=[Depends(require_token)])
    return app


def _public_routes() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/health", response_model=s.Health, tags=["server"])
    def health(server: ServerDep) -> dict:
        """Liveness and queue counts; needs no token."""
        return {"status": "ok", "version": __version__, "counts": server.store.counts()}

    return router


def _job_routes() -> APIRouter:
    router = APIRouter(prefix="/v1", responses={401: {"model": s.Problem, "description": "Missing or wrong token"}})

    @router.get("/openapi.json", tags=["server"], include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @router.get("/nodes", tags=["server"])
    def nodes(server: ServerDep) -> list[dict[str, Any]]:
        """The node catalogue, as `kinograph nodes --json`."""
        return node_catalogue(server.registry)

    @router.post("/jobs", status_code=202, response_model=s.Accepted, tags=["jobs"],
                 responses={422: {"model": s.InvalidWorkflow, "description": "The workflow is not valid"}})
    def submit(body: s.JobRequest, server: ServerDep):
        """Queue a workflow to run; invalid workflows are refused with every problem found."""
        try:
            graph, text = prepare_job(body, server.registry, server.input_dirs,
                                      server.config.output_root, server.config.webhook_hosts)
        except (WorkflowError, ValidationError) as exc:
            issues = [{"message": i.message, "node_id": i.node_id, "field": i.field} for i in exc.issues]
            kind = "workflow" if isinstance(exc, WorkflowError) else "validation"
            return JSONResponse({"message": str(exc), "kind": kind, "issues": issues}, status_code=422)
        job_id = server.store.add(workflow=text, name=body.name or graph.name, priority=body.priority,
                                  targets=body.targets, webhook_url=body.webhook_url,
                                  quality=body.quality.model_dump() if body.quality is not None else None,
                                  webhook_secret=seal(server.config.webhook_secret, body.webhook_secret)
                                  if body.webhook_secret else None)
        server.executor.wake()
        return {"id": job_id, "status": "queued", "url": f"/v1/jobs/{job_id}"}

    @router.get("/jobs", response_model=s.JobList, tags=["jobs"])
    def list_jobs(server: ServerDep,
                  status: Annotated[list[s.Status] | None, Query(description="Only jobs in these states.")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict:
        """Jobs, newest first."""
        jobs = server.store.list(status, limit, offset)
        return {"jobs": [server.view(j) for j in jobs], "counts": server.store.counts()}

    @router.get("/jobs/{job_id}", response_model=s.JobView, responses=NOT_FOUND, tags=["jobs"])
    def get_job(job_id: JobId, server: ServerDep) -> dict:
        """One job: status, per-node progress and timings, outputs, errors, webhook attempts."""
        return server.view(_job(server, job_id))

    @router.post("/jobs/{job_id}/cancel", status_code=202, response_model=s.JobView, tags=["jobs"],
                 responses={**NOT_FOUND, 409: {"model": s.Problem, "description": "The job has already ended"}})
    def cancel(job_id: JobId, server: ServerDep) -> dict:
        """Cancel a queued job at once, or stop a running one at its next cancellation point."""
        job = _job(server, job_id)
        if job["status"] in TERMINAL:
            raise HTTPException(409, f"job {job_id} has already ended ({job['status']}); nothing to cancel")
        after = server.store.request_cancel(job_id)
        if after == "running":
            server.executor.cancel(job_id)
        elif after == "cancelled":
            server.hub.publish(job_id, {"kind": "job_finished", "job_id": job_id, "status": "cancelled",
                                        "error": None})
            server.webhooks.job_ended(job_id)
        return server.view(_job(server, job_id))

    @router.get("/jobs/{job_id}/events", tags=["jobs"], responses={
        **NOT_FOUND, 200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}})
    async def events(job_id: JobId, request: Request, server: ServerDep) -> StreamingResponse:
        """The job's scheduler events as Server-Sent Events; previews are small base64 JPEGs."""
        sub = server.hub.subscribe(job_id)  # before reading the job, so no event falls between
        try:
            job = await run_in_threadpool(_job, server, job_id)
        except HTTPException:
            server.hub.unsubscribe(sub)
            raise
        return StreamingResponse(_stream(server, sub, server.view(job), request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/jobs/{job_id}/outputs/{path:path}", tags=["jobs"], response_class=FileResponse,
                responses={404: {"model": s.Problem, "description": "No such output"}})
    def download(job_id: JobId, path: str, server: ServerDep):
        """A file the job wrote (only from the job's own output folder)."""
        target = resolve_output(server.config.output_root, job_id, path)
        if target is None:
            raise HTTPException(404, "no such output for this job")
        return FileResponse(target, filename=target.name)

    return router


def _job(server: Server, job_id: str) -> dict[str, Any]:
    job = server.store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job


async def _stream(server: Server, sub, snapshot: dict, request: Request):
    seq = 0
    try:
        yield format_sse("job", snapshot, seq)
        if snapshot["status"] in TERMINAL:
            yield format_sse("end", {"status": snapshot["status"]})
            return
        idle = 0.0
        while not server.closing.is_set():
            try:
                data = await asyncio.wait_for(sub.queue.get(), timeout=1.0)
            except TimeoutError:
                idle += 1.0
                if await request.is_disconnected():
                    return
                if idle >= KEEPALIVE_S:
                    idle = 0.0
                    yield b": keep-alive\n\n"
                continue
            idle = 0.0
            if isinstance(data, ev.NodePreview):
                data = await asyncio.to_thread(event_to_dict, data)  # render and JPEG-encode off the loop
                if data is None:
                    continue
            seq += 1
            yield format_sse(data["kind"], data, seq)
            if data["kind"] == "job_finished":
                yield format_sse("end", {"status": data["status"]})
                return
    finally:
        server.hub.unsubscribe(sub)
