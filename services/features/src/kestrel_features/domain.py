"""Pure logic of the features service: a bar in, the symbol's state advanced, a feature vector out.

No Kafka, Redis or SQL here. Decisions written down once:

- Prices arrive as decimal strings and become floats at this boundary: features are statistics,
  not money. The vector carries the bar's close as the canonical decimal string, untouched.
- A series is one (symbol, timeframe); its position is the open time (`ts_open`) of the last bar its
  state includes, the bar's natural key in the store. A bar at or before that position is a
  duplicate or out of order and never advances the state (the caller counts and skips it).
- A vector is emitted only past warm-up (`bars_seen >= warmup` after absorbing the bar), so there is
  exactly one vector per (symbol, bar) from then on, whatever else is missing.
- A missing reference bar does not hold a vector back: the cross-asset features are NaN at that bar
  (protobuf doubles and PostgreSQL float8 carry NaN; JSON writes it as null) and the rest are real.
- The vector's event id is derived from (source bar event id, feature-set version), so recomputing
  the same bar with the same definitions yields the same id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kestrel_contracts.decimals import from_wire, to_wire
from kestrel_contracts.events import derived_event_id, is_event_id, now_ns
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_features.catalogue import FeatureCatalogue, StreamingState


class InvalidBarError(ValueError):
    """A bar that cannot be a feature input (missing identity, unreadable prices): retrying cannot help."""


@dataclass(frozen=True, slots=True)
class BarInput:
    """A bar as the features domain sees it: floats for the maths, the close kept as its decimal text."""

    event_id: str
    symbol: str
    venue: str
    timeframe: str
    ts_open: int
    ts_event: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    close_text: str


def bar_input(bar: Bar) -> BarInput:
    """Validate a Bar message and convert it; `InvalidBarError` says what is wrong."""
    missing = [name for name in ("event_id", "symbol", "timeframe") if not getattr(bar, name)]
    if missing:
        raise InvalidBarError(f"bar without {', '.join(missing)}")
    if not is_event_id(bar.event_id):
        raise InvalidBarError(f"bar event_id {bar.event_id[:64]!r} is not a UUID")
    if bar.ts_open <= 0 or bar.ts_event <= bar.ts_open:
        raise InvalidBarError(
            f"bar {bar.event_id}: need 0 < ts_open < ts_event, got {bar.ts_open}, {bar.ts_event}"
        )
    try:
        prices = {name: from_wire(getattr(bar, name)) for name in ("open", "high", "low", "close", "volume")}
    except ValueError as exc:
        raise InvalidBarError(f"bar {bar.event_id}: {exc}") from exc
    return BarInput(
        event_id=bar.event_id,
        symbol=bar.symbol,
        venue=bar.venue,
        timeframe=bar.timeframe,
        ts_open=bar.ts_open,
        ts_event=bar.ts_event,
        open=float(prices["open"]),
        high=float(prices["high"]),
        low=float(prices["low"]),
        close=float(prices["close"]),
        volume=float(prices["volume"]),
        close_text=to_wire(prices["close"]),
    )


class Disposition(enum.StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"  # the bar the state already ends with (a redelivery)
    OUT_OF_ORDER = "out_of_order"  # older than the state's last bar


def classify(ts_open: int, last_ts_open: int | None) -> Disposition:
    """Where a bar stands relative to the last bar a series' state includes."""
    if last_ts_open is None or ts_open > last_ts_open:
        return Disposition.NEW
    return Disposition.DUPLICATE if ts_open == last_ts_open else Disposition.OUT_OF_ORDER


@dataclass(slots=True)
class SeriesState:
    """A series' streaming state and the open time of the last bar it includes (None: no bar yet)."""

    state: StreamingState
    last_ts_open: int | None


def vector_event_id(source_bar_event_id: str, feature_set_version: str) -> str:
    return derived_event_id(source_bar_event_id, feature_set_version)


def advance(
    catalogue: FeatureCatalogue, series: SeriesState, bar: BarInput, reference_close: float | None
) -> FeatureVector | None:
    """Absorb `bar` into `series` and return its feature vector, or None while warming up.

    The caller has checked the bar is NEW for the series (see `classify`).
    """
    values = series.state.update(
        bar.ts_open, bar.open, bar.high, bar.low, bar.close, bar.volume, reference_close=reference_close
    )
    series.last_ts_open = bar.ts_open
    if series.state.bars_seen < catalogue.warmup:
        return None
    return FeatureVector(
        event_id=vector_event_id(bar.event_id, catalogue.version),
        ts_event=bar.ts_event,
        ts_init=now_ns(),
        symbol=bar.symbol,
        venue=bar.venue,
        timeframe=bar.timeframe,
        feature_set_version=catalogue.version,
        # Every name of the set, in the set's order; a feature the state did not report is NaN.
        values={name: float(values.get(name, float("nan"))) for name in catalogue.names},
        close=bar.close_text,
        source_bar_event_id=bar.event_id,
    )


def ordered_values(catalogue: FeatureCatalogue, vector: FeatureVector) -> list[float]:
    """The vector's values in the feature set's order (how the offline store keeps them)."""
    return [vector.values[name] for name in catalogue.names]
