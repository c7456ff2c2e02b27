"""Result containers shared by every abstraction level: per-layer metric dicts and a network total."""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("coarse", "mid", "fine")


@dataclass
class NetworkCost:
    """The cost of one genome on one accelerator at one abstraction level.

    Attributes:
        level: "coarse", "mid" or "fine".
        total: metric name -> value for the whole network (see `hwmodels.api` for the metric glossary).
        layers: one dict per layer (same metric names, plus "name" and, at Fine, "mapping").
    """

    level: str
    total: dict
    layers: list = field(default_factory=list)

    def to_json(self) -> dict:
        """Plain-JSON form: {"level", "total", "layers"}."""
        return {"level": self.level, "total": self.total, "layers": self.layers}
