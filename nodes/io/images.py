"""Load and save single images (OpenCV), as 8-bit RGB."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from nodegraph.api import (
    IMAGE,
    STRING,
    Image,
    Node,
    NodeContext,
    Param,
    Port,
    UsageError,
    existing_file,
    file_fingerprint,
    frame_problem,
    unique_path,
)

from .headers import image_size
from .metadata import WORKFLOW_KEY, png_with_text
from .provenance import stamp

HEADER_BYTES = 1 << 20  # a JPEG's size may follow a large EXIF block
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.exr *.hdr *.pgm *.ppm)"


def to_rgb8(array: np.ndarray) -> np.ndarray:
    """An OpenCV image (grey, grey+alpha, BGR or BGRA; 8/16-bit or float) as uint8 RGB (H, W, 3).

    Alpha is dropped (the colour channels are kept as stored; `alpha8` reads it); 16-bit is rounded to 8-bit;
    float images are taken as 0..1 and clipped.
    """
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"unsupported image layout {array.shape}")
    array = _to_8bit(array)
    channels = array.shape[2]
    if channels <= 2:  # grey, grey + alpha
        return np.ascontiguousarray(np.repeat(array[..., :1], 3, axis=2))
    return np.ascontiguousarray(array[..., 2::-1])  # BGR(A) -> RGB


def alpha8(array: np.ndarray) -> np.ndarray | None:
    """The alpha channel of an OpenCV image (grey+alpha or BGRA) as uint8 (H, W); None when it has none."""
    if array.ndim != 3 or array.shape[2] not in (2, 4):
        return None
    return np.ascontiguousarray(_to_8bit(array[..., -1:])[..., 0])


def _to_8bit(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        pass
    elif array.dtype == np.uint16:
        array = ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif array.dtype in (np.float16, np.float32, np.float64):
        array = np.rint(np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0) * 255).astype(np.uint8)
    elif array.dtype == np.int8:
        array = (array.astype(np.int16) + 128).astype(np.uint8)
    else:
        raise ValueError(f"unsupported sample type {array.dtype}")
    return array


def read_image(path: str) -> np.ndarray:
    """Decode an image file to uint8 RGB, raising UsageError with the fix when it cannot."""
    return load_image(path).array


def load_image(path: str) -> Image:
    """Decode an image file to uint8 RGB and its alpha when it has one, raising UsageError with the fix when it
    cannot."""
    import cv2

    file = existing_file(path, "image file", "a PNG, JPEG, WebP, TIFF... file")
    try:
        data = np.fromfile(file, np.uint8)  # works with non-ASCII paths, unlike cv2.imread
    except OSError as exc:
        reason = exc.strerror or exc
        raise UsageError(f"cannot read image file {str(file)!r}: {reason}; check its permissions") from None
    size = image_size(data[:HEADER_BYTES].tobytes())
    problem = frame_problem(*size, repr(str(file))) if size else None
    if problem:
        raise UsageError(problem)
    is_jpeg = data[:2].tobytes() == b"\xff\xd8"
    # JPEGs are 8-bit colour: IMREAD_COLOR applies the EXIF orientation that phone photos rely on.
    flags = cv2.IMREAD_COLOR if is_jpeg else cv2.IMREAD_UNCHANGED
    try:
        array = cv2.imdecode(data, flags) if data.size else None
    except cv2.error as exc:  # OpenCV's assertion text alone does not say which file
        raise UsageError(f"{str(file)!r} could not be decoded: {str(exc).strip().splitlines()[-1]}; convert it to "
                         "PNG or JPEG") from None
    if array is None:
        raise UsageError(f"{str(file)!r} is not an image OpenCV can decode (empty, damaged or an unsupported "
                         "format); convert it to PNG or JPEG")
    try:
        return Image(to_rgb8(array), alpha=alpha8(array))
    except ValueError as exc:
        raise UsageError(f"{str(file)!r}: {exc}; convert it to an 8-bit RGB PNG") from None


def encode_png(rgb: np.ndarray, workflow: str | None = None) -> bytes:
    """PNG bytes of a uint8 RGB array, with the workflow embedded when given."""
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError("OpenCV could not encode the PNG")
    data = buf.tobytes()
    return png_with_text(data, WORKFLOW_KEY, workflow) if workflow else data


def write_new_file(path: Path, data: bytes) -> Path:
    """Write `data` beside `path` under a temporary name, then rename; never overwrites a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return claim(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def claim(tmp: Path, path: Path) -> Path:
    """Rename `tmp` to `path`, or to `path` with a counter if something appeared there meanwhile."""
    if path.exists():
        path = unique_path(path.parent, path.name)
    if tmp.is_file():  # temporary files are private (0600); a finished output gets the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)
    return path


def png_name(filename: str) -> str | None:
    """`filename` with .png added when it has no extension; None when its extension is not .png."""
    suffix = Path(filename).suffix.lower()
    if not suffix:
        return filename + ".png"
    return filename if suffix == ".png" else None


class LoadImage(Node):
    """Load a picture file (PNG, JPEG, WebP, TIFF...) as an RGB image."""

    type_id = "image.load"
    widgets = ("path",)
    category = "Input/Output"
    title = "Load Image"
    outputs = (Port("image", IMAGE),)
    params = (Param("path", str, default="", kind="path", file_filter=IMAGE_FILTER,
                    tooltip="The image file. Grey, 16-bit and alpha images are turned into 8-bit RGB; an alpha "
                            "channel rides along for mask.from_image."),)

    @classmethod
    def check(cls, params: dict) -> list[str]:
        if "path" in params and not params["path"]:
            return ["no image file chosen; set 'path' to an image file"]
        return []

    @classmethod
    def fingerprint(cls, params: dict):
        return file_fingerprint(params.get("path") or "")

    @classmethod
    def frame_size(cls, params: dict, inputs: dict) -> tuple[int, int] | None:
        try:
            with open(params["path"], "rb") as fh:
                return image_size(fh.read(HEADER_BYTES))
        except OSError:
            return None

    def run(self, ctx: NodeContext, *, path: str) -> dict:
        image = load_image(path)
        ctx.preview(image.array)
        return {"image": image}


class SaveImage(Node):
    """Save an image as a PNG in the output folder (never overwrites; the workflow is embedded)."""

    type_id = "image.save"
    widgets = ("filename",)
    category = "Input/Output"
    title = "Save Image"
    is_output = True
    inputs = (Port("image", IMAGE),)
    outputs = (Port("path", STRING),)
    params = (Param("filename", str, default="image.png", kind="save_path", file_filter="PNG (*.png)",
                    tooltip="File name in the output folder (sub-folders allowed). A counter is added when "
                            "the file exists."),)

    @classmethod
    def check(cls, params: dict) -> list[str]:
        name = params.get("filename")
        if name is None:
            return []
        if not name.strip() or name.endswith(("/", "\\")):
            return ["'filename' is empty; give a name such as 'image.png'"]
        if png_name(name) is None:
            return [f"'filename' {name!r} does not end in .png; image.save writes PNG files, so name it "
                    f"{str(Path(name).with_suffix('.png'))!r}"]
        return []

    def run(self, ctx: NodeContext, *, image: Image, filename: str) -> dict:
        problems = self.check({"filename": filename})
        if problems:
            raise UsageError(problems[0])
        if image is None:
            raise UsageError("no image arrived on the 'image' input; connect an IMAGE output to it")
        workflow = ctx.workflow_json() if ctx.workflow_json else None
        data = encode_png(image.array, workflow)
        path = write_new_file(ctx.output_path(png_name(filename)), data)
        stamp(ctx, path, workflow)
        ctx.record_output(path)
        ctx.preview(image.array)
        return {"path": str(path)}
