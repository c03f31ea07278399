"""Contact imports through the leads import engine: CSV and XLSX files mapped and cleaned like
contacts typed in, rejected rows with their reasons, duplicates of live contacts and of earlier
rows under each policy (never another organization's), the importer as owner, the events and
the one notification; then the API and the pages from the outside, and who may import."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from crm.models import Contact
from crm.tests.factories import ContactFactory
from leadnexus.core.exceptions import PermissionDenied
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.dedupe import name_company_key
from leads.imports import services
from leads.models import ImportJob, ImportRow, Lead
from leads.tests.factories import spreadsheet_upload
from notifications.models import Notification

pytestmark = pytest.mark.django_db

CONTACTS = ImportJob.Kind.CONTACTS
IMPORTS = "/api/contacts/import/"
HEADER = "Email,First name,Last name,Company,Phone"


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _upload(actor, content, name="contacts.csv"):
    return services.import_upload(actor=actor, kind=CONTACTS, file=spreadsheet_upload(name, content))


def _import(actor, content, name="contacts.csv", **confirm) -> ImportJob:
    """Upload, confirm and (tasks run eagerly) process; the finished job."""
    upload = _upload(actor, content, name)
    services.import_confirm(actor=actor, kind=CONTACTS, job_id=upload.job.pk, **confirm)
    return ImportJob.objects.get(pk=upload.job.pk)


def _outcomes(job) -> dict[int, tuple[str, str]]:
    return {row.row_no: (row.outcome, row.message) for row in ImportRow.objects.filter(job=job)}


def _contact(email: str) -> Contact:
    return Contact.objects.get(email=email)


# --- Files, mapping and cleaning -------------------------------------------------------------


def test_a_csv_file_imports_contacts_cleaned_like_contacts_added_by_hand(manager):
    # given a file whose headers are spelled every which way
    content = (
        '"Given Name";"Surname";"E-mail Address";"Mobile";"Company name";"Job title";"Notes"\r\n'
        'José;Müller;  Jose.Muller@Example.COM ;(415) 555-0132;Café Crème GmbH;"Head of\nSales";"likes\nlunch"\r\n'
        "Ana;García;;+49 30 1234567;Acme;CTO;\r\n"
    )

    # when it is uploaded, the columns are guessed as the contact's fields
    upload = _upload(manager, content)
    assert upload.job.mapping == {
        "Given Name": "first_name",
        "Surname": "last_name",
        "E-mail Address": "email",
        "Mobile": "phone",
        "Company name": "company",
        "Job title": "position",
        "Notes": "notes",
    }
    assert [row["rejected"] for row in upload.preview] == [False, False]

    # and once confirmed, each row is a contact, cleaned: the email normalised, the phone in E.164
    services.import_confirm(actor=manager, kind=CONTACTS, job_id=upload.job.pk)
    job = ImportJob.objects.get(pk=upload.job.pk)
    assert (job.status, job.total, job.created, job.invalid, job.duplicates) == ("done", 2, 2, 0, 0)
    jose = Contact.objects.get(first_name="José")
    assert (jose.email, jose.phone, jose.email_key) == (
        "Jose.Muller@example.com",
        "+14155550132",
        "jose.muller@example.com",
    )
    assert (jose.company, jose.position, jose.notes) == ("Café Crème GmbH", "Head of Sales", "likes\nlunch")
    assert jose.name_company_key and jose.organization == manager.organization
    assert Contact.objects.get(first_name="Ana").phone == "+49301234567"
    assert not Lead.objects.exists()  # contacts, not leads


def test_an_xlsx_file_imports_like_a_csv_one_with_a_full_name_split(manager):
    rows = [["Email", "Name", "Phone", "Position"], ["ada@example.com", "Ada Lovelace", 4155552671, "Countess"]]

    job = _import(manager, rows, name="people.xlsx")

    assert (job.created, job.invalid) == (1, 0)
    ada = Contact.objects.get()
    assert (ada.first_name, ada.last_name, ada.phone, ada.position) == ("Ada", "Lovelace", "+14155552671", "Countess")


def test_rows_without_a_name_email_or_phone_or_with_a_wrong_one_are_rejected_with_the_reason(manager):
    # given rows without anyone to call, with a broken email, with a broken phone, and a shared mailbox
    content = _csv(
        ",,,Acme only,",
        "not-an-email,Bad,Email,Acme,",
        ",Bad,Phone,Acme,12",
        "sales@acme.example,,,Acme,",
    )

    job = _import(manager, content)

    # then only the shared mailbox is a contact (with its warning kept on the row)
    assert (job.created, job.invalid) == (1, 3)
    outcomes = _outcomes(job)
    assert outcomes[1] == ("invalid", "A contact needs a name, an email address or a phone number.")
    assert outcomes[2] == ("invalid", "The email address is not valid. Correct the cell, or leave it empty.")
    assert outcomes[3] == ("invalid", "The phone number is not valid. Correct the cell, or leave it empty.")
    assert ImportRow.objects.get(job=job, row_no=4).problems["email"][0].startswith("The email address is a shared")
    assert Contact.objects.get().email == "sales@acme.example"


def test_the_preview_shows_rejected_rows_and_duplicates_before_anything_is_written(manager):
    known = ContactFactory(created_by=manager, email="known@example.com", email_key="known@example.com")

    upload = _upload(manager, _csv("known@example.com,Kim,Known,,", ",,,Nobody,", "new@example.com,New,One,,"))

    assert [row["rejected"] for row in upload.preview] == [False, True, False]
    assert upload.preview[0]["problems"] == {"duplicate": [f"Duplicate of contact {known.pk} (same email)."]}
    assert "A contact needs a name" in upload.preview[1]["problems"]["email"][0]
    assert Contact.objects.count() == 1


def test_a_file_without_a_name_email_or_phone_column_cannot_start(manager):
    upload = _upload(manager, "Company,City\nAcme,Paris\n")

    with pytest.raises(Exception, match="Map a column to email or phone"):
        services.import_confirm(actor=manager, kind=CONTACTS, job_id=upload.job.pk)


# --- Duplicates --------------------------------------------------------------------------------


@pytest.fixture
def known(manager):
    """A live contact of the organization, a deleted one, and another organization's."""
    return {
        "live": ContactFactory(
            created_by=manager,
            first_name="Kim",
            last_name="Known",
            email="known@example.com",
            email_key="known@example.com",
            company="Acme",
            position="CTO",
            name_company_key=name_company_key("Kim", "Known", "Acme"),
        ),
        "deleted": ContactFactory(
            created_by=manager, email="gone@example.com", email_key="gone@example.com", deleted_at=timezone.now()
        ),
        "theirs": ContactFactory(email="theirs@example.com", email_key="theirs@example.com"),
    }


