"""Lead record pages under /leads/: the list (filters, sorting, table or cards, bulk actions),
the detail (validation, score, status moves, owner, timeline, duplicate warning), create,
edit, delete and the recently deleted leads with restore.

Reads go through `leads.selectors`, writes through `leads.services.records`; a domain error
becomes a form error or an error page with its status.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import ListView, TemplateView

from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import leads_view_of, user_list
from leadnexus.core.exceptions import PermissionDenied
from leadnexus.core.ids import is_db_id
from leadnexus.core.timeline import TimelineEntry, timeline_merge
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from leads import workflow
from leads.api.records import source_label, timeline_entries
from leads.cleaning import LEAD_FIELDS, TEXT_FIELDS
from leads.dedupe import DedupeKeys, DuplicateMatch, duplicate_find
from leads.filters import ORDERING, LeadFilter
from leads.imports.export import leads_export_response
from leads.models import Lead
from leads.selectors import lead_get, lead_list, lead_scope, lead_timeline
from leads.services import records as services
from leads.services.records import BulkAction
from leads.validation import REASONS

TIMELINE_LIMIT = 50
# Columns of the table view: (heading, ordering field or None).
COLUMNS = (
    ("Name", "last_name"),
    ("Company", "company"),
    ("Status", "status"),
    ("Score", "score"),
    ("Validation", None),
    ("Owner", None),
    ("Created", "created_at"),
)
STATUS_ACTIONS = {
    Lead.Status.NEW: "Reopen",
    Lead.Status.CONTACTED: "Mark contacted",
    Lead.Status.QUALIFIED: "Mark qualified",
    Lead.Status.UNQUALIFIED: "Mark unqualified",
    Lead.Status.LOST: "Mark lost",
}
CHOICE_FILTERS = ("status", "source", "validation_status", "customer_category")
FILTER_LABELS = {
    "assigned_to": "Owner",
    "score_min": "Score from",
    "score_max": "Score up to",
    "industry": "Industry",
    "location": "Location",
    "created_after": "Added from",
    "created_before": "Added until",
}
SORT_CHOICES = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("-updated_at", "Recently updated"),
    ("updated_at", "Least recently updated"),
    ("-score", "Highest score"),
    ("score", "Lowest score"),
    ("last_name", "Name, A to Z"),
    ("-last_name", "Name, Z to A"),
    ("company", "Company, A to Z"),
    ("-company", "Company, Z to A"),
    ("status", "Status"),
    ("-status", "Status, reversed"),
]
# Every status a person can pick (converted comes only from the CRM's conversion).
SETTABLE_STATUSES = [(value, label) for value, label in Lead.Status.choices if value != Lead.Status.CONVERTED]


def _members(user: User, *, active_only: bool = True):
    members = user_list(user=user).order_by("full_name", "email")
    return members.filter(is_active=True) if active_only else members


def _require(user: User, flag: str, message: str) -> None:
    if not permissions_of(user)[flag]:
        raise PermissionDenied(message)


def _stable(queryset):
    """Whatever the sort field, ties keep one order, so pages neither repeat nor skip a lead."""
    if queryset.query.order_by:
        return queryset.order_by(*queryset.query.order_by, "-pk")
    return queryset


# --- Forms (shape only) -----------------------------------------------------------------------


class TickedOnly(forms.CheckboxInput):
    """A yes/no filter as a tick sending `true`: ticked filters, unticked leaves the filter
    off (not "no")."""

    def __init__(self):
        super().__init__(attrs={"value": "true"})

    def value_from_datadict(self, data, files, name):
        return True if super().value_from_datadict(data, files, name) else None


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, member):
        return member.full_name or member.email


class LeadForm(forms.Form):
    first_name = forms.CharField(max_length=TEXT_FIELDS["first_name"], required=False)
    last_name = forms.CharField(max_length=TEXT_FIELDS["last_name"], required=False)
    email = forms.CharField(
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text="A lead needs a valid email or phone.",
    )
    phone = forms.CharField(
        max_length=32, required=False, widget=forms.TextInput(attrs={"type": "tel"}), help_text="Any format."
    )
    company = forms.CharField(max_length=TEXT_FIELDS["company"], required=False)
    job_title = forms.CharField(max_length=TEXT_FIELDS["job_title"], required=False)
    industry = forms.CharField(max_length=TEXT_FIELDS["industry"], required=False)
    location = forms.CharField(max_length=TEXT_FIELDS["location"], required=False)
    website = forms.CharField(max_length=290, required=False)
    employee_count = forms.IntegerField(min_value=0, max_value=10_000_000, required=False, label="Employees")
    annual_revenue = forms.DecimalField(
        min_value=0, max_digits=16, decimal_places=2, required=False, label=f"Annual revenue ({settings.CURRENCY})"
    )
    customer_category = forms.ChoiceField(
        choices=[("", "—"), *Lead.CustomerCategory.choices], required=False, label="Customer category"
    )
    notes = forms.CharField(max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def lead_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in LEAD_FIELDS}


class LeadCreateForm(LeadForm):
    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"] = MemberChoiceField(
            queryset=members, required=False, label="Owner", empty_label="Automatic (assignment rules)"
        )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=SETTABLE_STATUSES)


class AssignForm(forms.Form):
    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"] = MemberChoiceField(
            queryset=members, required=False, label="Owner", empty_label="Nobody"
        )


class ConfirmForm(forms.Form):
    """Delete and restore buttons: nothing to fill in but the CSRF token."""


class IdsField(forms.Field):
    """The ids of the checked leads."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        try:
            ids = [int(item) for item in values]
        except (TypeError, ValueError):
            raise forms.ValidationError("Not a list of leads.") from None
        if not all(is_db_id(pk) for pk in ids):
            raise forms.ValidationError("Not a list of leads.")
        return list(dict.fromkeys(ids))

    def validate(self, value):
        if not value:
            raise forms.ValidationError("Select at least one lead.")
        if len(value) > 1000:
            raise forms.ValidationError("Select at most 1,000 leads at a time.")


