"""Paging of the API's long lists (videos, scoring runs): ``limit`` and ``offset`` query parameters, the
whole count in ``X-Total-Count`` and the next page in a ``Link`` header (RFC 8288, ``rel="next"``), so a
client sees that there is more rather than meeting a silent cap."""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

MAX_LIMIT = 500  # rows per page at most, and the default: a client that never pages gets what it always got
MAX_OFFSET = 2**31 - 1  # beyond any list here; a larger one would overflow the database's integer (a 500)


class Page(Schema):
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT, description=f"rows in this page (1 to {MAX_LIMIT})")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="rows skipped from the start of the list")


def paged(request: HttpRequest, response: HttpResponse, queryset, page: Page):
    """The page's rows of ``queryset`` (ordered); sets ``X-Total-Count`` and, when rows follow, ``Link``."""
    total = queryset.count()
    response["X-Total-Count"] = str(total)
    end = page.offset + page.limit
    if end < total:
        query = request.GET.copy()
        query["offset"], query["limit"] = str(end), str(page.limit)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
    return queryset[page.offset : end]
