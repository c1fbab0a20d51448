"""An example node pack: one node that posterizes a video, frame by frame, as the frames stream past."""

from __future__ import annotations

from typing import Any

import numpy as np

from nodegraph.api import VIDEO, Node, NodeContext, NodeRegistry, Param, Port, Video


class Posterize(Node):
    """Reduce each colour channel to a few levels: flat areas of colour, a poster look."""

    type_id = "example.posterize"  # saved in workflow files: never rename it (add an alias instead)
    version = 1  # bump it, with a migration, when a param changes meaning
    category = "Rendering"
    inputs = (Port("video", VIDEO, tooltip="The clip to posterize."),)
    outputs = (Port("video", VIDEO, tooltip="The clip with `levels` values per channel."),)
    params = (
        Param("levels", int, default=4, min=2, max=256, tooltip="How many values each of red, green and blue keeps."),
    )

    def run(self, ctx: NodeContext, *, video: Video, levels: int) -> dict[str, Any]:
        step = 255 / (levels - 1)
        table = (np.round(np.round(np.arange(256) / step) * step)).astype(np.uint8)
        ctx.log.info("%s: %d levels per channel", ctx.node_id, levels)
        # A lazy clip: each chunk of frames is looked up in the table when someone downstream pulls it.
        return {"video": video.map_chunks(lambda chunk: table[chunk])}


def register(registry: NodeRegistry) -> None:
    """Called once when Kinograph loads the pack (the `kinograph.nodes` entry point)."""
    registry.register(Posterize)
