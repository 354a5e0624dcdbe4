"""The Kafka offset committer: a commit the group's rebalance made moot is dropped, not raised.

A member that commits offsets of a partition just revoked from it (a peer left the group during a
graceful stop) gets IllegalStateError from aiokafka, or CommitFailedError when the broker already
moved the generation on. Either way the new owner re-reads from the last commit (at-least-once), so
leaving must not fail; any other commit error still propagates.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaConnectionError

from kestrel_messaging.kafka import _Committer


class _Consumer:
    def __init__(self, error: Exception) -> None:
        self.error, self.commits = error, 0

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits += 1
        raise self.error

    def highwater(self, tp: TopicPartition) -> int | None:
        raise AssertionError("no lag is measured for a commit that did not happen")


@pytest.mark.parametrize(
    "error", [IllegalStateError("partition not assigned"), CommitFailedError("rebalanced")]
)
async def test_a_commit_the_rebalance_made_moot_is_dropped(error: Exception) -> None:
    consumer: Any = _Consumer(error)
    committer = _Committer(consumer, "backtest.jobs", "backtest")
    committer.done(TopicPartition("backtest.jobs", 2), 1)
    await committer.drain()
    assert consumer.commits == 1


async def test_any_other_commit_error_propagates() -> None:
    consumer: Any = _Consumer(KafkaConnectionError("broker gone"))
    committer = _Committer(consumer, "backtest.jobs", "backtest")
    committer.done(TopicPartition("backtest.jobs", 0), 5)
    with pytest.raises(KafkaConnectionError):
        await committer.drain()
