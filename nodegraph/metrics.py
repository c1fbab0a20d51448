"""The METRICS value: what an evaluation node measured of a clip, read by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Metrics:
    """Summary numbers by name (in the order measured), per-frame curves, their units, and whatever else the
    measurement keeps (e.g. which frames were sampled). Its JSON form is `{"summary", "curves", **details}`."""

    summary: Mapping[str, float]
    curves: Mapping[str, Sequence[float]] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)  # name -> unit ("dB", "px/frame"); absent: none
    details: Mapping[str, Any] = field(default_factory=dict)  # plain JSON values

    def __post_init__(self) -> None:  # copies, so the measurement cannot change under its readers
        object.__setattr__(self, "summary", dict(self.summary))
        object.__setattr__(self, "curves", {name: tuple(values) for name, values in self.curves.items()})
        object.__setattr__(self, "units", dict(self.units))
        object.__setattr__(self, "details", dict(self.details))

    def numbers(self) -> dict[str, float]:
        """The summary entries that are numbers (what a node shows under its title)."""
        return {name: value for name, value in self.summary.items()
                if isinstance(value, (int, float)) and not isinstance(value, bool)}

    def unit(self, name: str) -> str:
        """The unit of a summary entry or curve; "" when it has none."""
        return self.units.get(name, "")

    def to_json(self) -> dict[str, Any]:
        """The JSON form: {"summary": {...}, "curves": {name: [...]}, **details}."""
        return {"summary": dict(self.summary), "curves": {name: list(v) for name, v in self.curves.items()},
                **self.details}

    def cache_nbytes(self) -> int:
        """About what it holds in memory (for the output cache's budget)."""
        return 64 * (len(self.summary) + sum(len(v) for v in self.curves.values()) + len(self.details) + 1)
