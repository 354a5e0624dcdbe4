"""What the service needs from the feature catalogue (libs/featurelib), stated as protocols.

The service depends on these shapes, not on the catalogue's classes, so the domain and handler are
tested with a small stand-in and any catalogue with the same API plugs in. The snapshot format is
the catalogue's own business: `snapshot`/`restore` are the one place that knows how a state turns
into bytes and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class StreamingState(Protocol):
    """Incremental evaluator of every feature of one series (one symbol at one timeframe)."""

    @property
    def bars_seen(self) -> int:
        """How many bars this state has absorbed (warm-up is counted in bars)."""
        ...

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
        """Absorb one bar; every feature's value at it (NaN while a feature is warming up)."""
        ...

    def to_bytes(self) -> bytes:
        """A snapshot that `FeatureCatalogue.restore` turns back into an equal state."""
        ...


class FeatureCatalogue(Protocol):
    """A versioned, ordered set of features with batch and streaming evaluators."""

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def version(self) -> str: ...

    @property
    def warmup(self) -> int:
        """Bars after which every feature is defined (vectors are emitted from then on)."""
        ...

    @property
    def replay_window(self) -> int:
        """Bars to replay into a fresh state to reproduce a long-running state's values."""
        ...

    def new_state(self) -> StreamingState: ...

    def restore(self, data: bytes) -> StreamingState:
        """The state a `StreamingState.to_bytes` snapshot was taken of."""
        ...
