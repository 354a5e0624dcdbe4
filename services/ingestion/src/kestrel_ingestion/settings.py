"""Settings of the ingestion service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from pydantic import Field

from kestrel_platform.settings import ServiceSettings

__all__ = ["IngestionSettings"]


class IngestionSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Issue #3 adds the fields its domain needs; until then the shared ones are all it uses.
    """

    service_name: str = "ingestion"
    http_port: int = 8001
    batch_size: int = Field(default=2000, ge=1, le=100_000, description="Bars stored and published together.")
    # The live service: which feed to follow.
    symbols: str = Field(default="BTC/USDT,ETH/USDT", description="Comma-separated symbols to follow live.")
    timeframe: str = "1m"
    binance_rest_url: str = "https://api.binance.com"
    binance_ws_url: str = "wss://stream.binance.com:9443"
    trades: bool = Field(default=False, description="Also follow live trades into market.ticks.")

    @property
    def symbol_list(self) -> list[str]:
        return [s.strip() for s in self.symbols.split(",") if s.strip()]
