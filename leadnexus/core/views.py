from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from leadnexus.core.exceptions import ApplicationError
from leadnexus.core.pagination import preferred_page_size


def form_error(form, exc: ApplicationError) -> None:
    """Show a domain error on the form: on the fields it names, else above the form."""
    placed = False
    for field, messages in exc.details.items():
        if field in form.fields:
            for message in messages if isinstance(messages, list) else [messages]:
                form.add_error(field, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class ServiceFormView(FormView):
    """A page whose valid form calls one service in `perform()`. A domain error becomes a
    form error; the page answers with that error's status (400 for an invalid form)."""

    def form_valid(self, form):
        try:
            return self.perform(form)
        except ApplicationError as exc:
            form_error(form, exc)
            response = self.render_to_response(self.get_context_data(form=form, error_code=exc.code))
            response.status_code = exc.status
            if hasattr(exc, "retry_after"):
                response["Retry-After"] = str(exc.retry_after)
            return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def perform(self, form):
        raise NotImplementedError


class PreferredPageSizeMixin:
    """For list pages (ListView): page by the viewer's items-per-page preference, the same
    default the API lists use."""

    def get_paginate_by(self, queryset):
        return preferred_page_size(self.request.user)


class LandingView(TemplateView):
    template_name = "core/landing.html"

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("analytics:dashboard")
        return super().get(request, *args, **kwargs)
