"""How files cross to workers that cannot see the client's disk, and how outputs come back.

Inputs: every file param a variant reads (images, videos, LoRA and model files or folders given by path) is
packed once per run, by path, size and modification time, and travels through Ray's object store (or, with
`--shared-dir`, is copied once into that folder, which every node sees at the same path). A worker unpacks each
package once into its own folder and points the params there, so the same input keeps the same path and the
same cache keys for every variant it runs. Outputs come back as bytes (or a path in the shared folder) and land
in the client's output folder, never overwriting a file."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nodegraph.confine import confined_output
from nodegraph.errors import ValidationError
from nodegraph.graph import Graph
from nodegraph.node import unique_path
from nodegraph.params import resolve_params
from nodegraph.registry import NodeRegistry

MAX_OBJECT_STORE_BYTES = 2 << 30  # one input through the object store; larger ones want --shared-dir


@dataclass(frozen=True)
class InputFile:
    """A file or folder a variant reads: `key` names it on workers, `name` is its file name."""

    key: str
    name: str
    source: str  # the client's path


def input_files(graph: Graph, registry: NodeRegistry, plan: list[str]) -> dict[tuple[str, str], InputFile]:
    """(node id, param) -> the file or folder it reads, for every file param set on a node of the plan."""
    found: dict[tuple[str, str], InputFile] = {}
    for node_id in plan:
        node = graph.nodes[node_id]
        cls = registry.get(node.type)
        effective = resolve_params(graph, node_id, cls) if cls else None
        for param in cls.params if cls else ():
            value = effective.stated[param.name]
            if not param.is_path or param.name in effective.linked or not isinstance(value, str) or not value \
                    or param.names_model_id(value, graph.base_dir):
                continue
            path = Path(effective.resolved(param.name))
            if not path.exists():
                continue  # validation has said so already, or the node makes do without it
            found[(node_id, param.name)] = InputFile(_key(path), path.name, str(path))
    return found


def _key(path: Path) -> str:
    stat = path.stat()
    text = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pack(files: list[InputFile], shared_dir: Path | None, put) -> dict[str, object]:
    """key -> what a worker needs to get the file: an object-store reference to its bytes (`put` is ray.put), or
    its path under the shared folder (copied there once)."""
    packages: dict[str, object] = {}
    too_big = []
    for item in files:
        if item.key in packages:
            continue
        path = Path(item.source)
        if shared_dir is not None:
            packages[item.key] = str(_into_shared(path, item, shared_dir))
            continue
        size = _size(path)
        if size > MAX_OBJECT_STORE_BYTES:
            too_big.append(f"{path} is {size / 2**30:.1f} GiB")
            continue
        packages[item.key] = put(_read(path))
    if too_big:
        raise ValidationError(f"inputs too large for Ray's object store ({'; '.join(too_big)}, more than "
                              f"{MAX_OBJECT_STORE_BYTES >> 30} GiB each); give --shared-dir, a folder every node "
                              "sees at the same path")
    return packages


def _read(path: Path) -> dict[str, bytes]:
    """A file as {"": bytes}; a folder as {relative path: bytes} of every file in it."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _into_shared(path: Path, item: InputFile, shared_dir: Path) -> Path:
    if _inside(path, shared_dir):
        return path
    target = shared_dir / "inputs" / item.key / item.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        shutil.copytree(path, partial) if path.is_dir() else shutil.copyfile(path, partial)
        os.replace(partial, target)
    return target


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def unpack(package: object, item_key: str, name: str, folder: Path, get) -> Path:
    """Where a worker finds an input: its shared path, or the package written once under `folder/key/name`."""
    if isinstance(package, str):
        return Path(package)
    target = folder / item_key / name
    if target.exists():
        return target
    contents = get(package)
    partial = folder / item_key / f".{name}.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    if "" in contents:
        partial.write_bytes(contents[""])
    else:
        for rel, data in contents.items():
            (partial / rel).parent.mkdir(parents=True, exist_ok=True)
            (partial / rel).write_bytes(data)
    os.replace(partial, target)
    return target


def land(files: list[tuple[str, object]], folder: Path) -> list[Path]:
    """Write a variant's outputs (relative path, bytes or a path in the shared folder) into `folder`, a counter
    added to a name that is taken. Returns where they landed."""
    landed = []
    for rel, data in files:
        target = confined_output(folder, rel)  # a worker's answer is held to the output-name rule too
        target.parent.mkdir(parents=True, exist_ok=True)
        target = unique_path(target.parent, target.name)
        if isinstance(data, bytes):
            partial = target.with_name(f".{target.name}.part")
            partial.write_bytes(data)
            os.replace(partial, target)
        else:
            shutil.move(str(data), target)
        landed.append(target)
    return landed
