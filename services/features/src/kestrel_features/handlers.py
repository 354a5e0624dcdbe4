"""market.bars delivery -> domain -> effects, idempotent and restart-safe.

Per bar (or per batch of bars: each effect once for the whole fetch), in this order, and only then
does the consumer commit the offset:
  (a) offline store: insert the vector into features.vectors (a repeat of the same bar is a no-op);
  (b) publish the vector to features.vectors, keyed by symbol, in the bar's trace;
  (c) online store: the symbol's state snapshot (with the open time of the last bar it includes) and
      the latest vector, in one atomic write.
The snapshot is written last, so it is the commit point of the state: a crash anywhere before it
leaves the old snapshot, the bar is redelivered, and recomputing it from that snapshot gives the same
vector (same id, same values; the store keeps one, the topic may see the same vector twice). A crash
after it but before the offset commit redelivers a bar at or before the snapshot's position, which is
skipped. So nothing is lost and nothing differs, whatever the moment of death.

The in-process state of a symbol is used only while the online store's snapshot still points at the
same bar (one small read per bar). Otherwise — first sight, a rebalance moved the symbol here, an
earlier attempt failed half-way — the state comes from the snapshot, or, without a usable one (none,
or another feature-set version), from replaying the last `replay_window` stored bars.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_features import metrics
from kestrel_features.catalogue import FeatureCatalogue
from kestrel_features.domain import (
    BarInput,
    Disposition,
    InvalidBarError,
    SeriesState,
    advance,
    bar_input,
    classify,
    ordered_values,
)
from kestrel_features.drift import DriftMonitor
from kestrel_features.ports import (
    BarHistory,
    OfflineStore,
    OnlineStore,
    OnlineVector,
    StateSnapshot,
    StoredVector,
)
from kestrel_features.reference import ReferenceCloses
from kestrel_messaging import Delivery, MessageBus, PermanentError
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.features.handler")


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    timeframe: str
    reference_symbol: str | None
    # Reference closes fetched per store lookup: bars of one time step arrive together, so reading
    # ahead turns one query per bar into one per `reference_read_ahead` bars.
    reference_read_ahead: int = 512


class FeaturesHandler:
    def __init__(
        self,
        catalogue: FeatureCatalogue,
        *,
        bus: MessageBus,
        vectors: Channel,
        offline: OfflineStore,
        online: OnlineStore,
        history: BarHistory,
        config: HandlerConfig,
        drift: DriftMonitor | None = None,
        reference_closes: ReferenceCloses | None = None,
    ) -> None:
        self._catalogue, self._bus, self._vectors = catalogue, bus, vectors
        self._offline, self._online, self._history = offline, online, history
        self._config, self._drift = config, drift
        self._reference = reference_closes or ReferenceCloses()
        self._series: dict[str, SeriesState] = {}

    async def start(self) -> None:
        """Register the feature set's names under its version (idempotent); before the first bar."""
        await self._offline.register_feature_set(self._catalogue.version, self._catalogue.names)

    async def __call__(self, delivery: Delivery) -> None:
        """One bar: a batch of one (the consumer's per-message path and its fallback)."""
        await self.handle_batch([delivery])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """The bars of one fetch: each effect once for the whole batch, in the per-bar order.

        One fencing read per symbol, the vectors computed in delivery order, then (a) one insert of
        all of them, (b) one publish of all of them, (c) one commit per symbol of its final snapshot
        and latest vector. A crash anywhere leaves every symbol either committed past its bars of the
        batch or at its old snapshot, so the redelivered batch recomputes exactly what is missing.
        """
        started = time.perf_counter()
        bars = [bar for bar in map(self._accept, deliveries) if bar is not None]
        if not bars:
            return
        series: dict[str, SeriesState] = {}
        for bar in bars:
            if bar.symbol not in series:
                series[bar.symbol] = await self._series_for(bar)
        advanced, emitted = await self._compute(bars, series)
        vectors = await self._store_offline(emitted)
        if len(deliveries) == 1 and len(vectors) == 1:
            # One bar: this runs inside that bar's process span, so the vector joins its trace. A
            # batch runs in a span of its own (linked to the bars), so it names each vector's parent.
            await self._bus.publish(self._vectors, vectors[0])
        elif vectors:
            # Each vector in its bar's trace, as one bar at a time would publish it.
            traces = {d.message.event_id: d.headers for d in deliveries if isinstance(d.message, Bar)}
            parents = [traces.get(vector.source_bar_event_id, {}) for vector in vectors]
            await self._bus.publish_batch(self._vectors, vectors, parents=parents)
        latest = {bar.symbol: (bar, vector) for (bar, _), vector in zip(emitted, vectors, strict=True)}
        for symbol in advanced:
            await self._commit_online(symbol, series[symbol], latest.get(symbol))
        metrics.VECTORS_EMITTED.inc(len(vectors))
        for vector in vectors:
            self._observe_drift(vector)
        per_bar = (time.perf_counter() - started) / len(bars)
        for _ in bars:
            metrics.BARS_PROCESSED_SECONDS.observe(per_bar)

    def _accept(self, delivery: Delivery) -> BarInput | None:
        """The delivery's bar, or None for another timeframe; PermanentError for an unusable bar."""
        message = delivery.message
        if not isinstance(message, Bar):
            raise PermanentError(f"expected a Bar, got {type(message).__name__}")
        try:
            bar = bar_input(message)
        except InvalidBarError as exc:
            raise PermanentError(str(exc)) from exc
        if bar.timeframe != self._config.timeframe:
            metrics.BARS_SKIPPED.labels("timeframe").inc()
            return None
        return bar

    async def _compute(
        self, bars: Sequence[BarInput], series: dict[str, SeriesState]
    ) -> tuple[dict[str, None], list[tuple[BarInput, FeatureVector]]]:
        """Advance each symbol's state over its new bars, in delivery order; the symbols advanced and
        the vectors emitted. Reference bars are remembered as they come, as one bar at a time would."""
        advanced: dict[str, None] = {}  # an ordered set: symbols commit in the order they came
        emitted: list[tuple[BarInput, FeatureVector]] = []
        for bar in bars:
            if bar.symbol == self._config.reference_symbol:
                self._reference.remember(bar.ts_open, bar.close)
            state = series[bar.symbol]
            disposition = classify(bar.ts_open, state.last_ts_open)
            if disposition is not Disposition.NEW:
                metrics.BARS_SKIPPED.labels(disposition.value).inc()
                _log.debug("bar skipped", symbol=bar.symbol, ts_open=bar.ts_open, reason=disposition.value)
                continue
            vector = advance(self._catalogue, state, bar, await self._reference_close(bar))
            advanced[bar.symbol] = None
            if vector is not None:
                emitted.append((bar, vector))
        return advanced, emitted

    async def _commit_online(
        self, symbol: str, series: SeriesState, latest: tuple[BarInput, FeatureVector] | None
    ) -> None:
        """The symbol's final snapshot of the batch and its latest vector, atomically (the commit point)."""
        assert series.last_ts_open is not None  # advanced: it holds at least one bar
        snapshot = StateSnapshot(
            self._catalogue.version, series.last_ts_open, series.state.bars_seen, series.state.to_bytes()
        )
        online = None if latest is None else _online_vector(*latest)
        if await self._online.commit(symbol, snapshot, online):
            self._series[symbol] = series
        else:
            # Another consumer got there first (a rebalance): its snapshot is the truth from now on.
            self._series.pop(symbol, None)

    async def _series_for(self, bar: BarInput) -> SeriesState:
        version = self._catalogue.version
        marker = await self._online.marker(bar.symbol)
        if marker is not None and marker.version == version:
            cached = self._series.get(bar.symbol)
            if cached is not None and cached.last_ts_open == marker.ts_open:
                return cached
            snapshot = await self._online.load_snapshot(bar.symbol)
            if snapshot is not None and snapshot.version == version:
                metrics.STATE_LOADS.labels("snapshot").inc()
                series = SeriesState(self._catalogue.restore(snapshot.state), snapshot.ts_open)
                self._series[bar.symbol] = series
                return series
        return await self._replay(bar)

    async def _replay(self, bar: BarInput) -> SeriesState:
        """A fresh state fed the stored bars before `bar` (at most `replay_window` of them)."""
        metrics.STATE_LOADS.labels("replay").inc()
        history = await self._history.bars_before(
            bar.symbol, bar.timeframe, bar.ts_open, self._catalogue.replay_window
        )
        series = SeriesState(self._catalogue.new_state(), None)
        if not history:
            return series
        reference: dict[int, float] = {}
        ref_symbol = self._config.reference_symbol
        if ref_symbol and ref_symbol != bar.symbol:
            reference = await self._history.closes_between(
                ref_symbol, bar.timeframe, history[0].ts_open, history[-1].ts_open
            )
        for past in history:
            ref_close = past.close if ref_symbol == bar.symbol else reference.get(past.ts_open)
            series.state.update(
                past.ts_open,
                past.open,
                past.high,
                past.low,
                past.close,
                past.volume,
                reference_close=ref_close,
            )
        series.last_ts_open = history[-1].ts_open
        _log.info("state rebuilt from stored bars", symbol=bar.symbol, bars=len(history))
        return series

    async def _reference_close(self, bar: BarInput) -> float | None:
        ref_symbol = self._config.reference_symbol
        if not ref_symbol:
            return None
        if bar.symbol == ref_symbol:
            return bar.close
        close = self._reference.get(bar.ts_open)
        if close is None and not self._reference.recently_missed(bar.ts_open):
            found = await self._history.closes_from(
                ref_symbol, bar.timeframe, bar.ts_open, self._config.reference_read_ahead
            )
            self._reference.remember_many(found)
            close = self._reference.get(bar.ts_open)
            if close is None:
                self._reference.missed(bar.ts_open)
        if close is None:
            metrics.REFERENCE_MISSING.inc()
        return close

    async def _store_offline(self, emitted: Sequence[tuple[BarInput, FeatureVector]]) -> list[FeatureVector]:
        """Insert the vectors; where a bar's vector was stored before, the stored one is what goes out.

        A recomputation matches the stored vector unless an input changed in between (a reference bar
        that arrived late). The store keeps the first, so publishing the stored one keeps the topic
        free of two different vectors for one (symbol, bar).
        """
        rows = [self._row(bar, vector) for bar, vector in emitted]
        if not rows:
            return []
        if len(rows) == 1:
            inserted = int(await self._offline.insert_vector(rows[0]))
        else:
            inserted = await self._offline.insert_vectors(rows)
        vectors = [vector for _, vector in emitted]
        if inserted == len(rows):
            return vectors
        # Some were stored before (a redelivery): check each against what the store kept.
        return [await self._stored_or(row, vector) for row, vector in zip(rows, vectors, strict=True)]

    def _row(self, bar: BarInput, vector: FeatureVector) -> StoredVector:
        return StoredVector(
            symbol=bar.symbol,
            timeframe=bar.timeframe,
            ts_open=bar.ts_open,
            version=vector.feature_set_version,
            values=tuple(ordered_values(self._catalogue, vector)),
            source_event_id=bar.event_id,
            event_id=vector.event_id,
        )

    async def _stored_or(self, row: StoredVector, vector: FeatureVector) -> FeatureVector:
        stored = await self._offline.stored_vector(row.symbol, row.timeframe, row.version, row.ts_open)
        if stored is None or (stored.event_id == row.event_id and _same_values(stored.values, row.values)):
            return vector
        metrics.RECOMPUTE_MISMATCH.inc()
        _log.warning("recomputed vector differs from the stored one", symbol=row.symbol, ts_open=row.ts_open)
        republished = FeatureVector()
        republished.CopyFrom(vector)
        republished.event_id = stored.event_id
        republished.values.clear()
        republished.values.update(dict(zip(self._catalogue.names, stored.values, strict=True)))
        return republished

    def _observe_drift(self, vector: FeatureVector) -> None:
        if self._drift is None:
            return
        scores = self._drift.observe(vector.values)
        for name, score in (scores or {}).items():
            metrics.DRIFT_PSI.labels(name).set(score)


def _online_vector(bar: BarInput, vector: FeatureVector) -> OnlineVector:
    return OnlineVector(
        symbol=vector.symbol,
        timeframe=vector.timeframe,
        version=vector.feature_set_version,
        ts_open=bar.ts_open,
        ts_event=vector.ts_event,
        event_id=vector.event_id,
        source_bar_event_id=vector.source_bar_event_id,
        close=vector.close,
        values=dict(vector.values),
    )


def _same_values(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Equal element by element, NaN equal to NaN (an undefined feature is undefined both times)."""
    return len(a) == len(b) and all(
        x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
    )
