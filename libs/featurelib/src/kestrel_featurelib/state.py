"""Per-symbol streaming state: one bar in, one feature vector out, snapshot and restore."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kestrel_featurelib.streaming import Program, Ring

NAN = math.nan
_MAGIC = b"KFS1"


class OutOfOrderBarError(ValueError):
    """A bar whose ts is not after the last one fed: the state would otherwise double-count it."""


class StreamingState:
    """Feature state of one symbol. Create it with ``FeatureSet.new_state()`` or ``FeatureSet.restore()``."""

    def __init__(self, program: Program, version: str, names: Sequence[str], warmups: Sequence[int]) -> None:
        self._program = program
        self._version = version
        self._names = tuple(names)
        self._vals: list[float] = [NAN] * len(program.nodes)
        self._bar: list[float] = [NAN] * 6
        self._rings: dict[int, Ring] = program.new_rings()
        self._memo: dict[tuple[int, ...], Any] = {}
        self._steps = program.bind(self._vals, self._bar, self._rings, self._memo)
        self._outputs = list(zip(self._names, program.root_slots, warmups, strict=True))
        self.bars_seen = 0
        self.last_ts: int | None = None

    def update(  # noqa: PLR0917 - the bar's fields in their usual order, the documented contract
        self,
        ts: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        reference_close: float | None = None,
    ) -> dict[str, float]:
        """Advance by one closed bar; NaN for each feature until its warm-up is complete."""
        if self.last_ts is not None and ts <= self.last_ts:
            raise OutOfOrderBarError(f"bar ts {ts} is not after the last one fed ({self.last_ts})")
        bar = self._bar
        # float(): numpy scalars would slow every later Python-level operation several-fold.
        bar[0], bar[1], bar[2], bar[3], bar[4] = (
            float(open),
            float(high),
            float(low),
            float(close),
            float(volume),
        )
        bar[5] = NAN if reference_close is None else float(reference_close)
        self._memo.clear()
        for step in self._steps:
            step()
        self.bars_seen += 1
        self.last_ts = ts
        seen, vals = self.bars_seen, self._vals
        return {name: (vals[slot] if seen >= warmup else NAN) for name, slot, warmup in self._outputs}

    def snapshot(self) -> dict[str, Any]:
        """Plain-data copy of the state (JSON-able except for NaN floats, which Python's json accepts)."""
        return {
            "version": self._version,
            "bars_seen": self.bars_seen,
            "last_ts": self.last_ts,
            "rings": {str(i): ring.contents() for i, ring in self._rings.items()},
        }

    def load(self, snapshot: Mapping[str, Any]) -> None:
        if snapshot.get("version") != self._version:
            raise ValueError(
                f"snapshot is of feature set {snapshot.get('version')!r}, this state is {self._version!r}"
            )
        rings = snapshot["rings"]
        if set(rings) != {str(i) for i in self._rings}:
            raise ValueError("snapshot rings do not match this feature set's layout")
        for i, ring in self._rings.items():
            ring.load(rings[str(i)])
        self.bars_seen = int(snapshot["bars_seen"])
        last_ts = snapshot["last_ts"]
        self.last_ts = None if last_ts is None else int(last_ts)

    def to_bytes(self) -> bytes:
        """Compact binary snapshot: a JSON header, then every ring as little-endian float64."""
        header = {"version": self._version, "bars_seen": self.bars_seen, "last_ts": self.last_ts}
        head = json.dumps(header).encode()
        payload = np.concatenate([np.asarray(r.contents(), dtype="<f8") for r in self._rings.values()])
        return _MAGIC + struct.pack("<I", len(head)) + head + payload.tobytes()

    def load_bytes(self, data: bytes) -> None:
        if data[:4] != _MAGIC:
            raise ValueError("not a feature-state snapshot")
        (head_len,) = struct.unpack("<I", data[4:8])
        header = json.loads(data[8 : 8 + head_len])
        if header.get("version") != self._version:
            raise ValueError(
                f"snapshot is of feature set {header.get('version')!r}, this is {self._version!r}"
            )
        payload = np.frombuffer(data[8 + head_len :], dtype="<f8")
        expected = sum(r.cap for r in self._rings.values())
        if len(payload) != expected:
            raise ValueError(f"snapshot holds {len(payload)} values, this feature set needs {expected}")
        rings: dict[str, list[float]] = {}
        offset = 0
        for i, ring in self._rings.items():
            rings[str(i)] = payload[offset : offset + ring.cap].tolist()
            offset += ring.cap
        self.load({**header, "rings": rings})
