from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from leadnexus.core.events import subscribe
from leadnexus.core.models import Event
from leads import scoring
from leads.events import LEAD_SCORED
from leads.models import Lead
from leads.scoring import WEIGHTS, leads_score, score_lead, seniority_of
from leads.services.records import lead_create, lead_update
from leads.tests.factories import LeadFactory
from notifications.models import Notification, NotificationType

NOW = timezone.now()


def unsaved(**fields) -> Lead:
    """A lead as the import engine holds it before saving: cleaned, not stored."""
    lead = LeadFactory.build(**{"created_at": NOW, **fields})
    lead.validation_status = fields.get("validation_status", Lead.ValidationStatus.VALID)
    lead.validation_reasons = fields.get("validation_reasons", [])
    return lead


def factor(breakdown, name) -> dict:
    return next(row for row in breakdown if row["factor"] == name)


# --- The score and its breakdown ----------------------------------------------------------------


def test_the_weights_are_documented_and_sum_to_100():
    assert sum(WEIGHTS.values()) == 100
    for name, points in WEIGHTS.items():
        assert f"{name:<16}  {points:>3}" in scoring.__doc__


def test_the_breakdown_explains_every_point_of_the_score():
    lead = unsaved(job_title="VP Sales", phone="+14155550123", employee_count=300, annual_revenue=Decimal("5000000"))

    score, breakdown = score_lead(lead, now=NOW)

    assert [row["factor"] for row in breakdown] == list(WEIGHTS)
    assert score == sum(row["points"] for row in breakdown)
    assert all(0 <= row["points"] <= row["max"] == WEIGHTS[row["factor"]] for row in breakdown)
    assert all(row["why"] for row in breakdown)
    assert 0 <= score <= 100


def test_a_complete_senior_recent_lead_scores_100():
    lead = unsaved(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@ae.com",
        phone="+14155550123",
        company="AE",
        job_title="Chief Executive Officer",
        industry="Software",
        location="London",
        website="https://ae.com",
        employee_count=5000,
        annual_revenue=Decimal("250000000"),
        customer_category="enterprise",
    )

    assert score_lead(lead, now=NOW)[0] == 100


def test_an_empty_old_lead_scores_0():
    lead = Lead(created_at=NOW - timedelta(days=400), validation_reasons=["email_missing", "phone_missing"])

    score, breakdown = score_lead(lead, now=NOW)

    assert score == 0
    assert factor(breakdown, "seniority")["why"] == "No job title."


def test_scoring_reads_nothing_from_the_database(db, django_assert_num_queries):
    lead = unsaved()

    with django_assert_num_queries(0):
        score_lead(lead, now=NOW)


def test_completeness_counts_the_profile_fields_filled():
    lead = unsaved(industry="", location="", website="", employee_count=None, annual_revenue=None, phone="")

    row = factor(score_lead(lead, now=NOW)[1], "completeness")

    # first, last, email, company, title filled: 5 of 12
    assert row["points"] == round(20 * 5 / 12)
    assert row["why"].startswith("5 of 12 profile fields filled; missing phone, industry, location, website")


@pytest.mark.parametrize(
    ("reasons", "status", "points"),
    [
        ([], "valid", 20),
        (["email_mx_unknown"], "valid", 16),
        (["email_role"], "risky", 10),
        (["email_disposable"], "risky", 0),
        (["email_no_mx"], "risky", 0),
        (["email_invalid"], "risky", 0),
        ([], "pending", 10),
    ],
)
def test_email_quality_follows_the_validation(reasons, status, points):
    lead = unsaved(email="someone@acme.com", validation_reasons=reasons, validation_status=status)

    assert factor(score_lead(lead, now=NOW)[1], "email_quality")["points"] == points


def test_no_email_no_email_points():
    lead = unsaved(email="", validation_reasons=["email_missing"])

    assert factor(score_lead(lead, now=NOW)[1], "email_quality")["points"] == 0


@pytest.mark.parametrize(
    ("phone", "reasons", "points"),
    [("+14155550123", [], 15), ("+15551234567", ["phone_possible"], 8), ("12345", ["phone_invalid"], 0), ("", [], 0)],
)
def test_phone_validity_follows_the_validation(phone, reasons, points):
    lead = unsaved(phone=phone, validation_reasons=reasons)

    assert factor(score_lead(lead, now=NOW)[1], "phone_validity")["points"] == points


