"""Team pages: the members of my organization, for its management users (everyone else 403),
and the invitation link a new member opens to set their password."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path

from accounts.exceptions import InvalidToken
from accounts.forms import NewPasswordForm
from accounts.middleware import page_sign_in
from accounts.models import SubUserPermissions, User
from accounts.policy import permissions_of
from accounts.selectors import monthly_budget_of, sub_user_get, sub_user_invitation_get, team_overview
from accounts.services import team as services
from leadnexus.core.pagination import preferred_page_size
from leadnexus.core.views import ServiceFormView

# --- Forms (shape only) ------------------------------------------------------------------

FLAG_LABELS = {
    "can_view_leads": ("View leads", "See the leads they may work on."),
    "can_edit_leads": ("Edit leads", "Change leads and move them through the workflow."),
    "can_add_leads": ("Add leads", "Create and import leads."),
    "can_view_all_org_leads": ("See every lead of the organization", "Not only those assigned to them."),
    "can_buy": ("Buy leads", "Use the marketplace cart and pay."),
    "can_sell": ("Sell leads", "List leads on the marketplace."),
    "can_export": ("Export", "Download lists as CSV or Excel."),
}


def _flag_fields(*, initial_from_model: bool) -> dict:
    fields = {}
    for flag in SubUserPermissions.FLAGS:
        label, help_text = FLAG_LABELS[flag]
        initial = SubUserPermissions._meta.get_field(flag).default if initial_from_model else None
        fields[flag] = forms.BooleanField(required=False, label=label, help_text=help_text, initial=initial)
    return fields


_ROLE_HELP = "Management manages the team and plan; sales managers see every record; reps their own."


class MemberCreateForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    full_name = forms.CharField(max_length=200, required=False, label="Name")
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.SALES_REP, help_text=_ROLE_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_flag_fields(initial_from_model=True))

    def flag_fields(self):
        return [self[flag] for flag in SubUserPermissions.FLAGS]


class MemberEditForm(forms.Form):
    full_name = forms.CharField(max_length=200, required=False, label="Name")
    role = forms.ChoiceField(choices=User.Role.choices, help_text=_ROLE_HELP)


class MemberPermissionsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_flag_fields(initial_from_model=False))

    def flag_fields(self):
        return [self[flag] for flag in SubUserPermissions.FLAGS]


class MemberBudgetForm(forms.Form):
    monthly_budget = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        label=f"Monthly marketplace budget ({settings.CURRENCY})",
        help_text="What they may spend on leads per calendar month. Empty: no limit.",
    )


class ConfirmForm(forms.Form):
    """The buttons (deactivate, reactivate, remove, resend): nothing to fill in but the CSRF token."""


# --- The team ------------------------------------------------------------------------------


class TeamView(LoginRequiredMixin, ServiceFormView):
    template_name = "accounts/settings/team.html"
    form_class = MemberCreateForm

    def perform(self, form):
        data = form.cleaned_data
        member = services.sub_user_create(
            actor=self.request.user,
            email=data["email"],
            full_name=data["full_name"],
            role=data["role"],
            permissions={flag: data[flag] for flag in SubUserPermissions.FLAGS},
        )
        messages.success(self.request, f"{member.email} was added. An invitation to set a password is on its way.")
        return redirect("accounts:team")

    def get_context_data(self, **kwargs):
        team = team_overview(user=self.request.user)
        page_obj = Paginator(team.members, preferred_page_size(self.request.user)).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(
            team=team,
            members=page_obj.object_list,
            page_obj=page_obj,
            is_paginated=page_obj.has_other_pages(),
            **kwargs,
        )


class _MemberPageMixin(LoginRequiredMixin):
    """The member page shows an edit form, the flags form and the action buttons; whichever
    was posted comes back with its errors in its own place (`form_slot`)."""

    template_name = "accounts/settings/team_member.html"
    form_slot = "edit_form"

    def get_member(self) -> User:
        if not hasattr(self, "_member"):
            self._member = sub_user_get(user=self.request.user, member_id=self.kwargs["pk"])
        return self._member

    def get_context_data(self, **kwargs):
        member = self.get_member()
        context = {
            "member": member,
            "is_self": member.pk == self.request.user.pk,
            "invitation_pending": not member.has_usable_password(),
            "edit_form": MemberEditForm(initial={"full_name": member.full_name, "role": member.role}),
            "permissions_form": MemberPermissionsForm(initial=permissions_of(member)),
            "budget_form": MemberBudgetForm(initial={"monthly_budget": monthly_budget_of(user=member)}),
            "action_form": ConfirmForm(),
        }
        context[self.form_slot] = kwargs.pop("form", None) or context[self.form_slot]
        return super().get_context_data(**context, **kwargs)

    def done(self, message: str):
        messages.success(self.request, message)
        return redirect("accounts:team-member", pk=self.kwargs["pk"])


class TeamMemberView(_MemberPageMixin, ServiceFormView):
    form_class = MemberEditForm

    def perform(self, form):
        member = services.sub_user_update(
            actor=self.request.user, member_id=self.kwargs["pk"], changes=form.cleaned_data
        )
        return self.done(f"{member.get_full_name()} was updated.")


class TeamMemberPermissionsView(_MemberPageMixin, ServiceFormView):
    form_class = MemberPermissionsForm
    form_slot = "permissions_form"
    http_method_names = ["post"]

    def perform(self, form):
        member = services.sub_user_permissions_update(
            actor=self.request.user, member_id=self.kwargs["pk"], flags=form.cleaned_data
        )
        return self.done(f"The permissions of {member.get_full_name()} were saved.")


class TeamMemberBudgetView(_MemberPageMixin, ServiceFormView):
    form_class = MemberBudgetForm
    form_slot = "budget_form"
    http_method_names = ["post"]

    def perform(self, form):
        member = services.sub_user_budget_set(
            actor=self.request.user, member_id=self.kwargs["pk"], monthly_budget=form.cleaned_data["monthly_budget"]
        )
        return self.done(f"The monthly budget of {member.get_full_name()} was saved.")


class _MemberActionView(_MemberPageMixin, ServiceFormView):
    form_class = ConfirmForm
    form_slot = "action_form"
    http_method_names = ["post"]


class TeamMemberDeactivateView(_MemberActionView):
    def perform(self, form):
        member = services.sub_user_deactivate(actor=self.request.user, member_id=self.kwargs["pk"])
        return self.done(f"{member.get_full_name()} is deactivated and signed out everywhere.")


class TeamMemberReactivateView(_MemberActionView):
    def perform(self, form):
        member = services.sub_user_reactivate(actor=self.request.user, member_id=self.kwargs["pk"])
        return self.done(f"{member.get_full_name()} is active again.")


class TeamMemberResendInvitationView(_MemberActionView):
    def perform(self, form):
        member = services.sub_user_invitation_resend(actor=self.request.user, member_id=self.kwargs["pk"])
        return self.done(f"A new invitation is on its way to {member.email}.")


class TeamMemberDeleteView(_MemberPageMixin, ServiceFormView):
    """Asks first (GET), removes on POST."""

    template_name = "accounts/settings/team_member_delete.html"
    form_class = ConfirmForm
    form_slot = "action_form"

    def perform(self, form):
        member = services.sub_user_delete(actor=self.request.user, member_id=self.kwargs["pk"])
        messages.success(self.request, f"{member.get_full_name()} was removed from the team.")
        return redirect("accounts:team")


# --- Invitation: the new member sets a password ------------------------------------------


class InviteView(ServiceFormView):
    template_name = "accounts/invite.html"
    form_class = NewPasswordForm

    def dispatch(self, request, *args, **kwargs):
        try:
            self.member = sub_user_invitation_get(uidb64=kwargs["uidb64"], token=kwargs["token"])
        except InvalidToken as exc:
            return render(request, "accounts/invite_invalid.html", {"message": exc.message}, status=exc.status)
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        member = services.sub_user_invitation_accept(
            uidb64=self.kwargs["uidb64"], token=self.kwargs["token"], password=form.cleaned_data["new_password"]
        )
        page_sign_in(self.request, member)
        messages.success(self.request, f"Welcome to {member.organization.name}. Your password is set.")
        return redirect("analytics:dashboard")

    def get_context_data(self, **kwargs):
        return super().get_context_data(member=self.member, **kwargs)


urlpatterns = [
    path("settings/team/", TeamView.as_view(), name="team"),
    path("settings/team/<id:pk>/", TeamMemberView.as_view(), name="team-member"),
    path("settings/team/<id:pk>/permissions/", TeamMemberPermissionsView.as_view(), name="team-member-permissions"),
    path("settings/team/<id:pk>/budget/", TeamMemberBudgetView.as_view(), name="team-member-budget"),
    path("settings/team/<id:pk>/deactivate/", TeamMemberDeactivateView.as_view(), name="team-member-deactivate"),
    path("settings/team/<id:pk>/reactivate/", TeamMemberReactivateView.as_view(), name="team-member-reactivate"),
    path(
        "settings/team/<id:pk>/resend-invitation/",
        TeamMemberResendInvitationView.as_view(),
        name="team-member-resend-invitation",
    ),
    path("settings/team/<id:pk>/delete/", TeamMemberDeleteView.as_view(), name="team-member-delete"),
    path("invite/<str:uidb64>/<str:token>/", InviteView.as_view(), name="invite"),
]
