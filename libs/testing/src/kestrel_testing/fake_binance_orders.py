"""The SIGNED trading REST endpoints of the fake Binance, on top of the matching engine.

POST/GET/DELETE /api/v3/order, POST /api/v3/order/cancelReplace, GET /api/v3/openOrders, allOrders,
myTrades and account. The server's middleware has already applied `fail_next` and charged the weight
(see `weight`) when a handler here runs, so a request failed that way never reaches the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kestrel_testing.fake_binance_auth import SIGNED_PARAMS, SignatureChecker, rest_payload
from kestrel_testing.fake_binance_limits import OrderCounter, PlacementFaults
from kestrel_testing.fake_binance_matching import FakeExchange
from kestrel_testing.fake_binance_model import OrderRequest
from kestrel_testing.fake_binance_params import (
    NEW_ORDER_PARAMS,
    client_id_param,
    order_lookup,
    parse_new_order,
    request_params,
    required_symbol,
)
from kestrel_testing.fake_binance_queries import register_queries
from kestrel_testing.fake_binance_rest import (
    RejectedRequestError,
    check_known_params,
    invalid_parameter,
    invalid_symbol,
    mandatory_missing,
)
from kestrel_testing.fake_binance_wire import cancel_response, order_response, query_order

_FIXED_WEIGHT = {
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/cancelReplace"): 1,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/account"): 20,
}
_CANCEL_REPLACE_PARAMS = NEW_ORDER_PARAMS | {
    "cancelReplaceMode",
    "cancelNewClientOrderId",
    "cancelOrigClientOrderId",
    "cancelOrderId",
}
_CANCEL_PARAMS = frozenset({"symbol", "orderId", "origClientOrderId", "newClientOrderId"})


def trading_weight(method: str, path: str, query: Mapping[str, str]) -> int | None:
    """The documented request weight of a trading endpoint; None for any other path."""
    if path == "/api/v3/openOrders":
        return 6 if query.get("symbol") else 80
    if path == "/api/v3/myTrades":
        return 5 if query.get("orderId") else 20
    return _FIXED_WEIGHT.get((method, path))


class TradingApi:
    def __init__(
        self, engine: FakeExchange, checker: SignatureChecker, orders: OrderCounter, faults: PlacementFaults
    ) -> None:
        self.engine = engine
        self.checker = checker
        self.orders = orders
        self.faults = faults

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/v3/order", self._new_order)
        app.router.add_get("/api/v3/order", self._query_order)
        app.router.add_delete("/api/v3/order", self._cancel_order)
        app.router.add_post("/api/v3/order/cancelReplace", self._cancel_replace)
        register_queries(app, self.engine, self.signed)

    async def signed(self, request: web.Request, known: frozenset[str]) -> dict[str, str]:
        """The request's params once its key, signature and timestamp pass, and none is unknown."""
        params, raw_query, raw_body = await request_params(request)
        self.checker.check(request.headers.get("X-MBX-APIKEY"), params, rest_payload(raw_query, raw_body))
        check_known_params(params, set(known | SIGNED_PARAMS))
        return params

    async def _new_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, NEW_ORDER_PARAMS)
        order, resp_type = parse_new_order(params)
        headers = self.orders.count()
        try:
            placed = self.engine.place(order)
        except RejectedRequestError as failure:
            # A refused order still answers with the order-count headers, as Binance's do.
            failure.headers.update(headers)
            raise
        body = order_response(placed.order, placed.fills, resp_type, self.engine.now())
        await self.faults.after_execution()
        return web.json_response(body, headers=headers)

    async def _query_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"symbol", "orderId", "origClientOrderId"}))
        symbol = required_symbol(params)
        order_id, client_id = order_lookup(params, "orderId", "origClientOrderId")
        if symbol not in self.engine.symbols:
            raise invalid_symbol()
        order = self.engine.find(symbol, order_id=order_id, client_order_id=client_id)
        if order is None:
            raise RejectedRequestError(400, -2013, "Order does not exist.")
        return web.json_response(query_order(order))

    async def _cancel_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, _CANCEL_PARAMS)
        symbol = required_symbol(params)
        order_id, client_id = order_lookup(params, "orderId", "origClientOrderId")
        new_id = client_id_param(params, "newClientOrderId")
        order = self.engine.cancel(
            symbol, order_id=order_id, orig_client_order_id=client_id, new_client_order_id=new_id
        )
        return web.json_response(cancel_response(order, self.engine.now()))

    async def _cancel_replace(self, request: web.Request) -> web.Response:
        params = await self.signed(request, _CANCEL_REPLACE_PARAMS)
        mode = params.get("cancelReplaceMode")
        if not mode:
            raise mandatory_missing("cancelReplaceMode")
        if mode not in {"STOP_ON_FAILURE", "ALLOW_FAILURE"}:
            raise invalid_parameter("cancelReplaceMode")
        order, resp_type = parse_new_order(params)
        cancel_id, cancel_client_id = order_lookup(params, "cancelOrderId", "cancelOrigClientOrderId")
        headers = self.orders.count()
        canceled: dict[str, Any] | None = None
        cancel_error: dict[str, Any] = {}
        try:
            closed = self.engine.cancel(
                order.symbol,
                order_id=cancel_id,
                orig_client_order_id=cancel_client_id,
                new_client_order_id=client_id_param(params, "cancelNewClientOrderId"),
            )
            canceled = cancel_response(closed, self.engine.now())
        except RejectedRequestError as failure:
            cancel_error = failure.error_body()
            if mode == "STOP_ON_FAILURE":
                raise _cancel_replace_error(cancel_error, None, headers) from None
        placed_body, new_error = self._place_for_replace(order, resp_type, cancel_ok=canceled is not None)
        if canceled is not None and placed_body is not None:
            body = {
                "cancelResult": "SUCCESS",
                "newOrderResult": "SUCCESS",
                "cancelResponse": canceled,
                "newOrderResponse": placed_body,
            }
            await self.faults.after_execution()
            return web.json_response(body, headers=headers)
        raise _cancel_replace_error(canceled or cancel_error, placed_body or new_error, headers)

    def _place_for_replace(
        self, order: OrderRequest, resp_type: str, *, cancel_ok: bool
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(response of the new order, None) or (None, its error); a REJECTED report after a cancel."""
        try:
            placed = self.engine.place(order)
        except RejectedRequestError as failure:
            if cancel_ok:
                reason = "INSUFFICIENT_BALANCES" if "insufficient balance" in failure.msg else "NONE"
                self.engine.report_rejection(order, reason)
            return None, failure.error_body()
        return order_response(placed.order, placed.fills, resp_type, self.engine.now()), None


def _cancel_replace_error(
    cancel: dict[str, Any], new: dict[str, Any] | None, headers: dict[str, str]
) -> RejectedRequestError:
    """Binance's shapes: both failed (or STOP_ON_FAILURE stopped) -2022 / 400, one failed -2021 / 409."""
    cancel_ok = "code" not in cancel
    new_ok = new is not None and "code" not in new
    data = {
        "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
        "newOrderResult": "NOT_ATTEMPTED" if new is None else ("SUCCESS" if new_ok else "FAILURE"),
        "cancelResponse": cancel,
        "newOrderResponse": new,
    }
    if cancel_ok or new_ok:
        msg = "Order cancel-replace partially failed."
        return RejectedRequestError(409, -2021, msg, data=data, headers=headers)
    return RejectedRequestError(400, -2022, "Order cancel-replace failed.", data=data, headers=headers)
