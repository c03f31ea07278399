"""`manage.py seed_demo` for the marketplace: approved listings across industries and states
from two vendors, some pending, each with its inventory lead, and the buyer's saved search;
running it again adds nothing."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from leads.models import Lead
from marketplace import demo
from marketplace.models import Listing, SavedSearch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _smaller_demo(monkeypatch):
    # The same code as the full demo, with fewer rows so the test stays quick.
    monkeypatch.setattr(demo, "PLAN", (("vendor", 60, 5, 41), ("vendor2", 40, 3, 42)))


def test_the_demo_lists_leads_of_two_vendors_and_is_safe_to_run_again(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    counts = {
        (row["vendor__name"], row["approval_status"]): row["n"]
        for row in Listing.objects.values("vendor__name", "approval_status").annotate(n=Count("pk"))
    }
    assert counts == {
        ("Northwind Data", "approved"): 60,
        ("Northwind Data", "pending"): 5,
        (demo.SECOND_VENDOR, "approved"): 40,
        (demo.SECOND_VENDOR, "pending"): 3,
    }
    assert Listing.objects.values("industry").distinct().count() > 10
    assert Listing.objects.values("location").distinct().count() > 15
    listing = Listing.objects.select_related("lead").filter(approval_status="approved").first()
    assert listing.lead.is_inventory and listing.lead.source == Lead.Source.LISTING
    assert listing.lead_score == listing.lead.score and listing.vendor_quality is None
    assert listing.reviewed_at is not None
    assert demo.SECOND_VENDOR_EMAIL in capsys.readouterr().out
    (saved,) = SavedSearch.objects.filter(user__email="buyer@leadnexus.example")
    assert saved.name == demo.SAVED_SEARCH_NAME and saved.notify
    assert saved.filters == {"industry": ["SaaS", "Software"], "location": ["CA"]}
