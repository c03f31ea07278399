"""The CRM's models: contacts, the opportunity pipeline and activities."""

from crm.models.activities import Activity
from crm.models.contacts import Contact
from crm.models.pipeline import Opportunity

__all__ = ["Activity", "Contact", "Opportunity"]
