"""Capture form pages: the forms of the organization (/leads/forms/), one form with its public
link, embed snippet and submissions, the form builder; and the public page itself at
/f/<slug>/ (`public_urlpatterns`), which is the only page of the site that may be framed, and
only as the embed (`?embed=1`)."""

from csp.decorators import csp_replace
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import ListView, TemplateView, View

from accounts.models import User
from accounts.selectors import user_list
from leadnexus.core.exceptions import NotFound
from leadnexus.core.ratelimit import client_ip
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from leads import policy, selectors
from leads.cleaning import LEAD_FIELDS, TEXT_FIELDS
from leads.exceptions import SubmissionAttachmentTooLarge
from leads.models import CaptureForm, Lead
from leads.services import forms as services

# --- Forms (shape only) ----------------------------------------------------------------------


class _MemberChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, member):
        return f"{member.get_full_name()}{'' if member.is_active else ' (deactivated)'}"


class CaptureFormForm(forms.Form):
    """The form builder: name, texts, who is told, and per lead field whether it is asked,
    its label and whether it is required."""

    name = forms.CharField(max_length=100)
    thank_you_text = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown after sending. Empty: a short standard thank-you.",
    )
    notify_users = _MemberChoices(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Tell these members of each submission",
    )
    allow_attachment = forms.BooleanField(required=False, label="Accept an attachment (PDF, Word, PNG or JPEG)")
    is_active = forms.BooleanField(required=False, initial=True, label="Active: the public page takes submissions")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notify_users"].queryset = user_list(user=user).order_by("-is_active", "full_name", "email")
        for name in LEAD_FIELDS:
            label = services.FIELD_LABELS[name]
            self.fields[f"{name}__ask"] = forms.BooleanField(required=False, label=label)
            self.fields[f"{name}__label"] = forms.CharField(
                max_length=100,
                required=False,
                label=f"Label for {label.lower()}",
                widget=forms.TextInput(attrs={"placeholder": label}),
            )
            self.fields[f"{name}__required"] = forms.BooleanField(required=False, label="Required")

    def field_rows(self):
        return [(self[f"{name}__ask"], self[f"{name}__label"], self[f"{name}__required"]) for name in LEAD_FIELDS]

    @staticmethod
    def initial_for(form: CaptureForm) -> dict:
        initial = {
            "name": form.name,
            "thank_you_text": form.thank_you_text,
            "notify_users": list(form.notify_users.all()),
            "allow_attachment": form.allow_attachment,
            "is_active": form.is_active,
        }
        for field in form.fields:
            initial[f"{field['name']}__ask"] = True
            initial[f"{field['name']}__label"] = field["label"]
            initial[f"{field['name']}__required"] = field["required"]
        return initial

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "thank_you_text": data["thank_you_text"],
            "notify_user_ids": [member.pk for member in data["notify_users"]],
            "allow_attachment": data["allow_attachment"],
            "is_active": data["is_active"],
            "fields": [
                {"name": name, "label": data[f"{name}__label"], "required": data[f"{name}__required"]}
                for name in LEAD_FIELDS
                if data[f"{name}__ask"]
            ],
        }


_WIDGETS = {
    "email": forms.EmailInput(attrs={"autocomplete": "email"}),
    "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    "website": forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
    "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
    "company": forms.TextInput(attrs={"autocomplete": "organization"}),
    "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
    "employee_count": forms.TextInput(attrs={"inputmode": "numeric"}),
    "annual_revenue": forms.TextInput(attrs={"inputmode": "decimal"}),
    "notes": forms.Textarea(attrs={"rows": 4}),
}
_LIMITS = {**TEXT_FIELDS, "email": 254, "phone": 40, "website": 300, "notes": 10000}


