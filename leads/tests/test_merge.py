from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.exceptions import LeadMergeRefused
from leads.models import Lead
from leads.selectors import lead_timeline
from leads.services.merge import MERGE_FIELDS, lead_merge, merge_preview
from leads.services.records import lead_status_change, lead_update
from leads.tests.factories import LeadFactory, SubmissionFactory
from notifications.models import Notification, NotificationType

pytestmark = pytest.mark.django_db


def url(lead) -> str:
    return f"/api/leads/{lead.pk}/merge/"


@pytest.fixture
def org(user):
    return user.organization


@pytest.fixture
def pair(org, user):
    """Two records of one person: the survivor with an email, the other with a phone and more."""
    survivor = LeadFactory(
        organization=org,
        created_by=user,
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        job_title="",
        email="ada@ae.com",
        notes="Met at the fair.",
        extra={"source_row": 1},
    )
    other = LeadFactory(
        organization=org,
        created_by=user,
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines Ltd",
        job_title="Chief Technology Officer",
        email="countess@ae.com",
        phone="+44 20 7946 0958",
        employee_count=250,
        annual_revenue=Decimal("1200000.00"),
        notes="Asked for a demo.",
        extra={"source_row": 2, "linkedin": "ada"},
    )
    return survivor, other


# --- The service -------------------------------------------------------------------------------


def test_the_survivor_keeps_its_values_unless_told_otherwise_and_fills_in_the_chosen_ones(user, pair):
    survivor, other = pair

    # when the other lead's email and title are chosen
    merged = lead_merge(
        actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"email": "other", "job_title": "other"}
    )

    merged.refresh_from_db()
    assert merged.pk == survivor.pk
    assert merged.first_name == "Ada"  # not named: this lead's value
    assert merged.company == "Analytical Engines"
    assert merged.email == "countess@ae.com"
    assert merged.job_title == "Chief Technology Officer"
    assert merged.phone == ""  # not chosen: this lead had none and keeps none
    # re-validated and re-keyed from the new values
    assert merged.email_key == "countess@ae.com"
    assert merged.validation_status == Lead.ValidationStatus.VALID


def test_chosen_contacts_are_re_validated_and_re_keyed(user, pair):
    survivor, other = pair

    merged = lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"phone": "other"})

    merged.refresh_from_db()
    assert merged.phone == "+442079460958"
    assert merged.phone_key == "+442079460958"
    assert "phone_missing" not in merged.validation_reasons


def test_numbers_and_categories_come_across_intact(user, pair):
    survivor, other = pair
    Lead.objects.filter(pk=other.pk).update(customer_category=Lead.CustomerCategory.MID_MARKET)

    merged = lead_merge(
        actor=user,
        lead_id=survivor.pk,
        other_id=other.pk,
        fields={"employee_count": "other", "annual_revenue": "other", "customer_category": "other"},
    )

    merged.refresh_from_db()
    assert (merged.employee_count, merged.annual_revenue, merged.customer_category) == (
        250,
        Decimal("1200000.00"),
        "mid_market",
    )


def test_notes_are_combined_and_the_status_and_source_stay(user, pair):
    survivor, other = pair
    lead_status_change(actor=user, lead_id=other.pk, status="contacted")

    merged = lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk)

    merged.refresh_from_db()
    assert merged.notes == f"Met at the fair.\n\nAsked for a demo. (merged from lead #{other.pk})"
    assert merged.status == "new"
    assert merged.extra == {"source_row": 1, "linkedin": "ada"}


def test_the_other_lead_is_soft_deleted_and_points_at_the_survivor(user, pair):
    survivor, other = pair

    lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk)

    other.refresh_from_db()
    assert other.deleted_at is not None
    assert other.merged_into_id == survivor.pk


def test_the_owner_is_chosen_like_a_field_and_told(user, org, pair):
    survivor, other = pair
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    Lead.objects.filter(pk=other.pk).update(assigned_to=rep)

    merged = lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"assigned_to": "other"})

    merged.refresh_from_db()
    assert merged.assigned_to_id == rep.pk
    assert Notification.objects.filter(user=rep, type=NotificationType.ASSIGNMENT, link=f"/leads/{survivor.pk}/")


def test_a_deactivated_owner_cannot_be_chosen(user, org, pair):
    survivor, other = pair
    gone = UserFactory(organization=org, is_active=False)
    Lead.objects.filter(pk=other.pk).update(assigned_to=gone)

    with pytest.raises(ValidationFailed):
        lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"assigned_to": "other"})

    assert Lead.objects.get(pk=other.pk).deleted_at is None


def test_a_merge_that_leaves_no_way_to_reach_the_person_is_refused(user, org):
    # given a survivor reachable by email only, and another lead reachable by phone only
    survivor = LeadFactory(organization=org, email="ada@ae.com")
    other = LeadFactory(organization=org, email="", phone="+14155550123")

    # when the other's (empty) email is chosen and its phone is not
    with pytest.raises(ValidationFailed):
        lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"email": "other"})


