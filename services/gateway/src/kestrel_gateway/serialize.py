"""JSON-ready values for responses: Decimals as exact decimal strings (never floats), times as ISO 8601."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from kestrel_contracts.decimals import to_wire
from kestrel_contracts.events import ns_to_datetime

__all__ = ["jsonable", "ns_iso", "row_dict"]


def jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity; an undefined statistic is null
    if isinstance(value, Decimal):
        return to_wire(value) if value.is_finite() else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def row_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: jsonable(value) for key, value in row.items()}


def ns_iso(ts_ns: int) -> str:
    return ns_to_datetime(ts_ns).isoformat()
