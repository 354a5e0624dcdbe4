"""`kestrel demo --broker binance`: execution trades on the local Binance-protocol exchange.

The exchange (`python -m kestrel_testing.exchange`) runs as one more supervised process, started and
answering `/api/v3/ping` before execution starts (execution loads exchangeInfo when it starts). Its
one HMAC key and secret are made fresh for each run and handed to both processes in their
environment only, never on a command line (`ps` shows those) and never printed in full.

Its market maker follows `execution.orders` rather than `market.bars`: the replay publishes every bar
within seconds, far ahead of the orders, while each order carries the close of its signal's bar, so
market orders fill at about the price risk sized them against (see kestrel_testing.exchange_maker).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from kestrel_cli.supervisor import ServiceSpec

BROKERS = ("paper", "binance")
EXCHANGE_PORT = 18090
QUOTE_ASSET = "USD"  # the samples are index levels in dollars


@dataclass(frozen=True, slots=True)
class LocalExchange:
    port: int = EXCHANGE_PORT
    api_key: str = field(default_factory=lambda: f"demo-{secrets.token_hex(6)}")
    api_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_api_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws-api/v3"

    def spec(self, symbols: Sequence[str]) -> ServiceSpec:
        return ServiceSpec(
            "exchange",
            self.port,
            {
                "KESTREL_EXCHANGE_PORT": str(self.port),
                "KESTREL_EXCHANGE_SYMBOLS": ",".join(f"{s.upper()}:{QUOTE_ASSET}" for s in symbols),
                "KESTREL_EXCHANGE_API_KEY": self.api_key,
                "KESTREL_EXCHANGE_API_SECRET": self.api_secret,
                "KESTREL_EXCHANGE_FOLLOW": "execution.orders",
            },
            module_name="kestrel_testing.exchange",
            ready_path="/api/v3/ping",
        )

    def execution_env(self) -> dict[str, str]:
        return {
            "KESTREL_BROKER": "binance",
            "KESTREL_BINANCE_REST_URL": self.rest_url,
            "KESTREL_BINANCE_WS_API_URL": self.ws_api_url,
            "KESTREL_BINANCE_API_KEY": self.api_key,
            "KESTREL_BINANCE_API_SECRET": self.api_secret,
        }

    def summary_rows(self) -> list[tuple[str, str]]:
        return [
            ("broker", "binance (the local Binance-protocol spot exchange, signed REST + user stream)"),
            ("exchange", f"{self.rest_url} (api key {self.api_key[:9]}…)"),
        ]


# How far fills landed from the close of the bar their signal saw (what risk sized against).
_SLIPPAGE = """
SELECT count(*) AS fills,
       avg(abs(f.price - s.reference_price) / s.reference_price) * 10000 AS mean_bps,
       max(abs(f.price - s.reference_price) / s.reference_price) * 10000 AS max_bps
FROM trading.fills f
JOIN trading.orders o ON o.order_id = f.order_id
JOIN trading.signals s ON s.event_id = o.signal_event_id
WHERE s.reference_price > 0
"""
_VENUE_REJECTIONS = """
SELECT coalesce(reject_reason, '-'), count(*) FROM trading.orders WHERE status = 'REJECTED'
GROUP BY 1 ORDER BY 2 DESC
"""


async def venue_rows(database_url: str) -> list[tuple[str, str]]:
    """What the venue did with the orders: its refusals by reason, and the fills' distance from the
    signal bar's close."""
    conn = await asyncpg.connect(database_url)
    try:
        rejected = await conn.fetch(_VENUE_REJECTIONS)
        slip = await conn.fetchrow(_SLIPPAGE)
    finally:
        await conn.close()
    refusals = ", ".join(f"{row[0][:60]} {row[1]}" for row in rejected) or "none"
    distance = "no fills"
    if slip is not None and slip["fills"]:
        distance = f"mean {slip['mean_bps']:.2f} bps, max {slip['max_bps']:.2f} bps ({slip['fills']} fills)"
    return [("venue rejections", refusals), ("fill vs signal close", distance)]
