"""Kestrel execution service: approved orders (Redis stream execution.orders) -> broker -> fills.

Pure pieces: `intake` (request -> Order or rejection), `progress` (a bar's effect on a working order),
`reports` (ExecutionReport messages). Edges: `broker` (the Broker interface, PaperBroker), `store` /
`repository` (PostgreSQL), `idempotency` (Redis), `outbox` (publishing reports). `handlers` wire a
message to those; `service` runs the consumers (see its docstring for idempotency and crash safety).
"""