def test_skip_policy_skips_duplicates_of_live_contacts_and_of_earlier_rows(manager, known):
    # given rows repeating a live contact (by email, in another spelling), each other (by phone),
    # a deleted contact and another organization's contact
    content = _csv(
        "KNOWN@example.com,Kim,Known,Acme,",
        "pat@example.com,Pat,One,Initech,(415) 555-0132",
        "pat.two@example.com,Pat,Two,Initech,+1 415.555.0132",
        "gone@example.com,Gone,Again,,",
        "theirs@example.com,Their,Contact,,",
    )

    job = _import(manager, content, duplicate_policy="skip")

    # then the repeats are skipped and say what they repeat; the others are contacts
    assert (job.created, job.duplicates, job.updated) == (3, 2, 0)
    outcomes = _outcomes(job)
    assert outcomes[1] == ("duplicate", f"Duplicate of contact {known['live'].pk} (same email).")
    assert outcomes[3] == ("duplicate", "Duplicate of row 2 (same phone).")
    assert ImportRow.objects.get(job=job, row_no=1).object_id == known["live"].pk
    assert {outcomes[4][0], outcomes[5][0]} == {"created"}
    ours = Contact.objects.filter(organization=manager.organization, deleted_at__isnull=True)
    assert set(ours.values_list("email", flat=True)) == {
        "known@example.com",
        "pat@example.com",
        "gone@example.com",
        "theirs@example.com",
    }
    known["theirs"].refresh_from_db()
    assert known["theirs"].first_name != "Their"  # another organization's contact is never touched


