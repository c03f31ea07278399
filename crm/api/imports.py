"""Contact imports and exports through the API: the leads' import and export endpoints
(`leads.api.imports`) with the contact spec (`crm.imports`) and the contact list's filters.

`POST contacts/import/` (multipart `file`) → 201 with the staged job, its guessed mapping and a
preview; `POST contacts/import/{id}/confirm/` {mapping?, duplicate_policy?} → 202 queued;
`GET contacts/import/` and `contacts/import/{id}/` follow jobs; `GET contacts/import/{id}/rejected/`
downloads the rows not imported with a `reason` column; `GET contacts/export/?format=csv|xlsx`
(+ the list's filters) downloads the contacts the caller's list shows.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view

from crm.exports import contacts_export
from crm.filters import ContactFilter
from crm.models import Contact
from leads.api.imports import (
    LeadExportView,
    LeadImportConfirmView,
    LeadImportDetailView,
    LeadImportListView,
    LeadImportRejectedView,
)
from leads.models import ImportJob


class _ContactImport:
    kind = ImportJob.Kind.CONTACTS
    rejected_route = "api:contact-import-rejected"


@extend_schema_view(
    get=extend_schema(summary="Past contact imports, newest first"),
    post=extend_schema(
        summary="Upload a CSV or XLSX file of contacts: staged, with a guessed mapping and a preview",
        description="Needs the right to add leads. Nothing is imported until the job is confirmed. Too large "
        "(file or rows) is 413 payload_too_large; not a CSV or XLSX by content is 415 unsupported_media_type; "
        "a malformed file is 400 validation_error naming the line or row.",
    ),
)
class ContactImportListView(_ContactImport, LeadImportListView):
    """Upload a file to import contacts, or list past imports."""


@extend_schema_view(get=extend_schema(summary="One contact import: status, progress and counts"))
class ContactImportDetailView(_ContactImport, LeadImportDetailView):
    pass


@extend_schema_view(
    post=extend_schema(
        summary="Confirm an uploaded contact import (optionally correcting the mapping); it runs in the background",
        description="An import already confirmed is 409 illegal_transition. The update policy needs the right "
        "to edit leads, and updates only the contacts you may see.",
    )
)
class ContactImportConfirmView(_ContactImport, LeadImportConfirmView):
    pass


@extend_schema_view(get=extend_schema(summary="The rows of a contact import that were not imported, as CSV"))
class ContactImportRejectedView(_ContactImport, LeadImportRejectedView):
    pass


@extend_schema_view(
    get=extend_schema(
        summary="Download the contacts your list shows (same filters), as CSV or XLSX",
        filters=True,  # not a list view to the schema, yet it takes the list's filters
    )
)
class ContactExportView(LeadExportView):
    queryset = Contact.objects.none()  # for the schema: the filters are ContactFilter's
    filterset_class = ContactFilter
    export = staticmethod(contacts_export)


api_urlpatterns = [
    path("contacts/import/", ContactImportListView.as_view(), name="contact-imports"),
    path("contacts/import/<id:job_id>/", ContactImportDetailView.as_view(), name="contact-import"),
    path("contacts/import/<id:job_id>/confirm/", ContactImportConfirmView.as_view(), name="contact-import-confirm"),
    path("contacts/import/<id:job_id>/rejected/", ContactImportRejectedView.as_view(), name="contact-import-rejected"),
    path("contacts/export/", ContactExportView.as_view(), name="contact-export"),
]