def test_one_event_on_each_lead_says_what_happened(user, pair):
    survivor, other = pair

    lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"job_title": "other"})

    merged = Event.objects.get(name="leads.lead.merged")
    assert (merged.subject_type, merged.subject_id, merged.actor, merged.org_id) == (
        "leads.lead",
        str(survivor.pk),
        user,
        survivor.organization_id,
    )
    assert merged.data["other_id"] == other.pk
    assert merged.data["fields"] == {name: "other" if name == "job_title" else "this" for name in MERGE_FIELDS}
    assert merged.data["changes"]["job_title"] == ["", "Chief Technology Officer"]
    assert merged.data["changes"]["notes"][1].endswith(f"(merged from lead #{other.pk})")
    assert merged.data["notes_combined"] is True
    into = Event.objects.get(name="leads.lead.merged_into")
    assert (into.subject_id, into.data) == (str(other.pk), {"into": survivor.pk})


def test_the_survivors_timeline_shows_the_other_leads_history(user, pair):
    # given the other lead with its own history
    survivor, other = pair
    lead_update(actor=user, lead_id=other.pk, data={"first_name": "Augusta"})
    lead_status_change(actor=user, lead_id=other.pk, status="contacted")

    # when it is merged into the survivor
    lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk)

    # then the survivor's timeline holds both leads' events
    names = {(event.subject_id, event.name) for event in lead_timeline(user=user, lead_id=survivor.pk)}
    assert {
        (str(other.pk), "leads.lead.updated"),
        (str(other.pk), "leads.lead.status_changed"),
        (str(other.pk), "leads.lead.merged_into"),
        (str(survivor.pk), "leads.lead.merged"),
    } <= names


def test_the_timeline_follows_chained_merges(user, org):
    a, b, c = (LeadFactory(organization=org, email=f"{n}@ae.com") for n in "abc")
    lead_merge(actor=user, lead_id=b.pk, other_id=c.pk)
    lead_merge(actor=user, lead_id=a.pk, other_id=b.pk)

    subjects = {event.subject_id for event in lead_timeline(user=user, lead_id=a.pk)}

    assert {str(a.pk), str(b.pk), str(c.pk)} <= subjects


def test_the_survivors_timeline_through_the_api(user, pair):
    survivor, other = pair
    lead_status_change(actor=user, lead_id=other.pk, status="contacted")
    client = bearer_client(user)
    assert client.post(url(survivor), {"other_id": other.pk}, format="json").status_code == 200

    response = client.get(f"/api/leads/{survivor.pk}/timeline/")

    names = [entry["name"] for entry in response.json()["results"]]
    assert "leads.lead.status_changed" in names
    assert "leads.lead.merged" in names


def test_capture_form_submissions_move_to_the_survivor(user, pair):
    survivor, other = pair
    submission = SubmissionFactory(form__organization=survivor.organization, lead=other)

    lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk)

    submission.refresh_from_db()
    assert submission.lead_id == survivor.pk


def test_the_survivor_is_rescored(user, pair):
    survivor, other = pair

    lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields={"job_title": "other", "phone": "other"})

    survivor.refresh_from_db()
    assert survivor.score > 0
    assert {row["factor"] for row in survivor.score_breakdown} >= {"seniority", "phone_validity"}


def test_a_lead_cannot_be_merged_with_itself(user, pair):
    survivor, _ = pair

    with pytest.raises(LeadMergeRefused):
        lead_merge(actor=user, lead_id=survivor.pk, other_id=survivor.pk)


@pytest.mark.parametrize("side", ["survivor", "other"])
def test_a_converted_lead_is_not_merged(user, pair, side):
    survivor, other = pair
    Lead.objects.filter(pk=(survivor if side == "survivor" else other).pk).update(status=Lead.Status.CONVERTED)

    with pytest.raises(LeadMergeRefused):
        lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk)

    assert not Lead.objects.filter(merged_into__isnull=False).exists()


def test_a_lead_already_merged_away_is_not_found(user, org, pair):
    survivor, other = pair
    third = LeadFactory(organization=org)
    lead_merge(actor=user, lead_id=third.pk, other_id=other.pk)

    with pytest.raises(NotFound):
        lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk)


@pytest.mark.parametrize(
    "fields",
    [{"nickname": "other"}, {"notes": "other"}, {"email": "both"}, {"email": None}],
    ids=["unknown-field", "notes-are-combined", "unknown-side", "no-side"],
)
def test_field_choices_must_name_a_mergeable_field_and_a_side(user, pair, fields):
    survivor, other = pair

    with pytest.raises(ValidationFailed) as raised:
        lead_merge(actor=user, lead_id=survivor.pk, other_id=other.pk, fields=fields)

    assert "fields" in raised.value.details


