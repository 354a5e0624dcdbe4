"""Several sources replayed as one stream in time order: how a live feed delivers a universe.

Cross-asset features read the reference symbol's bar at the same instant, so replaying SP500 and
then NASDAQ one after the other would join NASDAQ to the wrong reference bar; merging by open time
(ties broken by the order the sources were given, so list the reference first) replays them the way
a live feed would. `last` keeps only each symbol's latest N bars (e.g. warm-up plus a held-out
period). Rows that could not be read are passed through first, so validation still reports them.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Protocol

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.pacing import Pacer, Speed, parse_speed
from kestrel_ingestion.sources.samples import SampleSource


class RowSource(Protocol):
    name: str

    def items(self) -> Iterator[RawBar | UnreadableRow]: ...


class MergedSource:
    def __init__(self, sources: Sequence[RowSource], *, last: int | None = None, speed: Speed = None) -> None:
        if not sources:
            raise ValueError("MergedSource needs at least one source")
        if last is not None and last <= 0:
            raise ValueError(f"last must be > 0, got {last}")
        self._sources = tuple(sources)
        self._last = last
        self._speed = speed
        self.name = "+".join(s.name for s in sources)

    def _load(self) -> tuple[list[UnreadableRow], list[list[RawBar]]]:
        unreadable: list[UnreadableRow] = []
        series: list[list[RawBar]] = []
        for source in self._sources:
            kept: deque[RawBar] = deque(maxlen=self._last)
            for item in source.items():
                if isinstance(item, UnreadableRow):
                    unreadable.append(item)
                else:
                    kept.append(item)
            series.append(sorted(kept, key=lambda bar: bar.ts_open))
        return unreadable, series

    def items(self) -> Iterator[RawBar | UnreadableRow]:
        unreadable, series = self._load()
        yield from unreadable
        # Each series is in time order; merge interleaves them by (open time, source rank).
        ranked = [[((bar.ts_open, rank), bar) for bar in bars] for rank, bars in enumerate(series)]
        for _, bar in heapq.merge(*ranked, key=lambda pair: pair[0]):
            yield bar

    def count(self) -> int:
        """How many bars `items` yields (for a progress bar's total)."""
        return sum(len(bars) for bars in self._load()[1])

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        pacer = Pacer(self._speed)
        for item in self.items():
            if isinstance(item, RawBar):
                await pacer.wait(item.ts_close)
            yield item


class MergedSamples(MergedSource):
    """Installed samples merged by time; `calendars` judges each symbol's gaps by its market."""

    def __init__(
        self, samples: Sequence[SampleSource], *, last: int | None = None, speed: Speed = None
    ) -> None:
        super().__init__(samples, last=last, speed=speed)
        self.calendars = {sample.symbol: sample.calendar for sample in samples}


def sample_source(
    names: Sequence[str], *, last: int | None = None, speed: str | float | None = None
) -> MergedSamples:
    """The named samples (reference first) as one time-ordered source."""
    return MergedSamples([SampleSource(name) for name in names], last=last, speed=parse_speed(speed))
