"""The Binance spot venue: submit / cancel / replace by signed REST, events from the user data stream.

Idempotency: Kestrel's client order id is Binance's `newClientOrderId`. A submit whose outcome is
unknown is never repeated blindly: `resolve` asks for the order by that id first (see
`kestrel_execution.resolver`). Filters from exchangeInfo (loaded at start, refreshed on a schedule)
are checked before sending, so an order the venue would refuse costs no request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from decimal import Decimal
from typing import Any

from kestrel_contracts.events import now_ns
from kestrel_execution.binance.rest import BinanceApiError, BinanceRest
from kestrel_execution.binance.rules import SymbolRules, rejection_reason
from kestrel_execution.binance.signing import Credentials
from kestrel_execution.binance.user_stream import UserStream
from kestrel_execution.binance.wire import (
    CLIENT_ORDER_ID,
    OrderMapper,
    order_params,
    report_client_order_id,
    venue_symbol,
)
from kestrel_execution.intake import MALFORMED, UNKNOWN_SYMBOL
from kestrel_execution.reconcile import VenueOrder, VenueSnapshot
from kestrel_execution.reports import OrderMeta
from kestrel_execution.repository import CatchUp, ExecutionStore
from kestrel_execution.venue import OutcomeUnknownError, VenueEvent, VenueRejected, VenueRuntime
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order

_log = get_logger("kestrel.execution.binance")
UNKNOWN_ORDER_ON_CANCEL = -2011
NO_SUCH_ORDER = -2013
RULES_RETRY_S = 5.0


class BinanceVenue:
    def __init__(
        self,
        rest: BinanceRest,
        credentials: Credentials,
        ws_api_url: str,
        *,
        recv_window_ms: int = 5000,
        rules_refresh_s: float = 3600.0,
    ) -> None:
        self.rest = rest
        self._credentials, self._ws_api_url = credentials, ws_api_url
        self._recv_window_ms, self._rules_refresh_s = recv_window_ms, rules_refresh_s
        self._rules: dict[str, SymbolRules] = {}
        self._names: dict[str, str] = {}  # venue symbol -> Kestrel symbol, learnt from submits
        self._cancel_reasons: dict[str, str] = {}  # why Kestrel asked for a cancel, by client order id
        self.stream: UserStream | None = None

    def __repr__(self) -> str:
        return f"BinanceVenue({self.rest!r})"

    @property
    def name(self) -> str:
        return "binance"

    async def load_rules(self) -> int:
        """(Re)load every symbol's filters from exchangeInfo; how many symbols."""
        info = await self.rest.public("GET", "/api/v3/exchangeInfo")
        self._rules = {entry["symbol"]: SymbolRules.from_exchange_info(entry) for entry in info["symbols"]}
        return len(self._rules)

    async def _mapper(self, symbol: str) -> OrderMapper | None:
        """The mapper of a Kestrel symbol's venue orders; None when the venue has no such symbol."""
        code = venue_symbol(symbol)
        if code not in self._rules:
            await self.load_rules()
        rules = self._rules.get(code)
        if rules is None:
            return None
        self._names[code] = symbol
        return OrderMapper(symbol, rules.base_asset, rules.quote_asset)

    async def submit(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent]:
        if not CLIENT_ORDER_ID.match(order.client_order_id):
            return [VenueRejected(now_ns(), MALFORMED, "client order id is not one Binance accepts")]
        mapper = await self._mapper(order.symbol)
        if mapper is None:
            return [VenueRejected(now_ns(), UNKNOWN_SYMBOL, f"Binance lists no {venue_symbol(order.symbol)}")]
        code = venue_symbol(order.symbol)
        violations = self._rules[code].check(order, open_orders=0)
        if violations:
            return [VenueRejected(now_ns(), violations[0].reason, "; ".join(v.message for v in violations))]
        try:
            placed = await self.rest.signed("POST", "/api/v3/order", order_params(order, code))
        except BinanceApiError as exc:
            return [
                VenueRejected(now_ns(), rejection_reason(exc.code, exc.msg), f"Binance {exc.code}: {exc.msg}")
            ]
        return mapper.order_events(order.client_order_id, placed)

    async def cancel(self, order: Order, meta: OrderMeta, reason: str) -> Sequence[VenueEvent]:
        mapper = await self._mapper(order.symbol)
        if mapper is None:
            return []
        self._cancel_reasons[order.client_order_id] = reason
        params = {"symbol": venue_symbol(order.symbol), "origClientOrderId": order.client_order_id}
        try:
            canceled = await self.rest.signed("DELETE", "/api/v3/order", params)
        except BinanceApiError as exc:
            if exc.code != UNKNOWN_ORDER_ON_CANCEL:
                raise OutcomeUnknownError(f"cancel {order.client_order_id}: {exc}") from exc
            return list(await self.resolve(order, meta) or [])  # already final: say how it ended
        return mapper.order_events(order.client_order_id, canceled, cancel_reason=reason)

    async def replace(
        self, order: Order, meta: OrderMeta, new: Order
    ) -> tuple[Sequence[VenueEvent], Sequence[VenueEvent]]:
        """Cancel `order` and place `new` in one request (cancel-replace, STOP_ON_FAILURE): the events
        of the old order, then of the new one."""
        mapper = await self._mapper(order.symbol)
        if mapper is None:
            return [], [VenueRejected(now_ns(), UNKNOWN_SYMBOL, f"Binance lists no {order.symbol}")]
        params = {
            **order_params(new, venue_symbol(new.symbol)),
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrigClientOrderId": order.client_order_id,
        }
        try:
            answer = await self.rest.signed("POST", "/api/v3/order/cancelReplace", params)
        except BinanceApiError as exc:
            text = f"Binance {exc.code}: {exc.msg}"
            return [], [VenueRejected(now_ns(), rejection_reason(exc.code, exc.msg), text)]
        old = mapper.order_events(order.client_order_id, answer["cancelResponse"])
        return old, mapper.order_events(new.client_order_id, answer["newOrderResponse"])

    async def resolve(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent] | None:
        mapper = await self._mapper(order.symbol)
        if mapper is None:
            return None
        code = venue_symbol(order.symbol)
        try:
            found = await self.rest.signed(
                "GET", "/api/v3/order", {"symbol": code, "origClientOrderId": order.client_order_id}
            )
        except BinanceApiError as exc:
            if exc.code == NO_SUCH_ORDER:
                return None
            raise OutcomeUnknownError(f"query {order.client_order_id}: {exc}") from exc
        trades = await self.rest.signed(
            "GET", "/api/v3/myTrades", {"symbol": code, "orderId": found["orderId"]}
        )
        reason = self._cancel_reasons.get(order.client_order_id)
        return mapper.order_events(order.client_order_id, found, trades, **_reason(reason))

    async def snapshot(self, symbols: Sequence[str], *, orders: bool = True) -> VenueSnapshot | None:
        opened = await self.rest.signed("GET", "/api/v3/openOrders") if orders else []  # weight 80
        account = await self.rest.signed("GET", "/api/v3/account")
        balances = {
            b["asset"]: Decimal(str(b["free"])) + Decimal(str(b["locked"])) for b in account["balances"]
        }
        listed = [VenueOrder(o["clientOrderId"], o["symbol"], Decimal(str(o["executedQty"]))) for o in opened]
        if any(venue_symbol(symbol) not in self._rules for symbol in symbols):
            await self.load_rules()
        bases = {
            s: self._rules[venue_symbol(s)].base_asset for s in symbols if venue_symbol(s) in self._rules
        }
        return VenueSnapshot(listed, balances, bases)

    async def market_time_ns(self, symbol: str, timeframe: str, store: ExecutionStore) -> int | None:
        return now_ns()  # a live venue's market runs on the wall clock

    def catch_up(self, instrument: Instrument) -> CatchUp | None:
        return None  # a live venue fills on its own time, never on stored bars

    def tasks(self, runtime: VenueRuntime, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
        ctx = runtime.context

        async def on_event(event: Mapping[str, Any]) -> None:
            if event.get("e") != "executionReport":
                return  # balance events: reconciliation reads balances by REST
            symbol = self._names.get(event["s"]) or self._kestrel_name(event["s"])
            rules = self._rules.get(event["s"])
            if symbol is None or rules is None:
                return
            mapper = OrderMapper(symbol, rules.base_asset, rules.quote_asset)
            reason = self._cancel_reasons.get(report_client_order_id(event))
            client_order_id, events = mapper.report_events(event, **_reason(reason))
            await ctx.apply(client_order_id, events)

        async def on_connected() -> None:  # what happened while nobody listened
            for stored in await ctx.store.open_orders(self.name, ctx.fee_asset):
                events = await self.resolve(stored.working.order, stored.meta)
                if events:
                    await ctx.apply(stored.meta.client_order_id, events)

        self.stream = UserStream(
            self._ws_api_url, self._credentials, self.rest.now_ms, on_event=on_event,
            on_connected=on_connected, recv_window_ms=self._recv_window_ms,
        )  # fmt: skip
        return [self.stream.run(stop), self._refresh_rules(stop)]

    def _kestrel_name(self, code: str) -> str | None:
        rules = self._rules.get(code)
        return f"{rules.base_asset}/{rules.quote_asset}" if rules is not None else None

    async def _refresh_rules(self, stop: asyncio.Event) -> None:
        try:
            await self._refresh_until(stop)
        finally:  # the last of the venue's tasks to need REST: its connections go with it
            await self.rest.close()

    async def _refresh_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            wait = self._rules_refresh_s
            try:
                offset = await self.rest.sync_time()
                count = await self.load_rules()
                _log.info("binance.rules_loaded", symbols=count, clock_offset_ms=offset)
            except Exception as exc:  # the venue is down: orders wait in the resolver meanwhile
                _log.warning("binance.rules_refresh_failed", error=repr(exc))
                wait = min(wait, RULES_RETRY_S)
            await sleep_or_stop(stop, wait)


def _reason(reason: str | None) -> dict[str, str]:
    return {"cancel_reason": reason} if reason else {}
