"""The assignment rules page (/leads/assignment/): the rules in the order they apply, with
their members; management and sales managers add, edit, reorder, switch on and off and
delete them, everyone else who may view leads reads them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views.generic import ListView

from accounts.models import User
from accounts.selectors import user_list
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from leads import policy, selectors
from leads.models import AssignmentRule, Lead
from leads.services import assignment as services

# --- Forms (shape only) ----------------------------------------------------------------------


class _MemberChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, member):
        return f"{member.get_full_name()}{'' if member.is_active else ' (deactivated)'}"


class _MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, member):
        return f"{member.get_full_name()}{'' if member.is_active else ' (deactivated)'}"


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    mode = forms.ChoiceField(
        choices=AssignmentRule.Mode.choices,
        initial=AssignmentRule.Mode.ROUND_ROBIN,
        widget=forms.RadioSelect,
        label="Give new leads",
    )
    members = _MemberChoices(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Round-robin members",
        help_text="They take turns; deactivated members are skipped.",
    )
    fixed_user = _MemberChoice(
        queryset=User.objects.none(), required=False, label="Fixed member", help_text="Gets every lead."
    )
    sources = forms.MultipleChoiceField(
        choices=[
            (source.value, "API" if source == Lead.Source.API else source.label) for source in services.RULE_SOURCES
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="For leads from",
        help_text="None ticked: every source.",
    )
    priority = forms.IntegerField(
        min_value=0,
        max_value=32767,
        required=False,
        help_text="Lower applies first. Left empty, a new rule goes after the others.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        members = user_list(user=user).order_by("-is_active", "full_name", "email")
        self.fields["members"].queryset = members
        self.fields["fixed_user"].queryset = members

    def arguments(self) -> dict:
        """The cleaned form as the service's keyword arguments."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "mode": data["mode"],
            "member_ids": [member.pk for member in data["members"]],
            "fixed_user_id": data["fixed_user"].pk if data["fixed_user"] else None,
            "sources": data["sources"],
            "priority": data["priority"],
            "is_active": data["is_active"],
        }


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class ActiveForm(forms.Form):
    is_active = forms.BooleanField(required=False)


class ConfirmForm(forms.Form):
    """A button: nothing to fill in but the CSRF token."""


def _initial(rule: AssignmentRule) -> dict:
    return {
        "name": rule.name,
        "mode": rule.mode,
        "members": list(rule.members.all()),
        "fixed_user": rule.fixed_user,
        "sources": rule.sources,
        "priority": rule.priority,
        "is_active": rule.is_active,
    }


# --- Pages ---------------------------------------------------------------------------------------


class AssignmentRuleListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "leads/assignment/list.html"
    context_object_name = "rules"

    def get_queryset(self):
        return selectors.assignment_rule_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        can_manage = policy.can_manage_assignment_rules(self.request.user)
        return super().get_context_data(
            can_manage=can_manage,
            source_labels=dict(Lead.Source.choices),
            **kwargs,
        )


class AssignmentRuleCreateView(LoginRequiredMixin, ServiceFormView):
    template_name = "leads/assignment/edit.html"
    form_class = AssignmentRuleForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            policy.require_assignment_rule_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        can_manage = policy.can_manage_assignment_rules(self.request.user)
        return super().get_context_data(can_manage=can_manage, **kwargs)

    def perform(self, form):
        rule = services.assignment_rule_create(actor=self.request.user, **form.arguments())
        messages.success(self.request, f"The rule “{rule.name}” was added.")
        return redirect("leads:assignment")


class _RuleMixin(LoginRequiredMixin):
    def get_rule(self) -> AssignmentRule:
        if not hasattr(self, "_rule"):
            self._rule = selectors.assignment_rule_get(user=self.request.user, rule_id=self.kwargs["pk"])
        return self._rule

    def get_context_data(self, **kwargs):
        can_manage = policy.can_manage_assignment_rules(self.request.user)
        return super().get_context_data(rule=self.get_rule(), can_manage=can_manage, **kwargs)


class AssignmentRuleEditView(_RuleMixin, ServiceFormView):
    template_name = "leads/assignment/edit.html"
    form_class = AssignmentRuleForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return _initial(self.get_rule())

    def perform(self, form):
        arguments = form.arguments()
        if arguments["priority"] is None:  # left empty: keep the place it has
            del arguments["priority"]
        rule = services.assignment_rule_update(actor=self.request.user, rule_id=self.kwargs["pk"], changes=arguments)
        messages.success(self.request, f"The rule “{rule.name}” was saved.")
        return redirect("leads:assignment")


class _RuleActionView(_RuleMixin, ServiceFormView):
    """A button on the list; a refusal shows on a small page with the rule."""

    template_name = "leads/assignment/action_failed.html"
    http_method_names = ["post"]


class AssignmentRuleMoveView(_RuleActionView):
    form_class = MoveForm

    def perform(self, form):
        services.assignment_rule_move(
            actor=self.request.user, rule_id=self.kwargs["pk"], direction=form.cleaned_data["direction"]
        )
        return redirect("leads:assignment")


class AssignmentRuleActiveView(_RuleActionView):
    form_class = ActiveForm

    def perform(self, form):
        rule = services.assignment_rule_update(
            actor=self.request.user, rule_id=self.kwargs["pk"], changes={"is_active": form.cleaned_data["is_active"]}
        )
        state = "is active again" if rule.is_active else "is switched off: new leads skip it"
        messages.success(self.request, f"The rule “{rule.name}” {state}.")
        return redirect("leads:assignment")


class AssignmentRuleDeleteView(_RuleMixin, ServiceFormView):
    """Asks first (GET), deletes on POST."""

    template_name = "leads/assignment/delete.html"
    form_class = ConfirmForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            policy.require_assignment_rule_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        rule = services.assignment_rule_delete(actor=self.request.user, rule_id=self.kwargs["pk"])
        messages.success(self.request, f"The rule “{rule.name}” was deleted.")
        return redirect("leads:assignment")


urlpatterns = [
    path("assignment/", AssignmentRuleListView.as_view(), name="assignment"),
    path("assignment/new/", AssignmentRuleCreateView.as_view(), name="assignment-new"),
    path("assignment/<id:pk>/", AssignmentRuleEditView.as_view(), name="assignment-edit"),
    path("assignment/<id:pk>/move/", AssignmentRuleMoveView.as_view(), name="assignment-move"),
    path("assignment/<id:pk>/active/", AssignmentRuleActiveView.as_view(), name="assignment-active"),
    path("assignment/<id:pk>/delete/", AssignmentRuleDeleteView.as_view(), name="assignment-delete"),
]