@pytest.mark.parametrize(
    ("employees", "revenue", "points"),
    [
        (None, None, 0),
        (5, None, 2),
        (10, None, 4),
        (75, None, 6),
        (200, None, 8),
        (1000, None, 10),
        (None, Decimal("500"), 1),
        (None, Decimal("1000000"), 3),
        (None, Decimal("10000000"), 4),
        (None, Decimal("100000000"), 5),
        (20000, Decimal("900000000"), 15),
    ],
)
def test_company_size_adds_employees_and_revenue(employees, revenue, points):
    lead = unsaved(employee_count=employees, annual_revenue=revenue)

    assert factor(score_lead(lead, now=NOW)[1], "company_size")["points"] == points


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("CEO", "c_level"),
        ("C.E.O.", "c_level"),
        ("Chief Revenue Officer", "c_level"),
        ("Co-Founder & CTO", "c_level"),
        ("Founder", "c_level"),
        ("Owner", "c_level"),
        ("President", "c_level"),
        ("Managing Director", "c_level"),
        ("Geschäftsführer", "c_level"),
        ("PDG", "c_level"),
        ("Vice President, Marketing", "vp"),
        ("Vice-President of Sales", "vp"),
        ("VP Engineering", "vp"),
        ("V.P. Operations", "vp"),
        ("SVP Finance", "vp"),
        ("Director of Sales", "director"),
        ("Sr. Dir. Marketing", "director"),
        ("Head of Procurement", "director"),
        ("Directeur commercial", "director"),
        ("Sales Manager", "manager"),
        ("Mgr, Accounts", "manager"),
        ("Team Lead", "manager"),
        ("Gerente de ventas", "manager"),
        ("Software Engineer", "other"),
        ("Executive Assistant to the CEO", "other"),
        ("Marketing Intern", "other"),
        ("Product Owner", "other"),
        ("Lead Generation Specialist", "other"),
        ("", None),
        ("   ", None),
    ],
)
def test_seniority_is_read_from_titles_in_many_spellings(title, level):
    assert seniority_of(title) == level


@pytest.mark.parametrize(
    ("title", "points"), [("CEO", 20), ("VP Sales", 16), ("Director", 12), ("Manager", 8), ("Analyst", 3), ("", 0)]
)
def test_seniority_points(title, points):
    assert factor(score_lead(unsaved(job_title=title), now=NOW)[1], "seniority")["points"] == points


@pytest.mark.parametrize(
    ("age", "points"),
    [
        (timedelta(0), 10),
        (timedelta(days=7), 10),
        (timedelta(days=8), 7),
        (timedelta(days=30), 7),
        (timedelta(days=90), 4),
        (timedelta(days=180), 2),
        (timedelta(days=181), 0),
    ],
)
def test_recency_decays_with_the_age_of_the_lead(age, points):
    lead = unsaved(created_at=NOW - age)

    assert factor(score_lead(lead, now=NOW)[1], "recency")["points"] == points


# --- Scoring stored leads ---------------------------------------------------------------------------


@pytest.fixture
def org(user):
    return user.organization


def test_scores_and_breakdowns_are_saved(org):
    lead = LeadFactory(organization=org, job_title="CTO")

    result = leads_score(lead_ids=[lead.pk])

    lead.refresh_from_db()
    assert (result.scored, result.changed) == (1, 1)
    assert (lead.score, lead.score_breakdown) == score_lead(lead)


def test_a_score_change_is_published_with_from_and_to(org):
    lead = LeadFactory(organization=org, job_title="CTO")

    leads_score(lead_ids=[lead.pk])

    lead.refresh_from_db()
    event = Event.objects.get(name="leads.lead.scored")
    assert (event.subject_type, event.subject_id, event.org_id) == ("leads.lead", str(lead.pk), org.pk)
    assert event.data == {"from": 0, "to": lead.score}


