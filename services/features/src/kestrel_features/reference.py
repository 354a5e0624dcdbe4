"""The reference series' closes by bar open time, as far as this instance has seen or looked them up.

Cross-asset features need the reference symbol's close at the same bar. That bar may sit on a
partition another instance owns, so the handler looks it up here first, then in the store. Closed
bars never change, so a close, once known, is cached for good (bounded: the oldest entries go first).
A miss is remembered only briefly: the bar may still be stored a moment later, and without that
memory every symbol would ask the store again for the same missing bar.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping


class ReferenceCloses:
    def __init__(
        self,
        max_entries: int = 100_000,
        miss_ttl_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._closes: OrderedDict[int, float] = OrderedDict()
        self._misses: dict[int, float] = {}
        self._max_entries, self._miss_ttl_s, self._clock = max_entries, miss_ttl_s, clock

    def __len__(self) -> int:
        return len(self._closes)

    def get(self, ts_open: int) -> float | None:
        return self._closes.get(ts_open)

    def remember(self, ts_open: int, close: float) -> None:
        self._closes[ts_open] = close
        self._misses.pop(ts_open, None)
        while len(self._closes) > self._max_entries:
            self._closes.popitem(last=False)

    def remember_many(self, closes: Mapping[int, float]) -> None:
        for ts_open in sorted(closes):
            self.remember(ts_open, closes[ts_open])

    def recently_missed(self, ts_open: int) -> bool:
        """Whether a store lookup for this bar came back empty less than `miss_ttl_s` ago."""
        since = self._misses.get(ts_open)
        if since is None:
            return False
        if self._clock() - since < self._miss_ttl_s:
            return True
        del self._misses[ts_open]
        return False

    def missed(self, ts_open: int) -> None:
        if len(self._misses) > self._max_entries:
            now = self._clock()
            self._misses = {ts: at for ts, at in self._misses.items() if now - at < self._miss_ttl_s}
        self._misses[ts_open] = self._clock()
