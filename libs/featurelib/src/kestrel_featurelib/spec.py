"""A feature's single definition: its name, parameters, graph, warm-up and description."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kestrel_featurelib.graph import Node

Family = Literal["trend", "momentum", "volatility", "volume", "returns", "regime", "cross_asset"]
ParamValue = int | float | str


@dataclass(frozen=True)
class FeatureSpec:
    """One feature. ``node`` is the definition both evaluators run; bump ``revision`` whenever the
    meaning changes in a way the graph text does not show (e.g. a helper function's body)."""

    name: str
    family: Family
    description: str
    node: Node
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    revision: int = 1

    @property
    def warmup(self) -> int:
        """Bars needed before the value is defined; the value at t depends on exactly that many bars."""
        return self.node.span

    @property
    def cross_asset(self) -> bool:
        return self.family == "cross_asset"

    def canonical(self) -> str:
        """Stable text of everything that defines the feature (hashed into the set's version)."""
        return json.dumps(
            {
                "name": self.name,
                "family": self.family,
                "params": dict(sorted(self.params.items())),
                "revision": self.revision,
                "graph": self.node.describe,
            },
            sort_keys=True,
        )
