"""The import engine through its services: a messy file with exact counts, the duplicate
policies, batches that resume after a worker dies, one worker per job, failures, the
per-job side effects and the constant number of queries per batch."""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leadnexus.core.models import Event, OutboxMessage
from leadnexus.core.testing import celery_eager
from leads.exceptions import ImportNotConfirmable
from leads.imports import engine, services
from leads.imports.specs import spec_for
from leads.models import ImportJob, ImportRow, Lead
from leads.tests.factories import AssignmentRuleFactory, LeadFactory, spreadsheet_upload
from notifications.models import Notification

pytestmark = pytest.mark.django_db

LEADS = ImportJob.Kind.LEADS

# BOM, semicolons, quoted newlines, accents, headers spelled every which way, bad rows, a
# blank row, and in-file duplicates by case and spaces, Gmail dots and +tags, phone formats.
MESSY = (
    "\ufeff"
    '"Given Name";"Surname";"E-mail Address";"Mobile";"Company name";"Position";"Notes"\r\n'
    'José;Müller;jose.muller@example.com;+49 30 1234567;Café Crème GmbH;"Head of\nSales";"likes\nlong lunches"\r\n'
    "Ana;García;ANA.GARCIA@Example.com ; ;Acme;CTO;\r\n"
    "ana;garcia;  ana.garcia@example.com;;Acme;CTO;\r\n"
    "John;Doe;john.doe+news@gmail.com;;Initech;VP Sales;\r\n"
    "Johnny;Doe;j.o.h.n.doe@googlemail.com;;Initech;VP;\r\n"
    "Mary;Major;;(415) 555-0132;Globex;CEO;\r\n"
    "M.;Major;;+1 415.555.0132;Globex;CEO;\r\n"
    "Bad;Row;not-an-email;;Nowhere;;\r\n"
    "No;Contact;;;Nobody Inc;;\r\n"
    "Risky;Phone;bad@;+1 415 555 0199;Foo;;\r\n"
    ";;;;;;\r\n"
    "Chloé;Dubois;chloe.dubois@exemple.fr;12;Société Générale;Directrice;\r\n"
    'Zoë;Ångström;zoe@example.com;;"Quote ""Inc""";;\r\n'
    "Ana;García;ana.g@other.example;;Acme Inc.;CTO;\r\n"
)


def _upload(actor, content, name="leads.csv"):
    return services.import_upload(actor=actor, kind=LEADS, file=spreadsheet_upload(name, content))


def _import(actor, content, name="leads.csv", **confirm):
    """Upload, confirm and (tasks run eagerly) process; the finished job."""
    upload = _upload(actor, content, name)
    services.import_confirm(actor=actor, kind=LEADS, job_id=upload.job.pk, **confirm)
    return ImportJob.objects.get(pk=upload.job.pk)


def _csv(*rows: str, header: str = "Email,First name,Last name,Company,Phone") -> str:
    return "\n".join([header, *rows]) + "\n"


def _outcomes(job) -> dict[int, tuple[str, str]]:
    return {row.row_no: (row.outcome, row.message) for row in ImportRow.objects.filter(job=job)}


# --- The messy file ----------------------------------------------------------------------


