"""Contact exports (CSV or XLSX), through the leads' export (`leads.imports.export`): exactly
the list the user sees (`crm.selectors.contact_list` filtered by `crm.filters.ContactFilter`
with the list's own query parameters), for members with `can_export`; the format and the
notes column as the user's preferences say. The person's columns have the names the contact
import reads, so an exported file imports back."""

from django.db.models import QuerySet

from accounts.models import User
from crm.filters import ContactFilter
from crm.models import Contact
from crm.selectors import contact_list
from leads.imports.export import export_response, list_filtered, require_export

CONTACT_COLUMNS = [
    ("id", lambda contact: contact.pk),
    ("first_name", lambda contact: contact.first_name),
    ("last_name", lambda contact: contact.last_name),
    ("email", lambda contact: contact.email),
    ("phone", lambda contact: contact.phone),
    ("company", lambda contact: contact.company),
    ("position", lambda contact: contact.position),
    ("assigned_to", lambda contact: contact.assigned_to.email if contact.assigned_to_id else ""),
    ("lead_id", lambda contact: contact.lead_id),
    ("created_at", lambda contact: contact.created_at),
    ("updated_at", lambda contact: contact.updated_at),
]


def contacts_for_export(*, user: User, params) -> QuerySet[Contact]:
    """The contacts the user's list shows for these query parameters (filters, search, ordering)."""
    require_export(user, "contacts")
    return list_filtered(ContactFilter(data=params, queryset=contact_list(user=user)))


def contacts_export(*, user: User, params, format: str | None = None):
    """The export of the user's contact list as filtered by `params` (the list page's GET)."""
    return export_response(
        user=user,
        queryset=contacts_for_export(user=user, params=params),
        columns=CONTACT_COLUMNS,
        basename="contacts",
        title="Contacts",
        format=format,
    )
