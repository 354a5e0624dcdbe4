"""Upload your own OHLCV history (trader): POST /api/bars/upload with the CSV as the raw body.

The body is streamed to a temporary file (refused with 413 once it passes MAX_UPLOAD_BYTES, without
ever holding it in memory), then replayed through the ingestion pipeline (bar_upload.py), so the bars
are validated, stored in market.bars and published on market.bars like any ingested bar, and can be
backtested at once. The file is deleted when the request ends, whatever its outcome.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from kestrel_gateway.auth import runtime_of
from kestrel_gateway.bar_upload import ingest_upload, open_upload, summary
from kestrel_gateway.errors import ApiError
from kestrel_gateway.routes.common import Trader
from kestrel_ingestion.domain import timeframe_ns
from kestrel_platform.logging import get_logger

router = APIRouter(prefix="/api", tags=["market"])
_log = get_logger("kestrel.gateway.uploads")

# Read at each request (not bound at import) so that tests can lower it.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CONTENT_TYPES = ("text/csv", "application/octet-stream")
# Body chunks are gathered up to this much before one write in a worker thread.
_WRITE_BUFFER = 1024 * 1024
_NAME = r"^[A-Za-z0-9._/-]+$"

_BINARY = {"schema": {"type": "string", "format": "binary"}}
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the CSV file itself (header row with time, open, high, low, close[, volume])",
        "content": {content_type: _BINARY for content_type in CONTENT_TYPES},
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the valid bars were stored and published; counts and the first problems"},
    413: {"description": f"the body is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB"},
    415: {"description": f"Content-Type is not one of {', '.join(CONTENT_TYPES)}"},
    422: {"description": "bad parameters, an empty body, an unreadable file or not one valid bar"},
    503: {"description": "PostgreSQL or Kafka failed part-way; uploading the same file again is safe"},
}


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the upload is limited to {limit:,} bytes; split the file")


async def _receive(request: Request, path: Path) -> int:
    """Stream the body into `path`; its size in bytes, or 413 as soon as it is known to be too big."""
    limit = MAX_UPLOAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)  # refused before reading a byte of it
    size = 0
    buffer = bytearray()
    with path.open("wb") as out:
        # Counted as it arrives: a chunked body has no Content-Length, and a declared one may lie.
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            buffer += chunk
            if len(buffer) >= _WRITE_BUFFER:
                await asyncio.to_thread(out.write, buffer)
                buffer.clear()
        if buffer:
            await asyncio.to_thread(out.write, buffer)
    return size


def _check_request(request: Request, timeframe: str | None) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the CSV as the raw body with Content-Type {' or '.join(CONTENT_TYPES)}; "
            f"got {content_type or 'none'}",
        )
    if timeframe is not None:
        try:
            timeframe_ns(timeframe)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None


@router.post(
    "/bars/upload",
    summary="Upload OHLCV history as CSV: validated, stored and published like ingested bars",
    responses=RESPONSES,
    openapi_extra=REQUEST_BODY,
)
async def upload_bars(
    *,
    request: Request,
    caller: Trader,
    symbol: Annotated[str, Query(min_length=1, max_length=32, pattern=_NAME, examples=["MYCOIN"])],
    timeframe: Annotated[
        str | None, Query(max_length=8, description="inferred from the bar spacing when omitted")
    ] = None,
    venue: Annotated[str, Query(min_length=1, max_length=32, pattern=_NAME)] = "UPLOAD",
) -> dict[str, Any]:
    _check_request(request, timeframe)
    runtime = runtime_of(request)
    with tempfile.TemporaryDirectory(prefix="kestrel-upload-") as folder:
        # The file's name is what problems are located by ("upload.csv:17"), so it is not random.
        path = Path(folder) / "upload.csv"
        if await _receive(request, path) == 0:
            raise ApiError(422, "empty_body", "the body is empty: send the CSV file as the request body")
        try:
            file = await asyncio.to_thread(open_upload, path, symbol=symbol, timeframe=timeframe, venue=venue)
        except ValueError as exc:  # FileFormatError: no header, a missing column, no timeframe to infer
            raise ApiError(422, "invalid_file", str(exc)) from None
        try:
            result = await ingest_upload(runtime, file, symbol)
        except Exception as exc:
            _log.error("bars.upload_failed", key_id=caller.key_id, symbol=symbol, error=repr(exc))
            raise ApiError(
                503,
                "ingest_failed",
                "storing or publishing the bars failed part-way; uploading the same file again is safe "
                "(stored bars are kept, republished ones carry the same event ids)",
            ) from None
    answer = summary(result, file, venue)
    if answer["bars_accepted"] == 0:  # then nothing was stored or published
        raise ApiError(422, "no_valid_bars", _no_bars(answer))
    _log.info(
        "bars.uploaded",
        key_id=caller.key_id,
        symbol=symbol,
        timeframe=answer["timeframe"],
        stored=answer["bars_stored"],
        rejected=answer["rows_rejected"],
    )
    return answer


def _no_bars(answer: dict[str, Any]) -> str:
    problems: list[dict[str, str]] = answer["problems"]
    shown = "; ".join(f"{p['location']}: {p['reason']}" for p in problems[:5])
    more = f" (first {min(len(problems), 5)} of {answer['rows_rejected']})" if problems else ""
    return f"not one valid bar in {answer['rows_read']} row(s){more}{': ' + shown if shown else ''}"


__all__ = ["CONTENT_TYPES", "MAX_UPLOAD_BYTES", "router"]
