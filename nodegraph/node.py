"""The node API: ports, typed params, the Node base class and its run context."""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from . import models_dir
from .confine import confined_output, output_name_problem
from .errors import CancelledError, UsageError
from .types import PYTHON_TO_PORT

# path_or_id: a local file or folder, or a Hugging Face model id ("owner/name") when no such path exists.
PARAM_KINDS = (None, "path", "save_path", "dir", "path_or_id", "multiline", "seed")
MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


def resolve_against(value: str, base_dir: Path | None) -> str:
    """`value` made absolute against `base_dir` when it is a relative path ("~" expanded, normalised)."""
    if not value:
        return value
    path = os.path.expanduser(value)  # os.path, not pathlib: validation resolves every path param of every run
    if not os.path.isabs(path) and base_dir is not None:
        path = os.path.join(base_dir, path)
    return os.path.normpath(path)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Port:
    """A typed input or output socket."""

    name: str
    type: str
    optional: bool = False
    tooltip: str = ""


@dataclass(frozen=True)
class Located:
    """What a path param's value points at: where is "path", "models", "ambiguous", "id" or "missing"."""

    where: str
    path: str
    matches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    """A typed, validated setting of a node. The editor builds its widget from this."""

    name: str
    type: type
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    tooltip: str = ""
    kind: str | None = None  # path, save_path, dir, multiline, seed
    file_filter: str = ""  # for path params, e.g. "Images (*.png *.jpg)"
    step: float | None = None
    label: str = ""
    # The models-folder kinds (nodegraph/models_dir.py KINDS) a relative name is looked up in, most likely
    # first, e.g. ("loras",): tagging a file param is all a node does to take names from the models folders.
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in PYTHON_TO_PORT:
            raise TypeError(f"param {self.name!r}: type must be int, float, str or bool, not {self.type!r}")
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name!r}: kind must be one of {PARAM_KINDS}")
        if isinstance(self.models, str):
            object.__setattr__(self, "models", (self.models,))
        unknown = [k for k in self.models if k not in models_dir.KINDS]
        if unknown or (self.models and not self.is_path):
            raise ValueError(f"param {self.name!r}: models takes kinds from {', '.join(models_dir.KINDS)} "
                             f"on a path, dir or path_or_id param, not {self.models!r}")
        problem = self.check(self.default)
        if problem:
            raise ValueError(f"param {self.name!r}: default {self.default!r} is invalid: {problem}")

    @property
    def port_type(self) -> str:
        """The wire type that may feed this param instead of its value."""
        return PYTHON_TO_PORT[self.type]

    @property
    def is_path(self) -> bool:
        return self.kind in ("path", "dir", "path_or_id")

    def locate(self, value: str, base_dir: Path | None) -> Located:
        """Where a non-empty path value points. The one rule, in order: a file or folder beside the workflow
        (or an absolute path); the one entry of that name in the models folders under this param's kinds; for
        path_or_id, a Hugging Face model id ("owner/name", not a weights file name); else missing."""
        beside = resolve_against(value, base_dir)
        if os.path.exists(beside):
            return Located("path", beside)
        if self.models:
            found = models_dir.find(value, self.models)
            if found:
                return Located("models" if len(found) == 1 else "ambiguous", found[0], tuple(found))
        is_file_name = value.lower().endswith(models_dir.WEIGHT_SUFFIXES)  # "wan/x.safetensors": never a repo id
        if self.kind == "path_or_id" and MODEL_ID.match(value) and not is_file_name:
            return Located("id", value)
        return Located("missing", beside)

    def names_model_id(self, value: Any, base_dir: Path | None) -> bool:
        """True when this value is a Hugging Face model id rather than a path: a path_or_id param holding
        "owner/name" where no such file or folder exists beside the workflow or in the models folders."""
        return (self.kind == "path_or_id" and isinstance(value, str) and bool(MODEL_ID.match(value))
                and self.locate(value, base_dir).where == "id")

    def names_models_file(self, value: Any, base_dir: Path | None) -> bool:
        """True when this value is a name found in the models folders (kept as it is when a workflow moves)."""
        return bool(self.models) and isinstance(value, str) and bool(value) \
            and self.locate(value, base_dir).where == "models"

    def resolve(self, value: Any, base_dir: Path | None) -> Any:
        """A path value made absolute (see `locate`); model ids and non-paths come back unchanged."""
        if not self.is_path or not isinstance(value, str) or not value:
            return value
        if not self.models and self.kind != "path_or_id":
            return resolve_against(value, base_dir)  # no lookup to make: no stat (every run resolves them all)
        located = self.locate(value, base_dir)
        if located.where == "id":
            return value
        return located.path if located.where == "models" else resolve_against(value, base_dir)

    def models_problem(self, value: Any, base_dir: Path | None) -> str | None:
        """For a param that takes models-folder names: a name found more than once, or a relative name found
        nowhere, in one line with the folders searched; else None."""
        if not self.models or not isinstance(value, str) or not value:
            return None
        located = self.locate(value, base_dir)
        if located.where == "ambiguous":
            return (f"{value!r} is in more than one models folder ({', '.join(located.matches)}); "
                    "give the full path of the one you mean, or remove the copy")
        if located.where == "missing" and models_dir.is_relative_name(value):
            where = f"beside the workflow ({base_dir})" if base_dir is not None else "in the current folder"
            return (f"{value!r} is neither {where} nor in the models folders "
                    f"({models_dir.describe_search(self.models)}); give its full path or a name from "
                    "'kinograph models'")
        return None

    def coerce(self, value: Any) -> Any:
        """Return `value` as this param's type, or raise ValueError saying why not."""
        t = self.type
        if t is bool:
            if isinstance(value, bool):
                return value
            raise ValueError(f"expected true or false, got {_show(value)}")
        if t is int:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected a whole number, got {_show(value)}")
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"expected a whole number, got {value!r}")
                value = int(value)
            return value
        if t is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected a number, got {_show(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"expected a finite number, got {value!r}")
            return value
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {_show(value)}")
        return value

    def check(self, value: Any) -> str | None:
        """None when `value` is acceptable, else a message naming the problem and the fix."""
        try:
            value = self.coerce(value)
        except ValueError as exc:
            return str(exc)
        if self.kind == "save_path":
            problem = output_name_problem(value)
            if problem:
                return problem
        if self.choices is not None and value not in self.choices:
            return f"{value!r} is not one of {', '.join(map(repr, self.choices))}"
        if self.min is not None and value < self.min:
            return f"{value!r} is below the minimum {self.min:g}; use a value from {self._range()}"
        if self.max is not None and value > self.max:
            return f"{value!r} is above the maximum {self.max:g}; use a value from {self._range()}"
        return None

    def parse(self, text: str) -> Any:
        """Turn command-line text into a value of this param's type (ValueError if it cannot)."""
        t = self.type
        if t is bool:
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(f"expected true or false, got {text!r}")
        if t is int:
            try:
                return int(text.strip())
            except ValueError:
                raise ValueError(f"expected a whole number, got {text!r}") from None
        if t is float:
            try:
                return float(text.strip())
            except ValueError:
                raise ValueError(f"expected a number, got {text!r}") from None
        return text

    def _range(self) -> str:
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"{lo} to {hi}"


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


class Node:
    """Base class of every node. Subclasses declare ports and params and implement `run`."""

    type_id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    category: ClassVar[str] = "Utility"
    title: ClassVar[str] = ""
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    # Output nodes are what a run asks for by default (savers, previews).
    is_output: ClassVar[bool] = False
    # A node that is not deterministic is never served from the cache.
    deterministic: ClassVar[bool] = True
    # Params the editor shows on the node itself, most used first (the inspector shows every param).
    widgets: ClassVar[tuple[str, ...]] = ()
    # Old type ids that still load as this node.
    aliases: ClassVar[tuple[str, ...]] = ()
    # An output that is one of its inputs passed on with a change, not made anew (model.lora's model: the same
    # model with a LoRA on top): output -> input. The checks of the nodes it feeds look past it to what feeds
    # that input, so a sampler fed through two LoRAs is checked against the model.load behind them.
    forwards: ClassVar[dict[str, str]] = {}
    # Inputs this node's result depends on only in part: for these, its cache key takes the key of the node behind
    # any forwarding nodes (see `forwards`) and `narrowed_key(port, value)` in place of the feeding node's key, so
    # a change its result does not see (a LoRA's strength, for a text encoding the LoRA does not touch) reuses it.
    narrows: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def display_name(cls) -> str:
        return cls.title or cls.type_id.replace(".", " ").replace("_", " ").title()

    @classmethod
    def description(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc

    @classmethod
    def _by_name(cls, kind: str) -> dict[str, Any]:
        """Ports or params of this class by name (first wins), rebuilt if the tuple was replaced."""
        items = getattr(cls, kind)
        cached = cls.__dict__.get("_index_" + kind)
        if cached is None or cached[0] is not items:
            cached = (items, {item.name: item for item in reversed(items)})
            setattr(cls, "_index_" + kind, cached)
        return cached[1]

    @classmethod
    def input(cls, name: str) -> Port | None:
        return cls._by_name("inputs").get(name)

    @classmethod
    def output(cls, name: str) -> Port | None:
        return cls._by_name("outputs").get(name)

    @classmethod
    def param(cls, name: str) -> Param | None:
        return cls._by_name("params").get(name)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {p.name: p.default for p in cls.params}

    @classmethod
    def migrate(cls, params: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Turn params saved by `from_version` of this node into the current version's."""
        return params

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[str]:
        """Cross-param checks made before a run; each string is one problem with its fix."""
        return []

    @classmethod
    def check_inputs(cls, params: dict[str, Any], sources: dict[str, tuple[str, dict[str, Any]]]) -> list[str]:
        """Checks that need what feeds this node: `sources` maps a linked input to the
        (type id, resolved params) of the node feeding it. Each string is one problem."""
        return []

    @classmethod
    def notices(cls, params: dict[str, Any]) -> list[str]:
        """What a person should know before a run that does not stop it (a model that is not downloaded yet and
        will be fetched on the first run). `params` are resolved as the run resolves them."""
        return []

    @classmethod
    def frame_size(cls, params: dict[str, Any], inputs: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
        """(width, height) of the frames this node outputs, estimated before it runs from its params (paths
        resolved) and the frame sizes known on its inputs; None when unknown. Raise ValueError when this node
        cannot take the sizes it gets (the message is shown). Validation refuses a node whose frames would not
        fit in memory. The default, right for most frame-by-frame nodes: the first known input's size."""
        return next(iter(inputs.values()), None)

    @classmethod
    def fingerprint(cls, params: dict[str, Any]) -> Any:
        """Extra cache-key content beyond params, e.g. an input file's size and mtime."""
        return None

    @classmethod
    def narrowed_key(cls, port: str, value: Any) -> Any:
        """For an input in `narrows`: everything the forwarding nodes in front of it changed that this node's
        result depends on (JSON-able). It must miss nothing: what it leaves out is served from the cache."""
        raise NotImplementedError(f"{cls.__name__} narrows {port!r} and must say what of it counts")

    def run(self, ctx: NodeContext, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not implement run()")


def existing_file(path: str, noun: str, choose: str) -> Path:
    """The file a path param names, or a UsageError saying it is not chosen, is missing or is a folder: `noun`
    names what it should be ("video file"), `choose` what to set `path` to ("a video file (mp4, mov...)")."""
    if not path:
        raise UsageError(f"no {noun} chosen; set 'path' to {choose}")
    file = Path(path)
    if not file.is_file():
        article = "an" if noun[:1] in "aeiou" else "a"
        what = f"is a folder, not {article} {noun}" if file.is_dir() else "does not exist"
        raise UsageError(f"{noun} {path!r} {what}; check the path (relative paths are resolved against the "
                         "workflow's folder)")
    return file


def file_fingerprint(path: str) -> Any:
    """Size and modification time of a file (or None when it is missing)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


_NODE_LOG = logging.getLogger("kinograph.node")  # one logger for every context: looking it up takes a lock
_COUNTER = re.compile(r"^(?P<stem>.*?)(?:_(?P<n>\d{4,}))?$")


def unique_path(folder: Path, filename: str) -> Path:
    """`folder/filename`, with `_0001`, `_0002`... added when that file exists."""
    target = folder / filename
    if not os.path.lexists(target):  # a dangling symbolic link is taken too: writing would follow it
        return target
    stem, suffix = target.stem, "".join(target.suffixes[-1:])
    base = _COUNTER.match(stem).group("stem") or stem
    n = 1
    while True:
        candidate = folder / f"{base}_{n:04d}{suffix}"
        if not os.path.lexists(candidate):
            return candidate
        n += 1


@dataclass
class NodeContext:
    """What a running node may use: progress, previews, cancellation, device, outputs."""

    node_id: str
    type_id: str
    device: str = "auto"
    output_dir: Path = field(default_factory=lambda: Path("outputs"))
    resources: Any = None
    log: logging.Logger = _NODE_LOG
    _emit_progress: Callable[[str, int, int], None] | None = None
    _emit_preview: Callable[[str, Any, float], None] | None = None
    _wants_previews: Callable[[], bool] | None = None
    _emit_message: Callable[[str, str, str], None] | None = None
    _is_cancelled: Callable[[], bool] | None = None
    _record_output: Callable[[str, Path], None] | None = None
    workflow_json: Callable[[], str] | None = None

    def progress(self, done: int, total: int) -> None:
        self.check_cancelled()
        if self._emit_progress:
            self._emit_progress(self.node_id, int(done), int(total))

    @property
    def wants_previews(self) -> bool:
        """Whether anyone is watching this run's previews. When nobody is (a headless run), a node whose
        preview costs work of its own (a copy, a plot) can skip it; `preview` itself is then a no-op."""
        if self._emit_preview is None:
            return False
        return self._wants_previews is None or self._wants_previews()

    def preview(self, frames: Any, fps: float = 0.0) -> None:
        """Show a frame (H, W, 3) or a clip (T, H, W, 3) of uint8 on the node.

        `frames` may also be a no-argument callable that returns them: it runs only if someone looks at the
        preview, on their thread, so it must read only a snapshot the node will not change afterwards."""
        if self._emit_preview:
            self._emit_preview(self.node_id, frames, fps)

    def warn(self, message: str) -> None:
        """A warning for the user: an event when the scheduler listens (the CLI and editor show it), else a log line."""
        if self._emit_message:
            self._emit_message(self.node_id, "warning", message)
        else:
            self.log.warning("%s: %s", self.node_id, message)

    def info(self, message: str) -> None:
        """A note for the user (what a slow step is doing, say), shown in the CLI and the editor's log."""
        if self._emit_message:
            self._emit_message(self.node_id, "info", message)
        else:
            self.log.info("%s: %s", self.node_id, message)

    def check_cancelled(self) -> None:
        if self._is_cancelled and self._is_cancelled():
            raise CancelledError()

    def output_path(self, filename: str) -> Path:
        """A path in the output folder that does not overwrite an existing file. The one place output names
        are resolved: a name that would leave the folder (absolute, '..', '~', a symbolic link out, a control
        character) raises UsageError."""
        target = confined_output(self.output_dir, filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        confined_output(self.output_dir, filename)  # again: the folders just made may have met a new link
        return unique_path(target.parent, target.name)

    def record_output(self, path: Path) -> None:
        """Tell the run a file was written (the CLI prints these at the end)."""
        if self._record_output:
            self._record_output(self.node_id, Path(path))
