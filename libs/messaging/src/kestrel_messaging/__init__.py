"""Kafka and Redis Streams publishers/consumers with DLQ, plus an in-memory fake behind one interface."""

from kestrel_messaging.envelope import (
    BatchHandler,
    ConsumerOptions,
    DecodeError,
    Delivery,
    Handler,
    PermanentError,
)
from kestrel_messaging.interface import MessageBus, Subscription
from kestrel_messaging.memory import InMemoryBus
from kestrel_messaging.router import TransportRouter, connect

__all__ = [
    "BatchHandler",
    "ConsumerOptions",
    "DecodeError",
    "Delivery",
    "Handler",
    "InMemoryBus",
    "MessageBus",
    "PermanentError",
    "Subscription",
    "TransportRouter",
    "connect",
]
