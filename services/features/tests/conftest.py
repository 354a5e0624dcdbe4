"""Fixtures of the features service's tests: a small stand-in catalogue.

The stand-in catalogue has the catalogue API (names, version, warm-up, replay window, streaming
states with byte snapshots) and a handful of finite-window features, one of them cross-asset, so
the handler's logic is tested without depending on the real catalogue's numbers.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from kestrel_features.catalogue import FeatureCatalogue

WINDOW = 3


class StandInState:
    def __init__(self) -> None:
        self.closes: deque[float] = deque(maxlen=WINDOW)
        self.refs: deque[float | None] = deque(maxlen=WINDOW)
        self.volumes: deque[float] = deque(maxlen=WINDOW)
        self._bars_seen = 0

    @property
    def bars_seen(self) -> int:
        return self._bars_seen

    def update(  # noqa: PLR0917 - the catalogue's signature
        self,
        ts: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        reference_close: float | None = None,
    ) -> Mapping[str, float]:
        self.closes.append(close)
        self.refs.append(reference_close)
        self.volumes.append(volume)
        self._bars_seen += 1
        nan = math.nan
        full = len(self.closes) == WINDOW
        ret = math.log(self.closes[-1] / self.closes[-2]) if len(self.closes) >= 2 else nan
        refs = list(self.refs)
        rel = nan
        if full and all(r is not None for r in refs):
            rel = math.log(close / refs[-1]) - math.log(self.closes[0] / refs[0])  # type: ignore[operator]
        return {
            "ret_1": ret,
            "sma_3": sum(self.closes) / WINDOW if full else nan,
            "range_pct": (high - low) / close,
            "volume_sum_3": sum(self.volumes) if full else nan,
            "rel_strength_3": rel,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"c": list(self.closes), "r": list(self.refs), "v": list(self.volumes), "n": self._bars_seen}
        ).encode()


@dataclass(frozen=True)
class StandInCatalogue:
    version: str = "standin-1"
    names: tuple[str, ...] = ("ret_1", "sma_3", "range_pct", "volume_sum_3", "rel_strength_3")
    warmup: int = WINDOW
    replay_window: int = WINDOW

    def new_state(self) -> StandInState:
        return StandInState()

    def restore(self, data: bytes) -> StandInState:
        raw = json.loads(data)
        state = StandInState()
        state.closes.extend(raw["c"])
        state.refs.extend(raw["r"])
        state.volumes.extend(raw["v"])
        state._bars_seen = raw["n"]
        return state


@pytest.fixture
def catalogue() -> FeatureCatalogue:
    return StandInCatalogue()
