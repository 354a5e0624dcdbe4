"""SampleSource: real OHLCV sets read from installed packages, exact Decimals, licence boundaries."""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import pytest

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.samples import (
    SampleSource,
    SampleUnavailableError,
    available_samples,
    sample_path,
)
from kestrel_ingestion.validation import BarValidator


async def load(name: str) -> list[RawBar | UnreadableRow]:
    return [item async for item in SampleSource(name).bars()]


def test_available_samples() -> None:
    assert available_samples() == ("sp500", "nasdaq", "goog", "eurusd")
    with pytest.raises(KeyError, match="unknown sample 'dax'; available: sp500, nasdaq, goog, eurusd"):
        SampleSource("dax")


@pytest.mark.parametrize(("name", "symbol"), [("sp500", "SP500"), ("nasdaq", "NASDAQ")])
async def test_arch_daily_indices_load_with_prices_equal_to_the_csv_text(name: str, symbol: str) -> None:
    bars = await load(name)
    with gzip.open(sample_path(name), "rt", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(bars) == len(rows) == 5_031
    for bar, row in zip(bars, rows, strict=True):
        assert isinstance(bar, RawBar)
        assert (bar.symbol, bar.timeframe, bar.source) == (symbol, "1d", "sample")
        assert [str(bar.open), str(bar.high), str(bar.low), str(bar.close), str(bar.volume)] == [
            row["Open"],
            row["High"],
            row["Low"],
            row["Close"],
            row["Volume"],
        ]
    first = bars[0]
    assert isinstance(first, RawBar) and first.ts_open == 915_408_000 * 10**9  # 1999-01-04
    if name == "sp500":
        assert first.open == Decimal("1229.22998") and first.close == Decimal("1228.099976")


@pytest.mark.parametrize(("name", "count", "timeframe"), [("goog", 2_148, "1d"), ("eurusd", 5_000, "1h")])
async def test_backtesting_samples_load_from_the_dev_dependency(
    name: str, count: int, timeframe: str
) -> None:
    bars = await load(name)
    assert len(bars) == count
    assert all(isinstance(b, RawBar) and b.timeframe == timeframe for b in bars)


@pytest.mark.parametrize(("name", "gaps"), [("sp500", 0), ("nasdaq", 0), ("goog", 0), ("eurusd", 2)])
async def test_samples_validate_cleanly_against_their_own_session_calendar(name: str, gaps: int) -> None:
    source = SampleSource(name)
    validator = BarValidator(calendars=source.calendars)
    async for item in source.bars():
        validator.feed(item)
    report = validator.report
    assert report.rejected == 0 and report.unreadable_count == 0
    # Weekends and exchange holidays are not gaps; only EURUSD's Christmas and New Year closures are.
    assert report.gap_count == gaps


def test_a_missing_agpl_package_gives_a_clear_instruction(monkeypatch: pytest.MonkeyPatch) -> None:
    real = metadata.distribution

    def without_backtesting(name: str) -> metadata.Distribution:
        if name == "backtesting":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", without_backtesting)
    with pytest.raises(SampleUnavailableError, match=r"AGPL-3\.0.*uv sync --all-packages --all-groups"):
        SampleSource("goog")
    assert Path(sample_path("sp500")).is_file()  # the runtime sample is unaffected


def test_backtesting_is_never_a_runtime_dependency_nor_imported_eagerly() -> None:
    requirements = metadata.requires("kestrel-ingestion") or []
    assert not [r for r in requirements if r.lower().startswith("backtesting")]
    assert any(r.lower().startswith("arch") for r in requirements)
    probe = (
        "import sys, kestrel_ingestion.sources.samples as s; s.sample_path('goog'); "
        "print('backtesting' in sys.modules, 'arch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
