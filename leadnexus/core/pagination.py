"""List pagination for the API.

`PageNumberPagination` is the default: `?page=&page_size=`, answering
`{count, next, previous, results}`. `KeysetPagination` serves large ordered lists
(the catalog): `?cursor=`, the same envelope without `count`, and a query that
stays fast however deep the page because it seeks on (ordering value, id)
instead of counting an offset. Without `?page_size=` both use the signed-in user's
items-per-page preference (`preferred_page_size`, which list pages share).
"""

import base64
import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def preferred_page_size(user) -> int:
    """The default page size for `user`: their items-per-page preference, resolved through
    `settings.PAGE_SIZE_FOR_USER` (core cannot import accounts), else `settings.PAGE_SIZE`."""
    resolver = getattr(settings, "PAGE_SIZE_FOR_USER", None)
    if user is None or not user.is_authenticated or not resolver:
        return settings.PAGE_SIZE
    size = import_string(resolver)(user=user) or settings.PAGE_SIZE
    return max(1, min(size, settings.MAX_PAGE_SIZE))


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.MAX_PAGE_SIZE

    def get_page_size(self, request):
        # An explicit, valid ?page_size= wins; otherwise the user's preference.
        return super().get_page_size(request) or preferred_page_size(getattr(request, "user", None))


@dataclass(frozen=True)
class _Cursor:
    value: object
    pk: int
    reverse: bool  # True when paging backwards (the "previous" link)


class KeysetPagination(pagination.BasePagination):
    """Seek pagination on one ordering field plus the primary key as tie-breaker.

    The view sets `keyset_ordering` (e.g. "-created_at") or lets `?ordering=`
    choose one of `ordering_fields`. Order fields must be non-null, and each
    whitelisted ordering should have a composite index on (field, id).
    """

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    max_page_size = settings.MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        self.request = request
        self.page_size = self._page_size(request)
        self.ordering = self._ordering(request, view)
        field = self.ordering.lstrip("-")
        descending = self.ordering.startswith("-")
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        backwards = cursor is not None and cursor.reverse
        # Walking backwards reads the reversed order, then flips the page.
        walk_descending = descending != backwards
        if cursor is not None:
            op = "lt" if walk_descending else "gt"
            queryset = queryset.filter(
                Q(**{f"{field}__{op}": cursor.value}) | Q(**{field: cursor.value, f"pk__{op}": cursor.pk})
            )
        prefix = "-" if walk_descending else ""
        rows = list(queryset.order_by(f"{prefix}{field}", f"{prefix}pk")[: self.page_size + 1])
        has_more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.field = field
        self.has_next = has_more if not backwards else True
        self.has_previous = (cursor is not None) if not backwards else has_more
        self.page = rows
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self._link(forward=True), "previous": self._link(forward=False), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query", "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query", "schema": {"type": "integer"}},
        ]

    def _page_size(self, request) -> int:
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            size = preferred_page_size(getattr(request, "user", None))
        return max(1, min(size, self.max_page_size))

    def _ordering(self, request, view) -> str:
        allowed = getattr(view, "ordering_fields", None) or []
        requested = request.query_params.get("ordering")
        if requested and requested.lstrip("-") in allowed:
            return requested
        return view.keyset_ordering

    def _link(self, *, forward: bool):
        if not self.page or not (self.has_next if forward else self.has_previous):
            return None
        edge = self.page[-1] if forward else self.page[0]
        value = getattr(edge, self.field)
        value = value.isoformat() if hasattr(value, "isoformat") else str(value)
        token = _encode(_Cursor(value=value, pk=edge.pk, reverse=not forward))
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, token)

    def _decode(self, raw: str | None) -> _Cursor | None:
        if not raw:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==="))
            return _Cursor(value=data["v"], pk=int(data["id"]), reverse=bool(data["r"]))
        except (ValueError, KeyError, TypeError):
            raise NotFound("Invalid cursor.") from None


def _encode(cursor: _Cursor) -> str:
    raw = json.dumps({"v": cursor.value, "id": cursor.pk, "r": cursor.reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
