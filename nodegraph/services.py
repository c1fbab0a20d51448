"""What node packs offer the editor, the command line and the job server beside their nodes: one typed field each.

A pack sets the services it provides in its `register(registry)` function, e.g.
`registry.services.check_quality = check_quality`; a caller reads `registry.services.check_quality` (None when
no installed pack provides it) or `registry.services.require("check_quality", "checking quality")`, which says
which pack to install. A field that does not exist cannot be set: a misspelt service fails at registration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from .errors import ValidationError


class CheckQuality(Protocol):
    def __call__(self, paths: Iterable[str | Path], thresholds: Mapping[str, Any] | None = None, *,
                 prompts: Mapping[Path, str] | None = None) -> list[str]: ...


class FetchModel(Protocol):
    def __call__(self, model_id: str, progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> Path: ...


def _provided_by(pack: str) -> Any:
    return field(default=None, metadata={"pack": pack})


@dataclass(slots=True)
class Services:
    """The services installed packs provide; each is None until a pack sets it."""

    # Warnings (one line each) about the videos among `paths` whose temporal metrics cross `thresholds` (names
    # or aliases over the defaults); `prompts` gives each clip's prompt for the opt-in alignment threshold.
    check_quality: CheckQuality | None = _provided_by("evaluation")
    # Problems with threshold overrides (unknown names, values that are not numbers); empty when they are fine.
    check_quality_thresholds: Callable[[Mapping[str, Any]], list[str]] | None = _provided_by("evaluation")
    # A METRICS value's per-frame curves as a small RGB picture (uint8 array) for a node's thumbnail, or None.
    render_metrics: Callable[[Any], Any] | None = _provided_by("evaluation")
    # The videos of a sweep, (label, path) each, tiled into files in a folder; returns the files written.
    contact_sheet: Callable[[Sequence[tuple[str, Path]], Path], list[Path]] | None = _provided_by("input/output")
    # A file an output node wrote as an `Image` or a lazy `Video` (the editor's preview); None for neither.
    open_media: Callable[[Path], Any] | None = _provided_by("input/output")
    # The sound of a file as a lazy `Audio` (the editor's waveform); None for a file without sound.
    open_sound: Callable[[Path], Any] | None = _provided_by("audio")
    # What a file's Content Credentials say, in one paragraph; None when it has none.
    describe_credentials: Callable[[Path], str | None] | None = _provided_by("input/output")
    # (file, bytes) of what fetching a model id would download; MissingModelError when that cannot be told.
    fetch_plan: Callable[[str], list[tuple[str, int]]] | None = _provided_by("diffusion")
    # Download a model id into the local cache, reporting (done, total) bytes, stopping when cancelled().
    fetch_model: FetchModel | None = _provided_by("diffusion")

    def require(self, name: str, purpose: str) -> Callable[..., Any]:
        """The service `name`; a ValidationError ("`purpose` needs the ... node pack") when none is installed."""
        service = getattr(self, name)
        if service is None:
            pack = next(f.metadata["pack"] for f in fields(self) if f.name == name)
            raise ValidationError(f"{purpose} needs the {pack} node pack, which is not installed")
        return service

    def provided(self) -> list[str]:
        """The names of the services some pack provides."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]