def test_nothing_changed_nothing_published_nothing_saved(org):
    lead = LeadFactory(organization=org)
    leads_score(lead_ids=[lead.pk])
    updated_at = Lead.objects.get(pk=lead.pk).updated_at

    result = leads_score(lead_ids=[lead.pk])

    assert result.changed == 0
    assert Event.objects.filter(name="leads.lead.scored").count() == 1
    assert Lead.objects.get(pk=lead.pk).updated_at == updated_at


def test_deleted_and_unknown_leads_are_skipped(org):
    deleted = LeadFactory(organization=org, deleted_at=timezone.now())

    result = leads_score(lead_ids=[deleted.pk, 999_999])

    assert result.scored == 0
    assert Lead.objects.get(pk=deleted.pk).score == 0


def _queries_to_score(leads) -> int:
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(score=0, score_breakdown={})
    with CaptureQueriesContext(connection) as queries:
        leads_score(lead_ids=[lead.pk for lead in leads])
    return len(queries)


def test_scoring_in_bulk_costs_the_same_queries_for_3_or_60_leads(org, settings):
    # given leads that all change score, none turning hot
    settings.HOT_LEAD_SCORE = 101
    few = [LeadFactory(organization=org) for _ in range(3)]
    many = [LeadFactory(organization=org) for _ in range(60)]

    # then one load, one update and one insert of events, however many leads
    assert _queries_to_score(few) == _queries_to_score(many)
    assert Event.objects.filter(name="leads.lead.scored").count() == 63


def test_bulk_scoring_is_one_load_one_update_one_event_insert(org, settings, django_assert_max_num_queries):
    settings.HOT_LEAD_SCORE = 101
    leads = [LeadFactory(organization=org) for _ in range(20)]

    # (the rest are the savepoint around the work, inside the test's transaction)
    with django_assert_max_num_queries(5):
        leads_score(lead_ids=[lead.pk for lead in leads])


seen_scored = []


@subscribe(LEAD_SCORED)
def _record_scored(event):
    seen_scored.append(event)


def test_subscribers_of_the_scored_event_are_served(org):
    seen_scored.clear()
    leads = [LeadFactory(organization=org) for _ in range(3)]

    leads_score(lead_ids=[lead.pk for lead in leads])

    assert sorted(int(event.subject_id) for event in seen_scored) == sorted(lead.pk for lead in leads)
    assert all(event.pk for event in seen_scored)


# --- Hot leads ---------------------------------------------------------------------------------------


def _hot_lead(org, owner, **fields):
    return LeadFactory(
        organization=org,
        assigned_to=owner,
        job_title="CEO",
        phone="+14155550123",
        employee_count=2000,
        annual_revenue=Decimal("300000000"),
        **fields,
    )


def test_a_lead_crossing_the_threshold_tells_its_owner_once(org, settings):
    settings.HOT_LEAD_SCORE = 80
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    lead = _hot_lead(org, rep)

    first = leads_score(lead_ids=[lead.pk])
    Lead.objects.filter(pk=lead.pk).update(score_breakdown={})  # something to save again, same score
    second = leads_score(lead_ids=[lead.pk])

    lead.refresh_from_db()
    assert lead.score >= 80
    assert first.hot == [lead.pk]
    assert second.hot == []
    notification = Notification.objects.get(user=rep, type=NotificationType.HOT_LEAD)
    assert notification.link == f"/leads/{lead.pk}/"
    assert str(lead.score) in notification.title


def test_a_lead_already_hot_that_moves_does_not_tell_again(org, settings):
    settings.HOT_LEAD_SCORE = 80
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    lead = _hot_lead(org, rep)
    leads_score(lead_ids=[lead.pk])

    # when it is rescored a little lower but still hot
    Lead.objects.filter(pk=lead.pk).update(score=99)
    leads_score(lead_ids=[lead.pk])

    assert Notification.objects.filter(user=rep, type=NotificationType.HOT_LEAD).count() == 1


def test_a_lead_below_the_threshold_tells_nobody(org, settings):
    settings.HOT_LEAD_SCORE = 80
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    lead = LeadFactory(organization=org, assigned_to=rep, job_title="Intern")

    leads_score(lead_ids=[lead.pk])

    assert not Notification.objects.filter(type=NotificationType.HOT_LEAD).exists()


