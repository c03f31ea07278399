"""The lead list's filters, shared by the API list, the page list, bulk selection and the
export, so "what the user sees" is the same set of leads everywhere."""

import django_filters
from django.db.models import Q

from leadnexus.core.filters import TextFilter
from leadnexus.core.ids import IdFilter
from leads.models import Lead
from leads.selectors import leads_awaiting_first_contact

ORDERING = ("created_at", "updated_at", "score", "last_name", "company", "status")


def person_search(queryset, value: str):
    """People (leads, contacts) matching every word of `value` (five at most) in their name,
    email, company or phone."""
    for term in value.split()[:5]:
        queryset = queryset.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
            | Q(company__icontains=term)
            | Q(phone__icontains=term)
        )
    return queryset


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Lead.Status.choices)
    source = django_filters.MultipleChoiceFilter(choices=Lead.Source.choices)
    validation_status = django_filters.MultipleChoiceFilter(choices=Lead.ValidationStatus.choices)
    customer_category = django_filters.MultipleChoiceFilter(choices=Lead.CustomerCategory.choices)
    assigned_to = IdFilter(field_name="assigned_to_id")
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull", label="Unassigned only")
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=0, max_value=100)
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", min_value=0, max_value=100)
    industry = TextFilter(lookup_expr="icontains")
    location = TextFilter(lookup_expr="icontains")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    awaiting_first_contact = django_filters.BooleanFilter(
        method="filter_awaiting_first_contact", label="New and not contacted within the response target"
    )
    search = TextFilter(method="filter_search", label="Search name, email, company, phone")
    ordering = django_filters.OrderingFilter(fields=ORDERING)

    class Meta:
        model = Lead
        fields = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Whose organization's response target applies (the API hands the request instead).
        self.user = user or getattr(self.request, "user", None)

    def filter_search(self, queryset, name, value):
        return person_search(queryset, value)

    def filter_awaiting_first_contact(self, queryset, name, value):
        target = self.user.organization.response_target_minutes if self.user else None
        waiting = leads_awaiting_first_contact(queryset, target_minutes=target)
        return waiting if value else queryset.exclude(pk__in=waiting.values("pk"))
