"""Contacts and opportunities deleted longer than RETENTION_DAYS ago are purged by beat, their
activities with them; recent deletions and live records stay; 0 keeps everything."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Activity, Contact, Opportunity
from crm.services.retention import crm_deleted_purge
from crm.tasks import crm_deleted_purge_task
from crm.tests.factories import ActivityFactory, ContactFactory, OpportunityFactory
from leadnexus.core.models import Event

pytestmark = pytest.mark.django_db


def _deleted(record, days: int):
    type(record).objects.filter(pk=record.pk).update(deleted_at=timezone.now() - timedelta(days=days))
    return record


def test_records_deleted_past_retention_are_purged_with_their_activities(settings):
    settings.RETENTION_DAYS = 30
    old_contact, recent_contact, live_contact = ContactFactory(), ContactFactory(), ContactFactory()
    old_deal, live_deal = OpportunityFactory(), OpportunityFactory()
    logged = ActivityFactory(opportunity=None, contact=old_contact, created_by=old_contact.created_by)
    ActivityFactory(opportunity=old_deal, created_by=old_deal.created_by)
    _deleted(old_contact, 31), _deleted(recent_contact, 29), _deleted(old_deal, 40)

    assert crm_deleted_purge_task.delay().get() == 2

    assert set(Contact.objects.values_list("pk", flat=True)) == {recent_contact.pk, live_contact.pk}
    assert list(Opportunity.objects.values_list("pk", flat=True)) == [live_deal.pk]
    assert not Activity.objects.filter(contact=old_contact.pk).exists() and Activity.objects.count() == 0
    purged = Event.objects.get(name="crm.contact.purged")
    assert purged.subject_id == str(old_contact.pk) and purged.org_id == old_contact.organization_id
    assert purged.data == {"activities_logged": [logged.created_at.isoformat()]}
    assert Event.objects.filter(name="crm.opportunity.purged", subject_id=str(old_deal.pk)).exists()
    assert crm_deleted_purge() == 0


def test_zero_keeps_every_deleted_record(settings):
    settings.RETENTION_DAYS = 0
    _deleted(ContactFactory(), 5000)

    assert crm_deleted_purge() == 0 and Contact.objects.exists()