def test_a_messy_file_imports_with_exact_counts(user, settings):
    # given small batches, so in-file duplicates fall both within a batch and across batches
    settings.IMPORT_BATCH_SIZE = 4

    # when the messy file is imported with the guessed mapping
    job = _import(user, MESSY)

    # then every non-blank row is accounted for, exactly
    assert job.status == ImportJob.Status.DONE
    assert (job.total, job.processed) == (13, 13)
    assert (job.created, job.duplicates, job.invalid, job.updated) == (8, 3, 2, 0)

    outcomes = _outcomes(job)
    assert set(outcomes) == set(range(1, 15)) - {11}  # the blank row is not a row
    duplicates = {number: message for number, (outcome, message) in outcomes.items() if outcome == "duplicate"}
    assert duplicates == {
        3: "Duplicate of row 2 (same email).",
        5: f"Duplicate of lead {outcomes_lead(job, 4)} (same email).",
        7: "Duplicate of row 6 (same phone).",
    }
    assert {number for number, (outcome, _) in outcomes.items() if outcome == "invalid"} == {8, 9}
    assert outcomes[14][1].startswith("Possible duplicate of lead")  # same person and company, other email

    # and the leads are cleaned like any other lead
    leads = {lead.first_name: lead for lead in Lead.objects.filter(organization=user.organization)}
    assert Lead.objects.filter(organization=user.organization).count() == 8
    jose = leads["José"]
    assert (jose.phone, jose.company, jose.job_title) == ("+49301234567", "Café Crème GmbH", "Head of Sales")
    assert jose.notes == "likes\nlong lunches"
    assert jose.source == Lead.Source.IMPORT and jose.created_by == user and jose.status == Lead.Status.NEW
    assert leads["Mary"].phone == "+14155550132" and leads["Mary"].email == ""
    assert leads["Risky"].validation_status == Lead.ValidationStatus.RISKY
    assert leads["Chloé"].validation_status == Lead.ValidationStatus.RISKY
    assert leads["Zoë"].company == 'Quote "Inc"' and leads["Zoë"].last_name == "Ångström"
    assert Lead.objects.filter(email__iexact="ana.garcia@example.com").count() == 1
    assert leads["John"].email == "john.doe+news@gmail.com"


def outcomes_lead(job, row_no: int) -> int:
    return ImportRow.objects.get(job=job, row_no=row_no).object_id


def test_rows_of_an_xlsx_file_import_like_csv(user):
    rows = [["Email", "Name", "Phone"], ["ada@example.com", "Ada Lovelace", 4155552671], [None, "Nobody", None]]

    job = _import(user, rows, name="leads.xlsx")

    assert (job.created, job.invalid) == (1, 1)
    lead = Lead.objects.get(organization=user.organization)
    assert (lead.first_name, lead.last_name, lead.phone) == ("Ada", "Lovelace", "+14155552671")


# --- Upload, preview and mapping ----------------------------------------------------------


def test_upload_stages_every_row_and_previews_the_first_with_their_problems(user, settings):
    # given a preview of 3 rows and a lead already in the organization
    settings.IMPORT_PREVIEW_ROWS = 3
    existing = LeadFactory(organization=user.organization, email="known@example.com")

    # when a file is uploaded
    rows = ("known@example.com,A,B,C,", "nope,No,Contact,D,", "ok@example.com,O,K,E,", "x@y.com,,,,")
    upload = _upload(user, _csv(*rows))

    # then all rows are staged, nothing is imported, and the preview flags what is wrong
    job = upload.job
    assert job.status == ImportJob.Status.AWAITING_CONFIRM and job.total == 4
    assert ImportRow.objects.filter(job=job, outcome="pending").count() == 4
    assert not Lead.objects.filter(source=Lead.Source.IMPORT).exists()
    assert job.mapping == {
        "Email": "email",
        "First name": "first_name",
        "Last name": "last_name",
        "Company": "company",
        "Phone": "phone",
    }
    first, second, third = upload.preview
    assert first["problems"]["duplicate"] == [f"Duplicate of lead {existing.pk} (same email)."]
    assert second["rejected"] and second["problems"]["email"][0] == "The email address is not valid."
    assert third == {
        "row": 3,
        "values": {"Email": "ok@example.com", "First name": "O", "Last name": "K", "Company": "E"},
        "problems": {},
        "rejected": False,
    }


def test_the_file_name_keeps_no_path(user):
    upload = services.import_upload(
        actor=user, kind=LEADS, file=spreadsheet_upload("../../etc/leads.csv", _csv("a@example.com,,,,"))
    )
    assert upload.job.file_name == "leads.csv"


