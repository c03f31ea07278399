"""CRM pages under /crm/: contacts, opportunities (list, board with drag and drop, forecast),
my tasks, and converting a lead.

- `crm:contacts` → `contact` (its opportunities and one timeline of its activities and
  changes) · `contact-new` · `contact-edit` · `contact-delete`
- `crm:opportunities` (filters) · `board` (a column per stage; cards move by drag and drop,
  SortableJS posting to `opportunity-move` with htmx, or by its buttons) · `forecast` ·
  `opportunity` → `opportunity-edit` · `opportunity-move` · `opportunity-reopen`
- `crm:tasks` my open activities: overdue, today, upcoming; done and snooze
- `crm:activity-new` logs an activity from a record's page; `activity-done`, `activity-snooze`
- `crm:lead-convert` converts a lead, offering the existing contact of the same person

Reads go through `crm.selectors`, writes through `crm.services`; a domain error becomes a
form error or a message.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView

from accounts.policy import permissions_of
from accounts.selectors import user_list
from crm.filters import ContactFilter
from crm.models import Activity, Opportunity
from crm.pipeline import CLOSED_STAGES, OPEN_STAGES
from crm.policy import can_reopen
from crm.selectors import (
    activity_list,
    contact_get,
    contact_list,
    opportunity_get,
    opportunity_list,
    pipeline_board,
    pipeline_forecast,
    tasks_due,
)
from crm.services import activities as activity_services
from crm.services import contacts as contact_services
from crm.services import opportunities as opportunity_services
from crm.services.conversion import contact_for_lead, lead_convert
from crm.timeline import TIMELINE_LIMIT, record_timeline
from leadnexus.core.exceptions import ApplicationError, PermissionDenied
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from leads.selectors import lead_get


def _members(user):
    return user_list(user=user).filter(is_active=True).order_by("full_name", "email")


def _day_end(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(now.date() + timedelta(days=1), time.min))


class CrmPageMixin(LoginRequiredMixin):
    """CRM pages: for members who may view leads (`flags`: a page may ask for more)."""

    flags = ("can_view_leads",)

    def dispatch(self, request, *args, **kwargs):
        granted = permissions_of(request.user) if request.user.is_authenticated else {}
        if request.user.is_authenticated and not all(granted[flag] for flag in self.flags):
            raise PermissionDenied("You do not have permission to use the CRM.")
        return super().dispatch(request, *args, **kwargs)


# --- Forms (shape only) ----------------------------------------------------------------------------


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, member):
        return member.get_full_name() or member.email


class OwnedRecordForm(forms.Form):
    """A contact's or opportunity's fields with its owner, one of the organization's active
    members; `fields_and_owner` splits them for the services."""

    assigned_to = MemberChoiceField(queryset=None, required=False, label="Owner")
    unset_when_blank: tuple[str, ...] = ()

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = members

    def fields_and_owner(self) -> tuple[dict, int | None]:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.unset_when_blank or value is not None
        }
        owner = data.pop("assigned_to")
        return data, owner.pk if owner else None


class ContactForm(OwnedRecordForm):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(max_length=64, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    company = forms.CharField(max_length=200, required=False)
    position = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    field_order = ["first_name", "last_name", "email", "phone", "company", "position", "notes", "assigned_to"]


class OpportunityForm(OwnedRecordForm):
    # A blank probability keeps the stage's default.
    unset_when_blank = ("probability",)

    title = forms.CharField(max_length=200)
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, required=False)
    probability = forms.IntegerField(min_value=0, max_value=100, required=False, help_text="Percent.")
    expected_close_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["title", "amount", "probability", "expected_close_date", "assigned_to"]


class MoveForm(forms.Form):
    stage = forms.ChoiceField(choices=Opportunity.Stage.choices)
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, required=False, label="Amount won")
    lost_reason = forms.CharField(max_length=2000, required=False, label="Why it was lost")


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Notes")
    due_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Due"
    )
    lead_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    opportunity_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class SnoozeForm(forms.Form):
    hours = forms.TypedChoiceField(
        coerce=int, choices=[(1, "1 hour"), (4, "4 hours"), (24, "1 day"), (72, "3 days"), (168, "1 week")]
    )


class ConvertForm(forms.Form):
    link_existing = forms.BooleanField(required=False, initial=True, label="Link the existing contact")
    create_opportunity = forms.BooleanField(required=False, initial=True, label="Open an opportunity")
    title = forms.CharField(max_length=200, required=False, label="Opportunity title")
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, required=False)
    expected_close_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("create_opportunity") and not data.get("title"):
            self.add_error("title", "Give the opportunity a title.")
        return data


def _back(request, fallback: str):
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/crm/") or target.startswith("/leads/") else fallback)


# --- Contacts ----------------------------------------------------------------------------------------


class ContactListView(CrmPageMixin, PreferredPageSizeMixin, ListView):
    template_name = "crm/contacts.html"
    context_object_name = "contacts"

    def get_queryset(self):
        return ContactFilter(self.request.GET, queryset=contact_list(user=self.request.user)).qs

    def get_context_data(self, **kwargs):
        flags = permissions_of(self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "search": self.request.GET.get("search", ""),
            "can_add": flags["can_add_leads"],
            "can_export": flags["can_export"],
        }


class ContactDetailView(CrmPageMixin, TemplateView):
    template_name = "crm/contact.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        contact = contact_get(user=user, contact_id=self.kwargs["pk"])
        activities = activity_list(user=user).filter(contact=contact)
        return {
            **super().get_context_data(**kwargs),
            "contact": contact,
            "opportunities": opportunity_list(user=user).filter(contact=contact),
            "timeline": record_timeline(contact, viewer=user, activities=activities, subject_type="crm.contact"),
            "timeline_limit": TIMELINE_LIMIT,
            "activity_form": ActivityForm(
                initial={"contact_id": contact.pk, "kind": "call", "next": self.request.path}
            ),
            "can_edit": permissions_of(user)["can_edit_leads"],
        }


class OwnedRecordFormView(CrmPageMixin, ServiceFormView):
    """Adds a contact or opportunity, or (with `pk`) edits the one `record` reads."""

    def record(self):
        raise NotImplementedError

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "members": _members(self.request.user)}
        if self.request.method == "GET" and "pk" in self.kwargs:
            record = self.record()
            kwargs["initial"] = {name: getattr(record, name) for name in self.form_class.base_fields}
        return kwargs


class ContactCreateView(OwnedRecordFormView):
    template_name = "crm/contact_form.html"
    form_class = ContactForm
    flags = ("can_view_leads", "can_add_leads")

    def perform(self, form):
        data, owner_id = form.fields_and_owner()
        result = contact_services.contact_create(actor=self.request.user, data=data, assigned_to_id=owner_id)
        if result.duplicate is not None:
            messages.warning(self.request, f"{result.duplicate} was already a contact with the same person.")
        return redirect("crm:contact", result.contact.pk)


class ContactEditView(OwnedRecordFormView):
    template_name = "crm/contact_form.html"
    form_class = ContactForm
    flags = ("can_view_leads", "can_edit_leads")

    def record(self):
        return contact_get(user=self.request.user, contact_id=self.kwargs["pk"])

    def perform(self, form):
        data, owner_id = form.fields_and_owner()
        contact_services.contact_update(
            actor=self.request.user, contact_id=self.kwargs["pk"], data=data, assigned_to_id=owner_id
        )
        messages.success(self.request, "Contact saved.")
        return redirect("crm:contact", self.kwargs["pk"])


class ContactDeleteView(CrmPageMixin, View):
    def post(self, request, pk):
        try:
            contact = contact_services.contact_delete(actor=request.user, contact_id=pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("crm:contacts")
        messages.success(request, f"{contact} was deleted.")
        return redirect("crm:contacts")


# --- Opportunities -----------------------------------------------------------------------------------


class OpportunityListView(CrmPageMixin, PreferredPageSizeMixin, ListView):
    template_name = "crm/opportunities.html"
    context_object_name = "opportunities"

    def get_queryset(self):
        opportunities = opportunity_list(user=self.request.user)
        stage = self.request.GET.get("stage")
        if stage in Opportunity.Stage.values:
            opportunities = opportunities.filter(stage=stage)
        search = self.request.GET.get("search", "").strip()
        if search:
            opportunities = opportunities.filter(title__icontains=search)
        return opportunities

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "stages": Opportunity.Stage.choices,
            "stage": self.request.GET.get("stage", ""),
            "search": self.request.GET.get("search", ""),
        }


class BoardView(CrmPageMixin, TemplateView):
    template_name = "crm/board.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "columns": pipeline_board(user=self.request.user)}


class ForecastView(CrmPageMixin, TemplateView):
    template_name = "crm/forecast.html"

    def get_context_data(self, **kwargs):
        rows = pipeline_forecast(user=self.request.user, months=6, today=timezone.localdate())
        return {**super().get_context_data(**kwargs), "rows": rows, "currency": settings.CURRENCY}


class OpportunityDetailView(CrmPageMixin, TemplateView):
    template_name = "crm/opportunity.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        opportunity = opportunity_get(user=user, opportunity_id=self.kwargs["pk"])
        activities = activity_list(user=user).filter(opportunity=opportunity)
        return {
            **super().get_context_data(**kwargs),
            "opportunity": opportunity,
            "timeline": record_timeline(
                opportunity, viewer=user, activities=activities, subject_type="crm.opportunity"
            ),
            "timeline_limit": TIMELINE_LIMIT,
            "open_stages": [(stage, Opportunity.Stage(stage).label) for stage in OPEN_STAGES],
            "closed": opportunity.stage in CLOSED_STAGES,
            "can_reopen": can_reopen(user),
            "can_edit": permissions_of(user)["can_edit_leads"],
            "move_form": kwargs.get("move_form") or MoveForm(initial={"amount": opportunity.amount}),
            "activity_form": ActivityForm(
                initial={"opportunity_id": opportunity.pk, "kind": "task", "next": self.request.path}
            ),
        }


class OpportunityCreateView(OwnedRecordFormView):
    template_name = "crm/opportunity_form.html"
    form_class = OpportunityForm
    flags = ("can_view_leads", "can_add_leads")

    def perform(self, form):
        data, owner_id = form.fields_and_owner()
        contact_id = self.request.GET.get("contact")
        opportunity = opportunity_services.opportunity_create(
            actor=self.request.user,
            data=data,
            contact_id=int(contact_id) if contact_id and contact_id.isdigit() else None,
            assigned_to_id=owner_id,
        )
        return redirect("crm:opportunity", opportunity.pk)


class OpportunityEditView(OwnedRecordFormView):
    template_name = "crm/opportunity_form.html"
    form_class = OpportunityForm
    flags = ("can_view_leads", "can_edit_leads")

    def record(self):
        return opportunity_get(user=self.request.user, opportunity_id=self.kwargs["pk"])

    def perform(self, form):
        data, owner_id = form.fields_and_owner()
        opportunity_services.opportunity_update(
            actor=self.request.user, opportunity_id=self.kwargs["pk"], data=data, assigned_to_id=owner_id
        )
        messages.success(self.request, "Opportunity saved.")
        return redirect("crm:opportunity", self.kwargs["pk"])


class OpportunityMoveView(CrmPageMixin, View):
    """A move from the board (htmx: answers 204, or the error as text with its status) or
    from the opportunity's page (back to it, the error as a message)."""

    def post(self, request, pk):
        form = MoveForm(request.POST)
        if not form.is_valid():
            return self._error(request, pk, "Choose a stage.", 400)
        data = form.cleaned_data
        try:
            opportunity_services.opportunity_move(
                actor=request.user,
                opportunity_id=pk,
                stage=data["stage"],
                amount=data["amount"],
                lost_reason=data["lost_reason"],
            )
        except ApplicationError as exc:
            return self._error(request, pk, exc.message, exc.status)
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Trigger": "board-changed"})
        return redirect("crm:opportunity", pk)

    def _error(self, request, pk, message: str, status: int):
        if request.htmx:
            return HttpResponse(message, status=status, content_type="text/plain")
        messages.error(request, message)
        return redirect("crm:opportunity", pk)


