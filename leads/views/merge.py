"""The merge page, /leads/<id>/merge/?other=<id>: this lead and its likely duplicates, then
both side by side with a choice per field; posting merges the other lead into this one
through `leads.services.merge.lead_merge`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path

from leadnexus.core.ids import MAX_ID, is_db_id
from leadnexus.core.views import ServiceFormView
from leads.services.merge import MERGE_FIELDS, OTHER, THIS, lead_merge, merge_preview


class LeadMergeForm(forms.Form):
    """The other lead and, per field that differs, which side's value to keep."""

    other_id = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)

    def __init__(self, *args, fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name in fields:
            self.fields[name] = forms.ChoiceField(
                choices=[(THIS, "This lead"), (OTHER, "The other lead")], required=False, widget=forms.RadioSelect
            )

    def choices(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in MERGE_FIELDS if self.cleaned_data.get(name)}


def _lead_id(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if is_db_id(value) else None


class LeadMergeView(LoginRequiredMixin, ServiceFormView):
    template_name = "leads/merge/merge.html"
    form_class = LeadMergeForm

    def get_preview(self):
        if not hasattr(self, "_preview"):
            source = self.request.POST if self.request.method == "POST" else self.request.GET
            other_id = _lead_id(source.get("other_id" if self.request.method == "POST" else "other"))
            self._preview = merge_preview(user=self.request.user, lead_id=self.kwargs["pk"], other_id=other_id)
        return self._preview

    def get(self, request, *args, **kwargs):
        self.get_preview()  # a lead the viewer cannot see or merge is 404 / 403 before anything renders
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        preview = self.get_preview()
        kwargs = super().get_form_kwargs()
        kwargs["fields"] = [row.name for row in preview.rows if row.differs]
        return kwargs

    def get_initial(self):
        preview = self.get_preview()
        initial = {row.name: row.choice for row in preview.rows}
        if preview.other is not None:
            initial["other_id"] = preview.other.pk
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        preview = self.get_preview()
        form = context["form"]
        context.update(
            preview=preview,
            lead=preview.lead,
            other=preview.other,
            rows=[(row, form[row.name] if row.name in form.fields else None) for row in preview.rows],
            differences=sum(row.differs for row in preview.rows),
        )
        return context

    def perform(self, form):
        lead = lead_merge(
            actor=self.request.user,
            lead_id=self.kwargs["pk"],
            other_id=form.cleaned_data["other_id"],
            fields=form.choices(),
        )
        messages.success(self.request, f"Merged lead #{form.cleaned_data['other_id']} into {lead}.")
        return redirect("leads:detail", pk=lead.pk)


urlpatterns = [
    path("<id:pk>/merge/", LeadMergeView.as_view(), name="merge"),
]
