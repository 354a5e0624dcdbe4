"""Reduce-only and close-only: what an order may do to a position, for every side and size."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kestrel_riskengine.gate import Restriction, restricted
from kestrel_trading.domain import Side

D = Decimal


@pytest.mark.parametrize(
    ("restriction", "side", "qty", "position", "allowed", "passed"),
    [
        (Restriction.REDUCE_ONLY, Side.SELL, D(3), D(10), D(3), True),  # a partial reduction
        (Restriction.REDUCE_ONLY, Side.SELL, D(30), D(10), D(10), True),  # a flip, clipped to flat
        (Restriction.REDUCE_ONLY, Side.BUY, D(3), D(10), D(0), False),  # adds to a long
        (Restriction.REDUCE_ONLY, Side.BUY, D(3), D(-5), D(3), True),  # covers a short
        (Restriction.REDUCE_ONLY, Side.SELL, D(1), D(0), D(0), False),  # opens from flat
        (Restriction.CLOSE_ONLY, Side.SELL, D(3), D(10), D(0), False),  # partial: not a close
        (Restriction.CLOSE_ONLY, Side.SELL, D(10), D(10), D(10), True),
        (Restriction.CLOSE_ONLY, Side.BUY, D(9), D(-5), D(5), True),
    ],
)
def test_restrictions(
    restriction: Restriction, side: Side, qty: Decimal, position: Decimal, allowed: Decimal, passed: bool
) -> None:
    got, check = restricted(restriction, side, qty, position)
    assert (got, check.passed, check.name) == (allowed, passed, restriction.value)
    assert check.detail.startswith(restriction.value)


@given(
    st.sampled_from([Restriction.REDUCE_ONLY, Restriction.CLOSE_ONLY]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.decimals(D("0.001"), D(1000), places=3),
    st.decimals(D(-1000), D(1000), places=3),
)
def test_a_restricted_order_never_grows_or_flips_the_position(
    restriction: Restriction, side: Side, qty: Decimal, position: Decimal
) -> None:
    allowed, check = restricted(restriction, side, qty, position)
    after = position + allowed * side.sign
    assert abs(after) <= abs(position) and (after == 0 or (after > 0) == (position > 0))
    assert check.passed == (allowed > 0)
    if restriction is Restriction.CLOSE_ONLY and check.passed:
        assert after == 0