def test_a_header_without_rows_is_refused(user):
    with pytest.raises(ValidationFailed) as caught:
        _upload(user, "Email,Name\n\n")
    assert "no rows" in caught.value.message
    assert not ImportJob.objects.exists()


def test_a_corrected_mapping_rechecks_the_preview(user):
    # given a file whose "Mail" column is not recognised
    upload = _upload(user, "Mail,Name\nada@example.com,Ada\n")
    assert upload.job.mapping == {"Mail": None, "Name": "full_name"}
    assert upload.preview[0]["rejected"]

    # when the user maps it to the email
    checked = services.import_mapping_update(actor=user, kind=LEADS, job_id=upload.job.pk, mapping={"Mail": "email"})

    # then the preview is checked again, and the change is recorded
    assert checked.job.mapping == {"Mail": "email", "Name": "full_name"}
    assert not checked.preview[0]["rejected"]
    event = Event.objects.get(name="leads.import.mapping_changed")
    assert event.data == {"changes": {"Mail": [None, "email"]}}


def test_confirming_needs_an_email_or_phone_column(user):
    upload = _upload(user, "Mail,Name\nada@example.com,Ada\n")

    with pytest.raises(ValidationFailed) as caught:
        services.import_confirm(actor=user, kind=LEADS, job_id=upload.job.pk)

    assert "Map a column to email or phone" in caught.value.message
    assert ImportJob.objects.get(pk=upload.job.pk).status == ImportJob.Status.AWAITING_CONFIRM


def test_a_job_is_confirmed_once(user):
    job = _import(user, _csv("a@example.com,,,,"))

    with pytest.raises(ImportNotConfirmable):
        services.import_confirm(actor=user, kind=LEADS, job_id=job.pk)


# --- Duplicate policies ----------------------------------------------------------------------


@pytest.fixture
def known(user):
    live = LeadFactory(organization=user.organization, email="live@example.com", company="Old Co")
    live.phone = "+14155552671"
    live.phone_key = "+14155552671"
    live.save()
    deleted = LeadFactory(organization=user.organization, email="gone@example.com", deleted_at=timezone.now())
    return {"live": live, "deleted": deleted}


def test_skip_policy_skips_duplicates_and_offers_restoring_deleted_leads(user, known):
    job = _import(user, _csv("LIVE@example.com,L,,New Co,", "gone@example.com,G,,,", "new@example.com,N,,,"))

    assert (job.created, job.duplicates) == (1, 2)
    outcomes = _outcomes(job)
    assert outcomes[1] == ("duplicate", f"Duplicate of lead {known['live'].pk} (same email).")
    assert outcomes[2][1].startswith(f"Duplicate of deleted lead {known['deleted'].pk}")
    assert "Restore" in outcomes[2][1]
    known["live"].refresh_from_db()
    assert known["live"].company == "Old Co"


def test_update_policy_writes_the_filled_cells_into_the_duplicate(user, known):
    # given a row that duplicates a lead by email, with a new company, no phone and a bad website
    header = "Email,First name,Last name,Company,Phone,Website"
    content = _csv("live@example.com,Lia,,New Co,,not a site", header=header)

    # when it is imported with the update policy
    job = _import(user, content, duplicate_policy="update")

    # then the lead takes the filled, valid cells; the empty phone and the bad website do not overwrite
    assert (job.created, job.updated, job.duplicates) == (0, 1, 0)
    lead = known["live"]
    lead.refresh_from_db()
    assert (lead.first_name, lead.company, lead.phone, lead.website) == ("Lia", "New Co", "+14155552671", "")
    assert _outcomes(job)[1] == ("updated", f"Updated lead {lead.pk} (same email).")
    assert ImportRow.objects.get(job=job).object_id == lead.pk


def test_update_policy_updates_a_lead_created_earlier_in_the_same_file(user):
    job = _import(
        user, _csv("twin@example.com,First,,Co A,", "TWIN@example.com,Second,,Co B,"), duplicate_policy="update"
    )

    assert (job.created, job.updated) == (1, 1)
    lead = Lead.objects.get(organization=user.organization)
    assert (lead.first_name, lead.company) == ("Second", "Co B")
    assert set(ImportRow.objects.filter(job=job).values_list("object_id", flat=True)) == {lead.pk}


