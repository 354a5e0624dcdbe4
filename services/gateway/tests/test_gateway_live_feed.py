"""The WebSocket fan-out hub and the subscribe protocol (pure)."""

from __future__ import annotations

import pytest

from kestrel_gateway.live_feed import MAX_SYMBOLS_PER_CLIENT, LiveFeed, parse_client_message


def test_a_message_reaches_only_the_clients_following_its_symbol() -> None:
    feed = LiveFeed(queue_size=10)
    btc, eth = feed.connect(), feed.connect()
    btc.symbols, eth.symbols = {"BTC/USDT"}, {"ETH/USDT"}
    assert feed.broadcast("bar", "BTC/USDT", {"close": "1"}) == 1
    assert btc.queue.get_nowait() == {"type": "bar", "symbol": "BTC/USDT", "data": {"close": "1"}}
    assert eth.queue.empty()
    feed.disconnect(btc)
    assert feed.broadcast("bar", "BTC/USDT", {}) == 0 and feed.clients == 1


def test_a_full_queue_drops_and_the_client_is_told_how_many_it_missed() -> None:
    feed = LiveFeed(queue_size=1)
    client = feed.connect()
    client.symbols = {"X"}
    assert feed.broadcast("bar", "X", {"n": 1}) == 1
    assert feed.broadcast("bar", "X", {"n": 2}) == 0  # dropped
    client.queue.get_nowait()
    feed.broadcast("bar", "X", {"n": 3})
    assert client.queue.get_nowait() == {"type": "bar", "symbol": "X", "data": {"n": 3}, "dropped_before": 1}


def test_subscribe_and_unsubscribe_messages() -> None:
    following = parse_client_message({"subscribe": ["A", "B"]}, set())
    assert following == {"A", "B"}
    assert parse_client_message({"unsubscribe": ["A"], "subscribe": ["C"]}, following) == {"B", "C"}


@pytest.mark.parametrize(
    "message",
    [
        [],
        {"subscribe": "A"},
        {"subscribe": [1]},
        {"follow": ["A"]},
        {"subscribe": ["A"], "x": 1},
        {"subscribe": [""]},
    ],
)
def test_malformed_client_messages_are_refused(message: object) -> None:
    with pytest.raises(ValueError):
        parse_client_message(message, set())


def test_a_client_follows_a_bounded_number_of_symbols() -> None:
    with pytest.raises(ValueError, match="at most"):
        parse_client_message({"subscribe": [f"S{i}" for i in range(MAX_SYMBOLS_PER_CLIENT + 1)]}, set())
