"""Every model registered in the admin: its list renders for staff, searched, and a record
opens, with the demo data in the database (what staff meet on a fresh install)."""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory
from marketplace import demo

pytestmark = pytest.mark.django_db


def test_each_admin_list_and_record_opens(client, monkeypatch):
    # given the demo data (fewer listings, the same code) and a staff member
    monkeypatch.setattr(demo, "PLAN", (("vendor", 30, 5, 41), ("vendor2", 20, 3, 42)))
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(StaffUserFactory())

    # when staff open each model's list, search it and open its first record
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        pages = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
        if model_admin.search_fields:
            pages.append(pages[0] + "?q=a")
        record = model._default_manager.order_by("pk").first()
        if record is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk]))
        failures += [(url, status) for url in pages if (status := client.get(url).status_code) != 200]

    # then every page answers
    assert failures == []