def test_update_policy_leaves_alone_the_leads_a_rep_cannot_see(user, known):
    # given a rep, and a duplicate of a lead that is not theirs
    rep = UserFactory(organization=user.organization, role="sales_rep")

    # when the rep imports with the update policy
    job = _import(rep, _csv("live@example.com,Changed,,,"), duplicate_policy="update")

    # then the lead is not updated; the row is reported as a duplicate
    assert (job.updated, job.duplicates) == (0, 1)
    assert "not a lead you can edit" in _outcomes(job)[1][1]
    known["live"].refresh_from_db()
    assert known["live"].first_name != "Changed"


def test_create_policy_creates_duplicates_anyway_and_says_so(user, known):
    job = _import(user, _csv("live@example.com,Again,,,", "live@example.com,Thrice,,,"), duplicate_policy="create")

    assert (job.created, job.duplicates) == (2, 0)
    assert Lead.objects.filter(email_key="live@example.com").count() == 3
    assert _outcomes(job)[1] == ("created", f"Duplicate of lead {known['live'].pk} (same email).")


def test_update_policy_needs_the_right_to_edit_leads(user):
    clerk = SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False})
    upload = _upload(clerk, _csv("a@example.com,,,,"))

    with pytest.raises(PermissionDenied):
        services.import_confirm(actor=clerk, kind=LEADS, job_id=upload.job.pk, duplicate_policy="update")


# --- Batches, checkpoints and workers ------------------------------------------------------


class WorkerKilled(BaseException):
    """What a worker's death looks like from inside: nothing below catches it."""


def _queued(actor, content):
    """A confirmed job whose task was sent to the broker but not run."""
    upload = _upload(actor, content)
    with celery_eager(False):
        services.import_confirm(actor=actor, kind=LEADS, job_id=upload.job.pk)
    return upload.job


def _kill_at_batch(monkeypatch, number: int, *, after_writing: bool = False) -> dict:
    """The worker dies at its `number`th batch; set the answer's "armed" to False to let a
    later worker live."""
    spec = spec_for(LEADS)
    original = type(spec).write_batch
    state = {"calls": 0, "armed": True}

    def write_batch(self, **kwargs):
        state["calls"] += 1
        if state["armed"] and state["calls"] == number:
            if after_writing:
                original(self, **kwargs)  # the leads are written, the batch not committed yet
            raise WorkerKilled
        return original(self, **kwargs)

    monkeypatch.setattr(type(spec), "write_batch", write_batch)
    return state


def _ten_rows() -> str:
    return _csv(*(f"person{n}@example.com,P{n},,Co {n}," for n in range(10)))


def _stale(job) -> None:
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


@pytest.mark.parametrize("after_writing", [False, True], ids=["between batches", "inside a batch"])
def test_a_worker_killed_midway_resumes_where_it_stopped_without_duplicates(user, settings, monkeypatch, after_writing):
    # given 10 rows in batches of 3, and a worker that dies at the second batch
    settings.IMPORT_BATCH_SIZE = 3
    job = _queued(user, _ten_rows())
    killer = _kill_at_batch(monkeypatch, 2, after_writing=after_writing)

    with pytest.raises(WorkerKilled):
        services.import_process(job_id=job.pk)

    # then the first batch is committed with its checkpoint, nothing of the second
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == (ImportJob.Status.PROCESSING, 3, 3)
    assert Lead.objects.filter(organization=user.organization).count() == 3
    assert ImportRow.objects.filter(job=job, outcome="pending").count() == 7

    # when the job's heartbeat goes stale and the sweeper hands it to a new worker
    killer["armed"] = False
    _stale(job)
    assert services.imports_resume_stale() == 1

    # then it finishes from row 4 on, every lead once
    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.duplicates) == (ImportJob.Status.DONE, 10, 10, 0)
    emails = list(Lead.objects.filter(organization=user.organization).values_list("email", flat=True))
    assert sorted(emails) == sorted(f"person{n}@example.com" for n in range(10))
    object_ids = list(ImportRow.objects.filter(job=job).values_list("object_id", flat=True))
    assert len(set(object_ids)) == 10 and None not in object_ids
    assert Event.objects.filter(name="leads.import.completed", subject_id=str(job.pk)).count() == 1


