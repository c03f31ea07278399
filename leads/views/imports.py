"""Import and export pages under /leads/.

Upload a file (`leads:import`) → check the preview and correct the column mapping
(`leads:import-detail`, re-checked by `leads:import-mapping`) → confirm (`leads:import-confirm`)
→ watch the progress bar (`leads:import-progress`, polled by htmx every second until the job
ends) and download the rejected rows (`leads:import-rejected`). `leads:import-history` lists
past imports; `leads:export` downloads the lead list with the list page's own filters.

The import pages serve any kind of import: marketplace uploads subclass them with their own
kind, URL names, templates, reads and writes (`ImportPageMixin` lists what may differ).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views import View
from django.views.generic import ListView, TemplateView

from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from leads.imports import services
from leads.imports.export import leads_export, rejected_response
from leads.imports.selectors import import_job_get, import_job_list, import_preview, import_rejected
from leads.imports.specs import spec_for
from leads.models import ImportJob

RECENT_JOBS = 5
POLICY_HELP = {
    ImportJob.DuplicatePolicy.SKIP: "Skip the row; it is listed in the rejected rows.",
    ImportJob.DuplicatePolicy.UPDATE: "Update the existing lead with the row's filled cells.",
    ImportJob.DuplicatePolicy.CREATE: "Create a new lead anyway.",
}


# --- Forms (shape only) ----------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text="CSV (comma, semicolon or tab separated) or XLSX, up to "
        f"{settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)} MB and {settings.IMPORT_MAX_ROWS:,} rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx,text/csv,text/plain"}),
    )


class ImportMappingForm(forms.Form):
    """One choice per column of the file (which field it feeds, or none), and the duplicate policy."""

    mapped_as = "Imported as"  # heads the column of those choices on the preview
    # Another kind of import says what its duplicates are (`policy_help`: each policy's effect).
    duplicate_label = "When a row duplicates an existing lead"
    policy_help = POLICY_HELP

    duplicate_policy = forms.ChoiceField(choices=ImportJob.DuplicatePolicy.choices, widget=forms.RadioSelect)

    def __init__(self, *args, job: ImportJob, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("duplicate_policy", job.duplicate_policy)
        super().__init__(*args, **kwargs)
        spec = spec_for(job.kind)
        choices = [("", "— not imported —"), *((f.name, f.label) for f in spec.fields)]
        self.columns = list(job.columns)
        for index, column in enumerate(self.columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                choices=choices, required=False, label=column, initial=job.mapping.get(column) or ""
            )
        self.fields["duplicate_policy"].label = self.duplicate_label
        self.fields["duplicate_policy"].choices = [
            (value, f"{label}: {self.policy_help[value]}") for value, label in ImportJob.DuplicatePolicy.choices
        ]

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.columns))]

    def mapping(self) -> dict[str, str | None]:
        return {column: self.cleaned_data[f"column_{index}"] or None for index, column in enumerate(self.columns)}


# --- Pages -----------------------------------------------------------------------------


def _problems(problems: dict[str, list[str]], kind: str) -> list[tuple[str, str]]:
    """(label, message) for each problem of a preview row: "Email", not "email"."""
    labels = {f.name: f.label for f in spec_for(kind).fields} | {"duplicate": "Duplicate"}
    return [(labels.get(name, name), message) for name, messages in problems.items() for message in messages]


class ImportPageMixin(LoginRequiredMixin):
    """What every import page shares; another kind of import subclasses each page to override it.
    Here: the kind, the URL kwarg, the URL names (templates get them as `url_names`) and the reads.
    On the pages: the templates, the writes (`upload`, `update_mapping`, `confirm`) and
    `success_message`, formatted with the job."""

    kind = ImportJob.Kind.LEADS
    pk_url_kwarg = "job_id"
    url_names = {
        "start": "leads:import",
        "history": "leads:import-history",
        "detail": "leads:import-detail",
        "mapping": "leads:import-mapping",
        "confirm": "leads:import-confirm",
        "progress": "leads:import-progress",
        "rejected": "leads:import-rejected",
    }

    @property
    def job_id(self) -> int:
        return self.kwargs[self.pk_url_kwarg]

    def get_context_data(self, **kwargs):
        return super().get_context_data(url_names=self.url_names, **kwargs)

    def redirect_to_job(self, job_id: int):
        return redirect(self.url_names["detail"], job_id)

    def job_list(self):
        return import_job_list(user=self.request.user, kind=self.kind)

    def job_get(self):
        return import_job_get(user=self.request.user, kind=self.kind, job_id=self.job_id)

    def job_preview(self):
        return import_preview(user=self.request.user, kind=self.kind, job_id=self.job_id)

    def job_rejected(self):
        return import_rejected(user=self.request.user, kind=self.kind, job_id=self.job_id)


class ImportUploadView(ImportPageMixin, ServiceFormView):
    template_name = "leads/imports/upload.html"
    form_class = ImportUploadForm
    success_message = "{job.file_name}: {job.total:,} rows read. Check the columns, then start the import."

    def get_context_data(self, **kwargs):
        recent = self.job_list()[:RECENT_JOBS]
        return super().get_context_data(recent=recent, spec=spec_for(self.kind), **kwargs)

    def upload(self, form) -> services.ImportUpload:
        return services.import_upload(actor=self.request.user, kind=self.kind, file=form.cleaned_data["file"])

    def perform(self, form):
        upload = self.upload(form)
        messages.success(self.request, self.success_message.format(job=upload.job))
        return self.redirect_to_job(upload.job.pk)


class _JobPageMixin(ImportPageMixin):
    """The preview of a job waiting for confirmation, or its progress once confirmed."""

    preview_template = "leads/imports/preview.html"
    progress_template = "leads/imports/progress.html"
    mapping_form_class = ImportMappingForm

    def job_context(self, *, form=None) -> dict:
        preview = self.job_preview()
        if preview.job.status != ImportJob.Status.AWAITING_CONFIRM:
            return {"job": preview.job}
        form = form or self.mapping_form_class(job=preview.job)
        columns = preview.job.columns
        first = preview.rows[0]["values"] if preview.rows else {}
        return {
            "job": preview.job,
            "preview": preview.rows,
            "preview_rows": [
                (row, [row["values"].get(column, "") for column in columns], _problems(row["problems"], self.kind))
                for row in preview.rows
            ],
            "mapping_rows": [(field, first.get(field.label, "")) for field in form.column_fields()],
            "form": form,
            "rejected_in_preview": sum(row["rejected"] for row in preview.rows),
        }


class ImportDetailView(_JobPageMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        context = self.job_context()
        awaiting = context["job"].status == ImportJob.Status.AWAITING_CONFIRM
        self.template_name = self.preview_template if awaiting else self.progress_template
        return self.render_to_response(self.get_context_data(**context))


class _JobFormView(_JobPageMixin, ServiceFormView):
    """The mapping form posted to correct the preview or to confirm; an error re-renders the preview."""

    def get(self, request, *args, **kwargs):
        return self.redirect_to_job(self.job_id)

    def get_form_class(self):
        return self.mapping_form_class

    def get_template_names(self):
        return [self.preview_template]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "job": self.job_get()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **self.job_context(form=context["form"])}


class ImportMappingView(_JobFormView):
    def update_mapping(self, form) -> None:
        services.import_mapping_update(
            actor=self.request.user, kind=self.kind, job_id=self.job_id, mapping=form.mapping()
        )

    def perform(self, form):
        self.update_mapping(form)
        messages.info(self.request, "The preview is checked again with your columns.")
        return self.redirect_to_job(self.job_id)


class ImportConfirmView(_JobFormView):
    success_message = "The import of {job.file_name} has started."

    def confirm(self, form) -> ImportJob:
        return services.import_confirm(
            actor=self.request.user,
            kind=self.kind,
            job_id=self.job_id,
            mapping=form.mapping(),
            duplicate_policy=form.cleaned_data["duplicate_policy"],
        )

    def perform(self, form):
        job = self.confirm(form)
        messages.success(self.request, self.success_message.format(job=job))
        return self.redirect_to_job(job.pk)


class ImportProgressView(ImportPageMixin, TemplateView):
    """The progress fragment the progress page polls; once the job ends it stops asking."""

    template_name = "leads/imports/partials/progress.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(job=self.job_get()))


class ImportRejectedView(ImportPageMixin, View):
    def get(self, request, *args, **kwargs):
        return rejected_response(self.job_rejected())


class ImportHistoryView(ImportPageMixin, PreferredPageSizeMixin, ListView):
    template_name = "leads/imports/history.html"
    context_object_name = "jobs"

    def get_queryset(self):
        return self.job_list()


class LeadExportView(LoginRequiredMixin, View):
    """The lead list as a file, with the list page's own query parameters (filters, search,
    ordering) and `?format=csv|xlsx` (default: the user's preference). Another list subclasses
    it with its own `export`."""

    export = staticmethod(leads_export)

    def get(self, request):
        return self.export(user=request.user, params=request.GET, format=request.GET.get("format") or None)


urlpatterns = [
    path("import/", ImportUploadView.as_view(), name="import"),
    path("import/history/", ImportHistoryView.as_view(), name="import-history"),
    path("import/<id:job_id>/", ImportDetailView.as_view(), name="import-detail"),
    path("import/<id:job_id>/mapping/", ImportMappingView.as_view(), name="import-mapping"),
    path("import/<id:job_id>/confirm/", ImportConfirmView.as_view(), name="import-confirm"),
    path("import/<id:job_id>/progress/", ImportProgressView.as_view(), name="import-progress"),
    path("import/<id:job_id>/rejected/", ImportRejectedView.as_view(), name="import-rejected"),
    path("export/", LeadExportView.as_view(), name="export"),
]