class BulkForm(forms.Form):
    ids = IdsField()
    action = forms.ChoiceField(
        choices=[
            (BulkAction.ASSIGN, "Assign to"),
            (BulkAction.SET_STATUS, "Set status"),
            (BulkAction.DELETE, "Delete"),
            (BulkAction.EXPORT, "Export"),
        ]
    )
    status = forms.ChoiceField(choices=[("", "—"), *SETTABLE_STATUSES], required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = MemberChoiceField(
            queryset=members, required=False, label="Member", empty_label="Nobody (unassign)"
        )

    def clean(self):
        data = super().clean()
        if data.get("action") == BulkAction.SET_STATUS and not data.get("status"):
            self.add_error("status", "Choose the status to set.")
        return data


# --- The list -----------------------------------------------------------------------------------


def _sort_links(current: str) -> list[dict]:
    """The table headings: for each sortable column, the ordering a click asks for."""
    columns = []
    for heading, field in COLUMNS:
        column = {"heading": heading, "field": field, "sort": None, "next": None}
        if field:
            if current == field:
                column.update(sort="ascending", next=f"-{field}")
            elif current == f"-{field}":
                column.update(sort="descending", next=field)
            else:
                # Numbers and dates read best largest or newest first.
                column["next"] = f"-{field}" if field in ("score", "created_at", "updated_at") else field
        columns.append(column)
    return columns


class LeadListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    """The leads the user may see, filtered and sorted by the query string. An htmx request
    (the filter form changing) gets only the results, for the page to swap in."""

    template_name = "leads/list.html"
    partial_template_name = "leads/partials/results.html"
    context_object_name = "leads"

    def get_template_names(self):
        request = self.request
        if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
            return [self.partial_template_name]
        return [self.template_name]

    def get_queryset(self):
        self.filterset = LeadFilter(
            self.request.GET or None, queryset=lead_list(user=self.request.user), user=self.request.user
        )
        return _stable(self.filterset.qs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        members = list(_members(user, active_only=False))
        form = self.filterset.form
        self._dress(form, members)
        ordering = self.request.GET.get("ordering", "")
        flags = permissions_of(user)
        context = super().get_context_data(**kwargs)
        context.update(
            filter_form=form,
            filtered=any(value for key, value in self.request.GET.items() if key not in ("page", "view", "ordering")),
            view_mode=leads_view_of(user=user, requested=self.request.GET.get("view")),
            columns=_sort_links(ordering if ordering.lstrip("-") in ORDERING else "-created_at"),
            choice_filters=CHOICE_FILTERS,
            active_members=[m for m in members if m.is_active],
            settable_statuses=SETTABLE_STATUSES,
            can_edit=flags["can_edit_leads"],
            can_add=flags["can_add_leads"],
            can_export=flags["can_export"],
        )
        return context

    @staticmethod
    def _dress(form, members) -> None:
        """The shared filter form, with the widgets and labels of a page."""
        fields = form.fields
        fields["assigned_to"].widget = forms.Select(
            choices=[("", "Anyone"), *((m.pk, m.full_name or m.email) for m in members)]
        )
        for name in CHOICE_FILTERS:
            fields[name].widget = forms.CheckboxSelectMultiple(choices=fields[name].choices)
        # Vendor inventory never shows here, so "listing" is no use as a filter.
        fields["source"].choices = [
            (value, "API" if value == Lead.Source.API else label)
            for value, label in Lead.Source.choices
            if value != Lead.Source.LISTING
        ]
        fields["search"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Search name, email, company, phone", "aria-label": "Search"}
        )
        fields["ordering"].empty_label = None  # "Newest first" is the default
        fields["ordering"].choices = SORT_CHOICES
        fields["ordering"].widget.attrs["aria-label"] = "Sort by"
        for name in ("created_after", "created_before"):
            fields[name].widget = forms.DateInput(attrs={"type": "date"})
        for name in ("score_min", "score_max"):
            fields[name].widget = forms.NumberInput(attrs={"min": 0, "max": 100})
        for name in ("unassigned", "awaiting_first_contact"):
            fields[name].widget = TickedOnly()
        for name, label in FILTER_LABELS.items():
            fields[name].label = label

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["Vary"] = "HX-Request"
        return response


class LeadBulkView(LoginRequiredMixin, ServiceFormView):
    """The list's bulk action bar posts here; back to the list it came from, with what was done."""

    template_name = "leads/bulk.html"
    form_class = BulkForm
    http_method_names = ["post"]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "members": _members(self.request.user)}

    def back(self, form):
        target = form.cleaned_data.get("next") or ""
        list_url = reverse("leads:list")
        if target.startswith(list_url) and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            return redirect(target)
        return redirect(list_url)

    def perform(self, form):
        data = form.cleaned_data
        action = data["action"]
        if action == BulkAction.EXPORT:
            # Only the selected leads the user may see; `can_export` is checked by the export.
            selection = lead_list(user=self.request.user).filter(pk__in=data["ids"])
            return leads_export_response(user=self.request.user, queryset=selection)
        value = None
        if action == BulkAction.ASSIGN:
            value = data["assignee"].pk if data["assignee"] else None
        elif action == BulkAction.SET_STATUS:
            value = data["status"]
        result = services.leads_bulk(actor=self.request.user, ids=data["ids"], action=action, value=value)
        if result.done:
            verb = {BulkAction.ASSIGN: "assigned", BulkAction.SET_STATUS: "updated", BulkAction.DELETE: "deleted"}
            count = len(result.done)
            messages.success(self.request, f"{count} lead{'s' if count != 1 else ''} {verb[action]}.")
        if result.skipped:
            reasons = sorted(set(result.skipped.values()))
            count = len(result.skipped)
            messages.warning(
                self.request,
                f"{count} lead{'s were' if count != 1 else ' was'} left unchanged: {' '.join(reasons)}",
            )
        return self.back(form)


# --- One lead -------------------------------------------------------------------------------------


def _breakdown(value) -> list[dict]:
    """The score breakdown as rows of {factor, points, max, why}, whatever shape was stored."""
    rows = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                rows.append({key: item.get(key) for key in ("factor", "points", "max", "why")})
    elif isinstance(value, dict):
        for factor, item in value.items():
            if isinstance(item, dict):
                rows.append({"factor": factor, **{key: item.get(key) for key in ("points", "max", "why")}})
            else:
                rows.append({"factor": factor, "points": item, "max": None, "why": None})
    for row in rows:
        row["factor"] = str(row["factor"] or "").replace("_", " ").capitalize()
    return rows


def _timeline_entries(lead: Lead, events, *, viewer) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=entry["at"],
            kind="event",
            title=entry["summary"],
            detail="" if entry["lead_id"] == lead.pk else f"On merged lead #{entry['lead_id']}",
            actor=entry["actor"]["full_name"] if entry["actor"] else "System",
        )
        for entry in timeline_entries(events, viewer=viewer)
    ]


