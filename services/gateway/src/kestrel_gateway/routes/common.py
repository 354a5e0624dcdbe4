"""Query parameters and dependencies the API routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from kestrel_gateway.auth import Caller, require
from kestrel_gateway.keys import Role

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT} rows")]
SymbolFilter = Annotated[str | None, Query(min_length=1, max_length=64, description="e.g. BTC/USDT")]
Viewer = Annotated[Caller, Depends(require(Role.VIEWER))]
Trader = Annotated[Caller, Depends(require(Role.TRADER))]
Admin = Annotated[Caller, Depends(require(Role.ADMIN))]
