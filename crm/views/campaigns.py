"""Email campaign pages under /crm/campaigns/:

- `crm:campaigns` the organization's campaigns; `campaign-new` and `campaign-edit` write one:
  its audience (leads or contacts, with the same filters as their lists and a live count of
  who it reaches and who is left out, `campaign-audience`), its A/B test and its steps;
- `crm:campaign` one campaign: a preview per recipient, a test send to yourself
  (`campaign-test`), send now or at a time (`campaign-schedule`), `campaign-pause`,
  `campaign-resume`, `campaign-cancel`, `campaign-delete`, its progress (`campaign-progress`,
  polled while it sends) and its figures; `campaign-recipients` who got what.

Reads go through `crm.selectors_campaigns`, writes through `crm.services.campaigns`; a
domain error becomes a form error or a message. Managers and management write and send;
every member who may view leads reads."""

from django import forms
from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View
from django.views.generic import ListView, TemplateView
from django_filters import MultipleChoiceFilter

from accounts.selectors import user_list
from crm.campaign_content import MERGE_HELP
from crm.models import Campaign, CampaignRecipient, CampaignStep
from crm.policy import can_manage_campaigns, require_campaign_manager
from crm.selectors_campaigns import (
    FILTERS,
    audience_summary,
    campaign_get,
    campaign_list,
    campaign_preview,
    campaign_progress,
    campaign_recipient_list,
    campaign_stats,
)
from crm.services import campaigns as services
from crm.views.records import CrmPageMixin
from leadnexus.core.exceptions import ApplicationError, NotFound, ValidationFailed
from leadnexus.core.ids import is_db_id
from leadnexus.core.views import PreferredPageSizeMixin
from leads.views.records import LeadListView

# --- Forms (shape only) -----------------------------------------------------------------------------


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    audience_kind = forms.ChoiceField(
        choices=Campaign.AudienceKind.choices, widget=forms.RadioSelect, label="Send to", initial="leads"
    )
    ab_test = forms.BooleanField(required=False, label="A/B test the first step")
    ab_metric = forms.ChoiceField(choices=Campaign.AbMetric.choices, label="The winner has the better", initial="open")
    ab_sample_percent = forms.IntegerField(min_value=10, max_value=100, initial=20, label="Sample (% of the audience)")
    ab_wait_hours = forms.IntegerField(min_value=1, max_value=168, initial=4, label="Wait before choosing (hours)")


class StepForm(forms.Form):
    """A step; a later step left without subject and body is dropped."""

    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(max_length=services.MAX_BODY, required=False, widget=forms.Textarea(attrs={"rows": 8}))
    subject_b = forms.CharField(max_length=255, required=False, label="Subject B")
    body_b = forms.CharField(
        max_length=services.MAX_BODY, required=False, widget=forms.Textarea(attrs={"rows": 5}), label="Body B"
    )
    delay_days = forms.IntegerField(min_value=1, max_value=365, required=False, initial=3, label="Days later")
    condition = forms.ChoiceField(choices=CampaignStep.Condition.choices, required=False, label="Sent to")

    def values(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


StepFormSet = forms.formset_factory(StepForm, extra=0, max_num=services.MAX_STEPS)


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Send at"
    )


def _filter_sets(data: QueryDict | None, user) -> dict:
    """The leads' and contacts' list filters, side by side in one form (each its prefix),
    dressed as on their lists."""
    sets = {
        kind: filterset(data, prefix=kind, queryset=filterset._meta.model.objects.none(), **_user(kind, user))
        for kind, filterset in FILTERS.items()
    }
    members = list(user_list(user=user).order_by("full_name", "email"))
    LeadListView._dress(sets[Campaign.AudienceKind.LEADS].form, members)
    sets[Campaign.AudienceKind.CONTACTS].form.fields["assigned_to"].widget = forms.Select(
        choices=[("", "Anyone"), *((member.pk, member.full_name or member.email) for member in members)]
    )
    return sets


def _user(kind: str, user) -> dict:
    return {"user": user} if kind == Campaign.AudienceKind.LEADS else {}


def _filter_values(data: QueryDict, kind: str) -> dict:
    """The filters of `kind` given in a form, as an audience stores them."""
    values = {}
    for name, field in FILTERS[kind].base_filters.items():
        given = [value for value in data.getlist(f"{kind}-{name}") if value != ""]
        if name != "ordering" and given:
            values[name] = given if isinstance(field, MultipleChoiceFilter) else given[0]
    return values


def _filter_data(campaign: Campaign) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in campaign.audience_filter.items():
        data.setlist(f"{campaign.audience_kind}-{name}", value if isinstance(value, list) else [value])
    return data


def _audience_kind(data: QueryDict) -> str:
    kind = data.get("audience_kind")
    return kind if kind in FILTERS else Campaign.AudienceKind.LEADS


# --- Lists and details --------------------------------------------------------------------------------


class CampaignListView(CrmPageMixin, PreferredPageSizeMixin, ListView):
    template_name = "crm/campaigns/list.html"
    context_object_name = "campaigns"

    def get_queryset(self):
        return campaign_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_manage": can_manage_campaigns(self.request.user)}


