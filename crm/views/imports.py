"""Contact import and export pages under /crm/contacts/: the leads' import pages
(`leads.views.imports`) with the contact spec (`crm.imports`), their own URL names and words.

Upload (`crm:contact-import`) → preview and columns (`contact-import-detail`, re-checked by
`contact-import-mapping`) → confirm (`contact-import-confirm`) → progress
(`contact-import-progress`, polled) and the rejected rows (`contact-import-rejected`);
`contact-import-history` lists past imports; `crm:contact-export` downloads the contact list
with the list page's own filters.
"""

from django.urls import path

from crm.exports import contacts_export
from leads.models import ImportJob
from leads.views.imports import (
    ImportConfirmView,
    ImportDetailView,
    ImportHistoryView,
    ImportMappingForm,
    ImportMappingView,
    ImportPageMixin,
    ImportProgressView,
    ImportRejectedView,
    ImportUploadView,
    LeadExportView,
)

POLICY_HELP = {
    ImportJob.DuplicatePolicy.SKIP: "Skip the row; it is listed in the rejected rows.",
    ImportJob.DuplicatePolicy.UPDATE: "Update the existing contact with the row's filled cells.",
    ImportJob.DuplicatePolicy.CREATE: "Create a new contact anyway.",
}


class ContactMappingForm(ImportMappingForm):
    duplicate_label = "When a row duplicates an existing contact"
    policy_help = POLICY_HELP


class _ContactImportPageMixin(ImportPageMixin):
    kind = ImportJob.Kind.CONTACTS
    url_names = {
        "start": "crm:contact-import",
        "history": "crm:contact-import-history",
        "detail": "crm:contact-import-detail",
        "mapping": "crm:contact-import-mapping",
        "confirm": "crm:contact-import-confirm",
        "progress": "crm:contact-import-progress",
        "rejected": "crm:contact-import-rejected",
    }
    preview_template = "crm/imports/preview.html"
    progress_template = "crm/imports/progress.html"
    mapping_form_class = ContactMappingForm


class ContactImportView(_ContactImportPageMixin, ImportUploadView):
    template_name = "crm/imports/upload.html"


class ContactImportDetailView(_ContactImportPageMixin, ImportDetailView):
    pass


class ContactImportMappingView(_ContactImportPageMixin, ImportMappingView):
    pass


class ContactImportConfirmView(_ContactImportPageMixin, ImportConfirmView):
    pass


class ContactImportProgressView(_ContactImportPageMixin, ImportProgressView):
    template_name = "crm/imports/partials/progress.html"


class ContactImportRejectedView(_ContactImportPageMixin, ImportRejectedView):
    pass


class ContactImportHistoryView(_ContactImportPageMixin, ImportHistoryView):
    template_name = "crm/imports/history.html"


class ContactExportView(LeadExportView):
    export = staticmethod(contacts_export)


urlpatterns = [
    path("contacts/import/", ContactImportView.as_view(), name="contact-import"),
    path("contacts/import/history/", ContactImportHistoryView.as_view(), name="contact-import-history"),
    path("contacts/import/<id:job_id>/", ContactImportDetailView.as_view(), name="contact-import-detail"),
    path("contacts/import/<id:job_id>/mapping/", ContactImportMappingView.as_view(), name="contact-import-mapping"),
    path("contacts/import/<id:job_id>/confirm/", ContactImportConfirmView.as_view(), name="contact-import-confirm"),
    path("contacts/import/<id:job_id>/progress/", ContactImportProgressView.as_view(), name="contact-import-progress"),
    path("contacts/import/<id:job_id>/rejected/", ContactImportRejectedView.as_view(), name="contact-import-rejected"),
    path("contacts/export/", ContactExportView.as_view(), name="contact-export"),
]
