"""`kinograph run --sweep ... --contact-sheet` on the default workflow: the variants tiled side by side, each
labelled, in one video and a PNG of its middle frame."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from nodegraph import cli

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "resources" / "workflows" / "animate_image.json"


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_the_contact_sheet_tiles_every_variant_with_its_label(tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", str(DEFAULT), "--set", "camera.frames=8", "--set", "upscale.scale=0.5",
                     "--sweep", "camera.zoom_to=1.0,1.5", "--sweep", "camera.rotate_deg=0,20",
                     "--contact-sheet", "--output-dir", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    written = [Path(p) for p in stdout.split()]
    assert written[-2:] == [out / "contact_sheet.mp4", out / "contact_sheet.png"]
    variants = sorted(out.glob("*/animate.mp4"))
    assert [p.parent.name for p in variants] == ["1_zoom_to-1_rotate_deg-0", "2_zoom_to-1_rotate_deg-20",
                                                 "3_zoom_to-1.5_rotate_deg-0", "4_zoom_to-1.5_rotate_deg-20"]
    sheet = decode(out / "contact_sheet.mp4")
    first = decode(variants[0])
    assert len(sheet) == len(first) == 16  # 8 frames, doubled
    height, width = sheet.shape[1:3]
    assert width == 2 * 320  # two columns of 320-pixel tiles, two rows
    tile_h = (height - 2 * 22) // 2
    # each tile is its variant, scaled: the top right one is variant 2, rotated, unlike variant 1 at top left
    for index, (column, row) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        y = row * (tile_h + 22) + 22
        tile = sheet[7, y:y + tile_h, column * 320:(column + 1) * 320].astype(float)
        mine = cv2.resize(decode(variants[index])[7], (320, tile_h), interpolation=cv2.INTER_AREA).astype(float)
        others = [cv2.resize(decode(v)[7], (320, tile_h), interpolation=cv2.INTER_AREA).astype(float)
                  for i, v in enumerate(variants) if i != index]
        error = np.abs(tile - mine).mean()
        assert error < 6 and all(error < np.abs(tile - other).mean() / 2 for other in others), index
    # the label strip carries white text on a dark ground
    strip = sheet[7, :22, :320]
    assert strip.max() > 200 and np.median(strip) < 60
    png = cv2.imread(str(out / "contact_sheet.png"))
    assert png.shape[:2] == (height, width)
    assert "sweep: 4 variants" in stderr
