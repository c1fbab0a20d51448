"""Request and response bodies of the HTTP API (they make up its OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class QualityRequest(BaseModel):
    """Check the videos a job writes, and run it again on the next seed while they fail (as `kinograph run
    --check-quality / --quality-threshold / --retry-on-quality`)."""

    model_config = ConfigDict(extra="forbid")

    thresholds: dict[str, float] = Field(default_factory=dict, max_length=50,
                                         description="Threshold overrides by name, e.g. {\"flicker\": 2.5}; "
                                                     "`alignment` turns on the prompt check.")
    retries: int = Field(0, ge=0, le=20, description="Runs after the first while the check fails, each with every "
                                                       "seed one higher; every attempt's files are kept.")


class JobRequest(BaseModel):
    """A job: a workflow document plus `--set`-style overrides."""

    model_config = ConfigDict(extra="forbid")

    workflow: dict[str, Any] = Field(description="A Kinograph workflow document (format version 1).")
    overrides: list[str] = Field(default_factory=list, max_length=500,
                                 description="NODE.PARAM=VALUE settings, as `kinograph run --set`.")
    priority: int = Field(0, ge=-1000, le=1000, description="Higher runs first; equal priorities run in order.")
    name: str | None = Field(None, max_length=200, description="A label; the workflow's name by default.")
    targets: list[str] | None = Field(None, max_length=500,
                                      description="Run only what these nodes need (default: every output node).")
    base_dir: str | None = Field(None, max_length=4096,
                                 description="Folder that relative file paths in the workflow are resolved against.")
    quality: QualityRequest | None = Field(None, description="Check the videos written (and retry while they fail).")
    webhook_url: str | None = Field(None, max_length=2000, description="POSTed a signed summary when the job ends.")
    webhook_secret: str | None = Field(None, max_length=500,
                                       description="HMAC key for the webhook signature (default: the server's webhook "
                                                   "signing key).")


class Accepted(BaseModel):
    id: str
    status: Status
    url: str


class NodeState(BaseModel):
    model_config = ConfigDict(extra="allow")

    state: str = "pending"
    done: int = 0
    total: int = 0
    seconds: float | None = None


class OutputFile(BaseModel):
    path: str
    bytes: int
    url: str


class Webhook(BaseModel):
    url: str
    state: str | None
    attempts: list[dict[str, Any]]


class JobView(BaseModel):
    id: str
    name: str
    status: Status
    priority: int
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int = Field(description="Times the job has started running.")
    reruns: int = Field(description="Times it was interrupted (server stopped) and queued again.")
    notes: list[str]
    cancel_requested: bool
    error: str | None
    nodes: dict[str, NodeState]
    outputs: list[OutputFile]
    webhook: Webhook | None


class JobList(BaseModel):
    jobs: list[JobView]
    counts: dict[str, int]


class Health(BaseModel):
    status: str
    version: str
    counts: dict[str, int]


class IssueBody(BaseModel):
    message: str
    node_id: str | None
    field: str | None


class InvalidWorkflow(BaseModel):
    message: str
    kind: Literal["workflow", "validation"] = Field(
        description="'workflow': the document could not be read; 'validation': the graph cannot run.")
    issues: list[IssueBody]


class Problem(BaseModel):
    detail: Any
