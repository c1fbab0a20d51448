"""A node's MASK output plays in the preview panel as grey frames."""

from __future__ import annotations

import numpy as np

from gui.preview_panel import PreviewPanel
from nodegraph.mask import Mask


def test_the_preview_panel_plays_a_mask_as_grey_frames(qtbot):
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    levels = np.zeros((5, 8, 10), np.uint8)
    levels[:, :, 5:] = 255
    panel.show_outputs("m", {"mask": Mask.from_array(levels, fps=10)})
    qtbot.waitUntil(lambda: len(panel.frames) == 5, timeout=5000)
    frame = panel.frames[-1]
    assert frame.shape == (8, 10, 3)
    assert frame[0, 0].tolist() == [0, 0, 0] and frame[0, 9].tolist() == [255, 255, 255]
    panel.shutdown()
