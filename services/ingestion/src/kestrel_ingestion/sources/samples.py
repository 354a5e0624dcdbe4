"""Real OHLCV sample sets, read from the PyPI packages that ship them (never copied into this repo).

| name   | symbol | timeframe | rows  | package     | licence   | dependency of ingestion |
|--------|--------|-----------|-------|-------------|-----------|-------------------------|
| sp500  | SP500  | 1d        | 5,031 | arch        | NCSA      | runtime                 |
| nasdaq | NASDAQ | 1d        | 5,031 | arch        | NCSA      | runtime                 |
| goog   | GOOG   | 1d        | 2,148 | backtesting | AGPL-3.0  | dev group only          |
| eurusd | EURUSD | 1h        | 5,000 | backtesting | AGPL-3.0  | dev group only          |

Files are located through the installed distribution's metadata, which neither imports the package
(importing `arch` takes seconds, `backtesting` pulls in a plotting stack) nor needs it to be importable;
a missing AGPL package is reported with how to install it, never imported at module load.
The `calendar` of each sample names the session calendar its gaps should be judged by (see calendars.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.files import FileSource


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    symbol: str
    timeframe: str
    distribution: str
    resource: str  # path inside the distribution
    licence: str
    calendar: str
    description: str


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample(
            "sp500",
            "SP500",
            "1d",
            "arch",
            "arch/data/sp500/sp500.csv.gz",
            "NCSA",
            "nyse",
            "S&P 500 index, daily, 1999-2018",
        ),
        Sample(
            "nasdaq",
            "NASDAQ",
            "1d",
            "arch",
            "arch/data/nasdaq/nasdaq.csv.gz",
            "NCSA",
            "nyse",
            "NASDAQ Composite index, daily, 1999-2018",
        ),
        Sample(
            "goog",
            "GOOG",
            "1d",
            "backtesting",
            "backtesting/test/GOOG.csv",
            "AGPL-3.0",
            "nyse",
            "Alphabet (GOOG) shares, daily, 2004-2013",
        ),
        Sample(
            "eurusd",
            "EURUSD",
            "1h",
            "backtesting",
            "backtesting/test/EURUSD.csv",
            "AGPL-3.0",
            "fx",
            "EUR/USD spot, hourly, 2017-2018",
        ),
    )
}
DEV_ONLY = frozenset({"backtesting"})  # AGPL-3.0: may never become a runtime dependency


class SampleUnavailableError(RuntimeError):
    """The package that ships this sample is not installed."""


def available_samples() -> tuple[str, ...]:
    """Every sample name this source knows (whether or not its package is installed)."""
    return tuple(SAMPLES)


def sample_path(name: str) -> Path:
    """The installed file of sample `name`; KeyError / SampleUnavailableError with what to do."""
    try:
        sample = SAMPLES[name]
    except KeyError:
        raise KeyError(f"unknown sample {name!r}; available: {', '.join(SAMPLES)}") from None
    try:
        located = Path(str(metadata.distribution(sample.distribution).locate_file(sample.resource)))
    except metadata.PackageNotFoundError:
        located = None
    if located is None or not located.is_file():
        hint = (
            "it is a development-only dependency because of its AGPL-3.0 licence: install the dev "
            "groups with `uv sync --all-packages --all-groups`"
            if sample.distribution in DEV_ONLY
            else "reinstall kestrel-ingestion's dependencies"
        )
        raise SampleUnavailableError(
            f"sample {name!r} needs the {sample.distribution!r} package ({sample.licence}), "
            f"which is not installed; {hint}"
        )
    return located


class SampleSource:
    """Replays one installed sample set like a file (`speed` as in FileSource)."""

    def __init__(
        self,
        name: str,
        *,
        speed: float | str | None = "max",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        path = sample_path(name)  # raises with a clear message for unknown or missing samples
        sample = self.sample = SAMPLES[name]
        self.name = f"sample:{name}"
        self.symbol = sample.symbol
        self.timeframe = sample.timeframe
        self.calendar = sample.calendar
        # For BarValidator(calendars=...): judge this sample's gaps by its market's sessions.
        self.calendars = {sample.symbol: sample.calendar}
        self._file = FileSource(
            path,
            symbol=sample.symbol,
            timeframe=sample.timeframe,
            speed=speed,
            source="sample",
            clock=clock,
            sleep=sleep,
        )

    def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        return self._file.bars()

    def items(self) -> Iterator[RawBar | UnreadableRow]:
        """The sample's rows synchronously and unpaced (for merging several samples by time)."""
        return self._file.items()
