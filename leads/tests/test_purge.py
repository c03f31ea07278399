"""The purge job (Celery beat, every six hours): leads deleted longer ago than the restore
window are removed for good; their history stays in the event log."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from leadnexus.core.models import Event
from leads.models import Lead
from leads.services.records import lead_delete
from leads.tasks import leads_purge
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _deleted_days_ago(user, days: int) -> Lead:
    lead = LeadFactory(organization=user.organization)
    lead_delete(actor=user, lead_id=lead.pk)
    Lead.objects.filter(pk=lead.pk).update(deleted_at=timezone.now() - timedelta(days=days))
    return lead


def test_the_job_purges_leads_past_the_window_and_keeps_the_rest(user):
    # given a lead deleted 31 days ago, one 29 days ago, and a live one
    _deleted_days_ago(user, 31)
    restorable = _deleted_days_ago(user, 29)
    live = LeadFactory(organization=user.organization)

    # when the beat job runs
    purged = leads_purge.delay().get()

    # then only the expired lead is gone
    assert purged == 1
    assert set(Lead.objects.values_list("pk", flat=True)) == {restorable.pk, live.pk}


def test_a_purged_leads_history_remains(user):
    expired = _deleted_days_ago(user, 31)

    leads_purge()

    names = set(
        Event.objects.filter(subject_type="leads.lead", subject_id=str(expired.pk)).values_list("name", flat=True)
    )
    assert names == {"leads.lead.deleted", "leads.lead.purged"}
    purged = Event.objects.get(name="leads.lead.purged", subject_id=str(expired.pk))
    assert purged.org_id == user.organization_id and purged.actor is None


def test_the_job_is_scheduled_and_a_second_run_finds_nothing(user):
    _deleted_days_ago(user, 45)
    assert "leads.tasks.leads_purge" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert leads_purge() == 1
    assert leads_purge() == 0


def test_the_window_is_the_setting(user, settings):
    settings.LEAD_RESTORE_WINDOW = timedelta(days=7)
    lead = _deleted_days_ago(user, 8)
    assert leads_purge() == 1
    assert not Lead.objects.filter(pk=lead.pk).exists()