# --- Who may merge: the API, from the outside ---------------------------------------------------


def _member(org, role, **kwargs):
    return UserFactory(organization=org, role=role, **kwargs)


@pytest.mark.parametrize("role", [User.Role.MANAGEMENT, User.Role.SALES_MANAGER])
def test_management_and_managers_merge_any_lead_of_the_org(org, pair, role):
    survivor, other = pair
    client = bearer_client(_member(org, role))

    response = client.post(url(survivor), {"other_id": other.pk, "fields": {"phone": "other"}}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == survivor.pk
    assert body["phone"] == "+442079460958"
    assert {"validation_status", "score_breakdown", "assigned_to", "merged_into"} <= set(body)


def test_a_rep_merges_two_of_their_own_leads(org):
    rep = _member(org, User.Role.SALES_REP)
    mine = LeadFactory(organization=org, assigned_to=rep, email="a@ae.com")
    also_mine = LeadFactory(organization=org, created_by=rep, email="a+x@ae.com")

    response = bearer_client(rep).post(url(mine), {"other_id": also_mine.pk}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("side", ["survivor", "other"])
def test_a_rep_cannot_merge_a_lead_that_is_not_theirs(org, side):
    rep = _member(org, User.Role.SALES_REP)
    mine = LeadFactory(organization=org, assigned_to=rep)
    theirs = LeadFactory(organization=org)
    survivor, other = (theirs, mine) if side == "survivor" else (mine, theirs)

    response = bearer_client(rep).post(url(survivor), {"other_id": other.pk}, format="json")

    assert_error(response, 404, "not_found")
    assert not Lead.objects.filter(deleted_at__isnull=False).exists()


def test_a_rep_who_sees_the_whole_org_may_merge_any_lead(user, org, pair):
    survivor, other = pair
    rep = SubUserFactory(parent=user, role=User.Role.SALES_REP, permissions={"can_view_all_org_leads": True})

    assert bearer_client(rep).post(url(survivor), {"other_id": other.pk}, format="json").status_code == 200


@pytest.mark.parametrize(
    "flags", [{"can_edit_leads": False}, {"can_view_leads": False}], ids=["no-edit-right", "no-view-right"]
)
def test_a_sub_user_without_the_right_is_denied(user, pair, flags):
    survivor, other = pair
    member = SubUserFactory(parent=user, role=User.Role.SALES_MANAGER, permissions=flags)

    response = bearer_client(member).post(url(survivor), {"other_id": other.pk}, format="json")

    assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize("side", ["survivor", "other"])
def test_another_organizations_lead_is_not_found(user, pair, other_org_user, side):
    survivor, _ = pair
    foreign = LeadFactory(organization=other_org_user.organization, email="ada@ae.com")
    target, other = (foreign, survivor) if side == "survivor" else (survivor, foreign)

    response = bearer_client(user).post(url(target), {"other_id": other.pk}, format="json")

    assert_error(response, 404, "not_found")
    foreign.refresh_from_db()
    assert foreign.deleted_at is None


def test_anonymous_callers_are_refused(api_client, pair):
    survivor, other = pair

    assert_error(api_client.post(url(survivor), {"other_id": other.pk}, format="json"), 401, "not_authenticated")


def test_merging_with_itself_is_a_conflict(auth_client, pair):
    survivor, _ = pair

    assert_error(auth_client.post(url(survivor), {"other_id": survivor.pk}, format="json"), 409, "conflict")


def test_merging_a_converted_lead_is_a_conflict(auth_client, pair):
    survivor, other = pair
    Lead.objects.filter(pk=other.pk).update(status=Lead.Status.CONVERTED)

    assert_error(auth_client.post(url(survivor), {"other_id": other.pk}, format="json"), 409, "conflict")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"other_id": "abc"},
        {"other_id": 0},
        {"other_id": 2**64},
        {"other_id": 1, "fields": {"phone": "both"}},
        {"other_id": 1, "fields": {"notes": "other"}},
        {"other_id": 1, "fields": {"password": "other"}},
        {"other_id": 1, "fields": ["phone"]},
    ],
)
def test_malformed_bodies_are_validation_errors(auth_client, pair, body):
    survivor, _ = pair

    assert_error(auth_client.post(url(survivor), body, format="json"), 400, "validation_error")


def test_an_id_past_the_database_range_is_not_found(auth_client, pair):
    _, other = pair

    response = auth_client.post(f"/api/leads/{2**70}/merge/", {"other_id": other.pk}, format="json")

    assert_error(response, 404, "not_found")


def test_the_trailing_slash_is_optional(auth_client, pair):
    survivor, other = pair

    assert auth_client.post(url(survivor).rstrip("/"), {"other_id": other.pk}, format="json").status_code == 200