def test_an_owner_of_many_new_hot_leads_gets_one_notification(org, settings):
    settings.HOT_LEAD_SCORE = 80
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    manager = UserFactory(organization=org, role=User.Role.SALES_MANAGER)
    leads = [_hot_lead(org, rep) for _ in range(4)] + [_hot_lead(org, manager)]

    leads_score(lead_ids=[lead.pk for lead in leads])

    mine = Notification.objects.get(user=rep, type=NotificationType.HOT_LEAD)
    assert mine.title == "4 of your leads are now hot"
    assert mine.link == "/leads/?score_min=80"
    assert Notification.objects.filter(user=manager, type=NotificationType.HOT_LEAD).count() == 1


def test_an_unassigned_hot_lead_tells_whoever_added_it(org, user, settings):
    settings.HOT_LEAD_SCORE = 80
    lead = _hot_lead(org, None, created_by=user)

    leads_score(lead_ids=[lead.pk])

    assert Notification.objects.filter(user=user, type=NotificationType.HOT_LEAD).exists()


def test_vendor_inventory_turning_hot_tells_nobody(org, user, settings):
    settings.HOT_LEAD_SCORE = 80
    lead = _hot_lead(org, user, is_inventory=True)

    leads_score(lead_ids=[lead.pk])

    assert Lead.objects.get(pk=lead.pk).score >= 80
    assert not Notification.objects.filter(type=NotificationType.HOT_LEAD).exists()


# --- Wiring: create and edit score after commit; the command rescoring everything ----------------------


def test_a_created_lead_is_scored_after_commit(user):
    result = lead_create(actor=user, data={"email": "ada@ae.com", "job_title": "CTO", "company": "AE"})

    lead = Lead.objects.get(pk=result.lead.pk)
    assert lead.score > 0
    assert factor(lead.score_breakdown, "seniority")["points"] == 20


def test_an_edited_lead_is_rescored(user):
    lead = lead_create(actor=user, data={"email": "ada@ae.com"}).lead
    before = Lead.objects.get(pk=lead.pk).score

    lead_update(actor=user, lead_id=lead.pk, data={"job_title": "Chief Executive Officer", "phone": "415 555 0123"})

    assert Lead.objects.get(pk=lead.pk).score > before


def test_the_rescore_command_scores_every_live_lead_in_batches(org):
    leads = [LeadFactory(organization=org) for _ in range(5)]
    deleted = LeadFactory(organization=org, deleted_at=timezone.now())
    out = StringIO()

    call_command("leads_rescore", "--batch-size", "2", stdout=out)

    assert "Scored 5 leads: 5 changed" in out.getvalue()
    assert all(lead.score > 0 for lead in Lead.objects.filter(pk__in=[lead.pk for lead in leads]))
    assert Lead.objects.get(pk=deleted.pk).score == 0


def test_the_rescore_command_can_be_limited_to_one_organization(org, other_org_user):
    mine = LeadFactory(organization=org)
    theirs = LeadFactory(organization=other_org_user.organization)

    call_command("leads_rescore", "--org", str(org.pk), stdout=StringIO())

    assert Lead.objects.get(pk=mine.pk).score > 0
    assert Lead.objects.get(pk=theirs.pk).score == 0


def test_the_rescore_command_is_idempotent(org):
    LeadFactory(organization=org)
    call_command("leads_rescore", stdout=StringIO())
    out = StringIO()

    call_command("leads_rescore", stdout=out)

    assert "Scored 1 leads: 0 changed" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--org", "999999"], ["--batch-size", "0"]])
def test_the_rescore_command_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("leads_rescore", *args, stdout=StringIO())


def test_the_task_scores_by_id(org):
    from leads.tasks import leads_score as leads_score_task

    lead = LeadFactory(organization=org, job_title="CTO")

    assert leads_score_task.delay(lead_ids=[lead.pk]).get() == 1
    assert Lead.objects.get(pk=lead.pk).score > 0


def test_the_nightly_task_rescores_every_live_lead(org):
    from leads.tasks import leads_rescore

    leads = [LeadFactory(organization=org) for _ in range(3)]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(score=0, score_breakdown={})
    assert leads_rescore() == 3
    assert all(Lead.objects.filter(pk=lead.pk, score__gt=0).exists() for lead in leads)
