"""Campaign services: the audience and who is left out, merge fields rendered safely, sending
in batches that a dead worker cannot make send twice, the daily cap, pause and cancel, the
A/B decision, follow-up steps, and failed emails."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db.models import F
from django.utils import timezone

from crm.campaign_content import Tracking, render
from crm.models import Campaign, CampaignMessage, CampaignRecipient
from crm.selectors_campaigns import audience_summary, campaign_stats
from crm.services import campaign_sending
from crm.services.campaign_sending import campaign_send, campaigns_advance
from crm.services.campaign_tracking import campaign_open_record, campaign_unsubscribe, suppression_add
from crm.services.campaigns import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_schedule,
    campaign_test_send,
    campaign_update,
)
from crm.tests.campaign_support import STEP, campaign_emails, campaign_make, leads_make
from crm.tests.factories import ContactFactory
from leadnexus.core.exceptions import IllegalTransition, PermissionDenied, ValidationFailed
from leads.tests.factories import LeadFactory
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

R = CampaignRecipient.Status


def _open(email: EmailMessage) -> None:
    message = CampaignMessage.objects.get(email=email)
    campaign_open_record(token=_tracking(message).open_url.rsplit("/", 1)[1].removesuffix(".gif"))


def _tracking(message: CampaignMessage) -> Tracking:
    return Tracking(message_id=message.pk, recipient_id=message.recipient_id)


# --- Audience -----------------------------------------------------------------------------------


def test_the_audience_leaves_out_unsubscribed_bounced_and_invalid_emails_and_counts_them(manager):
    org = manager.organization
    kept = leads_make(org, 2)
    LeadFactory(organization=org, email="gone@example.com")
    LeadFactory(organization=org, email="bounced@example.com")
    LeadFactory(organization=org, email="")
    LeadFactory(organization=org, email="not an address")
    LeadFactory(organization=org, email=kept[0].email.upper())  # the same person twice
    LeadFactory(organization=org, is_inventory=True)  # vendor stock is never an audience
    suppression_add(organization_id=org.pk, email="gone@example.com", reason="unsubscribed")
    suppression_add(organization_id=org.pk, email="bounced@example.com", reason="bounced")

    audience = audience_summary(user=manager, kind="leads", filters={})
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    assert [person["email"] for person in audience.people] == [lead.email for lead in kept]
    expected = {"unsubscribed": 1, "bounced": 1, "erased": 0, "invalid": 2, "duplicate": 1}
    assert audience.excluded == expected and campaign.excluded == expected
    assert sorted(campaign_emails()) == sorted(lead.email for lead in kept)


def test_an_unsubscribe_holds_for_every_later_campaign_of_the_organization(manager, other_org_user):
    leads = leads_make(manager.organization, 2)
    LeadFactory(organization=other_org_user.organization, email=leads[0].email)
    first = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    recipient = first.recipients.get(email=leads[0].email)
    campaign_unsubscribe(token=Tracking(message_id=0, recipient_id=recipient.pk).unsubscribe_url.rsplit("/", 1)[1])

    later = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    elsewhere = campaign_schedule(actor=other_org_user, campaign_id=campaign_make(other_org_user).pk)

    assert list(later.recipients.values_list("email", flat=True)) == [leads[1].email]
    assert later.excluded["unsubscribed"] == 1
    assert elsewhere.recipients.count() == 1  # another organization's list is its own


def test_an_audience_is_the_lists_filters_and_bad_filters_are_named(manager):
    leads_make(manager.organization, 2, industry="Software")
    leads_make(manager.organization, 3, industry="Retail")
    ContactFactory(created_by=manager, company="Acme")

    assert len(audience_summary(user=manager, kind="leads", filters={"industry": "soft"}).people) == 2
    assert len(audience_summary(user=manager, kind="contacts", filters={"company": "acme"}).people) == 1
    for filters, named in (
        ({"colour": "red"}, "colour is not a filter of leads"),
        ({"status": ["nonsense"]}, "status:"),
        ({"score_min": 10**30}, "score_min: Ensure this value is less than or equal to 100."),
        ({"industry": "x\x00"}, "printable"),
    ):
        with pytest.raises(ValidationFailed) as error:
            audience_summary(user=manager, kind="leads", filters=filters)
        assert named in error.value.details["audience_filter"][0]


# --- Writing and merge fields ------------------------------------------------------------------------


def test_merge_fields_are_filled_in_and_escaped_in_the_html_part():
    fields = {"first_name": "<b>Bo</b>", "company": ""}
    body = 'Hi {{ first_name }} of {{ company|default:"your team" }}\nhttps://example.com/a?b=1&c=2. Bye'

    rendered = render(subject="For {{ first_name }}", body=body, fields=fields, sender="Acme", tracking=None)

    assert rendered.subject == "For <b>Bo</b>"
    assert rendered.text.startswith("Hi <b>Bo</b> of your team\nhttps://example.com/a?b=1&c=2. Bye")
    assert "Hi &lt;b&gt;Bo&lt;/b&gt; of your team<br>" in rendered.html
    assert '<a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a>. Bye' in rendered.html
    assert "<b>" not in rendered.html


def test_a_merged_value_is_never_turned_into_a_link():
    rendered = render(
        subject="",
        body="{{ company }}",
        fields={"company": "https://evil.example"},
        sender="A",
        tracking=Tracking(1, 1),
    )
    assert "evil.example</div>" in rendered.html and "/t/c/" not in rendered.html


def test_unknown_merge_fields_and_an_ab_test_without_a_b_variant_are_refused(manager):
    with pytest.raises(ValidationFailed) as error:
        campaign_make(manager, steps=[{"subject": "Hi {{ nickname }}", "body": "{{ first_name|upper }}"}])
    problems = error.value.details["steps"][0]
    assert "{{ nickname }} is not a merge field" in problems["subject"][0]
    assert "{{ first_name }}" in problems["subject"][0]  # the fields to choose from are named
    assert "is not a merge field" in problems["body"][0]

    with pytest.raises(ValidationFailed) as error:
        campaign_make(manager, ab_test=True)
    assert "ab_test" in error.value.details


def test_only_managers_write_and_send_and_only_before_sending_starts(manager, rep):
    leads_make(manager.organization, 1)
    with pytest.raises(PermissionDenied):
        campaign_make(rep)
    campaign = campaign_make(manager)
    with pytest.raises(PermissionDenied):
        campaign_schedule(actor=rep, campaign_id=campaign.pk)

    campaign_schedule(actor=manager, campaign_id=campaign.pk)

    with pytest.raises(IllegalTransition):
        campaign_update(actor=manager, campaign_id=campaign.pk, data={"name": "Renamed"})
    with pytest.raises(IllegalTransition):
        campaign_schedule(actor=manager, campaign_id=campaign.pk)


def test_a_campaign_with_no_one_to_send_to_is_not_started(manager):
    campaign = campaign_make(manager)
    with pytest.raises(ValidationFailed):
        campaign_schedule(actor=manager, campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and not campaign.recipients.exists()


def test_a_test_send_goes_to_its_author_only_and_counts_nowhere(manager):
    leads_make(manager.organization, 2, first_name="Ada")
    campaign = campaign_make(manager, ab_test=True, steps=[{**STEP, "subject_b": "Other {{ first_name }}"}])

    emails = campaign_test_send(actor=manager, campaign_id=campaign.pk)

    assert [email.subject for email in emails] == ["[Test A] Hello Ada", "[Test B] Other Ada"]
    assert [message.to for message in mail.outbox] == [[manager.email], [manager.email]]
    assert "/t/" not in emails[0].html and not CampaignRecipient.objects.exists()


# --- Sending ------------------------------------------------------------------------------------------


def test_sending_now_emails_everyone_once_with_unsubscribe_headers(manager, settings):
    settings.CAMPAIGN_BATCH_SIZE = 2
    leads = leads_make(manager.organization, 5)

    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    assert campaign.status == Campaign.Status.SENT
    emails = campaign_emails()
    assert sorted(emails) == sorted(lead.email for lead in leads)
    assert all(len(sent) == 1 for sent in emails.values())
    message = next(m for m in mail.outbox if m.to == [leads[0].email]).message()
    assert message["List-Unsubscribe"].startswith("<http://testserver/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == f"Hello {leads[0].first_name}"
    assert message["Reply-To"] == manager.email
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {R.SENT}
    assert campaign_send(campaign_id=campaign.pk) == 0  # nothing is ever sent again


def test_a_worker_killed_mid_batch_resumes_without_a_second_email_to_anyone(manager, settings):
    settings.CAMPAIGN_BATCH_SIZE = 4
    leads = leads_make(manager.organization, 10)
    queue = campaign_sending.email_queue_rendered
    calls = {"n": 0}

    class WorkerLost(Exception):
        pass

    def dies_at_the_sixth(**kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # the second message of the second batch
            raise WorkerLost
        return queue(**kwargs)

    with mock.patch.object(campaign_sending, "email_queue_rendered", dies_at_the_sixth):
        campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    # the first batch committed; the second rolled back whole: no email queued, nothing marked
    assert EmailMessage.objects.filter(template="campaign").count() == 4
    assert CampaignMessage.objects.filter(status=CampaignMessage.Status.SENT).count() == 4
    assert CampaignRecipient.objects.filter(status=R.QUEUED).count() == 6
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING

    campaigns_advance()  # the beat job resumes it

    emails = campaign_emails()
    assert sorted(emails) == sorted(lead.email for lead in leads)
    assert all(len(sent) == 1 for sent in emails.values())
    assert sorted(to for message in mail.outbox for to in message.to) == sorted(lead.email for lead in leads)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_the_daily_cap_stops_sending_until_the_next_day(manager, settings):
    settings.CAMPAIGN_DAILY_CAP, settings.CAMPAIGN_BATCH_SIZE = 5, 2
    leads_make(manager.organization, 8)

    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    campaigns_advance()

    assert EmailMessage.objects.filter(template="campaign").count() == 5
    assert campaign.status == Campaign.Status.SENDING

    CampaignMessage.objects.update(sent_at=F("sent_at") - timedelta(days=1))  # a day went by
    campaigns_advance()

    assert EmailMessage.objects.filter(template="campaign").count() == 8
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_pause_resume_and_cancel(manager, settings):
    settings.CAMPAIGN_DAILY_CAP, settings.CAMPAIGN_BATCH_SIZE = 2, 2
    leads_make(manager.organization, 5)
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    campaign_pause(actor=manager, campaign_id=campaign.pk)
    settings.CAMPAIGN_DAILY_CAP = 100
    campaigns_advance()
    assert EmailMessage.objects.filter(template="campaign").count() == 2  # paused: the beat leaves it

    campaign_resume(actor=manager, campaign_id=campaign.pk)
    assert EmailMessage.objects.filter(template="campaign").count() == 5

    with pytest.raises(IllegalTransition):
        campaign_pause(actor=manager, campaign_id=campaign.pk)  # sent already

    other = campaign_make(manager)
    settings.CAMPAIGN_DAILY_CAP = 6
    other = campaign_schedule(actor=manager, campaign_id=other.pk)
    campaign_cancel(actor=manager, campaign_id=other.pk)
    progress = campaign_stats(user=manager, campaign_id=other.pk)["steps"][0]
    assert (progress["sent"], progress["skipped"], progress["pending"]) == (1, 4, 0)


def test_a_scheduled_campaign_starts_when_its_time_comes(manager):
    leads_make(manager.organization, 2)
    send_at = timezone.now() + timedelta(hours=2)
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk, send_at=send_at)
    assert campaign.status == Campaign.Status.SCHEDULED and not campaign.recipients.exists()

    campaigns_advance(now=send_at - timedelta(minutes=1))
    assert not EmailMessage.objects.filter(template="campaign").exists()
    campaigns_advance(now=send_at + timedelta(seconds=1))

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and len(campaign_emails()) == 2


def test_the_ab_winner_is_chosen_after_the_wait_and_sent_to_the_rest(manager):
    leads_make(manager.organization, 10)
    campaign = campaign_make(
        manager,
        ab_test=True,
        ab_sample_percent=40,
        ab_wait_hours=4,
        steps=[{"subject": "Offer A", "body": "A body", "subject_b": "Offer B"}],
    )
    started = timezone.now()
    campaign = campaign_schedule(actor=manager, campaign_id=campaign.pk)

    sample = campaign_emails()
    assert sorted(email.subject for sent in sample.values() for email in sent) == ["Offer A"] * 2 + ["Offer B"] * 2
    for sent in sample.values():
        if sent[0].subject == "Offer B":
            _open(sent[0])
    campaigns_advance(now=started + timedelta(hours=3))
    assert len(campaign_emails()) == 4  # still waiting

    campaigns_advance(now=started + timedelta(hours=5))

    campaign.refresh_from_db()
    assert campaign.ab_winner == "b" and campaign.status == Campaign.Status.SENT
    emails = campaign_emails()
    assert len(emails) == 10 and all(len(sent) == 1 for sent in emails.values())
    rest = [sent[0].subject for email, sent in emails.items() if email not in sample]
    assert rest == ["Offer B"] * 6
    ab = campaign_stats(user=manager, campaign_id=campaign.pk)["ab"]
    assert ab["winner"] == "b"
    assert [(v["variant"], v["delivered"], v["opened"], v["open_rate"]) for v in ab["variants"]] == [
        ("a", 2, 0, 0.0),
        ("b", 2, 2, 1.0),
    ]


def test_the_ab_figures_count_the_first_step_only(manager):
    leads_make(manager.organization, 4)
    steps = [
        {"subject": "Offer A", "body": "A body", "subject_b": "Offer B"},
        {"subject": "Reminder", "body": "Nudge", "delay_days": 1, "condition": "not_opened"},
    ]
    started = timezone.now()
    campaign = campaign_make(manager, ab_test=True, ab_sample_percent=100, steps=steps)
    campaign_schedule(actor=manager, campaign_id=campaign.pk)
    campaigns_advance(now=started + timedelta(hours=5))  # a tie: A goes to no one left
    campaigns_advance(now=started + timedelta(days=1, hours=6))

    reminders = EmailMessage.objects.filter(subject="Reminder")
    assert reminders.count() == 4
    for email in reminders:
        _open(email)  # the follow-up's opens

    ab = campaign_stats(user=manager, campaign_id=campaign.pk)["ab"]
    assert [(v["variant"], v["delivered"], v["opened"]) for v in ab["variants"]] == [("a", 2, 0), ("b", 2, 0)]
    assert campaign_stats(user=manager, campaign_id=campaign.pk)["opened"] == 4


def test_a_tie_goes_to_variant_a(manager):
    leads_make(manager.organization, 4)
    campaign = campaign_make(manager, ab_test=True, ab_sample_percent=50, steps=[{**STEP, "body_b": "Other body"}])
    campaign_schedule(actor=manager, campaign_id=campaign.pk)

    campaigns_advance(now=timezone.now() + timedelta(hours=5))

    campaign.refresh_from_db()
    assert campaign.ab_winner == "a"
    rest = CampaignMessage.objects.filter(recipient__in_sample=False)
    assert rest.count() == 2 and set(rest.values_list("variant", flat=True)) == {"a"}


def test_a_follow_up_goes_days_later_to_those_who_did_not_open(manager):
    leads = leads_make(manager.organization, 4)
    steps = [STEP, {"subject": "Did you see it?", "body": "Nudge", "delay_days": 3, "condition": "not_opened"}]
    started = timezone.now()
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager, steps=steps).pk)
    first = campaign_emails()
    _open(first[leads[0].email][0])
    recipient = campaign.recipients.get(email=leads[1].email)
    campaign_unsubscribe(token=Tracking(0, recipient.pk).unsubscribe_url.rsplit("/", 1)[1])
    assert campaign.status == Campaign.Status.SENDING

    campaigns_advance(now=started + timedelta(days=2))
    assert len(EmailMessage.objects.filter(subject="Did you see it?")) == 0
    campaigns_advance(now=started + timedelta(days=3, minutes=1))

    assert sorted(EmailMessage.objects.filter(subject="Did you see it?").values_list("to", flat=True)) == sorted(
        [leads[2].email, leads[3].email]
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    campaigns_advance(now=started + timedelta(days=9))
    assert EmailMessage.objects.filter(template="campaign").count() == 6


def test_an_email_the_outbox_gives_up_on_fails_its_recipient(manager, settings):
    settings.EMAIL_MAX_ATTEMPTS = 1
    leads = leads_make(manager.organization, 2)

    def refuses_one(self, messages):
        if messages[0].to == [leads[0].email]:
            raise OSError("mailbox unavailable")
        return len(messages)

    with mock.patch.object(EmailBackend, "send_messages", refuses_one):
        campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    assert campaign.recipients.get(email=leads[0].email).status == R.FAILED
    assert campaign.recipients.get(email=leads[1].email).status == R.SENT
    stats = campaign_stats(user=manager, campaign_id=campaign.pk)
    assert (stats["sent"], stats["failed"], stats["delivered"]) == (2, 1, 1)


# --- Through a real worker ---------------------------------------------------------------------


@pytest.mark.real_worker
def test_the_whole_send_through_a_real_worker(real_worker, manager, settings):
    settings.CAMPAIGN_BATCH_SIZE = 2
    leads = leads_make(manager.organization, 5)

    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.status == Campaign.Status.SENT and len(mail.outbox) == len(leads):
            break
        time.sleep(0.1)
    assert campaign.status == Campaign.Status.SENT
    assert sorted(to for message in mail.outbox for to in message.to) == sorted(lead.email for lead in leads)
    assert set(EmailMessage.objects.filter(template="campaign").values_list("status", flat=True)) == {"sent"}
    assert campaign_stats(user=manager, campaign_id=campaign.pk)["sent"] == len(leads)
