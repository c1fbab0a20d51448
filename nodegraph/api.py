"""The engine as node packs see it: the one module a pack imports, ours and third-party alike.

A pack's `register(registry)` function (found through the `kinograph.nodes` entry-point group) registers its
`Node` classes and may offer services to the editor and the command line (`registry.services`). Everything a
node needs to declare its ports and params, stream frames and sound, report progress, fail with a clear
message and write files is here; the rest of `nodegraph` may change between versions. See docs/node-packs.md.

Like the rest of the engine, this module imports no Qt and no torch.
"""

from __future__ import annotations

from . import models_dir
from .audio import Audio, concat_audio
from .cache import parameter_nbytes
from .errors import CancelledError, KinographError, MissingModelError, UsageError, ValidationError
from .mask import MARKED, Mask
from .media import DEFAULT_CHUNK, Image, Video
from .metrics import Metrics
from .node import MODEL_ID, Node, NodeContext, Param, Port, existing_file, file_fingerprint, unique_path
from .registry import NodeRegistry
from .services import Services
from .sizes import frame_problem
from .types import (
    AUDIO,
    BOOL,
    CONDITIONING,
    FLOAT,
    IMAGE,
    INT,
    KEYFRAMES,
    LATENT,
    MASK,
    METRICS,
    MODEL,
    STRING,
    UPSCALE_MODEL,
    VIDEO,
)
from .workflow import atomic_write_text

__all__ = [
    # nodes: the base class, its ports and params, what a running node may use
    "Node", "NodeContext", "Param", "Port", "NodeRegistry",
    # what a pack offers the editor, the CLI and the server beside its nodes (registry.services)
    "Services",
    # the type ids of ports
    "AUDIO", "BOOL", "CONDITIONING", "FLOAT", "IMAGE", "INT", "KEYFRAMES", "LATENT", "MASK", "METRICS", "MODEL",
    "STRING", "UPSCALE_MODEL", "VIDEO",
    # values that flow on wires
    "Audio", "Image", "Mask", "Metrics", "Video", "MARKED", "DEFAULT_CHUNK", "concat_audio",
    # errors: one clear message each (what failed, the offending value, the fix)
    "CancelledError", "KinographError", "MissingModelError", "UsageError", "ValidationError",
    # files, sizes and models (a resource's `resource_nbytes()` says what it holds: `parameter_nbytes(*modules)`)
    "MODEL_ID", "atomic_write_text", "existing_file", "file_fingerprint", "frame_problem", "models_dir",
    "parameter_nbytes", "unique_path",
]
