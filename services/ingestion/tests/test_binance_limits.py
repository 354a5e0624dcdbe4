"""BinanceSource under Binance's limits: Retry-After on 429/418, the used-weight header, 5xx backoff."""

from __future__ import annotations

import contextlib
import time

import pytest

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.binance import BinanceConfig, BinanceSource
from kestrel_ingestion.sources.binance_config import BinanceRateLimitError, BinanceUnavailableError
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_data import make_klines

T0 = 1_704_067_200_000
MINUTE = 60_000


async def collect(source: BinanceSource) -> list[RawBar | UnreadableRow]:
    async with contextlib.aclosing(source.bars()) as items:
        return [item async for item in items]


def config_for(fake: FakeBinance, **overrides: float) -> BinanceConfig:
    base = BinanceConfig(backoff_initial_s=0.01, **overrides)  # type: ignore[arg-type]
    return base.with_urls(fake.rest_url, fake.ws_url)


async def test_429_is_retried_only_after_its_retry_after() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 1_200)}, now_ms=T0 + 1_200 * MINUTE) as fake:
        source = BinanceSource(["BTC/USDT"], "1m", config=config_for(fake))
        async with contextlib.aclosing(source.bars()) as items:
            first = await anext(items)  # page 1 is in: the next request is the second page
            fake.fail_next(1, 429, retry_after_s=1)
            rest = [item async for item in items]

    assert isinstance(first, RawBar) and len(rest) == 1_199
    statuses = [(r.status, r.at) for r in fake.klines_requests()]
    assert [s for s, _ in statuses] == [200, 429, 200]
    waited = statuses[2][1] - statuses[1][1]
    assert waited >= 1.0, f"retried {waited:.3f} s after a 429 with Retry-After: 1"
    assert waited < 3.0
    assert source.stats.rest.rate_limited == 1


async def test_a_418_ban_longer_than_the_patience_is_reported_at_once() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 10)}, now_ms=T0 + 10 * MINUTE) as fake:
        fake.fail_next(1, 418, retry_after_s=7_200)
        started = time.monotonic()
        with pytest.raises(
            BinanceRateLimitError, match=r"banned \(418\) for 7200 s.*code -1003: Way too much"
        ):
            await collect(BinanceSource(["BTCUSDT"], config=config_for(fake, max_retry_after_s=300)))
        assert time.monotonic() - started < 2.0


async def test_endless_429s_end_in_a_clear_error_after_the_bounded_retries() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 10)}, now_ms=T0 + 10 * MINUTE) as fake:
        fake.fail_next(100, 429, retry_after_s=0)
        with pytest.raises(BinanceRateLimitError, match=r"still rate-limited \(429\) after 3 waits"):
            await collect(BinanceSource(["BTCUSDT"], config=config_for(fake, max_rate_limit_retries=3)))
        assert len(fake.requests) == 4  # the first try and 3 retries


async def test_5xx_answers_are_retried_with_backoff_then_succeed() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 10)}, now_ms=T0 + 10 * MINUTE) as fake:
        fake.fail_next(2, 503)
        source = BinanceSource(["BTCUSDT"], config=config_for(fake))
        items = await collect(source)
    assert len(items) == 10
    assert [r.status for r in fake.requests[:3]] == [503, 503, 200]
    assert source.stats.rest.server_errors == 2


async def test_5xx_that_outlast_the_retries_raise_unavailable() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 10)}, now_ms=T0 + 10 * MINUTE) as fake:
        fake.fail_next(10, 502)
        with pytest.raises(BinanceUnavailableError, match="failed 3 times in a row; last: HTTP 502"):
            await collect(BinanceSource(["BTCUSDT"], config=config_for(fake, max_server_error_retries=2)))


class RecordingSleep:
    """Stands in for asyncio.sleep: notes each wait, and rolls the fake's weight window as a minute would."""

    def __init__(self, fake: FakeBinance) -> None:
        self.fake = fake
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.fake.set_used_weight(0)


async def test_weight_near_the_limit_pauses_until_the_next_minute_and_never_hits_429() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 3_000)}, now_ms=T0 + 3_000 * MINUTE) as fake:
        fake.set_used_weight(4_790)  # other traffic of this IP: 80 % of 6000 is 4800
        sleep = RecordingSleep(fake)
        source = BinanceSource(["BTCUSDT"], config=config_for(fake), sleep=sleep)
        items = await collect(source)

    assert len(items) == 3_000
    # exchangeInfo (20) takes the weight to 4810 >= 4800: the source waits before its next request.
    assert source.stats.rest.weight_pauses == 1
    assert len(sleep.waits) == 1 and 0 < sleep.waits[0] <= 60.5
    assert all(r.status == 200 for r in fake.requests)
    assert fake.requests[0].path == "/api/v3/exchangeInfo"


async def test_weight_well_below_the_limit_costs_no_wait() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 3_000)}, now_ms=T0 + 3_000 * MINUTE) as fake:
        sleep = RecordingSleep(fake)
        source = BinanceSource(["BTCUSDT"], config=config_for(fake), sleep=sleep)
        await collect(source)
        used = fake.used_weight
    assert sleep.waits == [] and source.stats.rest.weight_pauses == 0
    assert source.stats.rest.requests == 5  # exchangeInfo, time, 3 pages
    assert used == 20 + 1 + 3 * 2
