"""How the online store writes a vector's values: a JSON object, undefined values as null.

JSON has no NaN; a feature that is undefined at a bar (warming up, no reference bar, zero variance)
is written as null and read back as NaN, so readers in any language see "no value", never a string.
Infinities are undefined values too and take the same path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping


def encode_values(values: Mapping[str, float]) -> str:
    return json.dumps(
        {name: (value if math.isfinite(value) else None) for name, value in values.items()},
        separators=(",", ":"),
        allow_nan=False,
    )


def decode_values(text: str | bytes) -> dict[str, float]:
    raw: dict[str, float | None] = json.loads(text)
    return {name: (math.nan if value is None else float(value)) for name, value in raw.items()}
