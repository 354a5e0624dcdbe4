"""The online store in Redis: `feat:{symbol}` (latest vector) and the symbol's state snapshot.

Two hashes per symbol:
- `feat:{symbol}`: version, timeframe, ts_open, ts_event, event_id, source_bar_event_id, close and
  values (a JSON object, undefined values as null) — what inference and the gateway read;
- `featstate:{timeframe}:{symbol}`: version, ts_open (the last bar the state includes), bars_seen and
  state (the catalogue's snapshot bytes) — what a restarted or rebalanced consumer resumes from.
Both are written by one Lua script, atomically, and only when the snapshot moves forward in time for
its version, so a stale consumer (one that lost the symbol in a rebalance) can never rewind either.
The two keys are not hash-tagged: this targets one Redis server, not Redis Cluster.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aioredis

from kestrel_features.adapters.online_codec import decode_values, encode_values
from kestrel_features.ports import OnlineVector, SnapshotMarker, StateSnapshot

# Positions compare as decimal strings (shorter is smaller, then lexicographic): exact for any int64
# nanosecond time, where Lua numbers (doubles) would round.
_COMMIT = """
local cur = redis.call('HMGET', KEYS[1], 'version', 'ts_open')
if cur[1] == ARGV[1] and cur[2] then
  local a, b = cur[2], ARGV[2]
  if #a > #b or (#a == #b and a >= b) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'ts_open', ARGV[2], 'bars_seen', ARGV[3], 'state', ARGV[4])
if #ARGV > 4 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 5))
end
return 1
"""


def vector_fields(vector: OnlineVector) -> dict[str, str]:
    return {
        "symbol": vector.symbol,
        "timeframe": vector.timeframe,
        "version": vector.version,
        "ts_open": str(vector.ts_open),
        "ts_event": str(vector.ts_event),
        "event_id": vector.event_id,
        "source_bar_event_id": vector.source_bar_event_id,
        "close": vector.close,
        "values": encode_values(vector.values),
    }


def vector_from_fields(fields: dict[str, str]) -> OnlineVector:
    return OnlineVector(
        symbol=fields["symbol"],
        timeframe=fields["timeframe"],
        version=fields["version"],
        ts_open=int(fields["ts_open"]),
        ts_event=int(fields["ts_event"]),
        event_id=fields["event_id"],
        source_bar_event_id=fields["source_bar_event_id"],
        close=fields["close"],
        values=decode_values(fields["values"]),
    )


class RedisOnlineStore:
    def __init__(
        self,
        client: aioredis.Redis,
        timeframe: str,
        *,
        vector_prefix: str = "feat:",
        state_prefix: str = "featstate:",
    ) -> None:
        self._redis = client
        self._timeframe = timeframe
        self._vector_prefix, self._state_prefix = vector_prefix, f"{state_prefix}{timeframe}:"
        self._commit = client.register_script(_COMMIT)

    @classmethod
    def from_url(cls, url: str, timeframe: str, **prefixes: str) -> RedisOnlineStore:
        # Bytes responses: the state snapshot is binary.
        return cls(aioredis.from_url(url, decode_responses=False), timeframe, **prefixes)

    def vector_key(self, symbol: str) -> str:
        return f"{self._vector_prefix}{symbol}"

    def state_key(self, symbol: str) -> str:
        return f"{self._state_prefix}{symbol}"

    async def marker(self, symbol: str) -> SnapshotMarker | None:
        found = await self._redis.hmget(self.state_key(symbol), ["version", "ts_open"])
        version, ts_open = cast(list[bytes | None], found)
        if version is None or ts_open is None:
            return None
        return SnapshotMarker(version.decode(), int(ts_open))

    async def load_snapshot(self, symbol: str) -> StateSnapshot | None:
        fields = cast(dict[bytes, bytes], await self._redis.hgetall(self.state_key(symbol)))
        if b"state" not in fields:
            return None
        return StateSnapshot(
            version=fields[b"version"].decode(),
            ts_open=int(fields[b"ts_open"]),
            bars_seen=int(fields[b"bars_seen"]),
            state=fields[b"state"],
        )

    async def commit(self, symbol: str, snapshot: StateSnapshot, vector: OnlineVector | None) -> bool:
        args: list[Any] = [snapshot.version, str(snapshot.ts_open), str(snapshot.bars_seen), snapshot.state]
        if vector is not None:
            for name, value in vector_fields(vector).items():
                args += [name, value]
        written = await self._commit(keys=[self.state_key(symbol), self.vector_key(symbol)], args=args)
        return bool(written)

    async def latest_vector(self, symbol: str) -> OnlineVector | None:
        raw = cast(dict[bytes, bytes], await self._redis.hgetall(self.vector_key(symbol)))
        if not raw:
            return None
        return vector_from_fields({k.decode(): v.decode() for k, v in raw.items()})

    async def ping(self) -> None:
        if not await self._redis.ping():
            raise ConnectionError("Redis did not answer PING")

    async def close(self) -> None:
        await self._redis.aclose()
