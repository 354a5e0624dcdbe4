"""SyntheticSource: determinism, consistent OHLC on a tick grid, time-major interleaving, regimes."""

from __future__ import annotations

from decimal import Decimal
from itertools import islice, pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel_ingestion.domain import RawBar, timeframe_ns
from kestrel_ingestion.sources.regimes import REGIMES, RegimeWalk
from kestrel_ingestion.sources.synthetic import SyntheticSource, synthetic_symbols, tick_size_for
from kestrel_ingestion.validation import BarValidator, Outcome, check_ohlc

T0 = 1_704_067_200 * 10**9


def test_symbol_convention() -> None:
    assert synthetic_symbols(3) == ["SYN000USDT", "SYN001USDT", "SYN002USDT"]
    assert synthetic_symbols(1500)[-1] == "SYN1499USDT"
    with pytest.raises(ValueError, match="at least one symbol"):
        synthetic_symbols(0)


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    first = list(SyntheticSource(3, 5_000, seed=11).iter_bars())
    again = list(SyntheticSource(3, 5_000, seed=11).iter_bars())
    other = list(SyntheticSource(3, 5_000, seed=12).iter_bars())
    assert first == again
    assert [b.close for b in first] != [b.close for b in other]


def test_a_symbols_bars_do_not_depend_on_its_companions() -> None:
    alone = list(SyntheticSource(["SYN001USDT"], 5_000).iter_bars())
    among = [b for b in SyntheticSource(3, 5_000).iter_bars() if b.symbol == "SYN001USDT"]
    assert alone == among


def test_bars_come_time_major_on_the_grid() -> None:
    source = SyntheticSource(4, 10, timeframe="5m", start=T0 + 17)
    bars = list(source.iter_bars())
    step = timeframe_ns("5m")
    assert [b.ts_open for b in bars] == [T0 + k * step for k in range(10) for _ in range(4)]
    assert [b.symbol for b in bars[:4]] == synthetic_symbols(4)
    assert {(b.source, b.venue, b.closed, b.timeframe) for b in bars} == {
        ("synthetic", "SYNTHETIC", True, "5m")
    }


def test_ohlc_consistent_on_the_tick_grid_across_100k_bars_and_several_symbols() -> None:
    source = SyntheticSource(4, 100_000, seed=3)
    validator = BarValidator()
    counts = dict.fromkeys(source.symbols, 0)
    for bar in source.iter_bars():
        assert bar.low <= bar.open <= bar.high and bar.low <= bar.close <= bar.high, bar
        assert bar.low > 0 and bar.volume >= 0
        assert validator.check(bar).outcome is Outcome.ACCEPTED
        counts[bar.symbol] += 1
    assert counts == dict.fromkeys(source.symbols, 100_000)
    report = validator.report
    assert report.gap_count == 0 and report.rejected == 0
    assert report.accepted == 400_000


def test_prices_are_decimals_quantised_to_the_tick() -> None:
    bars = list(SyntheticSource(5, 2_000, seed=5).iter_bars())
    ticks: dict[str, Decimal] = {}
    for bar in bars[:5]:
        ticks[bar.symbol] = tick_size_for(float(bar.open))
    for bar in bars:
        for price in (bar.open, bar.high, bar.low, bar.close):
            assert isinstance(price, Decimal)
            assert price % ticks[bar.symbol] == 0, (bar.symbol, price)
    explicit = list(SyntheticSource(2, 500, tick_size=Decimal("0.5")).iter_bars())
    assert all(b.close % Decimal("0.5") == 0 for b in explicit)
    # open continues from the previous close, as on a continuously traded market
    by_symbol: dict[str, list[RawBar]] = {}
    for bar in bars:
        by_symbol.setdefault(bar.symbol, []).append(bar)
    for series in by_symbol.values():
        assert all(b.open == a.close for a, b in pairwise(series))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    symbols=st.integers(1, 4),
    bars=st.integers(0, 600),
    timeframe=st.sampled_from(["1s", "1m", "15m", "1h", "1d"]),
)
def test_any_seed_gives_valid_aligned_bars(seed: int, symbols: int, bars: int, timeframe: str) -> None:
    generated = list(SyntheticSource(symbols, bars, timeframe=timeframe, seed=seed).iter_bars())
    assert len(generated) == symbols * bars
    validator = BarValidator(daily_calendar="24/7")
    for bar in generated:
        assert not check_ohlc(bar)
        assert validator.check(bar).accepted
    assert validator.report.gap_count == 0


def test_regimes_switch_and_differ_in_volatility_and_volume() -> None:
    walk = RegimeWalk(np.random.default_rng(1), start_price=100.0, tick=0.0001, base_volume=10.0)
    chunks = [walk.next_chunk(4_096) for _ in range(50)]
    regime = np.concatenate([c.regime for c in chunks])
    close = np.concatenate([c.close for c in chunks]).astype(np.float64)
    volume = np.concatenate([c.volume for c in chunks]).astype(np.float64)
    returns = np.diff(np.log(close))
    regime_of_return = regime[1:]
    assert int(np.count_nonzero(np.diff(regime))) > 50  # the chain does switch, many times
    vol = [float(np.std(returns[regime_of_return == k])) for k in range(len(REGIMES))]
    assert vol[0] < vol[1] < vol[2]
    assert vol[2] > 3 * vol[0]
    for k, regime_def in enumerate(REGIMES):
        assert vol[k] == pytest.approx(regime_def.vol, rel=0.2)
    mean_volume = [float(volume[regime == k].mean()) for k in range(len(REGIMES))]
    assert mean_volume[0] < mean_volume[1] < mean_volume[2]
    # within a regime, bigger moves trade more: volume is correlated with |return|
    calm = regime_of_return == 1
    assert np.corrcoef(np.abs(returns[calm]), volume[1:][calm])[0, 1] > 0.2


async def test_async_bars_match_and_can_be_paced() -> None:
    now = [0.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    source = SyntheticSource(2, 3, speed=120, clock=lambda: now[0], sleep=fake_sleep)
    got = [bar async for bar in source.bars()]
    assert got == list(SyntheticSource(2, 3).iter_bars())
    assert sleeps == pytest.approx([0.5, 0.5])  # 1 minute at 120x, once per timestamp


def test_volume_has_three_decimals_and_start_is_aligned() -> None:
    bars = list(islice(SyntheticSource(1, 50, timeframe="1h", start=T0 + 1234).iter_bars(), 50))
    assert bars[0].ts_open == T0
    assert all(b.volume == b.volume.quantize(Decimal("0.001")) and b.volume > 0 for b in bars)
