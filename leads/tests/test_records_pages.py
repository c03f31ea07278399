"""Lead record pages: the list (filters, sorting, paging, views, htmx), the detail, create,
edit, status and owner changes, delete, recently deleted and restore, and who may see them."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import UserPreferences
from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.models import Event
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/leads/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_(user):
    return _client(user)


def _listed(response) -> list[int]:
    """The lead ids the list page shows, in order."""
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', response.content.decode())]


# --- The list ---------------------------------------------------------------------------------


def test_list_shows_the_leads_with_links_and_the_nav_entry(client_, user):
    lead = LeadFactory(organization=user.organization, first_name="Ada", last_name="Lovelace")

    response = client_.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Lovelace" in page and f'href="/leads/{lead.pk}/"' in page
    assert 'href="/leads/" aria-current="page">Leads</a>' in page
    assert 'href="/leads/new/"' in page


def test_list_without_leads_shows_an_empty_state(client_):
    page = client_.get(LIST).content.decode()
    assert "No leads yet." in page and "Add your first lead" in page


def test_list_with_no_match_offers_to_clear_the_filters(client_, user):
    LeadFactory(organization=user.organization, status="new")
    page = client_.get(LIST, {"status": "lost"}).content.decode()
    assert "No lead matches these filters." in page


def test_list_filters_by_the_query_string(client_, user):
    new = LeadFactory(organization=user.organization, status="new", industry="Retail")
    LeadFactory(organization=user.organization, status="lost", industry="Retail")
    LeadFactory(organization=user.organization, status="new", industry="Mining")

    assert _listed(client_.get(LIST, {"status": "new", "industry": "retail"})) == [new.pk]


def test_list_filter_form_offers_every_choice_and_ticks_for_the_yes_no_filters(client_, user):
    mine = LeadFactory(organization=user.organization, assigned_to=user)
    nobodys = LeadFactory(organization=user.organization, assigned_to=None)

    page = client_.get(LIST).content.decode()
    assert all(f'name="status" value="{status}"' in page for status in Lead.Status.values)
    assert 'type="checkbox" name="unassigned" value="true"' in page
    # ticked, the filter applies; unticked (absent), it is off rather than "assigned only"
    ticked = client_.get(LIST, {"unassigned": "true"})
    assert _listed(ticked) == [nobodys.pk] and 'name="unassigned" value="true" id="id_unassigned" checked' in (
        ticked.content.decode()
    )
    assert sorted(_listed(client_.get(LIST))) == sorted([mine.pk, nobodys.pk])


def test_list_sorts_by_a_column_and_offers_the_reverse(client_, user):
    low = LeadFactory(organization=user.organization, score=10)
    high = LeadFactory(organization=user.organization, score=90)

    ascending = client_.get(LIST, {"ordering": "score"})
    descending = client_.get(LIST, {"ordering": "-score"})

    assert _listed(ascending) == [low.pk, high.pk]
    assert _listed(descending) == [high.pk, low.pk]
    assert 'aria-sort="ascending"' in ascending.content.decode()
    assert "?ordering=-score" in ascending.content.decode()


def test_list_pages_by_the_users_items_per_page_and_keeps_the_filters(client_, user):
    UserPreferences.objects.create(user=user, items_per_page=10)
    LeadFactory.create_batch(12, organization=user.organization, status="new")
    LeadFactory.create_batch(2, organization=user.organization, status="contacted")

    first = client_.get(LIST, {"status": ["new", "contacted"]})
    second = client_.get(LIST, {"status": ["new", "contacted"], "page": 2})

    assert len(_listed(first)) == 10 and len(_listed(second)) == 4
    assert "?status=new&amp;status=contacted&amp;page=2" in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()


def test_list_shows_cards_by_preference_or_toggle(client_, user):
    LeadFactory(organization=user.organization)
    assert 'class="lead-table"' in client_.get(LIST).content.decode()
    assert 'class="lead-cards"' in client_.get(LIST, {"view": "cards"}).content.decode()

    UserPreferences.objects.create(user=user, leads_view="cards")
    assert 'class="lead-cards"' in client_.get(LIST).content.decode()
    assert 'class="lead-table"' in client_.get(LIST, {"view": "table"}).content.decode()


def test_an_htmx_filter_request_gets_only_the_results(client_, user):
    lead = LeadFactory(organization=user.organization, status="new")

    partial = client_.get(LIST, {"status": "new"}, headers={"HX-Request": "true"})
    history = client_.get(LIST, {"status": "new"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})

    assert _listed(partial) == [lead.pk]
    assert "<html" not in partial.content.decode() and "lead-filter-form" not in partial.content.decode()
    assert "<html" in history.content.decode()
    assert "HX-Request" in partial["Vary"]


def test_list_filter_form_updates_the_results_with_htmx(client_, user):
    page = client_.get(LIST).content.decode()
    assert 'hx-get="/leads/"' in page and 'hx-target="#lead-results"' in page and 'id="lead-results"' in page
    assert "/static/js/leads/records.js" in page


def test_list_with_an_invalid_filter_shows_the_error_and_ignores_it(client_, user):
    lead = LeadFactory(organization=user.organization)
    response = client_.get(LIST, {"score_min": "lots"})
    assert response.status_code == 200
    assert _listed(response) == [lead.pk]
    assert "field-error" in response.content.decode()


def test_list_query_count_does_not_grow_with_the_page(client_, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    UserPreferences.objects.create(user=user, items_per_page=100)
    reps = [UserFactory(organization=user.organization, role="sales_rep") for _ in range(3)]
    for n in range(10):
        LeadFactory(organization=user.organization, assigned_to=reps[n % 3])
    client_.get(LIST)  # the session's first page view records it
    with CaptureQueriesContext(connection) as few:
        client_.get(LIST)
    for n in range(90):
        LeadFactory(organization=user.organization, assigned_to=reps[n % 3])
    with CaptureQueriesContext(connection) as many:
        assert len(_listed(client_.get(LIST))) == 100
    assert len(many) == len(few)


# --- Bulk ----------------------------------------------------------------------------------------


def test_bulk_set_status_from_the_list_and_back_with_the_filters(client_, user):
    leads = LeadFactory.create_batch(2, organization=user.organization)
    lost = LeadFactory(organization=user.organization, status="lost")

    response = client_.post(
        "/leads/bulk/",
        {
            "ids": [leads[0].pk, leads[1].pk, lost.pk],
            "action": "set_status",
            "status": "contacted",
            "next": "/leads/?status=new",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/leads/?status=new"
    assert set(Lead.objects.filter(status="contacted").values_list("pk", flat=True)) == {leads[0].pk, leads[1].pk}
    flashes = [str(m) for m in client_.get(LIST).context["messages"]]
    assert "2 leads updated." in flashes
    assert any(f.startswith("1 lead was left unchanged") for f in flashes)


def test_bulk_assign_and_delete(client_, user):
    rep = UserFactory(organization=user.organization, role="sales_rep")
    leads = LeadFactory.create_batch(2, organization=user.organization)
    ids = [lead.pk for lead in leads]

    client_.post("/leads/bulk/", {"ids": ids, "action": "assign", "assignee": rep.pk})
    assert set(Lead.objects.values_list("assigned_to", flat=True)) == {rep.pk}

    client_.post("/leads/bulk/", {"ids": ids, "action": "delete"})
    assert Lead.objects.filter(deleted_at__isnull=False).count() == 2


def test_bulk_never_redirects_off_the_list(client_, user):
    lead = LeadFactory(organization=user.organization)
    response = client_.post(
        "/leads/bulk/", {"ids": [lead.pk], "action": "delete", "next": "https://evil.example.com/leads/"}
    )
    assert response["Location"] == "/leads/"


def test_bulk_without_a_selection_or_a_status_explains(client_, user):
    lead = LeadFactory(organization=user.organization)

    nothing = client_.post("/leads/bulk/", {"action": "delete"})
    no_status = client_.post("/leads/bulk/", {"ids": [lead.pk], "action": "set_status"})

    assert nothing.status_code == 400 and "Select at least one lead." in nothing.content.decode()
    assert no_status.status_code == 400 and "Choose the status to set." in no_status.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_bulk_on_another_orgs_leads_changes_nothing(client_, other_org_user):
    theirs = LeadFactory(organization=other_org_user.organization)
    client_.post("/leads/bulk/", {"ids": [theirs.pk], "action": "delete"})
    assert Lead.objects.get(pk=theirs.pk).deleted_at is None


# --- Detail ---------------------------------------------------------------------------------------


def test_detail_shows_fields_validation_score_moves_owner_and_timeline(client_, user):
    lead = LeadFactory(
        organization=user.organization, email="info@example.com", company="Acme", industry="Retail", score=72
    )
    lead.score_breakdown = [
        {"factor": "completeness", "points": 20, "max": 25, "why": "Most fields are filled in."},
        {"factor": "email_quality", "points": 5, "max": 20, "why": "A shared mailbox."},
    ]
    lead.save()
    client_.post(f"/leads/{lead.pk}/status/", {"status": "contacted"})

    page = client_.get(f"/leads/{lead.pk}/").content.decode()

    assert "Acme" in page and "Retail" in page
    assert "Risky" in page and "shared mailbox (info@, sales@...)" in page
    assert "Completeness" in page and "20 / 25" in page and "Most fields are filled in." in page
    assert "Status: New → Contacted" in page
    assert "Mark qualified" in page and "Mark lost" in page and "Reopen" not in page
    assert f'action="/leads/{lead.pk}/assign/"' in page
    assert f'href="/leads/{lead.pk}/edit/"' in page


def test_detail_says_not_scored_yet(client_, user):
    lead = LeadFactory(organization=user.organization)
    assert "Not scored yet." in client_.get(f"/leads/{lead.pk}/").content.decode()


def test_detail_warns_of_a_duplicate_with_a_link(client_, user):
    first = LeadFactory(organization=user.organization, email="dup@example.com")
    second = LeadFactory(organization=user.organization, email="DUP@example.com")

    page = client_.get(f"/leads/{second.pk}/").content.decode()

    assert "This lead is a duplicate" in page and f'href="/leads/{first.pk}/"' in page


def test_detail_offers_to_restore_a_deleted_duplicate(client_, user):
    gone = LeadFactory(organization=user.organization, email="dup@example.com", deleted_at=timezone.now())
    lead = LeadFactory(organization=user.organization, email="dup@example.com")

    page = client_.get(f"/leads/{lead.pk}/").content.decode()

    assert "recently deleted" in page and f'action="/leads/{gone.pk}/restore/"' in page


def test_detail_of_another_orgs_lead_is_not_found(client_, other_org_user):
    theirs = LeadFactory(organization=other_org_user.organization)
    assert client_.get(f"/leads/{theirs.pk}/").status_code == 404
    assert client_.get("/leads/99999999999999999999/").status_code == 404


def test_status_button_moves_the_lead_and_an_illegal_move_says_why(client_, user):
    lead = LeadFactory(organization=user.organization)

    moved = client_.post(f"/leads/{lead.pk}/status/", {"status": "contacted"})
    illegal = client_.post(f"/leads/{lead.pk}/status/", {"status": "new"})

    assert moved.status_code == 302 and Lead.objects.get(pk=lead.pk).status == "contacted"
    assert illegal.status_code == 409
    assert "cannot move to new" in illegal.content.decode()


def test_owner_change_from_the_detail_page(client_, user):
    rep = UserFactory(organization=user.organization, role="sales_rep", full_name="Rita Rep")
    lead = LeadFactory(organization=user.organization)

    response = client_.post(f"/leads/{lead.pk}/assign/", {"assigned_to": rep.pk})

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).assigned_to == rep
    assert "Owner: nobody → Rita Rep" in client_.get(f"/leads/{lead.pk}/").content.decode()


# --- Create and edit ----------------------------------------------------------------------------


def test_create_page_adds_a_manual_lead(client_, user):
    response = client_.post(
        "/leads/new/", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "phone": ""}
    )

    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert lead.source == "manual" and lead.created_by == user and lead.full_name == "Grace Hopper"


def test_create_page_shows_the_services_field_problems(client_):
    response = client_.post("/leads/new/", {"first_name": "X", "email": "nope", "phone": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The email address is not valid." in page and "The phone number is not valid." in page
    assert not Lead.objects.exists()


def test_create_page_warns_of_a_duplicate_with_a_link(client_, user):
    existing = LeadFactory(organization=user.organization, email="jane.doe@gmail.com")

    response = client_.post("/leads/new/", {"email": "janedoe@gmail.com"}, follow=True)

    flashes = [str(m) for m in response.context["messages"]]
    assert any(f'href="/leads/{existing.pk}/"' in flash and "duplicate" in flash for flash in flashes)
    assert f'<a href="/leads/{existing.pk}/">lead #{existing.pk}</a>' in response.content.decode()


def test_edit_page_shows_the_lead_and_saves_changes(client_, user):
    lead = LeadFactory(organization=user.organization, company="Old Co")

    form = client_.get(f"/leads/{lead.pk}/edit/")
    data = {name: value for name, value in form.context["form"].initial.items() if value is not None}
    saved = client_.post(f"/leads/{lead.pk}/edit/", {**data, "company": "New Co"})

    assert form.status_code == 200 and 'value="Old Co"' in form.content.decode()
    assert saved.status_code == 302
    assert Lead.objects.get(pk=lead.pk).company == "New Co"
    event = Event.objects.get(name="leads.lead.updated", subject_type="leads.lead", subject_id=str(lead.pk))
    assert event.data["changes"] == {"company": ["Old Co", "New Co"]}


def test_edit_page_refuses_an_unreachable_lead(client_, user):
    lead = LeadFactory(organization=user.organization, email="a@example.com")
    response = client_.post(f"/leads/{lead.pk}/edit/", {"email": "", "phone": ""})
    assert response.status_code == 400
    assert "Give a valid email or phone." in response.content.decode()


# --- Delete, recently deleted, restore ----------------------------------------------------------


def test_delete_asks_then_deletes_and_restore_brings_it_back(client_, user):
    lead = LeadFactory(organization=user.organization, first_name="Del", last_name="Eted")

    confirm = client_.get(f"/leads/{lead.pk}/delete/")
    deleted = client_.post(f"/leads/{lead.pk}/delete/")

    assert confirm.status_code == 200 and "Delete Del Eted?" in confirm.content.decode()
    assert deleted.status_code == 302 and deleted["Location"] == LIST
    assert _listed(client_.get(LIST)) == []

    page = client_.get("/leads/deleted/")
    purge_on = (Lead.objects.get(pk=lead.pk).deleted_at + timedelta(days=30)).strftime("%b %-d, %Y")
    assert "Del Eted" in page.content.decode() and purge_on in page.content.decode()

    restored = client_.post(f"/leads/{lead.pk}/restore/")
    assert restored.status_code == 302 and restored["Location"] == f"/leads/{lead.pk}/"
    assert Lead.objects.get(pk=lead.pk).deleted_at is None


def test_recently_deleted_leaves_out_leads_past_the_window(client_, user):
    LeadFactory(organization=user.organization, first_name="Old", deleted_at=timezone.now() - timedelta(days=31))
    page = client_.get("/leads/deleted/").content.decode()
    assert "Nothing was deleted in the last 30 days." in page


def test_restore_past_the_window_says_so(client_, user):
    lead = LeadFactory(organization=user.organization, deleted_at=timezone.now() - timedelta(days=31))
    response = client_.post(f"/leads/{lead.pk}/restore/")
    assert response.status_code == 404 and "could not be restored" in response.content.decode()


# --- Who may ---------------------------------------------------------------------------------------


def test_pages_send_anonymous_visitors_to_sign_in(user):
    lead = LeadFactory(organization=user.organization)
    client = Client()
    for url in (LIST, "/leads/new/", "/leads/deleted/", f"/leads/{lead.pk}/", f"/leads/{lead.pk}/edit/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


def test_pages_answer_403_without_can_view_leads(user):
    lead = LeadFactory(organization=user.organization)
    client = _client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_view_leads": False}))
    for url in (LIST, "/leads/deleted/", f"/leads/{lead.pk}/", f"/leads/{lead.pk}/edit/"):
        assert client.get(url).status_code == 403, url


def test_create_page_answers_403_without_can_add_leads(user):
    client = _client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_add_leads": False}))
    assert client.get("/leads/new/").status_code == 403
    assert client.post("/leads/new/", {"email": "a@example.com"}).status_code == 403
    assert not Lead.objects.exists()
    assert 'href="/leads/new/"' not in client.get(LIST).content.decode()


def test_edit_pages_answer_403_without_can_edit_leads(user):
    lead = LeadFactory(organization=user.organization)
    client = _client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False}))

    assert client.get(f"/leads/{lead.pk}/").status_code == 200
    assert client.get(f"/leads/{lead.pk}/edit/").status_code == 403
    assert client.post(f"/leads/{lead.pk}/status/", {"status": "contacted"}).status_code == 403
    assert client.post(f"/leads/{lead.pk}/delete/").status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == "new" and Lead.objects.get(pk=lead.pk).deleted_at is None
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Mark contacted" not in page and f"/leads/{lead.pk}/edit/" not in page


def test_a_rep_sees_only_their_leads_on_the_list(user):
    rep = UserFactory(organization=user.organization, role="sales_rep")
    mine = LeadFactory(organization=user.organization, assigned_to=rep)
    others = LeadFactory(organization=user.organization)
    client = _client(rep)

    assert _listed(client.get(LIST)) == [mine.pk]
    assert client.get(f"/leads/{others.pk}/").status_code == 404


def test_a_rep_who_hands_a_lead_over_goes_back_to_the_list(user):
    rep = UserFactory(organization=user.organization, role="sales_rep")
    lead = LeadFactory(organization=user.organization, assigned_to=rep)

    response = _client(rep).post(f"/leads/{lead.pk}/assign/", {"assigned_to": user.pk})

    assert response.status_code == 302 and response["Location"] == LIST
    assert Lead.objects.get(pk=lead.pk).assigned_to == user


def test_list_offers_the_export_of_what_it_shows_to_those_who_may_export(client_, user):
    LeadFactory(organization=user.organization, status="new")

    page = client_.get(LIST, {"status": "new", "search": "acme", "page": 1, "view": "cards"}).content.decode()

    assert 'href="/leads/export/?status=new&amp;search=acme"' in page
    client = _client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_export": False}))
    page = client.get(LIST).content.decode()
    assert "/leads/export/" not in page and '<option value="export">' not in page


def test_list_links_to_import_for_those_who_may_add(client_, user):
    assert 'href="/leads/import/"' in client_.get(LIST).content.decode()
