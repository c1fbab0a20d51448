"""One error family for everything Kinograph reports to a user."""

from __future__ import annotations

from dataclasses import dataclass


class KinographError(Exception):
    """Base of every error Kinograph raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a workflow: where it is and what is wrong."""

    message: str
    node_id: str | None = None
    field: str | None = None
    through: tuple[str, ...] = ()  # the nodes the problem runs through, in order (a cycle's), for the editor to mark

    def __str__(self) -> str:
        where = ""
        if self.node_id and self.field:
            where = f"{self.node_id}.{self.field}: "
        elif self.node_id:
            where = f"{self.node_id}: "
        elif self.field:
            where = f"{self.field}: "
        return where + self.message


class _IssueListError(KinographError):
    """An error that carries every problem found, not just the first."""

    headline = "problems found"

    def __init__(self, issues: list[Issue] | Issue | str, *, source: str | None = None):
        if isinstance(issues, str):
            issues = [Issue(issues)]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues: list[Issue] = list(issues)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        if len(self.issues) == 1:
            return prefix + str(self.issues[0])
        lines = [f"{prefix}{len(self.issues)} {self.headline}:"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


class WorkflowError(_IssueListError):
    """A workflow file could not be read: malformed JSON, wrong format, bad fields."""

    headline = "problems in the workflow file"


class ValidationError(_IssueListError):
    """A graph is not runnable; holds every issue found."""

    headline = "problems in the graph"


class NodeExecutionError(KinographError):
    """A node raised while running (or while its output stream was pulled)."""

    def __init__(self, node_id: str, type_id: str, message: str, cause: BaseException | None = None):
        self.node_id = node_id
        self.type_id = type_id
        self.message = message
        self.cause = cause
        super().__init__(f"node '{node_id}' ({type_id}) failed: {message}")


class MissingModelError(KinographError):
    """Model weights are not on this machine; the message says how to get them."""


class CancelledError(KinographError):
    """The run was cancelled by the user."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)


class UsageError(KinographError):
    """A node was used in a way it cannot work (bad input value at run time)."""