class PublicSubmissionForm(forms.Form):
    """The visitor's form, built from the capture form's fields, with the attachment when the
    form takes one (the honeypot input is in the template, outside the form's fields)."""

    def __init__(self, *args, capture_form: CaptureForm, **kwargs):
        super().__init__(*args, **kwargs)
        for field in capture_form.fields:
            name = field["name"]
            if name == "customer_category":
                self.fields[name] = forms.ChoiceField(
                    choices=[("", "—"), *Lead.CustomerCategory.choices], required=field["required"]
                )
            else:
                self.fields[name] = forms.CharField(
                    max_length=_LIMITS.get(name, 40), required=field["required"], widget=_WIDGETS.get(name)
                )
            self.fields[name].label = field["label"]
        if capture_form.allow_attachment:
            self.fields["attachment"] = forms.FileField(
                required=False,
                allow_empty_file=True,
                label="Attachment (optional)",
                help_text=f"PDF, Word, PNG or JPEG, up to {filesizeformat(settings.SUBMISSION_MAX_ATTACHMENT_BYTES)}.",
                widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.doc,.docx,.png,.jpg,.jpeg"}),
            )


class ConfirmForm(forms.Form):
    """A button: nothing to fill in but the CSRF token."""


# --- The organization's forms ------------------------------------------------------------------


class CaptureFormListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "leads/forms/list.html"
    context_object_name = "capture_forms"

    def get_queryset(self):
        return selectors.capture_form_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=policy.can_manage_capture_forms(self.request.user), **kwargs)


class _BuilderMixin(LoginRequiredMixin):
    template_name = "leads/forms/edit.html"
    form_class = CaptureFormForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=policy.can_manage_capture_forms(self.request.user), **kwargs)


