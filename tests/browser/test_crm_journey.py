"""A buyer works a lead they bought: its page flags it as waiting for a first contact and its
timeline shows the purchase; a logged call clears the flag; converting it makes the contact
and an opportunity; on the pipeline board the buyer drags the opportunity to won, typing the
amount won, and the columns' counts follow; the buyer dashboard's chart of what became of the
leads bought moves the lead from new to won, and its won amount follows."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from crm.models import Contact, Opportunity
from leads.models import Lead
from leads.tests.factories import LeadFactory
from marketplace.tests.factories import PurchaseFactory
from tests.browser.helpers import DESKTOP, PHONE, assert_no_horizontal_overflow, drag, sign_in


def _outcomes(page: Page) -> dict[str, int]:
    """The buyer dashboard's chart of what became of the leads bought, as it is drawn."""
    page.goto("/dashboard/buyer/?days=1")
    canvas = 'canvas[data-chart="chart-outcomes-data"]'
    page.wait_for_function(f"Chart.getChart(document.querySelector('{canvas}')) !== undefined")
    spec = json.loads(page.locator("#chart-outcomes-data").text_content())
    return dict(zip(spec["labels"], spec["datasets"][0]["data"], strict=True))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_bought_lead_is_called_converted_and_won_on_the_board(page: Page, shot, viewport):
    buyer = UserFactory(email="bea@globex.example", full_name="Bea Buyer")
    lead = LeadFactory(
        organization=buyer.organization,
        assigned_to=buyer,
        source=Lead.Source.MARKETPLACE,
        first_name="Jane",
        last_name="Smith",
        company="Acme Inc.",
    )
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(hours=3))
    PurchaseFactory(buyer=buyer.organization, delivered_lead=lead, price=Decimal("25.00"), purchased_by=buyer)
    call_command("rollups_rebuild", verbosity=0)

    # the buyer dashboard counts the lead bought as new
    sign_in(page, buyer.email)
    assert _outcomes(page)["new"] == 1

    # the bought lead waits past the two-hour target; its timeline shows the purchase
    page.goto(f"/leads/{lead.pk}/")
    expect(page.get_by_test_id("awaiting-first-contact")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("Bought on the marketplace for 25.00 USD")
    assert_no_horizontal_overflow(page)
    shot("bought-lead")

    # a logged call is the first contact
    page.get_by_text("Log a call, email, meeting or note").click()
    form = page.get_by_test_id("lead-activity-form")
    form.get_by_label("Subject").fill("Intro call with Jane")
    form.get_by_role("button", name="Log it").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Call: Intro call with Jane")
    expect(page.get_by_test_id("awaiting-first-contact")).to_have_count(0)

    # converting makes the contact and an opportunity
    page.get_by_test_id("convert").click()
    page.get_by_label("Opportunity title").fill("Acme annual plan")
    page.get_by_label("Amount").fill("1200")
    page.get_by_test_id("convert-form").get_by_role("button", name="Convert").click()
    expect(page).to_have_url(re.compile(r"/crm/opportunities/\d+/$"))
    deal = Opportunity.objects.get(title="Acme annual plan")
    assert Contact.objects.get(lead=lead).email == lead.email
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.CONVERTED
    shot("converted")

    # on the board, the card goes to won and the amount won is asked: dragged on a desktop; on
    # a phone, where the columns stack, through the card's page
    page.goto("/crm/opportunities/board/")
    expect(page.get_by_test_id("count-prospecting")).to_have_text("1")
    assert_no_horizontal_overflow(page)
    card = page.get_by_test_id(f"card-{deal.pk}")
    if viewport == DESKTOP:
        page.once("dialog", lambda dialog: dialog.accept("1150"))
        drag(page, card, page.get_by_test_id("column-closed_won").locator(".board-cards"))
    else:
        card.get_by_role("link").click()
        won = page.get_by_test_id("close-won")
        won.get_by_label("Amount won").fill("1150")
        won.get_by_role("button", name="Close as won").click()
        page.goto("/crm/opportunities/board/")
    expect(page.get_by_test_id("count-closed_won")).to_have_text("1")
    expect(page.get_by_test_id("count-prospecting")).to_have_text("0")
    deal.refresh_from_db()
    assert deal.stage == Opportunity.Stage.CLOSED_WON and deal.amount == Decimal("1150.00")
    shot("won")

    # the buyer dashboard follows: the lead bought is won, with its amount
    outcomes = _outcomes(page)
    assert (outcomes["won"], outcomes["new"]) == (1, 0)
    expect(page.get_by_test_id("kpis")).to_contain_text("USD 1,150.00")
    assert_no_horizontal_overflow(page)
    shot("buyer-dashboard")
