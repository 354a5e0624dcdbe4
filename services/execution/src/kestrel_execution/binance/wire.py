"""Binance's order and trade JSON as venue events, and Kestrel orders as Binance's order parameters.

One mapping serves every way the venue tells us something: the answer to a submit (FULL response
with its fills), a queried order with its trades (the catch-up after a reconnect, the resolver), and
the user data stream's executionReport. Fill ids are the venue's trade ids, so the same trade seen
twice, by two of these paths, is one fill.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from kestrel_execution.binance.rules import VENUE_REJECTED, rejection_reason
from kestrel_execution.venue import Acked, Canceled, Expired, Traded, VenueEvent, VenueRejected
from kestrel_trading.domain import Fill, Liquidity, Side
from kestrel_trading.orders import Order, OrderType, TimeInForce

CANCELED_BY_OPERATOR = "EXECUTION_REASON_CANCELED_BY_OPERATOR"
TIME_IN_FORCE = "EXECUTION_REASON_TIME_IN_FORCE"
EXPIRED = "EXECUTION_REASON_EXPIRED"
_MS = 1_000_000
CLIENT_ORDER_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")  # what Binance accepts as newClientOrderId


def venue_symbol(symbol: str) -> str:
    """ "BTC/USDT" -> "BTCUSDT" (a symbol without a slash is taken as the venue's own)."""
    return symbol.replace("/", "").upper()


def order_params(order: Order, symbol: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "symbol": symbol,
        "side": order.side.name,
        "type": order.order_type.name,
        "quantity": order.quantity,
        "newClientOrderId": order.client_order_id,
        "newOrderRespType": "FULL",
    }
    if order.order_type is OrderType.LIMIT:
        params["timeInForce"] = order.time_in_force.name
        params["price"] = order.limit_price
    return params


def _fee_in_quote(commission: Decimal, asset: str, price: Decimal, base: str, quote: str) -> Decimal:
    """What a commission costs in the quote currency, for positions and P&L. A commission in a third
    asset (BNB) has no price here: it is kept on the fill as charged and counted 0 in quote terms."""
    if asset == quote:
        return commission
    if asset == base:
        return commission * price
    return Decimal(0)


class OrderMapper:
    """Venue JSON of one symbol's orders -> events; knows the symbol's assets and Kestrel's name."""

    def __init__(self, symbol: str, base: str, quote: str) -> None:
        self.symbol, self.base, self.quote = symbol, base, quote

    def trade(
        self, order_id: str, side: Side, *, trade_id: Any, price: Any, qty: Any, commission: Any,
        commission_asset: str, time_ms: int, maker: bool,
    ) -> Traded:  # fmt: skip
        px, quantity, fee = Decimal(str(price)), Decimal(str(qty)), Decimal(str(commission))
        fill = Fill(
            fill_id=f"binance:{self.symbol}:{trade_id}",
            client_order_id=order_id,
            symbol=self.symbol,
            side=side,
            price=px,
            quantity=quantity,
            fee=_fee_in_quote(fee, commission_asset, px, self.base, self.quote),
            ts_ns=int(time_ms) * _MS,
            liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        )
        in_base = commission_asset == self.base and commission_asset != self.quote
        return Traded(fill, fee, commission_asset, str(trade_id), commission_in_base=in_base)

    def order_events(
        self,
        client_order_id: str,
        order: Mapping[str, Any],
        trades: Sequence[Mapping[str, Any]] = (),
        *,
        cancel_reason: str = CANCELED_BY_OPERATOR,
    ) -> list[VenueEvent]:
        """A queried or just-placed order (with its FULL `fills` or its myTrades) as events."""
        side = Side[order["side"]]
        ts = int(order.get("updateTime") or order.get("transactTime") or order.get("time") or 0) * _MS
        events: list[VenueEvent] = [Acked(ts, str(order["orderId"]))]
        status = order["status"]
        if status == "REJECTED":
            return [VenueRejected(ts, VENUE_REJECTED, "rejected by Binance")]
        placed_ms = int(order.get("transactTime") or order.get("time") or 0)
        for fill in order.get("fills") or ():  # a FULL response: taker fills at the order's time
            events.append(
                self.trade(client_order_id, side, trade_id=fill["tradeId"], price=fill["price"],
                           qty=fill["qty"], commission=fill["commission"],
                           commission_asset=fill["commissionAsset"], time_ms=placed_ms, maker=False)
            )  # fmt: skip
        for t in trades:
            events.append(
                self.trade(client_order_id, side, trade_id=t["id"], price=t["price"], qty=t["qty"],
                           commission=t["commission"], commission_asset=t["commissionAsset"],
                           time_ms=int(t["time"]), maker=bool(t.get("isMaker")))
            )  # fmt: skip
        if status == "CANCELED":
            events.append(Canceled(ts, cancel_reason, "canceled on Binance"))
        elif status in ("EXPIRED", "EXPIRED_IN_MATCH"):
            events.append(Expired(ts, _expiry_reason(order), f"{status.lower()} on Binance"))
        return events

    def report_events(
        self, report: Mapping[str, Any], *, cancel_reason: str = CANCELED_BY_OPERATOR
    ) -> tuple[str, list[VenueEvent]]:
        """An executionReport: the client order id it concerns, and its events."""
        kind, ts = report["x"], int(report.get("E") or report.get("T") or 0) * _MS
        client_order_id = report_client_order_id(report)
        events: list[VenueEvent] = [Acked(ts, str(report["i"]))]
        if kind == "TRADE":
            events.append(
                self.trade(client_order_id, Side[report["S"]], trade_id=report["t"], price=report["L"],
                           qty=report["l"], commission=report["n"],
                           commission_asset=report["N"] or self.quote, time_ms=int(report["T"]),
                           maker=bool(report.get("m")))
            )  # fmt: skip
        elif kind == "CANCELED":
            events.append(Canceled(ts, cancel_reason, "canceled on Binance"))
        elif kind == "EXPIRED" or report.get("X") == "EXPIRED_IN_MATCH":
            terms = {"type": report.get("o"), "timeInForce": report.get("f")}
            events.append(Expired(ts, _expiry_reason(terms), "expired on Binance"))
        elif kind == "REJECTED":
            text = str(report.get("r") or "rejected")
            events = [
                VenueRejected(ts, rejection_reason(-1013 if "FILTER" in text.upper() else 0, text), text)
            ]
        return client_order_id, events


def report_client_order_id(report: Mapping[str, Any]) -> str:
    """The order an executionReport concerns: on a cancel, "c" is the cancel request's own id and
    "C" the order's."""
    return str(report.get("C") or report["c"] if report["x"] == "CANCELED" else report["c"])


def _expiry_reason(order: Mapping[str, Any]) -> str:
    """An IOC/FOK or market remainder expires by time in force; anything else simply expired."""
    immediate = order.get("type") == "MARKET" or order.get("timeInForce") in (
        TimeInForce.IOC.name,
        TimeInForce.FOK.name,
    )
    return TIME_IN_FORCE if immediate else EXPIRED
