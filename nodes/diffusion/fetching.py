"""Fetching a model from the Hugging Face Hub for the editor's Missing Models dialog: what a download would
bring (files and sizes) and the download itself, with byte progress and cancel. The same files `model.load`
fetches on first use (a pipeline's component folders, not the single-file checkpoints beside them)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from nodegraph.api import CancelledError, MissingModelError

from .loading import IGNORED_DOWNLOADS, download_problem


def _hub_args() -> dict:
    """Where to fetch from and into, read now (HF_ENDPOINT, HF_HUB_CACHE), not when huggingface_hub was imported."""
    args = {}
    if os.environ.get("HF_ENDPOINT"):
        args["endpoint"] = os.environ["HF_ENDPOINT"]
    if os.environ.get("HF_HUB_CACHE"):
        args["cache_dir"] = os.environ["HF_HUB_CACHE"]
    return args


def _patterns(model_id: str) -> dict:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=_hub_args().get("endpoint"))
    names = {f.rfilename for f in api.model_info(model_id, files_metadata=False).siblings or []}
    if "model_index.json" in names:  # a pipeline: its component folders, not the checkpoints at the top
        return {"allow_patterns": ["model_index.json", "*/*"]}
    return {}


def fetch_plan(model_id: str) -> list[tuple[str, int]]:
    """(file, bytes) of what fetching `model_id` would download; MissingModelError (one line) when the Hub cannot
    say."""
    from huggingface_hub import snapshot_download

    try:
        found = snapshot_download(model_id, dry_run=True, ignore_patterns=IGNORED_DOWNLOADS, **_patterns(model_id),
                                  **_hub_args())
    except Exception as exc:
        raise MissingModelError(f"{model_id}: {download_problem(exc)}") from None
    return [(f.filename, int(f.file_size or 0)) for f in found if f.will_download]


def fetch_model(model_id: str, progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> Path:
    """Download `model_id` into the Hugging Face cache; `progress(done_bytes, total_bytes)` as it goes;
    `cancelled()` is asked between blocks and stops it (CancelledError; the partial files are the Hub client's,
    resumed next time)."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    class Progress(tqdm):
        def update(self, n=1):
            if cancelled is not None and cancelled():
                raise CancelledError()
            out = super().update(n)
            if progress is not None and self.total and self.unit == "B":
                progress(int(self.n), int(self.total))
            return out

    if cancelled is not None and cancelled():
        raise CancelledError()
    try:
        return Path(snapshot_download(model_id, tqdm_class=Progress, ignore_patterns=IGNORED_DOWNLOADS,
                                      **_patterns(model_id), **_hub_args()))
    except CancelledError:
        raise
    except Exception as exc:
        raise MissingModelError(f"{model_id}: {download_problem(exc)}") from None
