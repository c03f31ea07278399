"""Text a user typed, made of HTML and script, shows escaped on every page it appears on,
in the admin, in the JSON the dashboard charts read, and in the HTML part of every email
(the subject and plain-text part keep it as typed)."""

import json
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts.devices import Device
from accounts.models import UserSession
from accounts.services.auth import password_reset_request, user_register
from accounts.services.preferences import password_change
from accounts.services.sessions import session_start
from accounts.services.team import sub_user_create
from accounts.tests.factories import PASSWORD, StaffUserFactory
from analytics.rollups import rollups_rebuild
from analytics.services.subscriptions import report_subscriptions_send
from analytics.services.summaries import daily_summaries_send
from crm.services.campaigns import campaign_schedule, campaign_test_send
from marketplace.services.disputes import dispute_respond
from notifications.models import EmailMessage, NotificationType
from notifications.services import notification_settings_update
from tests.security.routes import api_schema, page_routes, url_for
from tests.security.world import world_build

pytestmark = pytest.mark.django_db

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'"
# What only unescaped payload produces, in markup or in an inline script.
RAW = ("<script>alert(1)", "<img src=x onerror", "</script><img")
# The data of a chart, read by static/js/analytics/charts.js.
JSON_BLOCK = re.compile(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', re.S)
STAFF_PAGES = ("/admin/", "/marketplace/review/", "/dashboard/overview/")
# Pages and the typed text each must show (escaped): lists, details, the board, timelines,
# the admin.
EXPECTED = {
    "/leads/": {"lead_first_name", "lead_last_name", "lead_company", "user_full_name"},
    "/leads/{lead.pk}/": {"lead_first_name", "lead_job_title", "lead_location", "lead_activity_subject"},
    "/crm/opportunities/{closed_opportunity.pk}/": {"lost_title", "lost_reason"},
    "/leads/forms/{form.pk}/": {"form_name", "form_notes", "lead_first_name"},
    "/leads/assignment/": {"rule_name", "user_full_name"},
    "/dashboard/": {"user_full_name"},
    "/crm/contacts/{contact.pk}/": {"contact_first_name", "contact_position", "contact_notes", "opportunity_title"},
    "/crm/opportunities/board/": {"opportunity_title"},
    "/crm/opportunities/{opportunity.pk}/": {"opportunity_title", "activity_subject", "activity_body"},
    "/crm/campaigns/{campaign.pk}/": {"campaign_name", "campaign_subject", "campaign_body", "lead_first_name"},
    "/crm/webhooks/{webhook.pk}/": {"webhook_description"},
    "/marketplace/disputes/{dispute.pk}/": {"dispute_details"},
    "/marketplace/disputes/{sale_dispute.pk}/": {"sale_dispute_details"},
    "/marketplace/listings/{listing.pk}/": {"listing_title", "listing_description"},
    "/marketplace/my-listings/": {"listing_title", "pending_title"},
    "/marketplace/review/": {"pending_title"},
    "/marketplace/saved-searches/": {"saved_search_name"},
    "/settings/team/": {"user_full_name"},
    "/notifications/": {"notification_title"},
    "/f/{form.slug}/": {"form_name"},
    "/admin/leads/lead/": {"lead_first_name", "lead_company"},
    "/admin/crm/activity/{activity.pk}/change/": {"activity_subject", "activity_body"},
}


def typed(name: str) -> str:
    return f"{PAYLOAD}{name}"


def html_of(response) -> str | None:
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return None
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def _pages(world) -> list[str]:
    """Every page that reads one record or none, the admin's lists and the world's records in
    the admin."""

    def value(obj):
        def fill(name):
            if name == "kind":
                return "leads"
            if obj is None or name == "token":
                return "x"
            record = world.objects[obj]
            return record.slug if name == "slug" else record.pk

        return fill

    pages = [
        url_for(route.pattern, value(route.obj))
        for route in page_routes(api_schema())
        if route.method == "GET" and not route.pattern.startswith("admin/")
    ]
    records = [world.owner, world.owner.organization, *world.objects.values()]
    pages += [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]
    pages += [
        reverse(f"admin:{r._meta.app_label}_{r._meta.model_name}_change", args=[r.pk])
        for r in records
        if type(r) in admin.site._registry
    ]
    pages += [path.format(**world.objects) for path in EXPECTED]
    return list(dict.fromkeys(pages))


def test_typed_text_is_escaped_on_every_page():
    world = world_build(typed)
    rollups_rebuild(organization=world.owner.organization)
    owner, staff = Client(), Client()
    owner.force_login(world.owner)
    staff.force_login(StaffUserFactory())
    expected = {path.format(**world.objects): fields for path, fields in EXPECTED.items()}

    failures, shown = [], set()
    for path in _pages(world):
        html = html_of((staff if path.startswith(STAFF_PAGES) else owner).get(path))
        if html is None:
            if path in expected:
                failures.append(f"{path}: not shown")
            continue
        failures += [f"{path}: {raw} unescaped" for raw in RAW if raw in html]
        here = {name for name, text in world.texts.items() if escape(text) in html}
        for block in JSON_BLOCK.findall(html):
            if "<" in block:
                failures.append(f"{path}: a JSON script block holds a raw <")
            charted = _strings(json.loads(block))
            here |= {name for name, text in world.texts.items() if text in charted}
        if missing := expected.get(path, set()) - here:
            failures.append(f"{path}: does not show {', '.join(sorted(missing))} escaped")
        shown |= here

    assert not failures, "\n".join(failures)
    assert set(world.texts) == shown, f"never shown: {set(world.texts) - shown}"


def test_typed_text_is_escaped_in_every_email(settings):
    """Each kind of email the product sends, produced by the flow that sends it, to and about
    records whose typed text is HTML and script."""
    settings.DAILY_SUMMARY_HOUR = 0
    world = world_build(typed)
    owner = world.owner
    texts = dict(world.texts)

    def typed_here(name: str) -> str:
        texts[name] = typed(name)
        return texts[name]

    notification_settings_update(
        actor=owner, channels={kind: {"in_app": True, "email": True} for kind in NotificationType.values}
    )

    user_register(
        email="newcomer@example.com",
        password=PASSWORD,
        full_name=typed_here("signup_full_name"),
        organization_name=typed_here("signup_organization"),
        account_type="buyer",
    )
    session_start(
        user=owner, kind=UserSession.Kind.PAGE, device=Device(ip="203.0.113.5", user_agent=typed_here("user_agent"))
    )
    password_reset_request(email=owner.email)
    password_change(actor=owner, current_password=PASSWORD, new_password="another-horse-battery")
    sub_user_create(actor=owner, email="invitee@example.com", full_name=typed_here("invitee_full_name"))
    dispute_respond(actor=owner, dispute_id=world.objects["sale_dispute"].pk, response=typed_here("dispute_response"))
    campaign_test_send(actor=owner, campaign_id=world.objects["campaign"].pk)
    campaign_schedule(actor=owner, campaign_id=world.objects["campaign"].pk)
    report_subscriptions_send()
    daily_summaries_send()

    emails = list(EmailMessage.objects.all())
    templates = {path.stem for path in (settings.BASE_DIR / "templates" / "emails").glob("*.html")} - {"base"}
    assert templates | {"campaign", "campaign_test"} <= {email.template for email in emails}
    failures = [f"{email.template}: {raw} unescaped" for email in emails for raw in RAW if raw in email.html]
    for email in emails:
        for name, text in texts.items():
            if escape(text) in email.text or escape(text) in email.subject:
                failures.append(f"{email.template}: the text part or subject shows {name} HTML-escaped")
            if text in email.text and escape(text) not in email.html:
                failures.append(f"{email.template}: the text part shows {name}, the HTML part does not")
    assert not failures, "\n".join(failures)