def test_a_fresh_job_is_left_to_the_worker_that_holds_it(user, settings):
    # given a job a worker has claimed and is still reporting on
    settings.IMPORT_BATCH_SIZE = 3
    job = _queued(user, _ten_rows())
    first = engine.job_claim(job.pk)

    # then neither a second worker nor the sweeper takes it
    assert engine.job_claim(job.pk) is None
    assert services.imports_resume_stale() == 0
    assert services.import_process(job_id=job.pk) is None

    # when the first worker goes silent and a second one takes over
    _stale(job)
    second = engine.job_claim(job.pk)
    assert second is not None

    # then the first worker's next batch is refused and writes nothing
    spec = spec_for(LEADS)
    with pytest.raises(engine.ClaimLost):
        engine.batches_run(first, spec, user)
    assert not Lead.objects.exists()
    assert engine.batches_run(second, spec, user) is True
    assert Lead.objects.count() == 10


def test_a_failing_batch_fails_the_job_and_keeps_no_part_of_that_batch(user, settings, monkeypatch):
    # given a batch whose write breaks after writing its leads
    settings.IMPORT_BATCH_SIZE = 3
    spec = spec_for(LEADS)
    original = type(spec).write_batch
    calls = {"n": 0}

    def write_batch(self, **kwargs):
        calls["n"] += 1
        results = original(self, **kwargs)
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return results

    monkeypatch.setattr(type(spec), "write_batch", write_batch)

    # when the file is imported
    job = _import(user, _ten_rows())

    # then the job failed with the error, keeping the first batch only
    assert job.status == ImportJob.Status.FAILED
    assert job.error == "RuntimeError: disk full"
    assert (job.processed, job.created) == (3, 3)
    assert Lead.objects.count() == 3
    assert Event.objects.get(name="leads.import.failed").data["to"] == "failed"


def test_a_worker_near_its_time_limit_hands_the_job_back(user, settings):
    # given a task with no time left after its first batch
    settings.IMPORT_BATCH_SIZE = 3
    job = _queued(user, _ten_rows())

    # when it runs, it hands the job back; the next task (eager here) finishes it
    assert services.import_process(job_id=job.pk, time_budget=0) is None

    job.refresh_from_db()
    assert (job.status, job.created) == (ImportJob.Status.DONE, 10)


def test_a_queued_job_whose_task_was_lost_is_sent_again(user):
    job = _queued(user, _ten_rows())
    assert services.imports_resume_stale() == 0  # just confirmed: its task may still arrive

    _stale(job)
    assert services.imports_resume_stale() == 1

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


def test_staff_can_run_a_failed_job_again_from_where_it_stopped(user, staff_user, settings, monkeypatch):
    settings.IMPORT_BATCH_SIZE = 3
    spec = spec_for(LEADS)
    original = type(spec).write_batch
    broken = {"database": True}

    def failing(self, **kwargs):
        if broken["database"] and kwargs["rows"][0].row_no > 3:
            raise RuntimeError("database went away")
        return original(self, **kwargs)

    monkeypatch.setattr(type(spec), "write_batch", failing)
    job = _import(user, _ten_rows())
    assert job.status == ImportJob.Status.FAILED
    broken["database"] = False

    with pytest.raises(PermissionDenied):
        services.import_retry(actor=user, job_id=job.pk)
    services.import_retry(actor=staff_user, job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.created, job.error) == (ImportJob.Status.DONE, 10, "")
    assert Lead.objects.count() == 10


