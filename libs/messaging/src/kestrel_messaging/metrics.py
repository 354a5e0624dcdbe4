"""Prometheus metrics every publisher and consumer reports, whatever the transport."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_PUBLISHED = Counter("messages_published_total", "Messages published, by channel.", ["channel"])
MESSAGES_CONSUMED = Counter(
    "messages_consumed_total",
    "Messages taken off a channel, by channel, consumer group and outcome (ok, dlq).",
    ["channel", "group", "outcome"],
)
DLQ_MESSAGES = Counter(
    "dlq_messages_total",
    "Messages sent to a dead-letter channel, by source channel, group and error type.",
    ["channel", "group", "error"],
)
HANDLER_RETRIES = Counter(
    "message_handler_retries_total", "Handler retries after an exception.", ["channel", "group"]
)
HANDLER_SECONDS = Histogram(
    "message_handler_seconds",
    "Time a handler spent on one message, including retries.",
    ["channel", "group"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CONSUMER_LAG = Gauge(
    "consumer_lag_messages",
    "Messages on the channel not yet processed by the group (Kafka: per partition; Redis: pending).",
    ["channel", "group", "partition"],
)
RECLAIMED = Counter(
    "stream_entries_reclaimed_total",
    "Redis stream entries claimed from a consumer that stopped acknowledging them.",
    ["channel", "group"],
)
