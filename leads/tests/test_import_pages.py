"""The import pages: upload → preview with a mapping to correct → confirm → progress (the
fragment polls until the job ends) → rejected rows; past imports; who may see what."""

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory
from leads.models import ImportJob, Lead
from leads.tests.factories import spreadsheet_upload

pytestmark = pytest.mark.django_db

FILE = "Mail,Full name,Company\nada@example.com,Ada Lovelace,Engines\nnope,Bad Row,Nowhere\n"


@pytest.fixture
def signed_in(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def _upload(client, content=FILE, name="people.csv"):
    return client.post(reverse("leads:import"), {"file": spreadsheet_upload(name, content)})


def _mapping_form(job, **changes) -> dict:
    data = {f"column_{index}": job.mapping.get(column) or "" for index, column in enumerate(job.columns)}
    data["duplicate_policy"] = "skip"
    return {**data, **changes}


def test_the_upload_page_explains_the_file_and_shows_recent_imports(signed_in):
    response = signed_in.get(reverse("leads:import"))

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b"Upload and preview" in response.content
    assert b"Recent imports" not in response.content


def test_upload_leads_to_a_preview_with_the_mapping_and_each_rows_problems(signed_in):
    # when a file is uploaded
    response = _upload(signed_in)

    # then the browser goes to the job's preview
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("leads:import-detail", args=[job.pk])
    page = signed_in.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Check the import of people.csv" in html
    assert '<option value="email">Email</option>' in html  # Mail is not guessed: nothing selected
    assert '<option value="full_name" selected>' in html
    assert html.count('data-testid="preview-row"') == 2
    assert "Rejected." in html and "Import 2 rows" in html
    assert 'hx-trigger="every 1s"' not in html


def test_a_corrected_mapping_is_checked_again(signed_in):
    _upload(signed_in)
    job = ImportJob.objects.get()

    response = signed_in.post(reverse("leads:import-mapping", args=[job.pk]), _mapping_form(job, column_0="email"))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.mapping["Mail"] == "email"
    page = signed_in.get(reverse("leads:import-detail", args=[job.pk])).content.decode()
    assert page.count("Rejected.") == 1


def test_a_wrong_mapping_is_shown_on_the_preview(signed_in):
    _upload(signed_in)
    job = ImportJob.objects.get()

    response = signed_in.post(
        reverse("leads:import-confirm", args=[job.pk]), _mapping_form(job, column_0="company", column_2="company")
    )

    assert response.status_code == 400
    assert "company is fed by more than one column" in response.content.decode()
    assert ImportJob.objects.get().status == ImportJob.Status.AWAITING_CONFIRM


def test_confirm_runs_the_import_and_shows_the_counts(signed_in, user):
    _upload(signed_in)
    job = ImportJob.objects.get()

    response = signed_in.post(reverse("leads:import-confirm", args=[job.pk]), _mapping_form(job, column_0="email"))

    assert response.status_code == 302 and response.url == reverse("leads:import-detail", args=[job.pk])
    page = signed_in.get(response.url).content.decode()
    assert 'data-testid="import-status">Done<' in page
    assert 'data-testid="count-created">1<' in page and 'data-testid="count-invalid">1<' in page
    assert reverse("leads:import-rejected", args=[job.pk]) in page
    assert 'hx-trigger="every 1s"' not in page  # finished: nothing left to poll
    assert Lead.objects.get(organization=user.organization).full_name == "Ada Lovelace"


def test_the_progress_fragment_polls_while_the_job_runs(signed_in, user):
    _upload(signed_in)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PROCESSING, processed=1)

    fragment = signed_in.get(reverse("leads:import-progress", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in fragment
    assert f'hx-get="{reverse("leads:import-progress", args=[job.pk])}"' in fragment
    assert '<progress value="1" max="2"' in fragment
    assert "<html" not in fragment


def test_the_rejected_rows_download_from_the_page(signed_in):
    _upload(signed_in)
    job = ImportJob.objects.get()
    signed_in.post(reverse("leads:import-confirm", args=[job.pk]), _mapping_form(job, column_0="email"))

    response = signed_in.get(reverse("leads:import-rejected", args=[job.pk]))

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "Mail,Full name,Company,reason"
    assert body.splitlines()[1].startswith("nope,Bad Row,Nowhere,")


def test_a_bad_file_is_shown_on_the_upload_form_with_its_status(signed_in):
    response = _upload(signed_in, b"%PDF-1.4 not a spreadsheet", name="leads.csv")

    assert response.status_code == 415
    assert "not a CSV or XLSX spreadsheet" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_past_imports_are_listed_with_pagination(signed_in, user):
    for n in range(3):
        _upload(signed_in, f"Email\np{n}@example.com\n", name=f"file{n}.csv")

    page = signed_in.get(reverse("leads:import-history")).content.decode()

    assert all(f"file{n}.csv" in page for n in range(3))
    assert signed_in.get(reverse("leads:import")).content.decode().count("file") >= 3


def test_past_imports_empty_state(signed_in):
    assert b"No imports yet" in signed_in.get(reverse("leads:import-history")).content


# --- Who may see what --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for name in ("leads:import", "leads:import-history"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response.url
    assert client.get(reverse("leads:import-detail", args=[1])).status_code == 302


def test_a_sub_user_who_may_not_add_leads_is_refused(client, user):
    clerk = SubUserFactory(parent=user, role="sales_rep", permissions={"can_add_leads": False})
    client.login(email=clerk.email, password=PASSWORD)

    assert client.get(reverse("leads:import")).status_code == 403
    assert client.get(reverse("leads:import-history")).status_code == 403


def test_another_organizations_import_is_not_found(client, user, other_org_user):
    client.login(email=user.email, password=PASSWORD)
    _upload(client)
    job = ImportJob.objects.get()
    client.logout()
    client.login(email=other_org_user.email, password=PASSWORD)

    for name in ("leads:import-detail", "leads:import-progress", "leads:import-rejected"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("leads:import-confirm", args=[job.pk]), _mapping_form(job)).status_code == 404
    assert ImportJob.objects.get().status == ImportJob.Status.AWAITING_CONFIRM


def test_a_rep_cannot_open_a_colleagues_import(client, user):
    client.login(email=user.email, password=PASSWORD)
    _upload(client)
    job = ImportJob.objects.get()
    rep = UserFactory(organization=user.organization, role="sales_rep")
    client.login(email=rep.email, password=PASSWORD)

    assert client.get(reverse("leads:import-detail", args=[job.pk])).status_code == 404


def test_confirming_twice_says_so_and_links_to_the_progress(signed_in):
    _upload(signed_in)
    job = ImportJob.objects.get()
    signed_in.post(reverse("leads:import-confirm", args=[job.pk]), _mapping_form(job, column_0="email"))

    again = signed_in.post(reverse("leads:import-confirm", args=[job.pk]), _mapping_form(job, column_0="email"))

    assert again.status_code == 409
    html = again.content.decode()
    assert "This import is already done." in html
    assert reverse("leads:import-detail", args=[job.pk]) in html
