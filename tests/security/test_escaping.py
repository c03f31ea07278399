"""Text a user typed, made of HTML and script, shows escaped on every page it appears on,
in the admin, and in the HTML part of every email (the plain-text part keeps it as typed)."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts.tests.factories import StaffUserFactory
from tests.security.routes import api_schema, page_routes, url_for
from tests.security.world import world_build

pytestmark = pytest.mark.django_db

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'"
# What only unescaped payload produces, in markup or in an inline script.
RAW = ("<script>alert(1)", "<img src=x onerror", "</script><img")
STAFF_PAGES = ("/admin/", "/marketplace/review/", "/dashboard/overview/")
# Pages and the typed text each must show (escaped): lists, details, the board, timelines,
# the admin.
EXPECTED = {
    "/leads/": {"lead_first_name", "lead_last_name", "lead_company", "user_full_name"},
    "/leads/{lead.pk}/": {"lead_first_name", "lead_job_title", "lead_location"},
    "/leads/forms/{form.pk}/": {"form_name", "form_notes", "lead_first_name"},
    "/leads/assignment/": {"rule_name", "user_full_name"},
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
        if missing := expected.get(path, set()) - here:
            failures.append(f"{path}: does not show {', '.join(sorted(missing))} escaped")
        shown |= here

    assert not failures, "\n".join(failures)
    assert set(world.texts) == shown, f"never shown: {set(world.texts) - shown}"
