"""An invisible watermark in every frame (the `invisible-watermark` library's DWT-DCT-SVD embedding), and finding it
again in a file: `video.watermark` marks a clip, `kinograph eval --watermark` reads the mark back.

Every frame carries the same bits, so reading votes bit by bit over the frames it reads: a mark that a re-encode
has blurred in each frame is still read from the majority.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nodegraph.api import VIDEO, Node, NodeContext, Param, Port, UsageError, Video

METHODS = ("dwtDctSvd", "dwtDct")
DEFAULT_MESSAGE = "kinograph"
MAX_MESSAGE = 16  # bytes: every bit is spread over the frame's blocks, so fewer bits survive better
MIN_PIXELS = 256 * 256  # the library needs frames of at least this many pixels
DEFAULT_STRENGTH = 60  # the library's scale on the U channel: 36 (its default) loses a fifth of the bits to H.264
DETECTED = 0.9  # the share of the message's bits the vote must get right to call the mark found
# Without its declared opencv-python, which would clash with the opencv-python-headless Kinograph uses.
INSTALL = "pip install 'kinograph[watermark]' && pip install --no-deps 'invisible-watermark>=0.2,<0.3'"


def _library():
    try:
        import imwatermark
    except ImportError:
        raise UsageError(f"invisible watermarking needs the invisible-watermark library; install it "
                                     f"with: {INSTALL}") from None
    return imwatermark


def message_problem(message: str) -> str | None:
    """Why `message` cannot be a watermark, with the fix; None when it can."""
    if not message:
        return "the watermark message is empty; give a short text such as 'kinograph'"
    try:
        size = len(message.encode("ascii"))
    except UnicodeEncodeError:
        return f"the watermark message {message!r} has characters outside ASCII; use letters, digits and punctuation"
    if size > MAX_MESSAGE:
        return f"the watermark message is {size} characters; give at most {MAX_MESSAGE}"
    return None


def frame_size_problem(width: int, height: int) -> str | None:
    if width * height < MIN_PIXELS:
        return (f"frames of {width}x{height} are too small to carry a watermark (at least {MIN_PIXELS} pixels, "
                "e.g. 256x256); upscale the clip before marking it")
    return None


def _scales(strength: int) -> list[int]:
    return [0, int(strength), 0]  # the U (blue-difference) channel only: the eye is least sensitive there


def mark_frames(block: np.ndarray, message: str, method: str, strength: int = DEFAULT_STRENGTH) -> np.ndarray:
    """`block` (n, H, W, 3) RGB uint8 with `message` hidden in every frame."""
    import cv2

    encoder = _library().WatermarkEncoder()
    encoder.set_watermark("bytes", message.encode("ascii"))
    out = np.empty_like(block)
    for i, frame in enumerate(block):
        bgr = encoder.encode(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), method, scales=_scales(strength))
        out[i] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return out


def read_watermark(frames, message: str = DEFAULT_MESSAGE, method: str = METHODS[0],
                   strength: int = DEFAULT_STRENGTH, max_frames: int = 64) -> dict[str, Any]:
    """How much of `message` the frames carry: the bit accuracy of each frame read alone (mean), of the vote over
    the frames, what the vote spells, and whether that counts as found (vote accuracy >= DETECTED)."""
    import cv2

    problem = message_problem(message)
    if problem:
        raise UsageError(problem)
    truth = np.unpackbits(np.frombuffer(message.encode("ascii"), np.uint8))
    decoder = _library().WatermarkDecoder("bits", len(truth))
    reads = []
    for frame in frames:
        if frame.shape[0] * frame.shape[1] < MIN_PIXELS:
            raise UsageError(frame_size_problem(frame.shape[1], frame.shape[0]))
        reads.append(np.asarray(decoder.decode(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), method,
                                                   scales=_scales(strength)), np.uint8))
        if len(reads) >= max_frames:
            break
    if not reads:
        raise UsageError("the clip has no frames to read a watermark from")
    bits = np.stack(reads)
    vote = (bits.mean(axis=0) > 0.5).astype(np.uint8)
    vote_accuracy = float((vote == truth).mean())
    spelled = np.packbits(vote).tobytes().decode("ascii", errors="replace")
    return {"message": message, "method": method, "frames": len(reads), "decoded": spelled,
            "frame_accuracy": float((bits == truth).mean()), "vote_accuracy": vote_accuracy,
            "detected": vote_accuracy >= DETECTED}


def describe_watermark(found: dict[str, Any]) -> str:
    verdict = "found" if found["detected"] else "not found"
    return (f"watermark {found['message']!r}: {verdict} ({found['vote_accuracy']:.0%} of its bits by the vote of "
            f"{found['frames']} frames, {found['frame_accuracy']:.0%} per frame; the vote reads {found['decoded']!r})")


class WatermarkVideo(Node):
    """Hide a short text in every frame, invisibly, so a copy of the clip can be recognised later with
    `kinograph eval VIDEO --watermark TEXT`. Frames need at least 256x256 pixels."""

    type_id = "video.watermark"
    category = "Input/Output"
    title = "Invisible Watermark"
    inputs = (Port("video", VIDEO),)
    outputs = (Port("video", VIDEO),)
    params = (
        Param("message", str, default=DEFAULT_MESSAGE,
              tooltip=f"The text to hide: ASCII, at most {MAX_MESSAGE} characters (fewer survive re-encoding "
                      "better)."),
        Param("method", str, default=METHODS[0], choices=METHODS,
              tooltip="dwtDctSvd survives H.264 re-encoding better; dwtDct is faster."),
        Param("strength", int, default=DEFAULT_STRENGTH, min=10, max=200,
              tooltip="How hard the mark is pressed into the colour: higher survives more re-encoding and is "
                      "likelier to show. Reading it back needs the same value."),
    )
    widgets = ("message",)

    @classmethod
    def check(cls, params: dict[str, Any]) -> list[str]:
        problem = message_problem(params.get("message", DEFAULT_MESSAGE))
        return [problem] if problem else []

    def run(self, ctx: NodeContext, video: Video, *, message: str, method: str, strength: int) -> dict[str, Any]:
        problem = frame_size_problem(video.width, video.height)
        if problem:
            raise UsageError(problem)
        _library()  # say what to install before any frame is pulled
        done = [0]

        def mark(block: np.ndarray) -> np.ndarray:
            ctx.check_cancelled()
            out = mark_frames(block, message, method, strength)
            done[0] += len(block)
            ctx.progress(done[0], video.frame_count)
            return out

        return {"video": video.map_chunks(mark)}
