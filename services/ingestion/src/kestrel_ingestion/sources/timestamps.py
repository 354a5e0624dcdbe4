"""Timestamps as files write them -> integer nanoseconds since the epoch (UTC).

Accepted: ISO 8601 text (`2024-01-01`, `2024-01-01 09:30:00`, `...T...Z`, offsets), US dates
(`1/4/1999`, optionally with a time), compact dates (`20240101`), and epoch numbers whose unit is
told by their size (seconds < 1e11 <= milliseconds < 1e14 <= microseconds < 1e17 <= nanoseconds),
or fixed with `unit`. Text without a zone is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

EpochUnit = Literal["auto", "s", "ms", "us", "ns"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_FALLBACK_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
)
_COMPACT_DATE_DIGITS = 8


def datetime_to_ns(moment: datetime) -> int:
    """Exact integer arithmetic: `datetime.timestamp()` goes through a float and loses nanoseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000


def epoch_to_ns(value: Decimal | int, unit: EpochUnit = "auto") -> int:
    """An epoch number in `unit` (or the unit its magnitude implies) -> ns."""
    if unit == "auto":
        magnitude = abs(int(value))
        unit = (
            "s"
            if magnitude < 10**11
            else "ms"
            if magnitude < 10**14
            else "us"
            if magnitude < 10**17
            else "ns"
        )
    return int(value * _NS_PER_UNIT[unit])


def _compact_date(text: str) -> int | None:
    # 8 digits that form a valid calendar date are a YYYYMMDD date, not epoch seconds from 1970.
    if len(text) != _COMPACT_DATE_DIGITS or not text.isdigit():
        return None
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    return datetime_to_ns(datetime(day.year, day.month, day.day, tzinfo=UTC))


def parse_timestamp(text: str, unit: EpochUnit = "auto") -> int:
    """Text -> ns since the epoch; ValueError saying what was wrong otherwise."""
    text = text.strip()
    if not text:
        raise ValueError("empty timestamp")
    if text[0].isdigit() or text[0] == "-":
        compact = _compact_date(text) if unit == "auto" else None
        if compact is not None:
            return compact
        try:
            number = Decimal(text)
        except InvalidOperation:
            pass
        else:
            if not number.is_finite():
                raise ValueError(f"timestamp {text!r} is not a finite number")
            return epoch_to_ns(number, unit)
    try:
        return datetime_to_ns(datetime.fromisoformat(text))
    except ValueError:
        pass
    for fmt in _FALLBACK_FORMATS:
        try:
            return datetime_to_ns(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError(f"unreadable timestamp {text!r}")
