"""Labels: the forward log return net of costs, checked against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kestrel_inference.training.labels import LabelSpec, direction_labels, forward_log_return


def test_forward_return_is_the_log_ratio_of_the_close_horizon_bars_ahead() -> None:
    close = np.array([100.0, 101.0, 99.0, 103.0, 102.0, 104.0])
    fwd = forward_log_return(close, 2)
    for t in range(4):
        assert fwd[t] == pytest.approx(math.log(close[t + 2] / close[t]), rel=1e-15)
    assert np.isnan(fwd[4:]).all()  # no future close, no label


def test_labels_are_up_down_or_dropped_inside_the_cost_band() -> None:
    cost = LabelSpec(horizon=1, cost_bps=10).cost
    assert cost == pytest.approx(0.001)
    fwd = np.array([0.0011, -0.0011, 0.0009, -0.0009, 0.001, -0.001, np.nan])
    labels = direction_labels(fwd, cost)
    assert labels[:2].tolist() == [1.0, 0.0]
    assert np.isnan(labels[2:]).all()  # a move not beyond the round-trip cost is not a direction


def test_zero_cost_labels_every_nonzero_move() -> None:
    labels = direction_labels(np.array([1e-9, -1e-9, 0.0]), 0.0)
    assert labels[:2].tolist() == [1.0, 0.0] and np.isnan(labels[2])


@pytest.mark.parametrize(("horizon", "cost_bps"), [(0, 10.0), (5, -1.0)])
def test_bad_label_specs_are_refused(horizon: int, cost_bps: float) -> None:
    with pytest.raises(ValueError):
        LabelSpec(horizon, cost_bps)


def test_the_definition_names_the_horizon_and_the_cost() -> None:
    text = LabelSpec(5, 10).describe()
    assert "close[t+5]" in text and "10 bps" in text


def test_triple_barrier_labels_take_the_first_barrier_crossed() -> None:
    rng = np.random.default_rng(0)
    base = np.exp(np.cumsum(rng.normal(0, 0.01, 40)))  # 40 bars of 1% noise for the volatility
    spec = LabelSpec(horizon=3, cost_bps=10, method="triple_barrier", barrier_k=2.0, vol_window=20)
    t = 30
    sigma = np.std(np.diff(np.log(base[t - 20 : t + 1])), ddof=1)
    up_first = base.copy()
    up_first[t + 1] = base[t] * math.exp(3 * sigma)  # past the upper barrier at once ...
    up_first[t + 2] = base[t] * math.exp(-3 * sigma)  # ... then past the lower: up came first
    assert spec.labels(up_first)[t] == 1.0
    down_first = base.copy()
    down_first[t + 1 : t + 4] = base[t] * np.exp(np.array([-0.5, -3.0, 3.0]) * sigma)
    assert spec.labels(down_first)[t] == 0.0
    vertical = base.copy()
    vertical[t + 1 : t + 4] = base[t] * np.exp(np.array([0.1 * sigma, 0.2 * sigma, 0.0001]))  # in the band
    assert np.isnan(spec.labels(vertical)[t])
    vertical[t + 3] = base[t] * math.exp(0.5 * sigma)  # no barrier, past the cost at t+horizon
    assert spec.labels(vertical)[t] == 1.0
    labels = spec.labels(base)
    assert np.isnan(labels[:20]).all()  # no volatility before vol_window returns
    assert np.isnan(labels[-3:]).all()  # no future past the vertical barrier
    changed = up_first.copy()
    changed[t + 4 :] *= 5.0  # bars after the vertical barrier change nothing at t
    assert spec.labels(changed)[t] == 1.0
    assert "triple barrier" in spec.describe()
    with pytest.raises(ValueError, match="label method"):
        LabelSpec(method="nope")  # type: ignore[arg-type]
