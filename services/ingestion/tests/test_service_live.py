"""`python -m kestrel_ingestion` following a (local) Binance live: bars land, SIGTERM exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import pytest

from kestrel_store.pool import create_pool
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_data import interleave, live_updates, make_klines

T0 = 1_704_067_200_000
MINUTE = 60_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def count_bars(url: str) -> int:
    pool = await create_pool(url)
    try:
        return int(await pool.fetchval("SELECT count(*) FROM market.bars"))
    except Exception:
        return 0
    finally:
        await pool.close()


@pytest.mark.integration
async def test_live_service_stores_and_publishes_closed_bars_then_stops_on_sigterm(
    kafka_bootstrap: str, fresh_database_url: str
) -> None:
    btc, eth = make_klines(T0, 12, seed=1), make_klines(T0, 12, start_price="2000", seed=2)
    async with FakeBinance({"BTCUSDT": btc[:2], "ETHUSDT": eth[:2]}, now_ms=T0 + 2 * MINUTE) as fake:
        fake.set_live_script(
            interleave(live_updates("BTCUSDT", btc[2:]), live_updates("ETHUSDT", eth[2:])),
            step_s=0.02,
            autostart=False,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KESTREL_")}
        env.update(
            KESTREL_KAFKA_BOOTSTRAP=kafka_bootstrap,
            KESTREL_DATABASE_URL=fresh_database_url,
            KESTREL_HTTP_PORT=str(free_port()),
            KESTREL_SYMBOLS="BTC/USDT,ETH/USDT",
            KESTREL_BINANCE_REST_URL=fake.rest_url,
            KESTREL_BINANCE_WS_URL=fake.ws_url,
            KESTREL_BATCH_SIZE="4",
        )
        service = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kestrel_ingestion",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            while not fake.ws_connections:  # the service subscribed: now play the market
                assert service.returncode is None
                await asyncio.sleep(0.1)
            fake.start_live()
            async with asyncio.timeout(60):
                while await count_bars(fresh_database_url) < 20:  # noqa: ASYNC110 - another process's writes
                    await asyncio.sleep(0.2)
        finally:
            service.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(service.communicate(), 30)
    assert service.returncode == 0, output.decode()[-3000:]
    assert b"service.stopped" in output
    assert await count_bars(fresh_database_url) == 20  # 10 live closed bars each, no open bar, no repeat
