"""Filters of the CRM's lists, shared by the API and the pages."""

import django_filters

from crm.models import Contact
from leadnexus.core.filters import TextFilter
from leadnexus.core.ids import IdFilter
from leads.filters import person_search


class ContactFilter(django_filters.FilterSet):
    assigned_to = IdFilter(field_name="assigned_to_id")
    company = TextFilter(lookup_expr="icontains")
    search = TextFilter(method="filter_search", label="Search name, email, company, phone")
    ordering = django_filters.OrderingFilter(fields=("created_at", "last_name", "company"))

    class Meta:
        model = Contact
        fields = []

    def filter_search(self, queryset, name, value):
        return person_search(queryset, value)
