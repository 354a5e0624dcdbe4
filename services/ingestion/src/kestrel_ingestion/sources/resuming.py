"""A Binance source that starts, per symbol, right after the last bar already published."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

from kestrel_ingestion.adapters.bar_store import BarStore
from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.binance import BinanceSource
from kestrel_ingestion.sources.binance_config import BinanceConfig


class ResumingBinanceSource:
    """Backfill (or follow live) from max(`since_ns`, last published bar) for each symbol."""

    name = BinanceSource.name

    def __init__(
        self,
        store: BarStore,
        symbols: Sequence[str],
        timeframe: str,
        *,
        since_ns: int | None,
        config: BinanceConfig,
        live: bool = False,
    ) -> None:
        self._store, self._symbols, self._timeframe = store, list(symbols), timeframe
        self._since, self._config, self._live = since_ns, config, live

    async def starting_points(self) -> dict[str, int]:
        """Exclusive start per symbol: the later of (`since_ns` - 1) and the last published open."""
        points: dict[str, int] = {}
        for symbol in self._symbols:
            done = await self._store.resume_after(self.name, symbol, self._timeframe)
            floor = self._since - 1 if self._since is not None else None
            candidates = [p for p in (floor, done) if p is not None]
            if candidates:
                points[symbol] = max(candidates)
        return points

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        since = await self.starting_points()
        source = BinanceSource(
            self._symbols, self._timeframe, since_ns=since or None, live=self._live, config=self._config
        )
        async with aclosing(source.bars()) as items:
            async for item in items:
                yield item
