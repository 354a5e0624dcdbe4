"""Per-feature drift: PSI of a rolling window of recent values against a fixed reference window.

The reference is the first `reference_size` vectors this process emits (pooled over symbols), or a
window given up front (e.g. the training range's values). Every `every` vectors after the reference is
full, each feature's PSI is recomputed over the last `window` values; in between, observing a vector
only appends to ring buffers, so the cost per bar stays a few microseconds. Non-finite values
(warming-up or undefined features) are left out of both windows.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence

Psi = Callable[[Sequence[float], Sequence[float]], float]

# Fewer finite values than this on either side and a PSI over ten bins says nothing.
MIN_VALUES = 20


class DriftMonitor:
    def __init__(
        self,
        names: Sequence[str],
        psi: Psi,
        *,
        reference_size: int = 1000,
        window: int = 1000,
        every: int = 100,
        reference: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        if min(reference_size, window, every) < 1:
            raise ValueError("reference_size, window and every must be at least 1")
        self._names = tuple(names)
        self._psi = psi
        self._reference_size, self._every = reference_size, every
        self._reference: dict[str, list[float]] = {name: [] for name in self._names}
        self._reference_seen = 0
        if reference is not None:
            for name in self._names:
                self._reference[name] = [v for v in reference.get(name, ()) if math.isfinite(v)]
            self._reference_seen = reference_size
        self._current: dict[str, deque[float]] = {name: deque(maxlen=window) for name in self._names}
        self._since_update = 0

    @property
    def reference_full(self) -> bool:
        return self._reference_seen >= self._reference_size

    def observe(self, values: Mapping[str, float]) -> dict[str, float] | None:
        """Take one vector's values; every `every` vectors past the reference, each feature's PSI."""
        if not self.reference_full:
            for name in self._names:
                value = values.get(name, math.nan)
                if math.isfinite(value):
                    self._reference[name].append(value)
            self._reference_seen += 1
            return None
        for name in self._names:
            value = values.get(name, math.nan)
            if math.isfinite(value):
                self._current[name].append(value)
        self._since_update += 1
        if self._since_update < self._every:
            return None
        self._since_update = 0
        return self.scores()

    def scores(self) -> dict[str, float]:
        """PSI per feature with enough values on both sides (the others are left out)."""
        scores: dict[str, float] = {}
        for name in self._names:
            reference, current = self._reference[name], self._current[name]
            if len(reference) >= MIN_VALUES and len(current) >= MIN_VALUES:
                scores[name] = float(self._psi(reference, list(current)))
        return scores
