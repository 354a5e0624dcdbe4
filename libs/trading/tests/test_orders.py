from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel_trading.domain import Fill, Side
from kestrel_trading.orders import (
    Order,
    OrderStatus,
    OrderTransitionError,
    OrderType,
    apply_fill,
    cancel,
    expire,
    reject,
)

D = Decimal


def _order(qty: str = "1.0") -> Order:
    return Order("c1", "BTC/USDT", Side.BUY, OrderType.MARKET, D(qty))


def _fill(fill_id: str, qty: str, price: str, fee: str = "0.1") -> Fill:
    return Fill(fill_id, "c1", "BTC/USDT", Side.BUY, D(price), D(qty), D(fee), ts_ns=1)


def test_new_order_is_working_with_nothing_filled() -> None:
    order = _order()
    assert order.status is OrderStatus.NEW
    assert order.leaves_quantity == D("1.0")
    assert order.average_price is None


def test_partial_then_full_fill_tracks_quantity_average_and_fees() -> None:
    order = apply_fill(_order(), _fill("f1", "0.4", "100"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.leaves_quantity == D("0.6")
    order = apply_fill(order, _fill("f2", "0.6", "110"))
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == D("1.0")
    assert order.average_price == D("106")
    assert order.fees == D("0.2")
    assert order.leaves_quantity == 0


def test_apply_fill_does_not_mutate_the_original() -> None:
    original = _order()
    apply_fill(original, _fill("f1", "0.4", "100"))
    assert original.filled_quantity == 0
    assert original.status is OrderStatus.NEW


def test_the_same_fill_twice_is_a_no_op_even_after_the_order_is_final() -> None:
    once = apply_fill(_order(), _fill("f1", "0.4", "100"))
    assert apply_fill(once, _fill("f1", "0.4", "100")) is once
    done = apply_fill(once, _fill("f2", "0.6", "100"))
    assert apply_fill(done, _fill("f2", "0.6", "100")) is done


def test_overfill_is_refused() -> None:
    order = apply_fill(_order(), _fill("f1", "0.8", "100"))
    with pytest.raises(OrderTransitionError, match="overfill"):
        apply_fill(order, _fill("f2", "0.3", "100"))


@pytest.mark.parametrize(
    "finish",
    [
        lambda o: apply_fill(o, _fill("done", "1.0", "100")),
        lambda o: cancel(o, "operator"),
        lambda o: reject(o, "bad"),
        expire,
    ],
    ids=["filled", "canceled", "rejected", "expired"],
)
def test_terminal_orders_refuse_every_transition(finish: Callable[[Order], Order]) -> None:
    final = finish(_order())
    assert final.status.is_terminal
    with pytest.raises(OrderTransitionError, match="cannot apply fill"):
        apply_fill(final, _fill("late", "0.1", "100"))
    for transition in (lambda o: cancel(o, "x"), expire, lambda o: reject(o, "x")):
        with pytest.raises(OrderTransitionError, match=final.status.name):
            transition(final)


def test_a_partially_filled_order_can_be_canceled_or_expire_but_not_rejected() -> None:
    partial = apply_fill(_order(), _fill("f1", "0.4", "100"))
    canceled = cancel(partial, "operator")
    assert (canceled.status, canceled.filled_quantity, canceled.reason) == (
        OrderStatus.CANCELED,
        D("0.4"),
        "operator",
    )
    assert expire(partial).status is OrderStatus.EXPIRED
    with pytest.raises(OrderTransitionError, match="PARTIALLY_FILLED"):
        reject(partial, "too late")


def test_a_fill_for_another_order_or_side_is_refused() -> None:
    foreign = Fill("f9", "other", "BTC/USDT", Side.BUY, D(1), D("0.1"), D(0), ts_ns=1)
    with pytest.raises(OrderTransitionError, match="does not belong"):
        apply_fill(_order(), foreign)
    wrong_side = Fill("f9", "c1", "BTC/USDT", Side.SELL, D(1), D("0.1"), D(0), ts_ns=1)
    with pytest.raises(OrderTransitionError, match="does not belong"):
        apply_fill(_order(), wrong_side)


def test_malformed_orders_and_fills_are_refused() -> None:
    with pytest.raises(ValueError, match="quantity"):
        _order("0")
    with pytest.raises(ValueError, match="limit price"):
        Order("c", "X", Side.BUY, OrderType.LIMIT, D(1))
    with pytest.raises(ValueError, match="no limit price"):
        Order("c", "X", Side.BUY, OrderType.MARKET, D(1), limit_price=D(1))
    with pytest.raises(ValueError, match="quantity"):
        _fill("f", "0", "100")
    with pytest.raises(ValueError, match="finite"):
        _fill("f", "1", "NaN")


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12),
    redeliver=st.lists(st.integers(min_value=0, max_value=11), max_size=12),
)
def test_random_fill_sequences_with_redelivery_never_overfill(sizes: list[int], redeliver: list[int]) -> None:
    order = _order("10")
    fills = [_fill(f"f{i}", str(q), "100", fee="0") for i, q in enumerate(sizes)]
    applied: list[Fill] = []
    for f in fills + [fills[i] for i in redeliver if i < len(fills)]:
        try:
            new = apply_fill(order, f)
        except OrderTransitionError:
            assert order.filled_quantity + f.quantity > order.quantity or order.status.is_terminal
            continue
        if new is not order:
            applied.append(f)
        order = new
    assert order.filled_quantity == sum((f.quantity for f in applied), D(0)) <= order.quantity
    assert len(order.fill_ids) == len(applied) == len({f.fill_id for f in applied})
    expected = OrderStatus.FILLED if order.filled_quantity == 10 else OrderStatus.PARTIALLY_FILLED
    assert order.status is (expected if applied else OrderStatus.NEW)
