"""Demo leads for `manage.py seed_demo`: a few hundred realistic leads per demo organization,
with some duplicates and some unreachable ones, written in bulk. Safe to run again."""

import random
from datetime import timedelta

from django.utils import timezone
from faker import Faker

from leads.cleaning import apply_clean, lead_clean
from leads.models import CaptureForm, Lead, Submission
from leads.services.forms import capture_form_create

LEADS_PER_ORG = 300
INDUSTRIES = ["Software", "Healthcare", "Manufacturing", "Finance", "Retail", "Logistics", "Education", "Energy"]
TITLES = [
    "CEO", "CTO", "VP of Sales", "Head of Marketing", "Sales Director", "Operations Manager",
    "Procurement Manager", "IT Director", "Account Executive", "Office Manager", "Founder",
]  # fmt: skip
STATUSES = [Lead.Status.NEW] * 5 + [Lead.Status.CONTACTED] * 3 + [Lead.Status.QUALIFIED, Lead.Status.LOST]


def _fake_lead(fake: Faker, rng: random.Random) -> dict:
    first, last = fake.first_name(), fake.last_name()
    company = fake.company()
    domain = company.lower().replace(",", "").replace(" ", "")[:20] + ".example.com"
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@{domain}".lower(),
        "phone": f"+1 415 555 {rng.randint(1000, 9999)}" if rng.random() < 0.7 else "",
        "company": company,
        "job_title": rng.choice(TITLES),
        "industry": rng.choice(INDUSTRIES),
        "location": f"{fake.city()}, {fake.country_code()}",
        "website": f"https://{domain}",
        "employee_count": rng.choice([8, 25, 60, 150, 400, 1200, 5000]),
        "annual_revenue": rng.choice(["250000", "1200000", "8000000", "45000000"]),
    }


def _rows(organization, members, seed: int) -> list[Lead]:
    fake = Faker()
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - repeatable demo data, not a secret
    raw_rows = [_fake_lead(fake, rng) for _ in range(LEADS_PER_ORG)]
    # Some people twice (a different spelling of the same email), some unreachable.
    for index in range(0, 30, 3):
        twin = dict(raw_rows[index])
        twin["email"] = twin["email"].upper()
        raw_rows[LEADS_PER_ORG - 1 - index] = twin
    for index in range(40, 55):
        raw_rows[index].update(email="not-an-email", phone="12")
    now = timezone.now()
    leads = []
    for index, raw in enumerate(raw_rows):
        lead = Lead(
            organization=organization,
            assigned_to=members[index % len(members)],
            created_by=members[0],
            source=rng.choice([Lead.Source.MANUAL, Lead.Source.IMPORT, Lead.Source.FORM, Lead.Source.API]),
            status=rng.choice(STATUSES),
            extra={"demo": True},
        )
        apply_clean(lead, lead_clean(raw))
        lead.created_at = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))
        if lead.status == Lead.Status.NEW:
            lead.response_alerted_at = now  # the backlog's owners were told long ago
        else:
            lead.first_contacted_at = lead.created_at + timedelta(minutes=rng.randint(5, 600))
        leads.append(lead)
    return leads


def seed(state: dict) -> None:
    _leads(state)
    _capture_form(state)


def _leads(state: dict) -> None:
    for seed_value, org_key, member_keys in ((1, "buyer_org", ("buyer", "rep")), (2, "vendor_org", ("vendor",))):
        organization = state[org_key]
        if Lead.objects.filter(organization=organization, extra__demo=True).exists():
            continue
        members = [state[key] for key in member_keys]
        rows = _rows(organization, members, seed_value)
        dates = [lead.created_at for lead in rows]
        created = Lead.objects.bulk_create(rows, batch_size=500)
        # auto_now_add overwrites the spread-out dates on insert; put them back in bulk.
        for lead, created_at in zip(created, dates, strict=True):
            lead.created_at = created_at
        Lead.objects.bulk_update(created, ["created_at"], batch_size=500)


def _capture_form(state: dict) -> None:
    """A contact form on the buyer's site, with the submissions its form leads came from."""
    buyer = state["buyer"]
    if CaptureForm.objects.filter(organization=buyer.organization).exists():
        return
    form = capture_form_create(
        actor=buyer,
        name="Website contact form",
        fields=[
            {"name": "first_name", "label": "First name", "required": True},
            {"name": "last_name", "label": "Last name", "required": True},
            {"name": "email", "label": "Work email", "required": True},
            {"name": "company", "label": "Company", "required": False},
            {"name": "notes", "label": "How can we help?", "required": False},
        ],
        notify_user_ids=[buyer.pk],
    )
    form_leads = Lead.objects.filter(organization=buyer.organization, source=Lead.Source.FORM)[:25]
    Submission.objects.bulk_create(
        [
            Submission(
                form=form,
                lead=lead,
                data={"first_name": lead.first_name, "last_name": lead.last_name, "email": lead.email},
                ip="198.51.100.7",
            )
            for lead in form_leads
        ]
    )
