"""Graph building and media helpers shared by the diffusion tests."""

from __future__ import annotations

import numpy as np

from nodegraph import Graph, Image, Link, NodeInstance, Scheduler, Video


def pipeline_graph(model_params: dict, sample_params: dict, prompt="a cat dances", negative="blurry",
                   decode_params: dict | None = None) -> Graph:
    """model.load -> text.encode -> diffusion.sample -> latent.decode."""
    g = Graph("test")
    g.add_node(NodeInstance("model", "model.load", dict(dtype="float32", **model_params)))
    g.add_node(NodeInstance("encode", "text.encode", {"prompt": prompt, "negative_prompt": negative}))
    g.add_node(NodeInstance("sample", "diffusion.sample", dict(sample_params)))
    g.add_node(NodeInstance("decode", "latent.decode", dict(decode_params or {})))
    for link in (Link("model", "model", "encode", "model"), Link("model", "model", "sample", "model"),
                 Link("encode", "conditioning", "sample", "conditioning"), Link("model", "model", "decode", "model"),
                 Link("sample", "latent", "decode", "latent")):
        g.connect(link)
    return g


class ValueNodes:
    """Registers tiny source nodes that feed fixed IMAGE / VIDEO values into a graph."""

    images: dict[str, Image] = {}
    videos: dict[str, Video] = {}


def add_image_source(registry, graph: Graph, node_id: str, array: np.ndarray, to: str, port: str) -> None:
    from nodegraph.node import Node, Param, Port
    from nodegraph.types import IMAGE

    if registry.get("test.image") is None:
        class TestImage(Node):
            """A fixed test image."""

            type_id = "test.image"
            outputs = (Port("image", IMAGE),)
            params = (Param("name", str, default=""),)

            def run(self, ctx, *, name):
                return {"image": ValueNodes.images[name]}

        registry.register(TestImage)
    ValueNodes.images[node_id] = Image(array)
    graph.add_node(NodeInstance(node_id, "test.image", {"name": node_id}))
    graph.connect(Link(node_id, "image", to, port))


def add_video_source(registry, graph: Graph, node_id: str, frames: np.ndarray, to: str, port: str) -> None:
    from nodegraph.node import Node, Param, Port
    from nodegraph.types import VIDEO

    if registry.get("test.video") is None:
        class TestVideo(Node):
            """A fixed test clip."""

            type_id = "test.video"
            outputs = (Port("video", VIDEO),)
            params = (Param("name", str, default=""),)

            def run(self, ctx, *, name):
                return {"video": ValueNodes.videos[name]}

        registry.register(TestVideo)
    ValueNodes.videos[node_id] = Video.from_array(frames, fps=16)
    graph.add_node(NodeInstance(node_id, "test.video", {"name": node_id}))
    graph.connect(Link(node_id, "video", to, port))


def run_frames(scheduler: Scheduler, graph: Graph, target: str = "decode") -> np.ndarray:
    result = scheduler.run(graph, [target])
    result.raise_for_status()
    return result.outputs[target]["video"].to_array()


def to_uint8(frames) -> np.ndarray:
    """A pipeline's float output (F, H, W, 3) in [0, 1] as uint8."""
    return np.round(np.asarray(frames, dtype=np.float32) * 255.0).astype(np.uint8)


def moving_texture(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture sliding right one pixel per frame (uint8 (T, H, W, 3))."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (height, width + frames, 3)).astype(np.float32)
    base = (base + np.roll(base, 1, 0) + np.roll(base, 1, 1)) / 3
    return np.stack([base[:, t:t + width] for t in range(frames)]).astype(np.uint8)


def max_level_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape, (a.shape, b.shape)
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())