def test_update_policy_writes_the_filled_cells_into_the_duplicate(manager, known):
    # given a row naming the live contact with a new phone and position, and no company
    job = _import(
        manager, _csv("known@example.com,Kimberly,,,+1 415 555 2671", header=HEADER), duplicate_policy="update"
    )

    # then the contact takes the filled cells and keeps the others
    assert (job.created, job.updated, job.duplicates) == (0, 1, 0)
    assert _outcomes(job)[1] == ("updated", f"Updated contact {known['live'].pk} (same email).")
    contact = _contact("known@example.com")
    assert (contact.first_name, contact.last_name, contact.phone, contact.company, contact.position) == (
        "Kimberly",
        "Known",
        "+14155552671",
        "Acme",
        "CTO",
    )
    assert contact.phone_key == "+14155552671"
    # and the change is on its timeline's events, as an edit would be
    event = Event.objects.get(name="crm.contact.updated", subject_id=str(contact.pk))
    assert event.actor == manager
    assert event.data == {"first_name": ["Kim", "Kimberly"], "phone": ["", "+14155552671"]}


def test_update_policy_updates_a_contact_created_earlier_in_the_same_file(manager, settings):
    # given batches of 2: Ann is repeated in her own batch, Bo in the next one
    settings.IMPORT_BATCH_SIZE = 2
    content = _csv(
        "a@example.com,Ann,,,", "A@example.com,Anna,Smith,Acme,", "b@example.com,Bo,,,", "B@example.com,,,Initech,"
    )

    job = _import(manager, content, duplicate_policy="update")

    assert (job.created, job.updated) == (2, 2)
    assert _outcomes(job)[2] == ("updated", "Updated row 1 (same email).")
    anna = Contact.objects.get(email_key="a@example.com")
    assert (anna.email, anna.first_name, anna.last_name, anna.company) == ("A@example.com", "Anna", "Smith", "Acme")
    bo = Contact.objects.get(email_key="b@example.com")
    assert (bo.first_name, bo.company) == ("Bo", "Initech")


def test_update_policy_leaves_alone_the_contacts_a_rep_cannot_see(manager, rep, known):
    own = ContactFactory(created_by=rep, email="mine@example.com", email_key="mine@example.com", company="Old")

    job = _import(rep, _csv("known@example.com,Kim,,Changed,", "mine@example.com,,,New,"), duplicate_policy="update")

    assert (job.updated, job.duplicates) == (1, 1)
    outcome, message = _outcomes(job)[1]
    assert outcome == "duplicate"
    assert message.startswith(f"Duplicate of contact {known['live'].pk} (same email).")
    assert message.endswith("It is not a contact you can edit, so it was not updated.")
    own.refresh_from_db()
    known["live"].refresh_from_db()
    assert (own.company, known["live"].company) == ("New", "Acme")


def test_create_policy_adds_duplicates_anyway_and_says_so(manager, known):
    job = _import(manager, _csv("known@example.com,Kim,Known,Acme,"), duplicate_policy="create")

    assert (job.created, job.duplicates) == (1, 0)
    assert _outcomes(job)[1] == ("created", f"Duplicate of contact {known['live'].pk} (same email).")
    assert Contact.objects.filter(email="known@example.com").count() == 2


def test_the_same_name_and_company_alone_is_a_possible_duplicate_created_and_flagged(manager, known):
    job = _import(manager, _csv("kim.k@other.example,Kim,Known,Acme Inc.,"))

    assert job.created == 1
    assert _outcomes(job)[1] == (
        "created",
        f"Possible duplicate of contact {known['live'].pk} (same name and company).",
    )


def test_update_policy_needs_the_right_to_edit(manager):
    clerk = SubUserFactory(parent=manager, role="sales_manager", permissions={"can_edit_leads": False})
    upload = _upload(clerk, _csv("a@example.com,Ann,,,"))

    with pytest.raises(PermissionDenied):
        services.import_confirm(actor=clerk, kind=CONTACTS, job_id=upload.job.pk, duplicate_policy="update")


# --- Owner, events, notification ---------------------------------------------------------------


def test_a_rep_imports_contacts_of_their_own(manager, rep):
    job = _import(rep, _csv("a@example.com,Ann,,,", "b@example.com,Bo,,,"))

    assert job.created == 2
    assert set(Contact.objects.values_list("assigned_to", "created_by")) == {(rep.pk, rep.pk)}
    listed = bearer_client(rep).get("/api/contacts/").json()
    assert {row["email"] for row in listed["results"]} == {"a@example.com", "b@example.com"}


