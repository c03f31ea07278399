"""Text filters of lists, bounded: a search longer than anyone types is refused with a 400
rather than handed to the database, where SQLite's LIKE gives up past 50,000 bytes (a 500)."""

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters, serializers
from rest_framework.fields import CharField

MAX_SEARCH_LENGTH = 200


class SearchFilter(filters.SearchFilter):
    """DRF's `?search=` over a view's `search_fields`, at most `MAX_SEARCH_LENGTH` characters."""

    def get_search_terms(self, request):
        field = CharField(trim_whitespace=False, allow_blank=True, max_length=MAX_SEARCH_LENGTH)
        try:
            value = field.run_validation(request.query_params.get(self.search_param, ""))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({self.search_param: exc.detail}) from None
        return filters.search_smart_split(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["maxLength"] = MAX_SEARCH_LENGTH
        return parameters


@extend_schema_field({"type": "string", "maxLength": MAX_SEARCH_LENGTH})
class TextFilter(django_filters.CharFilter):
    """A django-filter text filter (`icontains` and the like) of at most `MAX_SEARCH_LENGTH` characters."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_SEARCH_LENGTH)
        super().__init__(*args, **kwargs)
