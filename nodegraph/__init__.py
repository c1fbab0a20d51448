"""Kinograph's engine: graph model, validation, workflow files, scheduler, caches, events.

Qt-free and torch-free by contract (see pyproject's import-linter settings).
"""

from .errors import (
    CancelledError,
    Issue,
    KinographError,
    MissingModelError,
    NodeExecutionError,
    UsageError,
    ValidationError,
    WorkflowError,
)
from .graph import Graph, Group, Link, NodeInstance
from .media import Image, Video
from .node import Node, NodeContext, Param, Port
from .registry import NodeRegistry, default_registry
from .scheduler import RunResult, Scheduler
from .validate import find_issues, validate
from .workflow import dumps_workflow, load_workflow, loads_workflow, save_workflow

__version__ = "0.1.0"

__all__ = [
    "CancelledError", "Graph", "Group", "Image", "Issue", "KinographError", "Link", "MissingModelError",
    "Node", "NodeContext", "NodeExecutionError", "NodeInstance", "NodeRegistry", "Param", "Port", "RunResult",
    "Scheduler", "UsageError", "ValidationError", "Video", "WorkflowError", "default_registry", "dumps_workflow",
    "find_issues", "load_workflow", "loads_workflow", "save_workflow", "validate",
]