class CaptureFormCreateView(_BuilderMixin, ServiceFormView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            policy.require_capture_form_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        # A sensible start: name, company and email asked, email required.
        return {
            "first_name__ask": True,
            "last_name__ask": True,
            "company__ask": True,
            "email__ask": True,
            "email__required": True,
            "notes__ask": True,
        }

    def perform(self, form):
        capture_form = services.capture_form_create(actor=self.request.user, **form.arguments())
        messages.success(self.request, f"The form “{capture_form.name}” is ready. Share its link or embed it.")
        return redirect("leads:form", pk=capture_form.pk)


class _FormMixin(LoginRequiredMixin):
    def get_capture_form(self) -> CaptureForm:
        if not hasattr(self, "_capture_form"):
            self._capture_form = selectors.capture_form_get(user=self.request.user, form_id=self.kwargs["pk"])
        return self._capture_form

    def get_context_data(self, **kwargs):
        return super().get_context_data(capture_form=self.get_capture_form(), **kwargs)


class CaptureFormEditView(_FormMixin, _BuilderMixin, ServiceFormView):
    def get_initial(self):
        return CaptureFormForm.initial_for(self.get_capture_form())

    def perform(self, form):
        capture_form = services.capture_form_update(
            actor=self.request.user, form_id=self.kwargs["pk"], changes=form.arguments()
        )
        messages.success(self.request, f"The form “{capture_form.name}” was saved.")
        return redirect("leads:form", pk=capture_form.pk)


class CaptureFormDeleteView(_FormMixin, ServiceFormView):
    """Asks first (GET), deletes on POST."""

    template_name = "leads/forms/delete.html"
    form_class = ConfirmForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            policy.require_capture_form_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        capture_form = services.capture_form_delete(actor=self.request.user, form_id=self.kwargs["pk"])
        messages.success(self.request, f"The form “{capture_form.name}” and its submissions were deleted.")
        return redirect("leads:forms")


class CaptureFormDetailView(_FormMixin, PreferredPageSizeMixin, ListView):
    """The form: its public link and embed snippet, and its submissions, newest first."""

    template_name = "leads/forms/detail.html"
    context_object_name = "submissions"

    def get_queryset(self):
        return selectors.submission_list(user=self.request.user, form_id=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        capture_form = context["capture_form"]
        labels = [(field["name"], field["label"]) for field in capture_form.fields]
        # Each submission's answers under the form's labels, in the form's order.
        context["rows"] = [
            (submission, [(label, submission.data.get(name, "")) for name, label in labels])
            for submission in context["submissions"]
        ]
        context.update(
            public_url=services.form_public_url(capture_form),
            embed_snippet=services.form_embed_snippet(capture_form),
            can_manage=policy.can_manage_capture_forms(self.request.user),
            action_form=ConfirmForm(),
        )
        return context


class SubmissionReachedOutView(LoginRequiredMixin, ServiceFormView):
    template_name = "leads/forms/action_failed.html"
    form_class = ConfirmForm
    http_method_names = ["post"]

    def perform(self, form):
        submission = services.submission_mark_reached_out(actor=self.request.user, submission_id=self.kwargs["pk"])
        messages.success(self.request, "Marked as reached out.")
        return redirect(f"{reverse('leads:form', args=[submission.form_id])}#submission-{submission.pk}")


class SubmissionAttachmentView(LoginRequiredMixin, View):
    """The attachment as a download, for members who may see the submission's lead."""

    def get(self, request, *args, **kwargs):
        submission = selectors.submission_get(user=request.user, submission_id=kwargs["pk"])
        if not submission.attachment:
            raise NotFound("This submission has no attachment.")
        response = FileResponse(
            submission.attachment.open("rb"),
            as_attachment=True,
            filename=submission.attachment_name or "attachment",
            content_type=submission.attachment_content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


urlpatterns = [
    path("forms/", CaptureFormListView.as_view(), name="forms"),
    path("forms/new/", CaptureFormCreateView.as_view(), name="form-new"),
    path("forms/<id:pk>/", CaptureFormDetailView.as_view(), name="form"),
    path("forms/<id:pk>/edit/", CaptureFormEditView.as_view(), name="form-edit"),
    path("forms/<id:pk>/delete/", CaptureFormDeleteView.as_view(), name="form-delete"),
    path("forms/submissions/<id:pk>/reached-out/", SubmissionReachedOutView.as_view(), name="submission-reached-out"),
    path("forms/submissions/<id:pk>/attachment/", SubmissionAttachmentView.as_view(), name="submission-attachment"),
]


# --- The public page ------------------------------------------------------------------------

# Applied to embed answers only: any site may frame them; every other page keeps DENY.
_frameable = xframe_options_exempt(csp_replace({"frame-ancestors": ["*"]})(lambda response: response))


class _PublicMixin:
    def dispatch(self, request, *args, **kwargs):
        self.embedded = request.GET.get("embed") == "1"
        response = super().dispatch(request, *args, **kwargs)
        return _frameable(response) if self.embedded else response

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            embedded=self.embedded,
            base_template="leads/forms/embed_base.html" if self.embedded else "base.html",
            **kwargs,
        )


# Anonymous and reachable through the public API as well, so a CSRF token protects nothing
# here; and the token's cookie is not sent inside another site's frame.
@method_decorator(csrf_exempt, name="dispatch")
class PublicFormView(_PublicMixin, ServiceFormView):
    template_name = "leads/forms/public.html"
    form_class = PublicSubmissionForm

    def get_capture_form(self) -> CaptureForm:
        if not hasattr(self, "_capture_form"):
            self._capture_form = selectors.capture_form_public_get(slug=self.kwargs["slug"])
        return self._capture_form

    def post(self, request, *args, **kwargs):
        try:
            services.submission_size_check(content_length=request.META.get("CONTENT_LENGTH"))
        except SubmissionAttachmentTooLarge as exc:  # the body is left unread: show an empty form
            return self.render_to_response(self.get_context_data(body_error=exc.message), status=exc.status)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "capture_form": self.get_capture_form()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            capture_form=self.get_capture_form(), honeypot_name=services.HONEYPOT_FIELD, **kwargs
        )

    def perform(self, form):
        data = {**form.cleaned_data, services.HONEYPOT_FIELD: self.request.POST.get(services.HONEYPOT_FIELD, "")}
        attachment = data.pop("attachment", None) or None
        services.submission_receive(
            slug=self.kwargs["slug"],
            data=data,
            attachment=attachment,
            ip=client_ip(self.request),
            user_agent=self.request.headers.get("User-Agent", ""),
        )
        url = reverse("capture:thanks", args=[self.kwargs["slug"]])
        return redirect(f"{url}?embed=1" if self.embedded else url)


class PublicThanksView(_PublicMixin, TemplateView):
    template_name = "leads/forms/public_thanks.html"

    def get_context_data(self, **kwargs):
        capture_form = selectors.capture_form_public_get(slug=self.kwargs["slug"])
        return super().get_context_data(capture_form=capture_form, **kwargs)


public_urlpatterns = [
    path("<slug:slug>/", PublicFormView.as_view(), name="form"),
    path("<slug:slug>/thanks/", PublicThanksView.as_view(), name="thanks"),
]
