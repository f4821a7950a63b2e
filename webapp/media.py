"""Serving files from MEDIA_ROOT through views (ownership is checked by the caller), with HTTP Range support.

MEDIA_ROOT is never served publicly. A video player seeks by asking for byte ranges (RFC 9110 §14): we
answer ``206 Partial Content`` with ``Content-Range`` for one satisfiable range, ``416`` with
``Content-Range: bytes */N`` for an unsatisfiable one, and the whole file (200) without a Range header or
with several ranges.

Memory stays flat whatever the file size: bodies are generated block by block, as an async iterator under ASGI
(Django would otherwise read a sync iterator into one list) and a sync one under WSGI. An open-ended range
(``bytes=N-``, what players send) is answered with at most ``OPEN_RANGE_MAX_BYTES``; players ask for the
next part when they need it.
"""

import asyncio
import os
import re
from pathlib import Path

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

STREAM_BLOCK_BYTES = 512 * 1024
OPEN_RANGE_MAX_BYTES = 16 * 1024 * 1024
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRange(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive byte positions for a single-range header; None to send the whole file."""
    header = header.strip()
    if not header or "," in header:
        return None
    match = RANGE_PATTERN.match(header.replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None  # a malformed header is ignored, as RFC 9110 allows
    first_text, last_text = match.groups()
    if first_text == "":  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise UnsatisfiableRange()
        return max(size - length, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else min(size, first + OPEN_RANGE_MAX_BYTES) - 1
    if first >= size or last < first:
        raise UnsatisfiableRange()
    return first, min(last, size - 1)


async def aiter_file_range(path: Path, first: int, length: int):
    """The same blocks as iter_file_range, read in a worker thread so the event loop never waits on disk."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        await asyncio.to_thread(handle.seek, first)
        remaining = length
        while remaining > 0:
            block = await asyncio.to_thread(handle.read, min(STREAM_BLOCK_BYTES, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block
    finally:
        handle.close()


def iter_file_range(path: Path, first: int, length: int):
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            block = handle.read(min(STREAM_BLOCK_BYTES, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def not_modified(request, mtime: float) -> bool:
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(mtime) <= since and "Range" not in request.headers


def ranged_file_response(request, path: Path, content_type: str, cache_seconds: int = 3600) -> HttpResponse:
    """Serve ``path`` (which the caller has checked the user may read) with Range support."""
    stat = os.stat(path)
    size = stat.st_size
    if not_modified(request, stat.st_mtime):
        response = HttpResponse(status=304)
    else:
        try:
            byte_range = parse_range(request.headers.get("Range", ""), size)
        except UnsatisfiableRange:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            response["Accept-Ranges"] = "bytes"
            return response
        response = range_or_full_response(request, path, content_type, size, byte_range)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = f"private, max-age={cache_seconds}"
    return response


def range_or_full_response(request, path: Path, content_type: str, size: int, byte_range) -> HttpResponse:
    if request.method == "HEAD":
        response = HttpResponse(content_type=content_type, status=200 if byte_range is None else 206)
        response["Content-Length"] = str(size if byte_range is None else byte_range[1] - byte_range[0] + 1)
        if byte_range is not None:
            response["Content-Range"] = f"bytes {byte_range[0]}-{byte_range[1]}/{size}"
        return response
    first, last = byte_range if byte_range is not None else (0, size - 1)
    length = last - first + 1
    blocks = aiter_file_range if isinstance(request, ASGIRequest) else iter_file_range
    status = 200 if byte_range is None else 206
    response = StreamingHttpResponse(blocks(path, first, length), status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    if byte_range is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response