def _process_queries(user, settings, *, rows: int, batch: int) -> int:
    settings.IMPORT_BATCH_SIZE = batch
    job = _queued(user, _csv(*(f"q{rows}-{n}@example.com,Q,{n},Co {n % 7},+1 415 555 {n:04d}" for n in range(rows))))
    with CaptureQueriesContext(connection) as queries:
        services.import_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.processed == rows
    statements = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "sqlite":
        # SQLite caps the variables of one statement, so Django splits a bulk insert into
        # several; everywhere else a batch is one statement of each kind.
        statements = [sql for sql in statements if not re.match(r'INSERT INTO "leads_lead"', sql)]
    return len(statements)


def test_the_queries_of_a_batch_do_not_grow_with_its_size(user, settings):
    # given an organization whose new leads are dealt round-robin
    AssignmentRuleFactory(organization=user.organization, members=[user, UserFactory(organization=user.organization)])

    # when 3 batches of 4 rows and 3 batches of 60 rows are imported
    small = _process_queries(user, settings, rows=12, batch=4)
    large = _process_queries(user, settings, rows=180, batch=60)

    # then they cost the same number of queries
    assert small == large


# --- Side effects, per job ----------------------------------------------------------------


def test_an_import_notifies_each_assignee_once_and_publishes_one_event(user, settings):
    # given two colleagues who get the new leads in turn, and batches of 2
    settings.IMPORT_BATCH_SIZE = 2
    ana = UserFactory(organization=user.organization, role="sales_rep")
    ben = UserFactory(organization=user.organization, role="sales_rep")
    AssignmentRuleFactory(organization=user.organization, members=[ana, ben])

    # when 6 leads and a bad row are imported
    job = _import(user, _csv(*(f"p{n}@example.com,P{n},,," for n in range(6)), "nope,,,,"), name="contacts.csv")

    # then the leads are dealt evenly
    assert Lead.objects.filter(assigned_to=ana).count() == 3
    assert Lead.objects.filter(assigned_to=ben).count() == 3

    # and each assignee gets one digest, whatever the number of leads and batches
    for member in (ana, ben):
        notification = Notification.objects.get(user=member)
        assert notification.title.startswith("3 new leads from contacts.csv assigned to you")
    assert not Notification.objects.filter(user=user).exists()

    # and the job is published once, with its counts; no event per lead
    completed = Event.objects.get(name="leads.import.completed")
    assert completed.subject_id == str(job.pk) and completed.actor == user
    assert completed.data == {
        "file_name": "contacts.csv",
        "from": "processing",
        "to": "done",
        "total": 7,
        "created": 6,
        "updated": 0,
        "duplicates": 0,
        "invalid": 1,
    }
    assert not Event.objects.filter(name__startswith="leads.lead.").exists()
    names = set(Event.objects.values_list("name", flat=True))
    assert {"leads.import.uploaded", "leads.import.confirmed", "leads.import.completed"} <= names


def test_new_leads_are_scored_in_their_batch(user):
    _import(user, _csv("cto@acme.example,Ada,Lovelace,Acme,+1 415 555 2671"))

    lead = Lead.objects.get(organization=user.organization)
    assert lead.score > 0
    assert {row["factor"] for row in lead.score_breakdown} >= {"completeness", "email_quality"}
    assert not OutboxMessage.objects.filter(task="leads.tasks.leads_score").exists()


@pytest.mark.real_worker
def test_an_import_runs_in_a_real_worker(real_worker, user, settings):
    # given a confirmed import of three batches, sent through the real broker
    settings.IMPORT_BATCH_SIZE = 4
    upload = _upload(user, _ten_rows())
    services.import_confirm(actor=user, kind=LEADS, job_id=upload.job.pk)

    # then the worker takes it to the end
    deadline = time.monotonic() + 30
    job = upload.job
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            break
        time.sleep(0.1)
    assert (job.status, job.processed, job.created) == (ImportJob.Status.DONE, 10, 10)