class OpportunityReopenView(CrmPageMixin, View):
    def post(self, request, pk):
        try:
            opportunity_services.opportunity_reopen(actor=request.user, opportunity_id=pk)
            messages.success(request, "Reopened at negotiation.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("crm:opportunity", pk)


# --- Activities and tasks ----------------------------------------------------------------------------


class TasksView(CrmPageMixin, TemplateView):
    template_name = "crm/tasks.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        mine = activity_list(user=user).filter(assigned_to=user)
        now = timezone.localtime()
        groups = [
            (label, list(tasks_due(mine, due=due, now=now, today_end=_day_end(now))[:100]))
            for due, label in (("overdue", "Overdue"), ("today", "Due today"), ("upcoming", "Upcoming"))
        ]
        return {**super().get_context_data(**kwargs), "groups": groups, "snooze_form": SnoozeForm()}


class ActivityCreateView(CrmPageMixin, View):
    def post(self, request):
        form = ActivityForm(request.POST)
        if not form.is_valid():
            messages.error(request, "The activity needs a kind and a subject.")
            return _back(request, reverse("crm:tasks"))
        data = {name: value for name, value in form.cleaned_data.items() if name != "next" and value is not None}
        try:
            activity_services.activity_create(actor=request.user, data=data)
            messages.success(request, "Activity logged.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return _back(request, reverse("crm:tasks"))


class ActivityDoneView(CrmPageMixin, View):
    def post(self, request, pk):
        try:
            activity_services.activity_update(actor=request.user, activity_id=pk, data={"done": True})
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return _back(request, reverse("crm:tasks"))


class ActivitySnoozeView(CrmPageMixin, View):
    def post(self, request, pk):
        form = SnoozeForm(request.POST)
        if form.is_valid():
            due = timezone.now() + timedelta(hours=form.cleaned_data["hours"])
            try:
                activity_services.activity_update(actor=request.user, activity_id=pk, data={"due_at": due})
            except ApplicationError as exc:
                messages.error(request, exc.message)
        return _back(request, reverse("crm:tasks"))


# --- Converting a lead -------------------------------------------------------------------------------


class LeadConvertView(CrmPageMixin, ServiceFormView):
    template_name = "crm/convert.html"
    form_class = ConvertForm
    flags = ("can_view_leads", "can_edit_leads")

    def get_context_data(self, **kwargs):
        lead = lead_get(user=self.request.user, lead_id=self.kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "lead": lead,
            "existing": contact_for_lead(user=self.request.user, lead_id=lead.pk),
        }

    def get_initial(self):
        lead = lead_get(user=self.request.user, lead_id=self.kwargs["pk"])
        return {"title": f"{lead.company or lead}"[:200], "link_existing": True, "create_opportunity": True}

    def perform(self, form):
        data = form.cleaned_data
        conversion = lead_convert(
            actor=self.request.user,
            lead_id=self.kwargs["pk"],
            link_existing=data["link_existing"],
            opportunity=(
                {name: data[name] for name in ("title", "amount", "expected_close_date")}
                if data["create_opportunity"]
                else None
            ),
        )
        messages.success(
            self.request,
            f"Converted: {conversion.contact} is a contact"
            + (f", and “{conversion.opportunity}” is in the pipeline." if conversion.opportunity else "."),
        )
        if conversion.opportunity is not None:
            return redirect("crm:opportunity", conversion.opportunity.pk)
        return redirect("crm:contact", conversion.contact.pk)


urlpatterns = [
    path("contacts/", ContactListView.as_view(), name="contacts"),
    path("contacts/new/", ContactCreateView.as_view(), name="contact-new"),
    path("contacts/<id:pk>/", ContactDetailView.as_view(), name="contact"),
    path("contacts/<id:pk>/edit/", ContactEditView.as_view(), name="contact-edit"),
    path("contacts/<id:pk>/delete/", ContactDeleteView.as_view(), name="contact-delete"),
    path("opportunities/", OpportunityListView.as_view(), name="opportunities"),
    path("opportunities/new/", OpportunityCreateView.as_view(), name="opportunity-new"),
    path("opportunities/board/", BoardView.as_view(), name="board"),
    path("opportunities/forecast/", ForecastView.as_view(), name="forecast"),
    path("opportunities/<id:pk>/", OpportunityDetailView.as_view(), name="opportunity"),
    path("opportunities/<id:pk>/edit/", OpportunityEditView.as_view(), name="opportunity-edit"),
    path("opportunities/<id:pk>/move/", OpportunityMoveView.as_view(), name="opportunity-move"),
    path("opportunities/<id:pk>/reopen/", OpportunityReopenView.as_view(), name="opportunity-reopen"),
    path("tasks/", TasksView.as_view(), name="tasks"),
    path("activities/new/", ActivityCreateView.as_view(), name="activity-new"),
    path("activities/<id:pk>/done/", ActivityDoneView.as_view(), name="activity-done"),
    path("activities/<id:pk>/snooze/", ActivitySnoozeView.as_view(), name="activity-snooze"),
    path("leads/<id:pk>/convert/", LeadConvertView.as_view(), name="lead-convert"),
]