class _LeadPageMixin(LoginRequiredMixin):
    """The detail page: the lead, its score, status moves, owner, duplicate warning and
    timeline. A posted status or owner form comes back in its own place with its error."""

    template_name = "leads/detail.html"
    form_slot = None

    def get_lead(self) -> Lead:
        if not hasattr(self, "_lead"):
            self._lead = lead_get(user=self.request.user, lead_id=self.kwargs["pk"])
        return self._lead

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.form_slot == "assign_form":
            kwargs["members"] = _members(self.request.user)
        return kwargs

    def duplicate(self, lead: Lead) -> tuple[DuplicateMatch | None, bool]:
        """The lead this one may duplicate, and whether the viewer may open it."""
        keys = DedupeKeys(email=lead.email_key, phone=lead.phone_key, name_company=lead.name_company_key)
        match = duplicate_find(organization_id=lead.organization_id, keys=keys, exclude_id=lead.pk)
        if match is None:
            return None, False
        visible = lead_scope(user=self.request.user, deleted=match.deleted).filter(pk=match.lead_id).exists()
        return match, visible

    def get_context_data(self, **kwargs):
        user = self.request.user
        lead = self.get_lead()
        members = _members(user)
        flags = permissions_of(user)
        moves = workflow.allowed_moves(lead.status)
        duplicate, duplicate_visible = self.duplicate(lead)
        events = lead_timeline(user=user, lead_id=lead.pk)[:TIMELINE_LIMIT]
        context = {
            "lead": lead,
            "can_edit": flags["can_edit_leads"],
            "moves": [(value, STATUS_ACTIONS[value]) for value in Lead.Status.values if value in moves],
            "status_form": StatusForm(),
            "assign_form": AssignForm(members=members, initial={"assigned_to": lead.assigned_to_id}),
            "action_form": ConfirmForm(),
            "breakdown": _breakdown(lead.score_breakdown),
            "source_label": source_label(lead.source),
            "reasons": [REASONS.get(code, str(code)) for code in lead.validation_reasons or []],
            "duplicate": duplicate,
            "duplicate_visible": duplicate_visible,
            "timeline": timeline_merge(
                "leads.lead",
                lead,
                viewer=user,
                entries=_timeline_entries(lead, events, viewer=user),
                limit=TIMELINE_LIMIT,
            ),
            "timeline_limit": TIMELINE_LIMIT,
        }
        if self.form_slot and kwargs.get("form") is not None:
            context[self.form_slot] = kwargs["form"]
        return super().get_context_data(**context, **kwargs)

    def done(self, message: str):
        messages.success(self.request, message)
        return redirect("leads:detail", pk=self.kwargs["pk"])


