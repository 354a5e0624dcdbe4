"""`python -m kestrel_testing.exchange`: the local Binance-protocol spot exchange as its own process.

    KESTREL_EXCHANGE_API_KEY=k KESTREL_EXCHANGE_API_SECRET=s \\
        python -m kestrel_testing.exchange --port 18090 --symbols SP500:USD,NASDAQ:USD

It serves FakeBinance (signed REST, the WebSocket API user data stream, exchangeInfo) on a fixed
port of 127.0.0.1 — loopback only, since anyone who can reach it can trade with its one key — with
one HMAC key, a large quote balance and the given symbols, and runs the market maker
(exchange_maker) that keeps each book around Kestrel's latest price from Kafka. Point the execution
service at it with KESTREL_BROKER=binance and the URLs it prints. Stops cleanly on SIGTERM/SIGINT.

Symbols: `SP500:USD` lists venue symbol SP500 (base SP500, quote USD; Kestrel's "SP500" maps to it
unchanged) and `BTC/USDT` lists BTCUSDT (base BTC, quote USDT). Filters match Kestrel's default
instrument catalogue (kestrel_trading.catalog.DEFAULT_FILTERS), so nothing risk sized is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from decimal import Decimal

from kestrel_contracts.registry import Transport, channel
from kestrel_platform.lifecycle import run_service
from kestrel_platform.logging import configure_logging, get_logger
from kestrel_testing.exchange_maker import PRICE_FIELDS, MarketMaker, Quoting, run_maker
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_auth import FakeApiKey
from kestrel_testing.fake_binance_data import SymbolSpec
from kestrel_testing.fake_binance_model import OrderRequest, Placement

_log = get_logger("kestrel.exchange")
DEFAULT_PORT = 18090
DEFAULT_QUOTE_BALANCE = "1000000000"


def symbol_spec(text: str) -> SymbolSpec:
    """`BASE:QUOTE` (venue symbol BASE) or `BASE/QUOTE` (venue symbol BASEQUOTE), with filters as
    Kestrel's default catalogue: tick 0.00001, step 0.0001, min notional 10."""
    sep = ":" if ":" in text else "/"
    base, _, quote = (part.strip().upper() for part in text.partition(sep))
    if not base or not quote:
        raise argparse.ArgumentTypeError(f"symbol {text!r}: write BASE:QUOTE or BASE/QUOTE")
    return SymbolSpec(
        symbol=base if sep == ":" else base + quote,
        base_asset=base,
        quote_asset=quote,
        tick_size="0.00001",
        min_price="0.00001",
        max_price="100000000",
        step_size="0.0001",
        min_qty="0.0001",
        max_qty="1000000",
        min_notional="10",
        max_notional="1000000000000",
        order_types=("LIMIT", "LIMIT_MAKER", "MARKET"),
    )


def balances(specs: Sequence[SymbolSpec], extra: Sequence[str]) -> dict[str, str]:
    """Every quote asset starts with DEFAULT_QUOTE_BALANCE and base assets with none (spot holds what
    it bought); `--balance ASSET=AMOUNT` overrides."""
    held = {spec.quote_asset: DEFAULT_QUOTE_BALANCE for spec in specs}
    for item in extra:
        asset, _, amount = item.partition("=")
        held[asset.strip().upper()] = str(Decimal(amount))
    return held


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m kestrel_testing.exchange", description=summary)
    parser.add_argument("--port", type=int, default=int(env("KESTREL_EXCHANGE_PORT", DEFAULT_PORT)))
    parser.add_argument("--symbols", default=env("KESTREL_EXCHANGE_SYMBOLS", "SP500:USD,NASDAQ:USD"))
    parser.add_argument("--balance", action="append", default=[], help="ASSET=AMOUNT (repeatable)")
    parser.add_argument("--api-key", default=env("KESTREL_EXCHANGE_API_KEY", "kestrel-local"))
    # A secret on the command line shows in `ps`; the environment variable is the way to pass it.
    parser.add_argument("--api-secret", default=env("KESTREL_EXCHANGE_API_SECRET"))
    parser.add_argument("--commission-rate", default=env("KESTREL_EXCHANGE_COMMISSION_RATE", "0.001"))
    parser.add_argument(
        "--follow", choices=[*PRICE_FIELDS, "none"], default=env("KESTREL_EXCHANGE_FOLLOW", "market.bars")
    )
    parser.add_argument("--half-spread-bps", type=Decimal, default=Decimal(2))
    parser.add_argument("--kafka-bootstrap", default=env("KESTREL_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--redis-url", default=env("KESTREL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--group", default="exchange-maker", help="Kafka consumer group (namespaced)")
    args = parser.parse_args(argv)
    if not args.api_secret:
        parser.error("give the HMAC secret in KESTREL_EXCHANGE_API_SECRET (or --api-secret)")
    args.specs = [symbol_spec(item) for item in args.symbols.split(",") if item.strip()]
    if not args.specs:
        parser.error("give at least one symbol")
    return args


def price_each_order(exchange: FakeBinance, maker: MarketMaker) -> None:
    """Let the maker quote for each order just before the engine matches it (see exchange_maker);
    wrapped here on this process's engine, so FakeBinance itself stays as tests know it."""
    engine = exchange.exchange
    place = engine.place

    def placing(request: OrderRequest) -> Placement:
        maker.before_order(request.client_order_id)
        return place(request)

    engine.place = placing  # type: ignore[method-assign]


def masked(key: str) -> str:
    return f"{key[:4]}…" if len(key) > 8 else "…"


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> None:
    from kestrel_messaging.kafka import KafkaBus  # noqa: PLC0415 - only a running process needs them
    from kestrel_messaging.redis_streams import RedisStreamBus  # noqa: PLC0415

    exchange = FakeBinance(
        {},
        symbols=args.specs,
        api_keys=[FakeApiKey.hmac(args.api_key, args.api_secret)],
        balances=balances(args.specs, args.balance),
        commission_rate=args.commission_rate,
        port=args.port,
    )
    async with exchange:
        names = ", ".join(spec.symbol for spec in args.specs)
        # The one line an operator (or the demo's log) needs: where to point KESTREL_BINANCE_*.
        print(
            f"exchange ready: symbols {names}; KESTREL_BINANCE_REST_URL={exchange.rest_url} "
            f"KESTREL_BINANCE_WS_API_URL={exchange.ws_api_url} api key {masked(args.api_key)}; "
            f"maker follows {args.follow}",
            flush=True,
        )
        if args.follow == "none":
            await stop.wait()
            return
        ticks = {spec.symbol: Decimal(spec.tick_size) for spec in args.specs}
        maker = MarketMaker(exchange.set_book, ticks, Quoting(half_spread_bps=args.half_spread_bps))
        price_each_order(exchange, maker)
        on_redis = channel(args.follow).transport is Transport.REDIS_STREAM  # execution.orders
        bus = (
            RedisStreamBus(args.redis_url)
            if on_redis
            else KafkaBus(args.kafka_bootstrap, client_id="exchange")
        )
        try:
            await run_maker(maker, bus, args.follow, args.group, stop)
        finally:
            await bus.close()
            _log.info("maker.stopped", quotes=maker.quotes, ignored=maker.ignored)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("exchange", os.environ.get("KESTREL_LOG_LEVEL", "INFO"))
    run_service(lambda stop: serve(args, stop), grace_seconds=10)


if __name__ == "__main__":
    main()
