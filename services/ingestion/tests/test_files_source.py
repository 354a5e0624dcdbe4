"""FileSource: CSV / gzip / Parquet replay, tolerant column mapping, unreadable rows, pacing."""

from __future__ import annotations

import gzip
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.columns import FileFormatError
from kestrel_ingestion.sources.files import FileSource
from kestrel_ingestion.sources.pacing import parse_speed
from kestrel_ingestion.validation import BarFlag, BarValidator, Outcome

T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
MINUTE = 60 * 10**9

MESSY_CSV = """timestamp,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,10
2024-01-01T00:01:00Z,100.5,102,100,101,11
2024-01-01T00:02:00Z,101,oops,100,101,11
2024-01-01T00:02:00Z,101,102,100.5,101.5,9
2024-01-01T00:02:00Z,101,102,100.5,101.5,9
2024-01-01T00:06:00Z,101.5,103,101,102,12
2024-01-01T00:04:00Z,101,102,100,101,5
2024-01-01T00:07:00Z,102,103,101,102.5,8
2024-01-01T00:08:00Z,102.5,102,103,102,8
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


async def collect(source: FileSource) -> list[RawBar | UnreadableRow]:
    return [item async for item in source.bars()]


async def test_messy_csv_gives_a_clear_report_and_the_good_rows(tmp_path: Path) -> None:
    source = FileSource(write(tmp_path, "bars.csv", MESSY_CSV), symbol="BTCUSDT")
    assert source.timeframe == "1m"  # inferred from the median spacing
    validator = BarValidator()
    accepted = []
    for item in await collect(source):
        verdict = validator.feed(item)
        if verdict is not None and verdict.accepted:
            accepted.append(verdict.bar)

    report = validator.report
    assert report.unreadable_count == 1
    assert report.unreadable[0].location == "bars.csv:4"
    assert "high 'oops' is not a number" in report.unreadable[0].reason
    assert report.outcomes[Outcome.ACCEPTED] == 5
    assert report.outcomes[Outcome.DUPLICATE] == 1
    assert report.outcomes[Outcome.OUT_OF_ORDER] == 1
    assert report.outcomes[Outcome.INVALID] == 1
    assert report.reasons[(Outcome.INVALID, "low > high")] == 1
    assert report.total == 8 and report.rejected == 3
    assert [(g.from_ts, g.to_ts, g.missing) for g in report.gaps] == [(T0 + 2 * MINUTE, T0 + 6 * MINUTE, 3)]
    assert report.flags[BarFlag.AFTER_GAP] == 1
    assert [b.ts_open for b in accepted] == [T0 + k * MINUTE for k in (0, 1, 2, 6, 7)]
    assert [b.close for b in accepted] == [Decimal(x) for x in ("100.5", "101", "101.5", "102", "102.5")]
    text = report.render()
    for expected in (
        "8 bars: 5 accepted, 3 rejected",
        "1 unreadable rows",
        "1 gaps (3 missing bars)",
        "bars.csv:4",
        "3 missing between 2024-01-01T00:02:00Z and 2024-01-01T00:06:00Z",
        "out of order",
        "low 103 > high 102",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("header", "stamps"),
    [
        ("Date,Open,High,Low,Close,Volume", ["2024-01-01", "2024-01-02", "2024-01-03"]),
        ("date,OPEN,HIGH,LOW,CLOSE,VOLUME", ["1/1/2024", "1/2/2024", "1/3/2024"]),
        ("ts,o,h,l,c,v", ["1704067200", "1704153600", "1704240000"]),
        ("open_time,open,high,low,close,volume", ["1704067200000", "1704153600000", "1704240000000"]),
        (
            "Timestamp,Open,High,Low,Close,Volume",
            ["1704067200000000000", "1704153600000000000", "1704240000000000000"],
        ),
        (
            ",Open,High,Low,Close,Volume",
            ["2024-01-01 00:00:00", "2024-01-02 00:00:00", "2024-01-03 00:00:00"],
        ),
        (
            "datetime,open,high,low,close,volume",
            ["2024-01-01T01:00:00+01:00", "2024-01-02T01:00:00+01:00", "2024-01-03T01:00:00+01:00"],
        ),
        ("Date,Open,High,Low,Close,Adj Close,Volume", ["20240101", "20240102", "20240103"]),
    ],
)
async def test_common_layouts_map_to_the_same_bars(tmp_path: Path, header: str, stamps: list[str]) -> None:
    extra = ",1.5" if "Adj Close" in header else ""
    rows = [f"{ts},1.10,1.20,1.00,1.15{extra},42" for ts in stamps]
    bars = await collect(FileSource(write(tmp_path, "x.csv", "\n".join([header, *rows]) + "\n"), symbol="X"))
    assert all(isinstance(b, RawBar) for b in bars)
    assert [b.ts_open for b in bars if isinstance(b, RawBar)] == [T0 + d * 86_400 * 10**9 for d in range(3)]
    first = bars[0]
    assert isinstance(first, RawBar)
    assert (first.symbol, first.timeframe, first.open, first.close, first.volume) == (
        "X",
        "1d",
        Decimal("1.10"),
        Decimal("1.15"),
        Decimal(42),
    )


async def test_symbol_column_file_name_and_multi_symbol_inference(tmp_path: Path) -> None:
    rows = [
        f"2024-01-01T00:{m:02d}:00Z,{sym},1,2,0.5,1.5,3" for m in range(0, 15, 5) for sym in ("AAA", "BBB")
    ]
    path = write(tmp_path, "mixed.csv", "\n".join(["time,Symbol,open,high,low,close,volume", *rows]))
    source = FileSource(path)
    assert source.timeframe == "5m"  # spacing within each symbol, not between the interleaved rows
    bars = [b for b in await collect(source) if isinstance(b, RawBar)]
    assert [b.symbol for b in bars] == ["AAA", "BBB"] * 3
    plain = write(tmp_path, "ethusdt.csv", "ts,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,3\n")
    assert FileSource(plain, timeframe="1m").symbol == "ETHUSDT"


async def test_headerless_kline_dump_is_recognised(tmp_path: Path) -> None:
    line = "{t},42000.1,42100.5,41900,42050.25,12.5,{c},525000.75,321,6,250000,0"
    rows = [line.format(t=1704067200000 + k * 60000, c=1704067259999 + k * 60000) for k in range(3)]
    bars = await collect(FileSource(write(tmp_path, "BTCUSDT-1m.csv", "\n".join(rows)), symbol="BTCUSDT"))
    first = bars[0]
    assert len(bars) == 3 and isinstance(first, RawBar)
    assert (first.ts_open, first.timeframe, first.close) == (T0, "1m", Decimal("42050.25"))
    assert (first.quote_volume, first.trade_count) == (Decimal("525000.75"), 321)


async def test_gzipped_csv_and_every_kind_of_bad_row(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "ts,open,high,low,close,volume",
            "1704067200,1,2,0.5,1.5,3",
            "not-a-time,1,2,0.5,1.5,3",
            "1704067320,1,2,0.5,,3",
            "1704067380,1,2,0.5,NaN,3",
            "1704067440,1,2,0.5,1.5,3,99",
            "",
            "1704067500,1,2,0.5,1.5,3",
        ]
    )
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    items = await collect(FileSource(path, symbol="X", timeframe="1m"))
    bad = [i for i in items if isinstance(i, UnreadableRow)]
    assert sum(isinstance(i, RawBar) for i in items) == 2
    assert [(b.location, b.reason) for b in bad] == [
        ("bad.csv.gz:3", "unreadable timestamp 'not-a-time'"),
        ("bad.csv.gz:4", "close is empty"),
        ("bad.csv.gz:5", "close 'NaN' is not a finite number"),
        ("bad.csv.gz:6", "7 fields where the header has 6"),
    ]
    assert bad[0].raw.startswith("not-a-time,1,2")


def test_whole_file_problems_fail_fast_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="no high/low column"):
        FileSource(write(tmp_path, "a.csv", "ts,open,close,volume\n1,2,3,4\n"))
    with pytest.raises(FileFormatError, match="median bar spacing 7s is not a known timeframe"):
        FileSource(write(tmp_path, "b.csv", "ts,open,high,low,close\n0,1,1,1,1\n7,1,1,1,1\n14,1,1,1,1\n"))
    with pytest.raises(FileFormatError, match="too few readable rows"):
        FileSource(write(tmp_path, "c.csv", "ts,open,high,low,close\n0,1,1,1,1\n"))
    with pytest.raises(ValueError, match="unknown timeframe"):
        FileSource(write(tmp_path, "d.csv", "ts,open,high,low,close\n0,1,1,1,1\n"), timeframe="7m")
    with pytest.raises(FileNotFoundError):
        FileSource(tmp_path / "missing.csv")


async def test_parquet_round_trip_keeps_text_exact_and_floats_repr_shortest(tmp_path: Path) -> None:
    ts = pa.array([T0 + k * MINUTE for k in range(5)], type=pa.timestamp("ns", tz="UTC"))
    table = pa.table(
        {
            "timestamp": ts,
            "symbol": ["SOLUSDT"] * 5,
            "open": ["0.1", "0.10000000000000000001", "3", "4", "5"],  # text: kept digit for digit
            "high": [0.3, 10.0, 4.5, 6.0, 6.0],  # doubles: repr-shortest, 0.3 not 0.299999...
            "low": [0.05, 0.1, 2.0, None, 4.0],
            "close": [0.2, 5.0, 4.0, 5.0, 5.5],
            "Volume": pa.array([1, 2, 3, 4, 5], type=pa.int64()),
        }
    )
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path, row_group_size=2)
    items = await collect(FileSource(path, chunk_rows=2))
    bars = [i for i in items if isinstance(i, RawBar)]
    assert [b.ts_open for b in bars] == [T0 + k * MINUTE for k in (0, 1, 2, 4)]
    assert bars[0].timeframe == "1m" and bars[0].symbol == "SOLUSDT"
    assert [b.open for b in bars[:2]] == [Decimal("0.1"), Decimal("0.10000000000000000001")]
    assert (bars[0].high, bars[0].low, bars[0].close) == (Decimal("0.3"), Decimal("0.05"), Decimal("0.2"))
    assert str(bars[1].high) == "10.0" and bars[3].volume == Decimal(5)
    bad = items[3]
    assert isinstance(bad, UnreadableRow)
    assert (bad.location, bad.reason) == ("bars.parquet:4", "low is empty")
    assert bad.raw == "1704067380000000000,SOLUSDT,4,6.0,,5.0,4"


async def test_parquet_with_epoch_text_and_iso_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "open_time": [1704067200000, 1704067260000],
            "o": ["1", "2"],
            "h": ["2", "3"],
            "l": ["0.5", "1"],
            "c": ["1.5", "2.5"],
            "v": ["7", "8"],
        }
    )
    pq.write_table(table, tmp_path / "k.parquet")
    bars = await collect(FileSource(tmp_path / "k.parquet", symbol="K"))
    assert [b.ts_open for b in bars if isinstance(b, RawBar)] == [T0, T0 + MINUTE]


async def test_n_times_real_time_sleeps_bar_spacing_over_n(tmp_path: Path) -> None:
    rows = [f"2024-01-01T00:{m:02d}:00Z,{s},1,2,0.5,1.5,3" for m in (0, 1, 3) for s in ("A", "B")]
    path = write(tmp_path, "p.csv", "\n".join(["ts,symbol,open,high,low,close,volume", *rows]))
    now = [100.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    source = FileSource(path, timeframe="1m", speed="60x", clock=lambda: now[0], sleep=fake_sleep)
    assert len(await collect(source)) == 6
    # 1 minute of market time at 60x = 1 s; the second symbol at the same time waits for nothing.
    assert sleeps == pytest.approx([1.0, 2.0])


async def test_real_clock_pacing_and_max_speed(tmp_path: Path) -> None:
    rows = [f"2024-01-01T00:0{m}:00Z,1,2,0.5,1.5,3" for m in range(4)]
    path = write(tmp_path, "r.csv", "\n".join(["ts,open,high,low,close,volume", *rows]))
    started = time.monotonic()
    assert len(await collect(FileSource(path, speed=1200))) == 4  # 60 s / 1200 = 50 ms per bar
    paced = time.monotonic() - started
    started = time.monotonic()
    await collect(FileSource(path, speed="max"))
    assert 0.14 <= paced < 2.0
    assert time.monotonic() - started < 0.1


def test_parse_speed() -> None:
    assert parse_speed("max") is None and parse_speed(None) is None
    assert parse_speed("10x") == 10.0 and parse_speed("2.5") == 2.5 and parse_speed(3) == 3.0
    for bad in ("fast", "0", "-2x"):
        with pytest.raises(ValueError, match="speed"):
            parse_speed(bad)


def test_large_files_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("ts,open,high,low,close,volume\n")
        for k in range(60_000):
            out.write(f"{1704067200 + 60 * k},100.25,101.5,99.75,100.5,{k}.125\n")
    source = FileSource(path, symbol="BIG")
    tracemalloc.start()
    try:
        count = sum(1 for item in source.items() if isinstance(item, RawBar))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 60_000
    # Holding every bar would take tens of MB; streaming keeps only a row or a chunk alive.
    assert peak < 2_000_000, peak