class LeadDetailView(_LeadPageMixin, TemplateView):
    pass


class LeadStatusView(_LeadPageMixin, ServiceFormView):
    form_class = StatusForm
    form_slot = "status_form"
    http_method_names = ["post"]

    def perform(self, form):
        lead = services.lead_status_change(
            actor=self.request.user, lead_id=self.kwargs["pk"], status=form.cleaned_data["status"]
        )
        return self.done(f"Status: {lead.get_status_display()}.")


class LeadAssignView(_LeadPageMixin, ServiceFormView):
    form_class = AssignForm
    form_slot = "assign_form"
    http_method_names = ["post"]

    def perform(self, form):
        assignee = form.cleaned_data["assigned_to"]
        services.lead_assign(
            actor=self.request.user, lead_id=self.kwargs["pk"], assignee_id=assignee.pk if assignee else None
        )
        owner = (assignee.full_name or assignee.email) if assignee else "nobody"
        if not lead_scope(user=self.request.user).filter(pk=self.kwargs["pk"]).exists():
            # A rep who handed their lead over no longer sees it.
            messages.success(self.request, f"The lead is now assigned to {owner} and left your list.")
            return redirect("leads:list")
        return self.done(f"The lead is now assigned to {owner}.")


def _duplicate_flash(request, duplicate: DuplicateMatch | None) -> None:
    if duplicate is None:
        return
    what = "a duplicate" if duplicate.certain else "a possible duplicate"
    if duplicate.deleted:
        messages.warning(
            request,
            format_html(
                'This lead is {} of a <a href="{}">recently deleted lead</a>, which you could restore instead.',
                what,
                reverse("leads:deleted"),
            ),
        )
    else:
        messages.warning(
            request,
            format_html(
                'This lead is {} of <a href="{}">lead #{}</a>.',
                what,
                reverse("leads:detail", args=[duplicate.lead_id]),
                duplicate.lead_id,
            ),
        )


