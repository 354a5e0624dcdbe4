"""Event identity and time helpers."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kestrel_contracts.events import (
    KESTREL_NAMESPACE,
    datetime_to_ns,
    derived_event_id,
    is_event_id,
    missing_event_fields,
    new_event_id,
    now_ns,
    ns_to_datetime,
    stamp,
)
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.signal_pb2 import Signal


def test_new_event_ids_are_random_canonical_uuid4() -> None:
    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 and is_event_id(i) for i in ids)


def test_derived_ids_are_deterministic_and_part_sensitive() -> None:
    a = derived_event_id("bar", "BINANCE", "BTC/USDT", "1m", "1700000000000000000")
    assert a == derived_event_id("bar", "BINANCE", "BTC/USDT", "1m", "1700000000000000000")
    assert uuid.UUID(a).version == 5 and is_event_id(a)
    assert derived_event_id("a", "bc") != derived_event_id("ab", "c")
    # The hand-built text is the standard library's UUIDv5, for any parts (unicode included).
    for parts in (
        ("bar", "BINANCE", "BTC/USDT", "1m", "1"),
        ("strategy-signal", "sma_cross{}", "é€😀"),
        ("",),
    ):
        assert derived_event_id(*parts) == str(uuid.uuid5(KESTREL_NAMESPACE, "\x1f".join(parts)))
    with pytest.raises(ValueError):
        derived_event_id()
    with pytest.raises(ValueError):
        derived_event_id("a\x1fb")


def test_is_event_id_requires_the_canonical_form() -> None:
    value = new_event_id()
    assert not is_event_id(value.upper())
    assert not is_event_id(value.replace("-", ""))
    assert not is_event_id("not-a-uuid")


def test_now_ns_is_wall_clock_nanoseconds() -> None:
    before = time.time_ns()
    assert before <= now_ns() <= time.time_ns()


def test_stamp_fills_identity_once_and_keeps_it() -> None:
    bar = stamp(Bar(symbol="BTC/USDT"), ts_event=1_000, clock=lambda: 5_000)
    assert is_event_id(bar.event_id)
    assert (bar.ts_event, bar.ts_init) == (1_000, 5_000)
    first_id = bar.event_id

    again = stamp(bar, clock=lambda: 9_000)  # a retry must not change what downstream saw
    assert again is bar
    assert (bar.event_id, bar.ts_init, bar.ts_event) == (first_id, 5_000, 1_000)


def test_stamp_keeps_a_derived_id() -> None:
    signal = Signal(event_id=derived_event_id("signal", "x"), ts_event=7)
    assert stamp(signal).event_id == derived_event_id("signal", "x")
    assert signal.ts_init > 0


def test_missing_event_fields_names_each_gap() -> None:
    assert missing_event_fields(Bar()) == ["event_id", "ts_event", "ts_init"]
    assert missing_event_fields(Bar(event_id="x", ts_event=1, ts_init=2)) == ["event_id (not a UUID)"]
    assert missing_event_fields(stamp(Bar(), ts_event=1)) == []


@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)))
def test_datetime_round_trip_to_the_microsecond(value: datetime) -> None:
    assert ns_to_datetime(datetime_to_ns(value)) == value


def test_datetime_conversion_respects_offsets_and_refuses_naive() -> None:
    plus_two = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert (
        datetime_to_ns(plus_two) == datetime_to_ns(datetime(2024, 1, 1, tzinfo=UTC)) == 1_704_067_200 * 10**9
    )
    assert ns_to_datetime(1_704_067_200_000_000_999) == datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        datetime_to_ns(datetime(2024, 1, 1))