def test_events_are_stored_per_contact_and_the_importer_is_told_once(manager, settings):
    # given batches of 2 rows
    settings.IMPORT_BATCH_SIZE = 2

    # when 5 contacts and a bad row are imported
    job = _import(manager, _csv(*(f"p{n}@example.com,P{n},,," for n in range(5)), ",,,Nobody,"), name="team.csv")

    # then each contact has its created event, with the import it came from
    created = Event.objects.filter(name="crm.contact.created")
    assert created.count() == 5
    assert {event.data["import"] for event in created} == {job.pk}
    assert all(event.actor == manager and event.subject_type == "crm.contact" for event in created)
    # and the job is published once; the importer gets one notification for the whole file
    assert Event.objects.filter(name="crm.contact_import.completed", subject_id=str(job.pk)).count() == 1
    notification = Notification.objects.get(user=manager)
    assert notification.title == "Import of team.csv finished"
    assert notification.message == "5 new contacts; 1 rejected."
    assert notification.link == reverse("crm:contact-import-detail", args=[job.pk])


def _batch_queries(user, settings, *, rows: int, batch: int) -> int:
    settings.IMPORT_BATCH_SIZE = batch
    content = _csv(*(f"q{rows}-{n}@example.com,Q,{n},Co {n % 7},+1 415 555 {n:04d}" for n in range(rows)))
    upload = _upload(user, content)
    ImportJob.objects.filter(pk=upload.job.pk).update(status=ImportJob.Status.QUEUED, duplicate_policy="update")
    with CaptureQueriesContext(connection) as queries:
        services.import_process(job_id=upload.job.pk)
    statements = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "sqlite":
        # SQLite caps the variables of one statement, so Django splits a bulk insert into several.
        statements = [sql for sql in statements if not re.match(r'INSERT INTO "(crm_contact|core_event)"', sql)]
    return len(statements)


def test_the_queries_of_a_batch_do_not_grow_with_its_size(settings):
    # (each in an organization of its own: the same phones would be duplicates)
    small = _batch_queries(UserFactory(), settings, rows=12, batch=4)
    large = _batch_queries(UserFactory(), settings, rows=180, batch=60)

    assert small == large


# --- The API -----------------------------------------------------------------------------------


API_FILE = _csv("ada@example.com,Ada,Lovelace,Engines,", "nope,Bad,Row,,")


def _api_upload(client, content=API_FILE):
    return client.post(IMPORTS, {"file": spreadsheet_upload("people.csv", content)}, format="multipart")


def test_the_api_uploads_previews_confirms_and_reports_a_contact_import(manager):
    client = bearer_client(manager)

    uploaded = _api_upload(client)

    assert uploaded.status_code == 201, uploaded.content
    data = uploaded.json()
    assert (data["kind"], data["status"], data["total"]) == ("contacts", "awaiting_confirm", 2)
    assert data["mapping"] == {
        "Email": "email",
        "First name": "first_name",
        "Last name": "last_name",
        "Company": "company",
        "Phone": "phone",
    }
    assert [row["rejected"] for row in data["preview"]] == [False, True]

    confirmed = client.post(f"{IMPORTS}{data['id']}/confirm/", {"duplicate_policy": "skip"}, format="json")
    assert confirmed.status_code == 202
    assert confirmed.json() == {"id": data["id"], "status": "queued"}

    job = client.get(f"{IMPORTS}{data['id']}/").json()
    assert (job["status"], job["created"], job["invalid"], job["progress"]) == ("done", 1, 1, 100)
    assert job["rejected_url"] == f"http://testserver{IMPORTS}{data['id']}/rejected/"
    assert [row["id"] for row in client.get(IMPORTS).json()["results"]] == [data["id"]]

    rejected = client.get(job["rejected_url"])
    assert rejected.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(rejected.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-1] == "reason" and rows[1][0] == "nope"
    assert "email address is not valid" in rows[1][-1]


def test_the_api_takes_a_corrected_mapping_on_confirm(manager):
    client = bearer_client(manager)
    job_id = _api_upload(client, "Mail,Who\nada@example.com,Ada Lovelace\n").json()["id"]

    response = client.post(
        f"{IMPORTS}{job_id}/confirm/", {"mapping": {"Mail": "email", "Who": "full_name"}}, format="json"
    )

    assert response.status_code == 202
    assert Contact.objects.get().full_name == "Ada Lovelace"


