"""The importer's errors: one line each (or one line per unmapped node), never a traceback."""

from __future__ import annotations

from nodegraph.errors import Issue, WorkflowError


class ComfyImportError(WorkflowError):
    """The file is not a ComfyUI workflow Kinograph can read (it says why and what to do)."""

    headline = "problems in the ComfyUI workflow"


class UnmappedNodesError(ComfyImportError):
    """Nodes the workflow's outputs depend on have no Kinograph counterpart: every one is listed, nothing written."""

    headline = "nodes the outputs need have no Kinograph counterpart; nothing was written"

    def __init__(self, nodes: list[tuple[str, str, str, str]], source: str | None = None):
        self.nodes = nodes  # (id, type, title, why)
        issues = [Issue(f"{ntype}" + (f" \"{title}\"" if title and title != ntype else "") + f": {why}",
                        f"ComfyUI node {nid}") for nid, ntype, title, why in nodes]
        super().__init__(issues, source=source)

    def _render(self) -> str:  # always the list form, even for one node, so the headline is said
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join([f"{prefix}{len(self.issues)} {self.headline}:"] + [f"  - {i}" for i in self.issues])
