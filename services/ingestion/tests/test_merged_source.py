from collections.abc import Iterator
from decimal import Decimal

import pytest

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.merged import MergedSource, sample_source

DAY_NS = 86_400_000_000_000


class ListSource:
    def __init__(self, name: str, items: list[RawBar | UnreadableRow]) -> None:
        self.name = name
        self._items = items

    def items(self) -> Iterator[RawBar | UnreadableRow]:
        return iter(self._items)


def bar(symbol: str, day: int) -> RawBar:
    price = Decimal(100 + day)
    return RawBar(symbol, "1d", day * DAY_NS, price, price, price, price, Decimal(1), "test")


def test_merge_interleaves_by_time_reference_first_at_equal_times() -> None:
    ref = ListSource("ref", [bar("REF", d) for d in (1, 2, 3)])
    other = ListSource("other", [bar("OTH", d) for d in (2, 3, 4)])
    merged = [
        (b.symbol, b.ts_open // DAY_NS) for b in MergedSource([ref, other]).items() if isinstance(b, RawBar)
    ]
    assert merged == [("REF", 1), ("REF", 2), ("OTH", 2), ("REF", 3), ("OTH", 3), ("OTH", 4)]


def test_last_keeps_each_symbols_latest_bars_and_unreadable_rows_pass_through() -> None:
    bad = UnreadableRow("f.csv:3", "no close")
    ref = ListSource("ref", [bar("REF", d) for d in range(10)] + [bad])
    source = MergedSource([ref, ListSource("o", [bar("OTH", d) for d in range(5)])], last=2)
    items = list(source.items())
    assert items[0] == bad
    assert [(b.symbol, b.ts_open // DAY_NS) for b in items[1:] if isinstance(b, RawBar)] == [
        ("OTH", 3),
        ("OTH", 4),
        ("REF", 8),
        ("REF", 9),
    ]
    assert source.count() == 4


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MergedSource([])
    with pytest.raises(ValueError, match="last must be > 0"):
        MergedSource([ListSource("x", [])], last=0)


async def test_installed_samples_merge_in_time_order() -> None:
    source = sample_source(["sp500", "nasdaq"], last=50)
    bars = [b async for b in source.bars() if isinstance(b, RawBar)]
    assert len(bars) == 100 == source.count()
    assert [b.ts_open for b in bars] == sorted(b.ts_open for b in bars)
    assert source.calendars == {"SP500": "nyse", "NASDAQ": "nyse"}
