"""Port types: the ids that travel on wires, and which may connect to which."""

from __future__ import annotations

IMAGE = "IMAGE"
VIDEO = "VIDEO"
LATENT = "LATENT"
CONDITIONING = "CONDITIONING"
MODEL = "MODEL"
MASK = "MASK"
INT = "INT"
FLOAT = "FLOAT"
STRING = "STRING"
BOOL = "BOOL"
METRICS = "METRICS"
UPSCALE_MODEL = "UPSCALE_MODEL"
AUDIO = "AUDIO"
ANY = "ANY"

BUILTIN_TYPES = (IMAGE, VIDEO, LATENT, CONDITIONING, MODEL, MASK, UPSCALE_MODEL, INT, FLOAT, STRING, BOOL, METRICS)
BUILTIN_TYPES += (AUDIO,)

# Wire colours shared by the editor and anything else that draws a graph.
TYPE_COLOURS = {
    IMAGE: "#64b5f6",
    VIDEO: "#4dd0e1",
    LATENT: "#ba68c8",
    CONDITIONING: "#ffb74d",
    MODEL: "#b39ddb",
    MASK: "#90a4ae",
    UPSCALE_MODEL: "#9575cd",
    INT: "#aed581",
    FLOAT: "#81c784",
    STRING: "#f06292",
    BOOL: "#e57373",
    METRICS: "#fff176",
    ANY: "#bdbdbd",
}
TYPE_COLOURS[AUDIO] = "#4db6ac"  # teal, beside VIDEO's cyan: sound rides beside the picture

# A value of the key type may feed a port of each listed type.
_WIDENINGS = {INT: {FLOAT}}

PYTHON_TO_PORT = {int: INT, float: FLOAT, str: STRING, bool: BOOL}


def is_compatible(source: str, target: str) -> bool:
    """True when an output of type `source` may feed an input of type `target`."""
    if source == target or ANY in (source, target):
        return True
    return target in _WIDENINGS.get(source, ())


def colour_of(type_id: str) -> str:
    return TYPE_COLOURS.get(type_id, TYPE_COLOURS[ANY])
