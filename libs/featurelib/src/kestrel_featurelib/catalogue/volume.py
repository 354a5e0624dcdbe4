"""Volume features: rolling OBV, rolling-VWAP distance, MFI, relative volume."""

from __future__ import annotations

from kestrel_featurelib.catalogue.common import TYPICAL, minus
from kestrel_featurelib.graph import CLOSE, VOLUME, Value, apply, lag, rolling
from kestrel_featurelib.ops import Ops
from kestrel_featurelib.spec import FeatureSpec


def _signed_volume(m: Ops, change: Value, volume: Value) -> Value:
    return m.sign(change) * volume


def obv(period: int = 20) -> list[FeatureSpec]:
    # OBV over a rolling window instead of since the first bar: a cumulative OBV depends on where
    # history starts, which no restart or training slice could reproduce. It equals the difference
    # of the classic OBV across the window.
    window_obv = rolling("sum", apply(_signed_volume, apply(minus, CLOSE, lag(CLOSE)), VOLUME), period)
    params = {"period": period}
    return [
        FeatureSpec(
            f"obv_{period}",
            "volume",
            "On-balance volume accumulated over the last bars (volume units).",
            window_obv,
            params,
        ),
        FeatureSpec(
            f"obv_ratio_{period}",
            "volume",
            "Windowed OBV / total volume in the window, -1..1 (0 if no volume).",
            apply(_share, window_obv, rolling("sum", VOLUME, period)),
            params,
        ),
    ]


def _share(m: Ops, part: Value, total: Value) -> Value:
    return m.ratio(part, total, 0.0)


def _times(m: Ops, a: Value, b: Value) -> Value:
    return a * b


def _vwap_distance(m: Ops, close: Value, pv_sum: Value, v_sum: Value, tp_mean: Value) -> Value:
    # A window without volume has no VWAP; the plain mean typical price stands in for it.
    vwap = m.where(v_sum > 0.0, m.ratio(pv_sum, v_sum, 0.0), tp_mean)
    return close / vwap - 1.0


def vwap_distance(period: int = 20) -> FeatureSpec:
    node = apply(
        _vwap_distance,
        CLOSE,
        rolling("sum", apply(_times, TYPICAL, VOLUME), period),
        rolling("sum", VOLUME, period),
        rolling("mean", TYPICAL, period),
    )
    return FeatureSpec(
        f"vwap_dist_{period}",
        "volume",
        "close / rolling VWAP of the typical price - 1.",
        node,
        {"period": period},
    )


def _flow_if(m: Ops, tp: Value, prev_tp: Value, flow: Value, direction: float) -> Value:
    return m.where(direction * (tp - prev_tp) > 0.0, flow, 0.0)


def _mfi(m: Ops, positive: Value, negative: Value) -> Value:
    return m.ratio(100.0 * positive, positive + negative, 50.0)


def mfi(period: int = 14) -> FeatureSpec:
    flow = apply(_times, TYPICAL, VOLUME)
    positive = rolling("sum", apply(_flow_if, TYPICAL, lag(TYPICAL), flow, consts=(1.0,)), period)
    negative = rolling("sum", apply(_flow_if, TYPICAL, lag(TYPICAL), flow, consts=(-1.0,)), period)
    return FeatureSpec(
        f"mfi_{period}",
        "volume",
        "Money flow index, 0-100 (50 when there is no flow).",
        apply(_mfi, positive, negative),
        {"period": period},
    )


def relative_volume(period: int = 20) -> FeatureSpec:
    node = apply(_relative, VOLUME, rolling("mean", VOLUME, period))
    return FeatureSpec(
        f"rel_volume_{period}",
        "volume",
        "volume / mean volume of the window (1 if the window has none).",
        node,
        {"period": period},
    )


def _relative(m: Ops, x: Value, mean: Value) -> Value:
    return m.ratio(x, mean, 1.0)


def volume_features() -> list[FeatureSpec]:
    return [*obv(20), vwap_distance(20), mfi(14), relative_volume(20)]