class CampaignDetailView(CrmPageMixin, TemplateView):
    template_name = "crm/campaigns/detail.html"

    def get_context_data(self, **kwargs):
        user, campaign_id = self.request.user, self.kwargs["pk"]
        stats = campaign_stats(user=user, campaign_id=campaign_id)
        campaign = stats["campaign"]
        return {
            **super().get_context_data(**kwargs),
            **_progress(campaign, stats["steps"]),
            "stats": stats,
            "audience_filters": ", ".join(
                f"{name} {', '.join(value) if isinstance(value, list) else value}"
                for name, value in campaign.audience_filter.items()
            ),
            "can_manage": can_manage_campaigns(user),
            "schedule_form": ScheduleForm(),
            **self._preview(campaign),
        }

    def _preview(self, campaign: Campaign) -> dict:
        query = self.request.GET
        recipient = int(query["recipient"]) if query.get("recipient", "").isdigit() else None
        position = int(query["step"]) if query.get("step", "").isdigit() else 1
        variant = query.get("variant") if query.get("variant") in Campaign.Variant.values else Campaign.Variant.A
        try:
            person, rendered = campaign_preview(
                user=self.request.user,
                campaign_id=campaign.pk,
                recipient_id=recipient if is_db_id(recipient) else None,
                position=position,
                variant=variant,
            )
        except NotFound as exc:
            return {"preview_error": exc.message}
        return {"preview": rendered, "preview_person": person, "preview_step": position, "preview_variant": variant}


class CampaignProgressView(CrmPageMixin, View):
    """The progress fragment: it asks for itself again while messages wait to be sent."""

    def get(self, request, pk):
        campaign = campaign_get(user=request.user, campaign_id=pk)
        return render(request, "crm/campaigns/partials/progress.html", _progress(campaign, campaign_progress(campaign)))


def _progress(campaign: Campaign, progress: list[dict]) -> dict:
    polling = campaign.status == Campaign.Status.SENDING and any(row["pending"] for row in progress)
    return {"campaign": campaign, "progress": progress, "polling": polling}


class CampaignRecipientsView(CrmPageMixin, PreferredPageSizeMixin, ListView):
    template_name = "crm/campaigns/recipients.html"
    context_object_name = "recipients"

    def get_queryset(self):
        recipients = campaign_recipient_list(user=self.request.user, campaign_id=self.kwargs["pk"])
        status = self.request.GET.get("status")
        return recipients.filter(status=status) if status in CampaignRecipient.Status.values else recipients

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "campaign": campaign_get(user=self.request.user, campaign_id=self.kwargs["pk"]),
            "statuses": CampaignRecipient.Status.choices,
            "status": self.request.GET.get("status", ""),
        }


# --- Writing --------------------------------------------------------------------------------------------


class CampaignFormView(CrmPageMixin, View):
    """Write a campaign (`pk` given: change it). The campaign's fields, each list's filters
    and the steps are three forms in one page, sent to one service call."""

    template_name = "crm/campaigns/form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_campaign_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk=None):
        campaign = campaign_get(user=request.user, campaign_id=pk) if pk else None
        if campaign is not None and campaign.status not in services.EDITABLE:
            messages.error(request, "A campaign can be changed only before it starts sending.")
            return redirect("crm:campaign", campaign.pk)
        if campaign is None:
            form, steps, data = CampaignForm(), StepFormSet(initial=[{}]), None
        else:
            fields = ("name", "audience_kind", "ab_test", "ab_metric", "ab_sample_percent", "ab_wait_hours")
            form = CampaignForm(initial={name: getattr(campaign, name) for name in fields})
            steps = StepFormSet(initial=[_step_initial(step) for step in campaign.steps.all()])
            data = _filter_data(campaign)
        return self._page(request, campaign, form, steps, _filter_sets(data, request.user))

    def post(self, request, pk=None):
        campaign = campaign_get(user=request.user, campaign_id=pk) if pk else None
        form, steps = CampaignForm(request.POST), StepFormSet(request.POST)
        filter_sets = _filter_sets(request.POST, request.user)
        if not (form.is_valid() and steps.is_valid()):
            return self._page(request, campaign, form, steps, filter_sets, status=400)
        kind = form.cleaned_data["audience_kind"]
        data = {
            **form.cleaned_data,
            "audience_filter": _filter_values(request.POST, kind),
            "steps": [
                step.values()
                for index, step in enumerate(steps)
                if index == 0 or step.cleaned_data.get("subject") or step.cleaned_data.get("body")
            ],
        }
        try:
            if campaign is None:
                campaign = services.campaign_create(actor=request.user, data=data)
            else:
                campaign = services.campaign_update(actor=request.user, campaign_id=campaign.pk, data=data)
        except ApplicationError as exc:
            _form_errors(exc, form, steps)
            return self._page(request, campaign, form, steps, filter_sets, status=exc.status, error=exc)
        messages.success(request, "Campaign saved. Preview it, send yourself a test, then send it.")
        return redirect("crm:campaign", campaign.pk)

    def _page(self, request, campaign, form, steps, filter_sets, *, status=200, error=None):
        if len(steps.forms) < services.MAX_STEPS and not steps.is_bound:
            steps = StepFormSet(initial=[*steps.initial, {}])  # room for one more follow-up
        context = {
            "campaign": campaign,
            "form": form,
            "steps": steps,
            "filter_sets": filter_sets,
            "audience_kind": _audience_kind(form.data) if form.is_bound else form.initial.get("audience_kind", "leads"),
            "audience_error": (error.details.get("audience_filter") or [None])[0] if error else None,
            "merge_help": MERGE_HELP,
        }
        return render(request, self.template_name, context, status=status)