def test_who_may_import_contacts_through_the_api(manager, rep, api_client):
    # anonymous callers are 401
    assert_error(_api_upload(api_client), 401, "not_authenticated")
    # a member without the right to add leads is 403, and may not follow imports either
    clerk = SubUserFactory(parent=manager, role="sales_manager", permissions={"can_add_leads": False})
    assert_error(_api_upload(bearer_client(clerk)), 403, "permission_denied")
    assert_error(bearer_client(clerk).get(IMPORTS), 403, "permission_denied")
    # a rep may, and sees only their own imports; another organization's import is 404
    job_id = _api_upload(bearer_client(manager)).json()["id"]
    assert _api_upload(bearer_client(rep)).status_code == 201
    assert_error(bearer_client(rep).get(f"{IMPORTS}{job_id}/"), 404, "not_found")
    assert_error(bearer_client(UserFactory()).get(f"{IMPORTS}{job_id}/"), 404, "not_found")
    assert_error(bearer_client(UserFactory()).post(f"{IMPORTS}{job_id}/confirm/", {}, format="json"), 404, "not_found")


def test_a_lead_import_is_not_a_contact_import(manager):
    client = bearer_client(manager)
    lead_job = client.post(
        "/api/leads/import/", {"file": spreadsheet_upload("leads.csv", _csv("a@example.com,A,,,"))}, format="multipart"
    ).json()["id"]

    assert_error(client.get(f"{IMPORTS}{lead_job}/"), 404, "not_found")
    assert_error(client.post(f"{IMPORTS}{lead_job}/confirm/", {}, format="json"), 404, "not_found")


def test_update_policy_through_the_api_needs_the_right_to_edit(manager):
    client = bearer_client(SubUserFactory(parent=manager, role="sales_manager", permissions={"can_edit_leads": False}))
    job_id = _api_upload(client).json()["id"]

    response = client.post(f"{IMPORTS}{job_id}/confirm/", {"duplicate_policy": "update"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert ImportJob.objects.get(pk=job_id).status == "awaiting_confirm"


# --- The pages ---------------------------------------------------------------------------------


def test_the_contacts_page_offers_import_and_export_to_those_who_may(client, manager):
    client.login(email=manager.email, password=PASSWORD)
    page = client.get("/crm/contacts/?search=ann").content.decode()
    assert reverse("crm:contact-import") in page
    assert f"{reverse('crm:contact-export')}?search=ann" in page

    viewer = SubUserFactory(parent=manager, permissions={"can_add_leads": False, "can_export": False})
    client.login(email=viewer.email, password=PASSWORD)
    page = client.get("/crm/contacts/").content.decode()
    assert reverse("crm:contact-import") not in page and reverse("crm:contact-export") not in page


def test_the_import_pages_upload_preview_confirm_and_show_progress(client, manager):
    client.login(email=manager.email, password=PASSWORD)

    # when a file is uploaded from the import page
    assert client.get(reverse("crm:contact-import")).status_code == 200
    response = client.post(
        reverse("crm:contact-import"),
        {"file": spreadsheet_upload("people.csv", _csv("ada@example.com,Ada,Lovelace,Engines,", ",,,Nobody,"))},
    )

    # then the preview shows the contact's fields and the rejected row
    job = ImportJob.objects.get(kind=CONTACTS)
    assert response.status_code == 302 and response.url == reverse("crm:contact-import-detail", args=[job.pk])
    preview = client.get(response.url).content.decode()
    assert '<option value="position">Position</option>' in preview
    assert "When a row duplicates an existing contact" in preview
    assert "Rejected." in preview

    # and once confirmed, the progress page shows the counts and links the contacts and rejected rows
    form = {f"column_{index}": job.mapping.get(column) or "" for index, column in enumerate(job.columns)}
    confirmed = client.post(reverse("crm:contact-import-confirm", args=[job.pk]), {**form, "duplicate_policy": "skip"})
    assert confirmed.status_code == 302
    progress = client.get(reverse("crm:contact-import-progress", args=[job.pk])).content.decode()
    assert 'data-testid="count-created">1<' in progress and 'data-testid="count-invalid">1<' in progress
    assert reverse("crm:contact-import-rejected", args=[job.pk]) in progress
    assert reverse("crm:contacts") in progress
    history = client.get(reverse("crm:contact-import-history")).content.decode()
    assert "people.csv" in history
    assert Contact.objects.get().email == "ada@example.com"


def test_the_import_pages_need_a_signed_in_member_who_may_add(client, manager):
    assert client.get(reverse("crm:contact-import")).status_code == 302
    clerk = SubUserFactory(parent=manager, role="sales_manager", permissions={"can_add_leads": False})
    client.login(email=clerk.email, password=PASSWORD)
    assert client.get(reverse("crm:contact-import")).status_code == 403