# --- The page -------------------------------------------------------------------------------------


def page(lead) -> str:
    return f"/leads/{lead.pk}/merge/"


def test_the_page_lists_likely_duplicates_to_pick_from(client, user, pair):
    survivor, other = pair
    unrelated = LeadFactory(organization=survivor.organization, email="someone@else.com")
    client.force_login(user)

    response = client.get(page(survivor))

    assert response.status_code == 200
    assert f"?other={other.pk}" in response.content.decode()
    assert f"?other={unrelated.pk}" not in response.content.decode()
    assert "Possible duplicate" in response.content.decode()


def test_the_page_says_when_there_are_no_duplicates(client, user, org):
    lonely = LeadFactory(organization=org, first_name="Solo", company="Nobody Else")
    client.force_login(user)

    assert "No lead you can see shares" in client.get(page(lonely)).content.decode()


def test_the_page_shows_both_leads_side_by_side_with_a_choice_per_difference(client, user, pair):
    survivor, other = pair
    client.force_login(user)

    response = client.get(page(survivor), {"other": other.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="job_title" value="other" data-merge-value="Chief Technology Officer" checked' in html
    assert 'name="email" value="this" data-merge-value="ada@ae.com" checked' in html
    assert 'name="last_name"' not in html  # the same on both sides: nothing to choose
    assert response.context["differences"] == sum(row.differs for row in response.context["preview"].rows)


def test_posting_the_page_merges_and_returns_to_the_survivor(client, user, pair):
    survivor, other = pair
    client.force_login(user)

    response = client.post(page(survivor), {"other_id": other.pk, "email": "other", "job_title": "other"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/leads/{survivor.pk}/"
    survivor.refresh_from_db()
    assert (survivor.email, survivor.job_title) == ("countess@ae.com", "Chief Technology Officer")
    assert f"Merged lead #{other.pk}" in response.content.decode()


def test_the_page_explains_why_two_leads_cannot_be_merged(client, user, pair):
    survivor, other = pair
    Lead.objects.filter(pk=other.pk).update(status=Lead.Status.CONVERTED)
    client.force_login(user)

    response = client.get(page(survivor), {"other": other.pk})

    assert response.status_code == 200
    assert "converted" in response.content.decode()
    assert 'data-testid="merge-form"' not in response.content.decode()


def test_a_refused_post_shows_the_error_with_its_status(client, user, pair):
    survivor, _ = pair
    client.force_login(user)

    response = client.post(page(survivor), {"other_id": survivor.pk})

    assert response.status_code == 409
    assert "cannot be merged with itself" in response.content.decode()


def test_the_page_needs_a_sign_in(client, pair):
    survivor, _ = pair

    response = client.get(page(survivor))

    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_the_page_is_forbidden_without_the_edit_right(client, user, pair):
    survivor, other = pair
    member = SubUserFactory(parent=user, role=User.Role.SALES_MANAGER, permissions={"can_edit_leads": False})
    client.force_login(member)

    assert client.get(page(survivor)).status_code == 403
    assert client.post(page(survivor), {"other_id": other.pk}).status_code == 403
    assert Lead.objects.get(pk=other.pk).deleted_at is None


def test_the_page_does_not_show_other_organizations_leads(client, user, other_org_user, pair):
    survivor, _ = pair
    foreign = LeadFactory(organization=other_org_user.organization, email="ada@ae.com")
    client.force_login(user)

    assert client.get(page(foreign)).status_code == 404
    assert client.get(page(survivor), {"other": foreign.pk}).status_code == 404
    assert str(foreign.pk) not in [str(c.pk) for c, _ in merge_preview(user=user, lead_id=survivor.pk).candidates]


def test_a_reps_candidates_are_only_their_own_leads(org):
    rep = _member(org, User.Role.SALES_REP)
    mine = LeadFactory(organization=org, assigned_to=rep, email="ada@ae.com")
    also_mine = LeadFactory(organization=org, assigned_to=rep, email="ada+1@ae.com")
    LeadFactory(organization=org, email="ada+2@ae.com")  # a colleague's

    preview = merge_preview(user=rep, lead_id=mine.pk)

    assert [lead.pk for lead, _ in preview.candidates] == [also_mine.pk]


def test_the_preview_needs_the_edit_right(user, pair):
    survivor, _ = pair
    member = SubUserFactory(parent=user, permissions={"can_edit_leads": False})

    with pytest.raises(PermissionDenied):
        merge_preview(user=member, lead_id=survivor.pk)


def test_a_deleted_lead_is_not_a_candidate(user, org, pair):
    survivor, other = pair
    Lead.objects.filter(pk=other.pk).update(deleted_at=timezone.now())

    assert merge_preview(user=user, lead_id=survivor.pk).candidates == []
