"""Each strategy's rule on hand-made prices whose right answer can be read off by eye."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kestrel_strategies import build
from kestrel_strategies.testing import bars_from_closes

UP = [100.0 + i for i in range(60)]
DOWN = [160.0 - i for i in range(60)]


def directions(name: str, closes: list[float], long_only: bool = False, **params: object) -> np.ndarray:
    frame = build(name, params).evaluate(bars_from_closes(closes, spread=0.5), long_only=long_only)
    return frame["direction"].to_numpy()


def test_sma_cross_is_long_in_an_uptrend_and_short_after_it_turns() -> None:
    d = directions("sma_cross", UP + DOWN, fast=3, slow=10)
    assert np.isnan(d).sum() == 0 and (d[:9] == 0).all()  # flat while the slow SMA warms up
    assert (d[9:60] == 1).all()
    assert (d[-20:] == -1).all()
    assert (directions("sma_cross", UP + DOWN, long_only=True, fast=3, slow=10)[-20:] == 0).all()


def test_ema_cross_and_macd_follow_the_trend() -> None:
    assert directions("ema_cross", UP + DOWN, fast=3, slow=10)[-1] == -1
    assert directions("macd", UP + DOWN, fast=3, slow=10, signal=3)[-1] == -1
    assert directions("macd", DOWN + UP, fast=3, slow=10, signal=3)[-1] == 1


def test_donchian_enters_on_a_breakout_and_exits_on_the_shorter_channel() -> None:
    closes = [100.0] * 25 + [110.0] + [109.0] * 3 + [90.0]
    d = directions("donchian_breakout", closes, entry=20, exit=5)
    assert d[24] == 0 and d[25] == 1  # the close above the prior 20-bar high
    assert (d[25:29] == 1).all()  # 109 stays inside the 5-bar exit channel
    assert d[29] == -1  # 90 breaks the 20-bar low: a reversal, not just an exit


def test_adx_trend_needs_a_trend_strong_enough() -> None:
    # Wilder smoothing is truncated to a finite window (see kestrel_featurelib): ~240 bars of warm-up.
    rising = [100.0 + i for i in range(300)]
    assert build("adx_trend", {"period": 7}).warmup < 300
    assert directions("adx_trend", rising, period=7, threshold=20)[-1] == 1
    assert directions("adx_trend", rising[::-1], period=7, threshold=20)[-1] == -1
    zigzag = [100.0 + (i % 2) for i in range(300)]
    assert (directions("adx_trend", zigzag, period=7, threshold=20) == 0).all()


def test_momentum_strategies_hold_the_sign_of_the_past_return() -> None:
    assert directions("tsmom", UP + DOWN, lookback=10)[-1] == -1
    assert directions("tsmom", UP, lookback=10)[-1] == 1
    roc = directions("roc_momentum", UP + [159.0] * 20, period=5, threshold=1.0)
    assert roc[50] == 1 and roc[-1] == 0  # a flat tail has no momentum: flat


def test_dual_momentum_holds_only_the_stronger_rising_asset() -> None:
    strategy = build("dual_momentum", {"lookback": 10})
    bars = bars_from_closes(UP)
    slower = pd.DataFrame({"ts": bars["ts"], "close": np.linspace(100, 110, 60)})
    faster = pd.DataFrame({"ts": bars["ts"], "close": np.linspace(100, 400, 60)})
    assert strategy.evaluate(bars, slower)["direction"].iloc[-1] == 1
    assert strategy.evaluate(bars, faster)["direction"].iloc[-1] == 0
    with pytest.raises(ValueError, match="reference symbol"):
        strategy.evaluate(bars)


def test_mean_reversion_buys_a_dip_and_leaves_at_the_mean() -> None:
    closes = [100.0, 101.0] * 15 + [90.0] + [95.0, 100.5, 101.0]
    for name in ("bollinger_reversion", "zscore_reversion"):
        d = directions(name, closes, period=20)
        assert d[30] == 1, name  # the dip far below the band
        assert d[-1] == 0, name  # back above the mean: closed
    calm = [100.0, 101.0] * 50  # past the RSI's ~80-bar warm-up
    rsi = directions("rsi_reversion", [*calm, 95.0, 90.0, 85.0, 100.0, 105.0], period=5)
    assert rsi[99] == 0 and rsi[102] == 1 and rsi[-1] == 0


def test_pairs_spread_fades_the_first_leg_against_the_second() -> None:
    bars = bars_from_closes([100.0, 101.0] * 20 + [80.0])
    reference = pd.DataFrame({"ts": bars["ts"], "close": [100.0, 101.0] * 20 + [101.0]})
    d = build("pairs_spread", {"period": 20}).evaluate(bars, reference, long_only=False)["direction"]
    assert d.iloc[-2] == 0 and d.iloc[-1] == 1  # the first leg fell alone: buy it


def test_atr_breakout_enters_beyond_the_band() -> None:
    closes = [100.0, 100.5] * 50 + [110.0]
    d = directions("atr_breakout", closes, period=10, atr_period=5, mult=2.0)
    assert d[-2] == 0 and d[-1] == 1


def test_vol_target_sizes_quiet_markets_larger_than_wild_ones() -> None:
    rng = np.random.default_rng(1)
    quiet = list(100 * np.exp(np.cumsum(0.002 + rng.normal(0, 0.002, 80))))
    wild = list(100 * np.exp(np.cumsum(0.002 + rng.normal(0, 0.03, 80))))
    params = {"lookback": 10, "vol_period": 10, "target_vol": 0.10, "max_weight": 1.0}
    strategy = build("vol_target", params)
    w_quiet = strategy.evaluate(bars_from_closes(quiet))["weight"].to_numpy()
    w_wild = strategy.evaluate(bars_from_closes(wild))["weight"].to_numpy()
    assert w_quiet.max() == 1.0  # capped
    assert 0 < w_wild[w_wild > 0][0] < 0.5
    # sized once: the weight only changes when the direction does
    frame = strategy.evaluate(bars_from_closes(wild))
    same = frame["direction"].diff().fillna(0) == 0
    assert (frame["weight"].diff().fillna(0)[same & (frame["direction"] != 0)] == 0).all()


def test_ml_threshold_reads_the_probability_input() -> None:
    strategy = build("ml_threshold", {"upper": 0.6, "lower": 0.4})
    bars = bars_from_closes(UP[:5])
    p_up = np.array([0.5, 0.65, 0.5, 0.35, np.nan])
    d = strategy.evaluate(bars, inputs={"p_up": p_up}, long_only=False)["direction"].tolist()
    assert d == [0, 1, 1, -1, -1]
    with pytest.raises(ValueError, match="p_up"):
        strategy.evaluate(bars)


def test_buy_and_hold_is_long_throughout() -> None:
    assert (directions("buy_and_hold", DOWN) == 1).all()
