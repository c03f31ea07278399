"""Record ids as they arrive from outside (paths, bodies, query strings).

Ids are 64-bit database integers. A number outside that range names nothing, but handed to
the database it fails loudly (an overflow, not a miss), so it is turned away at the edge:
a path id out of range is a 404, a body or query string id a validation error."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leadnexus.core.exceptions import NotFound

MAX_ID = 2**63 - 1


def is_db_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def id_of(raw, *, what: str = "Object") -> int:
    """A path or query value as an id; NotFound when it cannot name a record."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise NotFound(f"{what} not found.") from None
    if not is_db_id(value):
        raise NotFound(f"{what} not found.")
    return value


class IdConverter:
    """`<id:pk>` in URL patterns: digits within the database's id range, else no match (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not is_db_id(number):
            raise ValueError("out of range")
        return number

    def to_url(self, value) -> str:
        return str(value)


class IdField(serializers.IntegerField):
    """An id in a request body."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id in a list's query string (`?assigned_to=`)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
