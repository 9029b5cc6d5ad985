"""One page shape for every list under /api/: ``count``, ``page``, ``num_pages``, ``page_size``, ``next``,
``previous`` and ``results``; ``?page=N&page_size=M`` (at most 100)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 100


def page_number(raw: str | None) -> int:
    """The page asked for (1 when absent): a whole number from 1, else a 400 naming ``page``."""
    if raw is None:
        return 1
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise exceptions.ValidationError({"page": [_("Enter a whole number from 1.")]})
    return int(raw)


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = "A page number within the paginated result set (1 is the first)."
    page_size_query_description = f"Number of results per page (1 to {MAX_PAGE_SIZE}, default 20)."

    def get_page_size(self, request):
        """The page size asked for; a value that is not a whole number from 1 to 100 is a 400 naming
        ``page_size`` (DRF would silently fall back to the default)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [_("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}]})
        return int(raw)

    def get_page_number(self, request, paginator):
        """A whole number from 1 (or ``last``); anything else is a 400 naming ``page``. A page past the last is
        still the paginator's 404."""
        raw = request.query_params.get(self.page_query_param)
        if raw in self.last_page_strings:
            return paginator.num_pages
        return page_number(raw)

    def page_links(self, request, number: int, num_pages: int) -> tuple[str | None, str | None]:
        url = request.build_absolute_uri()
        following = replace_query_param(url, self.page_query_param, number + 1) if number < num_pages else None
        if number <= 1:
            preceding = None
        elif number == 2:
            preceding = remove_query_param(url, self.page_query_param)
        else:
            preceding = replace_query_param(url, self.page_query_param, number - 1)
        return following, preceding

    def envelope(self, *, count: int, number: int, num_pages: int, page_size: int, following, preceding,
                 results) -> dict:
        return {"count": count, "page": number, "num_pages": num_pages, "page_size": page_size,
                "next": following, "previous": preceding, "results": results}

    def get_paginated_response(self, data, **extra):
        page = self.page
        return Response({**self.envelope(
            count=page.paginator.count, number=page.number, num_pages=page.paginator.num_pages,
            page_size=page.paginator.per_page, following=self.get_next_link(), preceding=self.get_previous_link(),
            results=data), **extra})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "page", "num_pages", "page_size", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "page": {"type": "integer", "example": 1},
                "num_pages": {"type": "integer", "example": 7},
                "page_size": {"type": "integer", "example": 20},
                "next": {"type": "string", "nullable": True, "format": "uri",
                         "example": "http://127.0.0.1:8000/api/listings/?page=2"},
                "previous": {"type": "string", "nullable": True, "format": "uri", "example": None},
                "results": schema,
            },
        }