def _step_initial(step: CampaignStep) -> dict:
    fields = ("subject", "body", "subject_b", "body_b", "delay_days", "condition")
    return {name: getattr(step, name) for name in fields}


def _form_errors(exc: ApplicationError, form: CampaignForm, steps) -> None:
    """A domain error on the fields it names: the campaign's, each step's, or above the form."""
    placed = False
    for name, problems in exc.details.items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, str(problem))
            placed = True
        elif name == "steps":
            for step_form, step_problems in zip(steps.forms, problems, strict=False):
                for field, field_problems in step_problems.items() if isinstance(step_problems, dict) else ():
                    for problem in field_problems:
                        step_form.add_error(field, problem)
            placed = True
        elif name == "audience_filter":
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class CampaignAudienceView(CrmPageMixin, View):
    """The live count of the form: who the audience reaches, and who is left out and why."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_campaign_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        kind = _audience_kind(request.GET)
        context = {"kind": kind}
        try:
            filters = _filter_values(request.GET, kind)
            context["audience"] = audience_summary(user=request.user, kind=kind, filters=filters)
        except ApplicationError as exc:
            context["error"] = exc.message
        return render(request, "crm/campaigns/partials/audience.html", context)


# --- Actions ---------------------------------------------------------------------------------------------


class CampaignActionView(CrmPageMixin, View):
    """A button on the campaign's page: one service call, its outcome as a message."""

    action = ""
    done = ""

    def post(self, request, pk):
        try:
            self.perform(request, pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, self.done)
        return redirect("crm:campaign", pk)

    def perform(self, request, pk):
        getattr(services, f"campaign_{self.action}")(actor=request.user, campaign_id=pk)


class CampaignScheduleView(CampaignActionView):
    def perform(self, request, pk):
        form = ScheduleForm(request.POST)
        send_at = form.cleaned_data["send_at"] if form.is_valid() and "later" in request.POST else None
        if "later" in request.POST and send_at is None:
            raise ValidationFailed("Choose when to send it.")
        campaign = services.campaign_schedule(actor=request.user, campaign_id=pk, send_at=send_at)
        self.done = (
            f"Scheduled for {campaign.scheduled_at:%d %b %Y %H:%M}."
            if campaign.status == Campaign.Status.SCHEDULED
            else "Sending started."
        )


class CampaignTestView(CampaignActionView):
    def perform(self, request, pk):
        recipient = request.POST.get("recipient", "")
        recipient_id = int(recipient) if recipient.isdigit() and is_db_id(int(recipient)) else None
        emails = services.campaign_test_send(actor=request.user, campaign_id=pk, recipient_id=recipient_id)
        self.done = f"{len(emails)} test email{'s' if len(emails) > 1 else ''} sent to {request.user.email}."


class CampaignDeleteView(CrmPageMixin, View):
    def post(self, request, pk):
        try:
            services.campaign_delete(actor=request.user, campaign_id=pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("crm:campaign", pk)
        messages.success(request, "Campaign deleted.")
        return redirect("crm:campaigns")


urlpatterns = [
    path("campaigns/", CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", CampaignFormView.as_view(), name="campaign-new"),
    path("campaigns/audience/", CampaignAudienceView.as_view(), name="campaign-audience"),
    path("campaigns/<id:pk>/", CampaignDetailView.as_view(), name="campaign"),
    path("campaigns/<id:pk>/edit/", CampaignFormView.as_view(), name="campaign-edit"),
    path("campaigns/<id:pk>/progress/", CampaignProgressView.as_view(), name="campaign-progress"),
    path("campaigns/<id:pk>/recipients/", CampaignRecipientsView.as_view(), name="campaign-recipients"),
    path("campaigns/<id:pk>/schedule/", CampaignScheduleView.as_view(), name="campaign-schedule"),
    path("campaigns/<id:pk>/test/", CampaignTestView.as_view(), name="campaign-test"),
    path(
        "campaigns/<id:pk>/pause/",
        CampaignActionView.as_view(action="pause", done="Paused: nothing more is sent until you resume."),
        name="campaign-pause",
    ),
    path(
        "campaigns/<id:pk>/resume/",
        CampaignActionView.as_view(action="resume", done="Resumed."),
        name="campaign-resume",
    ),
    path(
        "campaigns/<id:pk>/cancel/",
        CampaignActionView.as_view(action="cancel", done="Canceled: what was not sent will not be."),
        name="campaign-cancel",
    ),
    path("campaigns/<id:pk>/delete/", CampaignDeleteView.as_view(), name="campaign-delete"),
]
