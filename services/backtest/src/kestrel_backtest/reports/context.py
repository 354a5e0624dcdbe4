"""What a report says about the run besides its numbers: the strategy, its parameters, the data and the
cost model. Built from a job plan by ``report_files.report_context``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from kestrel_strategies import Strategy

ReportFormat = Literal["json", "csv", "xlsx", "html", "pdf", "pine"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("json", "csv", "xlsx", "html", "pdf", "pine")
MEDIA_TYPES: dict[ReportFormat, str] = {
    "json": "application/json",
    "csv": "application/zip",  # metrics.csv, trades.csv, equity.csv, parameters.csv
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "pine": "text/plain; charset=utf-8",
}


class ReportUnavailableError(ValueError):
    """This run cannot have a report in this format (e.g. a strategy with no Pine equivalent)."""


@dataclass(frozen=True)
class ReportContext:
    run_id: str
    strategy: Strategy
    symbols: tuple[str, ...]
    timeframe: str
    start: datetime
    end: datetime
    mode: str
    initial_cash: Decimal
    fee_rate: Decimal
    slippage_bps: Decimal
    sizing_fraction: Decimal
    allow_short: bool
    quote_asset: str
    reference_symbol: str | None = None

    @property
    def title(self) -> str:
        return f"Backtest of {self.strategy.name} on {', '.join(self.symbols)} ({self.timeframe})"

    def settings_rows(self) -> list[tuple[str, str]]:
        """The run's setup as (label, text), in the order every report shows it."""
        rows = [
            ("run", self.run_id),
            ("strategy", self.strategy.strategy_id),
            ("symbols", ", ".join(self.symbols)),
            ("timeframe", self.timeframe),
            ("from", self.start.isoformat()),
            ("to", self.end.isoformat()),
            ("mode", self.mode),
            ("initial cash", f"{self.initial_cash} {self.quote_asset}"),
            ("fee rate per side", str(self.fee_rate)),
            ("slippage (bps)", str(self.slippage_bps)),
            ("sizing fraction", str(self.sizing_fraction)),
            ("shorts allowed", "yes" if self.allow_short else "no"),
        ]
        if self.reference_symbol:
            rows.append(("reference symbol", self.reference_symbol))
        return rows

    def parameter_rows(self) -> list[tuple[str, str]]:
        return [(name, str(value)) for name, value in sorted(self.strategy.params.items())]