class LeadCreateView(LoginRequiredMixin, ServiceFormView):
    template_name = "leads/form.html"
    form_class = LeadCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, "can_add_leads", "You do not have permission to add leads.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "members": _members(self.request.user)}

    def perform(self, form):
        assignee = form.cleaned_data["assigned_to"]
        result = services.lead_create(
            actor=self.request.user,
            data=form.lead_data(),
            source=Lead.Source.MANUAL,
            assigned_to_id=assignee.pk if assignee else None,
        )
        messages.success(self.request, f"{result.lead} was added.")
        _duplicate_flash(self.request, result.duplicate)
        return redirect("leads:detail", pk=result.lead.pk)


class LeadEditView(LoginRequiredMixin, ServiceFormView):
    template_name = "leads/form.html"
    form_class = LeadForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, "can_edit_leads", "You do not have permission to edit leads.")
        return super().dispatch(request, *args, **kwargs)

    def get_lead(self) -> Lead:
        if not hasattr(self, "_lead"):
            self._lead = lead_get(user=self.request.user, lead_id=self.kwargs["pk"])
        return self._lead

    def get_initial(self):
        lead = self.get_lead()
        return {name: getattr(lead, name) for name in LEAD_FIELDS}

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead=self.get_lead(), **kwargs)

    def perform(self, form):
        result = services.lead_update(actor=self.request.user, lead_id=self.kwargs["pk"], data=form.lead_data())
        messages.success(self.request, f"{result.lead} was saved.")
        _duplicate_flash(self.request, result.duplicate)
        return redirect("leads:detail", pk=result.lead.pk)


class LeadDeleteView(LoginRequiredMixin, ServiceFormView):
    """Asks first (GET), deletes on POST; the lead can be restored for a while."""

    template_name = "leads/confirm_delete.html"
    form_class = ConfirmForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, "can_edit_leads", "You do not have permission to delete leads.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        lead = lead_get(user=self.request.user, lead_id=self.kwargs["pk"])
        return super().get_context_data(lead=lead, restore_days=settings.LEAD_RESTORE_WINDOW.days, **kwargs)

    def perform(self, form):
        lead = services.lead_delete(actor=self.request.user, lead_id=self.kwargs["pk"])
        messages.success(
            self.request,
            format_html(
                '{} was deleted. You can restore it from <a href="{}">Recently deleted</a> for {} days.',
                str(lead),
                reverse("leads:deleted"),
                settings.LEAD_RESTORE_WINDOW.days,
            ),
        )
        return redirect("leads:list")


# --- Recently deleted ---------------------------------------------------------------------------


class _DeletedPageMixin(LoginRequiredMixin, PreferredPageSizeMixin):
    template_name = "leads/deleted.html"
    context_object_name = "leads"

    def get_queryset(self):
        return lead_list(user=self.request.user, deleted=True).order_by("-deleted_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for lead in context["leads"]:
            lead.purge_on = lead.deleted_at + settings.LEAD_RESTORE_WINDOW
        context.update(
            can_edit=permissions_of(self.request.user)["can_edit_leads"],
            restore_days=settings.LEAD_RESTORE_WINDOW.days,
        )
        return context


class LeadDeletedView(_DeletedPageMixin, ListView):
    pass


class LeadRestoreView(LoginRequiredMixin, ServiceFormView):
    """A restore button (on the recently deleted page or a duplicate warning) posts here."""

    template_name = "leads/restore_failed.html"
    form_class = ConfirmForm
    http_method_names = ["post"]

    def perform(self, form):
        lead = services.lead_restore(actor=self.request.user, lead_id=self.kwargs["pk"])
        messages.success(self.request, f"{lead} was restored.")
        return redirect("leads:detail", pk=lead.pk)


urlpatterns = [
    path("", LeadListView.as_view(), name="list"),
    path("new/", LeadCreateView.as_view(), name="create"),
    path("bulk/", LeadBulkView.as_view(), name="bulk"),
    path("deleted/", LeadDeletedView.as_view(), name="deleted"),
    path("<id:pk>/", LeadDetailView.as_view(), name="detail"),
    path("<id:pk>/edit/", LeadEditView.as_view(), name="edit"),
    path("<id:pk>/status/", LeadStatusView.as_view(), name="status"),
    path("<id:pk>/assign/", LeadAssignView.as_view(), name="assign"),
    path("<id:pk>/delete/", LeadDeleteView.as_view(), name="delete"),
    path("<id:pk>/restore/", LeadRestoreView.as_view(), name="restore"),
]
