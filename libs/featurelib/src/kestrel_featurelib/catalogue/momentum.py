"""Momentum features: RSI, stochastic, ROC, Williams %R, CCI."""

from __future__ import annotations

from kestrel_featurelib.catalogue.common import FLAT_EPS, TYPICAL, minus
from kestrel_featurelib.graph import CLOSE, HIGH, LOW, Value, apply, lag, rolling, wilder
from kestrel_featurelib.ops import Ops
from kestrel_featurelib.spec import FeatureSpec


def _positive_part(m: Ops, x: Value) -> Value:
    return m.maximum(x, 0.0)


def _rsi(m: Ops, avg_gain: Value, avg_loss: Value, close: Value) -> Value:
    # No movement in the window: neutral 50 (TA-Lib returns 0). The floor keeps the batch side's
    # rounding residue of an all-zero window (~1e-21 of the price) on the same side as the exact 0.
    return m.ratio(100.0 * avg_gain, avg_gain + avg_loss, 50.0, FLAT_EPS * close)


def rsi(period: int = 14) -> FeatureSpec:
    change = apply(minus, CLOSE, lag(CLOSE))
    loss_as_gain = apply(minus, lag(CLOSE), CLOSE)
    node = apply(
        _rsi,
        wilder(apply(_positive_part, change), period),
        wilder(apply(_positive_part, loss_as_gain), period),
        CLOSE,
    )
    return FeatureSpec(f"rsi_{period}", "momentum", "Wilder RSI, 0-100.", node, {"period": period})


def _fast_k(m: Ops, close: Value, highest: Value, lowest: Value) -> Value:
    return m.ratio(100.0 * (close - lowest), highest - lowest, 50.0)


def stochastic(k_period: int = 14, k_smooth: int = 3, d_smooth: int = 3) -> list[FeatureSpec]:
    fast_k = apply(_fast_k, CLOSE, rolling("max", HIGH, k_period), rolling("min", LOW, k_period))
    slow_k = rolling("mean", fast_k, k_smooth)
    slow_d = rolling("mean", slow_k, d_smooth)
    params = {"k_period": k_period, "k_smooth": k_smooth, "d_smooth": d_smooth}
    return [
        FeatureSpec(
            f"stoch_k_{k_period}_{k_smooth}",
            "momentum",
            "Slow stochastic %K: SMA of fast %K (50 when the range is flat), 0-100.",
            slow_k,
            params,
        ),
        FeatureSpec(
            f"stoch_d_{k_period}_{k_smooth}_{d_smooth}",
            "momentum",
            "Slow stochastic %D: SMA of slow %K.",
            slow_d,
            params,
        ),
    ]


def _roc(m: Ops, close: Value, past: Value) -> Value:
    return 100.0 * (close / past - 1.0)


def roc(period: int = 10) -> FeatureSpec:
    node = apply(_roc, CLOSE, lag(CLOSE, period))
    return FeatureSpec(f"roc_{period}", "momentum", "Rate of change in percent.", node, {"period": period})


def _williams_r(m: Ops, close: Value, highest: Value, lowest: Value) -> Value:
    return m.ratio(-100.0 * (highest - close), highest - lowest, -50.0)


def williams_r(period: int = 14) -> FeatureSpec:
    node = apply(_williams_r, CLOSE, rolling("max", HIGH, period), rolling("min", LOW, period))
    return FeatureSpec(
        f"willr_{period}",
        "momentum",
        "Williams %R, -100-0 (-50 when the range is flat).",
        node,
        {"period": period},
    )


def _cci(m: Ops, tp: Value, mean_tp: Value, mean_dev: Value) -> Value:
    return m.ratio(tp - mean_tp, 0.015 * mean_dev, 0.0, FLAT_EPS * m.abs(mean_tp))


def cci(period: int = 20) -> FeatureSpec:
    node = apply(_cci, TYPICAL, rolling("mean", TYPICAL, period), rolling("mad", TYPICAL, period))
    return FeatureSpec(
        f"cci_{period}",
        "momentum",
        "Commodity channel index of the typical price (0 when flat).",
        node,
        {"period": period},
    )


def momentum_features() -> list[FeatureSpec]:
    return [rsi(14), *stochastic(), roc(10), williams_r(14), cci(20)]
