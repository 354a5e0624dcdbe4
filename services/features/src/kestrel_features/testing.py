"""Test support for the features service: synthetic bars, a harness on fakes, and the expected output.

`expected_values` is the reference answer every restart test compares with: the pure domain run
once, uninterrupted, over the bars (reference closes taken from the same bars, as the store has them).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.registry import Channel, Transport
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_features.adapters.memory import InMemoryBarHistory, InMemoryOfflineStore, InMemoryOnlineStore
from kestrel_features.catalogue import FeatureCatalogue
from kestrel_features.domain import SeriesState, advance, bar_input, ordered_values
from kestrel_features.drift import DriftMonitor
from kestrel_features.handlers import FeaturesHandler, HandlerConfig
from kestrel_features.ports import HistoryBar
from kestrel_messaging import Delivery, InMemoryBus

DAY_NS = 86_400 * 1_000_000_000
START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z

BarKey = tuple[str, int]  # (symbol, ts_open)


def make_series(
    symbol: str, count: int, *, seed: int = 7, timeframe: str = "1d", start: int = 0, step_ns: int = DAY_NS
) -> list[Bar]:
    """`count` consistent bars of `symbol`, a random walk seeded by (symbol, seed), `start` steps in."""
    rng = random.Random(f"{symbol}/{seed}")
    close = Decimal(100 + rng.randint(0, 900))
    for _ in range(start):
        close = _next_close(rng, close)
        rng.randint(0, 500)
    bars = []
    for i in range(start, start + count):
        open_ = close
        close = _next_close(rng, open_)
        ts_open = START_NS + i * step_ns
        bars.append(
            Bar(
                event_id=derived_event_id("test-bar", symbol, timeframe, str(ts_open)),
                ts_event=ts_open + step_ns,
                ts_init=ts_open + step_ns + 1,
                symbol=symbol,
                venue="TEST",
                timeframe=timeframe,
                ts_open=ts_open,
                open=str(open_),
                high=str(max(open_, close) + Decimal("0.5")),
                low=str(min(open_, close) - Decimal("0.5")),
                close=str(close),
                volume=str(1000 + rng.randint(0, 500)),
                source="synthetic",
            )
        )
    return bars


def _next_close(rng: random.Random, last: Decimal) -> Decimal:
    return (last * Decimal(str(round(1 + rng.gauss(0, 0.01), 6)))).quantize(Decimal("0.0001"))


def interleave(*series: Sequence[Bar]) -> list[Bar]:
    """Bars of several symbols in time order (how ingestion publishes a time step of many symbols)."""
    return sorted((bar for bars in series for bar in bars), key=lambda bar: (bar.ts_open, bar.symbol))


def history_bar(bar: Bar) -> HistoryBar:
    b = bar_input(bar)
    return HistoryBar(b.ts_open, b.open, b.high, b.low, b.close, b.volume)


def expected_values(
    catalogue: FeatureCatalogue, bars: Iterable[Bar], reference_symbol: str | None
) -> dict[BarKey, tuple[float, ...]]:
    """Every (symbol, bar) past warm-up -> its values in the set's order, from one uninterrupted run."""
    ordered = interleave(list(bars))
    closes = {b.ts_open: float(b.close) for b in ordered if b.symbol == reference_symbol}
    states: dict[str, SeriesState] = {}
    out: dict[BarKey, tuple[float, ...]] = {}
    for bar in ordered:
        series = states.setdefault(bar.symbol, SeriesState(catalogue.new_state(), None))
        vector = advance(catalogue, series, bar_input(bar), closes.get(bar.ts_open))
        if vector is not None:
            out[(bar.symbol, bar.ts_open)] = tuple(ordered_values(catalogue, vector))
    return out


def published_by_bar(
    vectors: Iterable[FeatureVector], catalogue_names: Sequence[str] | None = None
) -> dict[tuple[str, int], list[tuple[str, tuple[float, ...]]]]:
    """Published vectors grouped by (symbol, ts_event): each as (event_id, values in name order)."""
    grouped: dict[tuple[str, int], list[tuple[str, tuple[float, ...]]]] = defaultdict(list)
    for v in vectors:
        names = catalogue_names or sorted(v.values)
        grouped[(v.symbol, v.ts_event)].append((v.event_id, tuple(v.values[n] for n in names)))
    return dict(grouped)


def same_values(a: Sequence[float], b: Sequence[float], rel: float = 0.0) -> bool:
    """Element-wise equality (within `rel`), NaN equal to NaN."""
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == y or abs(x - y) <= rel * max(abs(x), abs(y))
        for x, y in zip(a, b, strict=True)
    )


def same_tables(
    a: dict[BarKey, tuple[float, ...]], b: dict[BarKey, tuple[float, ...]], rel: float = 0.0
) -> bool:
    """Same keys, and `same_values` for each."""
    return a.keys() == b.keys() and all(same_values(a[k], b[k], rel) for k in a)


class CountingHistory(InMemoryBarHistory):
    """Bar history that counts store round trips (to check read-ahead and caching)."""

    lookups: int = 0

    async def closes_from(self, symbol: str, timeframe: str, ts_open: int, limit: int) -> dict[int, float]:
        self.lookups += 1
        return await super().closes_from(symbol, timeframe, ts_open, limit)


class World:
    """Fakes of every edge, shared by any number of handlers (each one a process with its own memory).

    `stored` bars are what ingestion put in the store before publishing them.
    """

    bars = Channel("test.features.bars", Transport.KAFKA, Bar)
    vectors = Channel("test.features.vectors", Transport.KAFKA, FeatureVector)

    def __init__(
        self, catalogue: FeatureCatalogue, stored: Iterable[Bar], reference_symbol: str = "REF"
    ) -> None:
        self.catalogue, self.reference_symbol = catalogue, reference_symbol
        self.bus = InMemoryBus()
        self.offline = InMemoryOfflineStore()
        self.online = InMemoryOnlineStore()
        self.history = CountingHistory()
        for bar in stored:
            self.history.add(bar.symbol, bar.timeframe, history_bar(bar))

    async def handler(
        self, *, catalogue: FeatureCatalogue | None = None, drift: DriftMonitor | None = None
    ) -> FeaturesHandler:
        handler = FeaturesHandler(
            catalogue or self.catalogue,
            bus=self.bus,
            vectors=self.vectors,
            offline=self.offline,
            online=self.online,
            history=self.history,
            config=HandlerConfig("1d", self.reference_symbol),
            drift=drift,
        )
        await handler.start()
        return handler

    def published(self) -> list[FeatureVector]:
        return [FeatureVector.FromString(record.data) for record in self.bus.records(self.vectors)]

    def stored_values(self, version: str | None = None) -> dict[BarKey, tuple[float, ...]]:
        wanted = version or self.catalogue.version
        return {
            (row.symbol, row.ts_open): row.values
            for row in self.offline.rows.values()
            if row.version == wanted
        }


def delivery(bar: Bar, attempt: int = 1) -> Delivery:
    return Delivery(World.bars, bar, bar.symbol, {}, bar.SerializeToString(), "0:0", attempt)
