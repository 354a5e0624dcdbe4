"""The documented JSON layouts of the trading side: order responses, trades, account, user-stream events.

Decimals are served as strings with 8 decimals ("0.00100000"), as Binance serves them for spot symbols
whose base and quote precision is 8 (which is what the fake's exchangeInfo announces).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kestrel_testing.fake_binance_account import Balance
from kestrel_testing.fake_binance_model import STP_MODE, FakeOrder, Fill


def fmt(value: Decimal) -> str:
    return f"{value:.8f}"


def order_ack(order: FakeOrder, transact_ms: int) -> dict[str, Any]:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_ms,
    }


def _state(order: FakeOrder) -> dict[str, Any]:
    """What every order response says of the order's terms and progress."""
    return {
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "cummulativeQuoteQty": fmt(order.cumulative_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
    }


def order_result(order: FakeOrder, transact_ms: int) -> dict[str, Any]:
    return {
        **order_ack(order, transact_ms),
        **_state(order),
        "workingTime": order.working_time_ms,
        "selfTradePreventionMode": STP_MODE,
    }


def order_full(order: FakeOrder, fills: list[Fill], transact_ms: int) -> dict[str, Any]:
    entries = [
        {
            "price": fmt(f.price),
            "qty": fmt(f.qty),
            "commission": fmt(f.commission),
            "commissionAsset": f.commission_asset,
            "tradeId": f.trade_id,
        }
        for f in fills
    ]
    return {**order_result(order, transact_ms), "fills": entries}


def order_response(order: FakeOrder, fills: list[Fill], resp_type: str, transact_ms: int) -> dict[str, Any]:
    if resp_type == "ACK":
        return order_ack(order, transact_ms)
    if resp_type == "RESULT":
        return order_result(order, transact_ms)
    return order_full(order, fills, transact_ms)


def query_order(order: FakeOrder) -> dict[str, Any]:
    """GET /api/v3/order, openOrders and allOrders entries."""
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cumulative_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": fmt(Decimal(0)),
        "icebergQty": fmt(Decimal(0)),
        "time": order.time_ms,
        "updateTime": order.update_time_ms,
        "isWorking": order.is_working,
        "workingTime": order.working_time_ms,
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "selfTradePreventionMode": STP_MODE,
    }


def cancel_response(order: FakeOrder, transact_ms: int) -> dict[str, Any]:
    """DELETE /api/v3/order: `clientOrderId` is the cancel's own id, `origClientOrderId` the order's."""
    return {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.cancel_client_order_id,
        "transactTime": transact_ms,
        **_state(order),
        "selfTradePreventionMode": STP_MODE,
    }


def my_trade(fill: Fill) -> dict[str, Any]:
    return {
        "symbol": fill.symbol,
        "id": fill.trade_id,
        "orderId": fill.order_id,
        "orderListId": -1,
        "price": fmt(fill.price),
        "qty": fmt(fill.qty),
        "quoteQty": fmt(fill.quote_qty),
        "commission": fmt(fill.commission),
        "commissionAsset": fill.commission_asset,
        "time": fill.time_ms,
        "isBuyer": fill.is_buyer,
        "isMaker": fill.is_maker,
        "isBestMatch": True,
    }


def balance_entries(balances: dict[str, Balance], *, omit_zero: bool = False) -> list[dict[str, str]]:
    return [
        {"asset": asset, "free": fmt(b.free), "locked": fmt(b.locked)}
        for asset, b in balances.items()
        if not (omit_zero and b.free == 0 and b.locked == 0)
    ]


def execution_report(
    order: FakeOrder,
    exec_type: str,
    now_ms: int,
    sequence: int,
    *,
    fill: Fill | None = None,
    reject_reason: str = "NONE",
) -> dict[str, Any]:
    """The `executionReport` event. On a cancel, `c` is the cancel request's id and `C` the order's."""
    canceled = exec_type == "CANCELED"
    return {
        "e": "executionReport",
        "E": now_ms,
        "s": order.symbol,
        "c": order.cancel_client_order_id if canceled else order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(Decimal(0)),
        "F": fmt(Decimal(0)),
        "g": -1,
        "C": order.client_order_id if canceled else "",
        "x": exec_type,
        "X": order.status,
        "r": reject_reason,
        "i": order.order_id,
        "l": fmt(fill.qty if fill else Decimal(0)),
        "z": fmt(order.executed_qty),
        "L": fmt(fill.price if fill else Decimal(0)),
        "n": fmt(fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": fill.time_ms if fill else now_ms,
        "t": fill.trade_id if fill else -1,
        "I": sequence,  # "Ignore" on Binance: an increasing event number here
        "w": order.is_working,
        "m": fill.is_maker if fill else False,
        "M": False,
        "O": order.time_ms,
        "Z": fmt(order.cumulative_quote_qty),
        "Y": fmt(fill.quote_qty if fill else Decimal(0)),
        "Q": fmt(order.orig_quote_qty),
        "W": order.working_time_ms,
        "V": STP_MODE,
    }


def account_position(balances: dict[str, Balance], now_ms: int, update_ms: int) -> dict[str, Any]:
    return {
        "e": "outboundAccountPosition",
        "E": now_ms,
        "u": update_ms,
        "B": [{"a": asset, "f": fmt(b.free), "l": fmt(b.locked)} for asset, b in balances.items()],
    }
