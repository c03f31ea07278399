"""The campaign pages: who may open them, writing a campaign (audience filters, live count,
steps, errors on their fields), the detail (preview, test send, send now, progress polled
while sending, figures with the A/B result), recipients, and the admin."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import PASSWORD, StaffUserFactory, SubUserFactory
from crm.models import Campaign
from crm.services.campaign_sending import campaigns_advance
from crm.services.campaign_tracking import suppression_add
from crm.services.campaigns import campaign_schedule
from crm.tests.campaign_support import STEP, campaign_make, leads_make
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _form(**overrides) -> dict:
    """The campaign form as a browser posts it: step 1 and one empty follow-up."""
    data = {
        "name": "Spring",
        "audience_kind": "leads",
        "ab_metric": "open",
        "ab_sample_percent": "20",
        "ab_wait_hours": "4",
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-subject": STEP["subject"],
        "form-0-body": STEP["body"],
        "form-1-delay_days": "3",
        "form-1-condition": "all",
    }
    return {**data, **overrides}


@pytest.fixture
def signed_in(client, manager):
    client.login(email=manager.email, password=PASSWORD)
    return client


def test_the_pages_need_a_member_who_may_view_leads_and_writing_needs_a_manager(client, manager, rep):
    campaign = campaign_make(manager)
    pages = ["/crm/campaigns/", f"/crm/campaigns/{campaign.pk}/", f"/crm/campaigns/{campaign.pk}/recipients/"]
    for url in [*pages, "/crm/campaigns/new/"]:
        assert client.get(url).status_code == 302  # to sign in
    client.login(email=rep.email, password=PASSWORD)
    for url in pages:
        assert client.get(url).status_code == 200
    assert "New campaign" not in client.get("/crm/campaigns/").content.decode()
    assert client.get("/crm/campaigns/new/").status_code == 403
    assert client.get(f"/crm/campaigns/{campaign.pk}/edit/").status_code == 403
    client.post(f"/crm/campaigns/{campaign.pk}/schedule/", {"now": "1"})
    assert Campaign.objects.get().status == Campaign.Status.DRAFT
    blind = SubUserFactory(parent=manager, permissions={"can_view_leads": False})
    client.login(email=blind.email, password=PASSWORD)
    assert client.get("/crm/campaigns/").status_code == 403


def test_a_campaign_is_written_with_the_lists_filters_and_a_follow_up(signed_in):
    response = signed_in.post(
        "/crm/campaigns/new/",
        _form(**{
            "leads-status": ["new", "qualified"],
            "leads-industry": "Software",
            "contacts-company": "ignored: the audience is leads",
            "form-1-subject": "Again",
            "form-1-body": "Nudge",
            "form-1-condition": "not_opened",
        }),
    )  # fmt: skip

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crm/campaigns/{campaign.pk}/"
    assert campaign.audience_filter == {"status": ["new", "qualified"], "industry": "Software"}
    assert [(s.position, s.subject, s.delay_days, s.condition) for s in campaign.steps.all()] == [
        (1, "Hello {{ first_name }}", 0, "all"),
        (2, "Again", 3, "not_opened"),
    ]
    page = signed_in.get(f"/crm/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'value="Software"' in page and "Nudge" in page


def test_form_errors_are_shown_on_their_fields(signed_in):
    response = signed_in.post("/crm/campaigns/new/", _form(**{"form-0-subject": "Hi {{ nickname }}"}))
    assert response.status_code == 400 and "{{ nickname }} is not a merge field" in response.content.decode()

    response = signed_in.post("/crm/campaigns/new/", _form(**{"leads-status": "nonsense"}))
    assert response.status_code == 400 and "status:" in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_live_audience_count_names_who_is_left_out(signed_in, manager):
    leads_make(manager.organization, 3, industry="Software")
    LeadFactory(organization=manager.organization, industry="Software", email="gone@example.com")
    LeadFactory(organization=manager.organization, industry="Software", email="")
    suppression_add(organization_id=manager.organization.pk, email="gone@example.com", reason="unsubscribed")

    page = signed_in.get("/crm/campaigns/audience/", {"audience_kind": "leads", "leads-industry": "soft"})

    text = " ".join(page.content.decode().split())
    assert '<strong data-testid="audience-sendable">3</strong> of 5 leads' in text
    assert "1 unsubscribed, 0 bounced, 1 without a usable email" in text
    error = signed_in.get("/crm/campaigns/audience/", {"audience_kind": "leads", "leads-score_min": "x"})
    assert "score_min" in error.content.decode()


def test_the_detail_previews_tests_sends_and_shows_the_figures(signed_in, manager, settings):
    settings.CAMPAIGN_DAILY_CAP = 2
    lead = LeadFactory(organization=manager.organization, first_name="<Zed>")
    leads_make(manager.organization, 2)
    campaign = campaign_make(manager)
    url = f"/crm/campaigns/{campaign.pk}/"

    page = signed_in.get(url, {"recipient": lead.pk}).content.decode()
    assert "Hello &lt;Zed&gt;" in page and 'data-testid="preview"' in page
    signed_in.post(f"{url}test/", {"recipient": lead.pk})
    assert [message.subject for message in mail.outbox] == ["[Test] Hello <Zed>"]

    signed_in.post(f"{url}schedule/", {"now": "1"})
    progress = signed_in.get(f"{url}progress/").content.decode()
    assert 'hx-trigger="every 2s"' in progress  # the cap holds one back: still sending

    settings.CAMPAIGN_DAILY_CAP = 10
    campaigns_advance()
    progress = signed_in.get(f"{url}progress/").content.decode()
    assert "hx-trigger" not in progress and "Sent" in progress
    page = " ".join(signed_in.get(url).content.decode().split())
    assert '<dd data-testid="figure-sent">3</dd>' in page and 'data-testid="timeline-table"' in page
    recipients = signed_in.get(f"{url}recipients/", {"status": "sent"}).content.decode()
    assert lead.email in recipients


def test_the_figures_show_both_variants_and_the_winner(signed_in, manager):
    leads_make(manager.organization, 4)
    campaign = campaign_make(manager, ab_test=True, ab_sample_percent=50, steps=[{**STEP, "subject_b": "Other"}])
    campaign_schedule(actor=manager, campaign_id=campaign.pk)
    campaigns_advance(now=timezone.now() + timedelta(hours=5))

    page = signed_in.get(f"/crm/campaigns/{campaign.pk}/").content.decode()

    assert 'data-testid="ab-winner">Variant A won' in page
    assert "Hello {{ first_name }}" in page and "Other" in page


def test_a_sending_campaign_cannot_be_edited_from_its_page(signed_in, manager):
    leads_make(manager.organization, 1)
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    response = signed_in.get(f"/crm/campaigns/{campaign.pk}/edit/")

    assert response.status_code == 302 and response["Location"] == f"/crm/campaigns/{campaign.pk}/"


def test_staff_see_campaigns_in_the_admin(client, manager):
    leads_make(manager.organization, 1)
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    client.force_login(StaffUserFactory())

    for model in ("campaign", "campaignrecipient", "campaignmessage", "emailsuppression"):
        assert client.get(f"/admin/crm/{model}/").status_code == 200
    assert client.get(f"/admin/crm/campaign/{campaign.pk}/change/").status_code == 200
