"""The upload pages: upload → preview with columns to correct → confirm → progress (the
fragment polls until the upload ends) → rows not listed; past uploads; who may see what."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from leads.models import ImportJob
from leads.tests.factories import spreadsheet_upload
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory, VendorUserFactory

pytestmark = pytest.mark.django_db

FILE = "Headline,Price,Mail,Role\nVP Sales,120,ada@engines.com,VP of Sales\nBroken,12,nope,\n"


@pytest.fixture
def vendor():
    return VendorUserFactory()


@pytest.fixture
def signed_in(client, vendor):
    client.login(email=vendor.email, password=PASSWORD)
    return client


def _upload(client, content=FILE, name="stock.csv", **fields):
    return client.post(reverse("marketplace:uploads"), {"file": spreadsheet_upload(name, content), **fields})


def _mapping_form(job, **changes) -> dict:
    data = {f"column_{index}": job.mapping.get(column) or "" for index, column in enumerate(job.columns)}
    data["duplicate_policy"] = "skip"
    return {**data, **changes}


def test_the_upload_page_explains_the_file(signed_in):
    response = signed_in.get(reverse("marketplace:uploads"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and "Upload and preview" in html
    assert "Listing title" in html and "Recent uploads" not in html


def test_an_upload_leads_to_a_preview_with_its_columns_and_problems(signed_in):
    response = _upload(signed_in)

    job = ImportJob.objects.get()
    assert job.kind == "listings"
    assert response.status_code == 302 and response.url == reverse("marketplace:upload-detail", args=[job.pk])
    html = signed_in.get(response.url).content.decode()
    assert "Check the upload of stock.csv" in html
    assert '<option value="email">Email</option>' in html  # "Mail" is not guessed
    assert '<option value="title" selected>' in html
    assert html.count('data-testid="preview-row"') == 2 and html.count("Rejected.") == 2
    # listings skip or update; creating a second listing of a person is not offered
    assert 'value="skip"' in html and 'value="update"' in html and 'value="create"' not in html
    assert 'hx-trigger="every 1s"' not in html


def test_a_corrected_mapping_is_checked_again_then_confirmed(signed_in, vendor):
    _upload(signed_in)
    job = ImportJob.objects.get()

    checked = signed_in.post(reverse("marketplace:upload-mapping", args=[job.pk]), _mapping_form(job, column_2="email"))
    assert checked.status_code == 302
    job.refresh_from_db()
    assert job.mapping["Mail"] == "email"
    assert signed_in.get(reverse("marketplace:upload-detail", args=[job.pk])).content.decode().count("Rejected.") == 1

    confirmed = signed_in.post(reverse("marketplace:upload-confirm", args=[job.pk]), _mapping_form(job))

    assert confirmed.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created, job.invalid) == ("done", 1, 1)
    listing = Listing.objects.get()
    assert (listing.title, listing.vendor_id, listing.approval_status) == (
        "VP Sales",
        vendor.organization_id,
        "pending",
    )
    progress = signed_in.get(reverse("marketplace:upload-detail", args=[job.pk])).content.decode()
    assert 'data-testid="count-created">1<' in progress and 'hx-trigger="every 1s"' not in progress
    assert reverse("marketplace:upload-rejected", args=[job.pk]) in progress
    assert f"{reverse('marketplace:my-listings')}?upload={job.pk}" in progress


def test_a_wrong_mapping_is_shown_on_the_preview(signed_in):
    _upload(signed_in)
    job = ImportJob.objects.get()

    response = signed_in.post(
        reverse("marketplace:upload-confirm", args=[job.pk]), _mapping_form(job, column_0="price", column_1="price")
    )

    assert response.status_code == 400
    assert "fed by more than one column" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "awaiting_confirm"


def test_the_progress_fragment_polls_while_the_upload_runs(signed_in, vendor):
    job = ImportJob.objects.create(
        organization=vendor.organization, created_by=vendor, kind="listings", status="processing", total=10, processed=4
    )

    response = signed_in.get(reverse("marketplace:upload-progress", args=[job.pk]))

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'hx-get="{reverse("marketplace:upload-progress", args=[job.pk])}"' in html and 'value="4"' in html


def test_the_rows_not_listed_download_as_csv(signed_in):
    _upload(signed_in)
    job = ImportJob.objects.get()
    signed_in.post(reverse("marketplace:upload-confirm", args=[job.pk]), _mapping_form(job, column_2="email"))

    response = signed_in.get(reverse("marketplace:upload-rejected", args=[job.pk]))

    body = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0] == "Headline,Price,Mail,Role,reason"
    assert body[1].startswith("Broken,12,nope,,A listing needs a valid email")


def test_defaults_from_the_upload_form_fill_empty_cells(signed_in):
    response = _upload(signed_in, "Title,Email\nCTO,cto@corp.com\n", default_price="19.99", default_exclusive="no")

    assert response.status_code == 302
    assert ImportJob.objects.get().options == {"defaults": {"price": "19.99", "exclusive": "no"}}
    assert "For empty cells: price 19.99, exclusive no." in signed_in.get(response.url).content.decode()


def test_past_uploads_and_the_listings_of_one(signed_in, vendor):
    _upload(signed_in)
    job = ImportJob.objects.get()
    ListingFactory(vendor=vendor.organization, upload=job, title="From the file")
    ListingFactory(vendor=vendor.organization, title="Typed in")

    history = signed_in.get(reverse("marketplace:upload-history")).content.decode()
    listings = signed_in.get(reverse("marketplace:my-listings"), {"upload": job.pk}).content.decode()

    assert "stock.csv" in history and reverse("marketplace:upload-detail", args=[job.pk]) in history
    assert "From the file" in listings and "Typed in" not in listings
    assert "Recent uploads" in signed_in.get(reverse("marketplace:uploads")).content.decode()


def test_another_organizations_upload_is_not_found(client, signed_in):
    other = VendorUserFactory()
    theirs = ImportJob.objects.create(organization=other.organization, created_by=other, kind="listings", file_name="x")

    for name in ("upload-detail", "upload-progress", "upload-rejected"):
        assert signed_in.get(reverse(f"marketplace:{name}", args=[theirs.pk])).status_code == 404, name
    assert signed_in.post(reverse("marketplace:upload-confirm", args=[theirs.pk]), {}).status_code == 404


def test_a_lead_import_is_not_an_upload(signed_in, vendor):
    lead_import = ImportJob.objects.create(
        organization=vendor.organization, created_by=vendor, kind="leads", file_name="x"
    )

    assert signed_in.get(reverse("marketplace:upload-detail", args=[lead_import.pk])).status_code == 404


def test_members_not_allowed_to_sell_are_refused(client):
    client.login(email=UserFactory(role=User.Role.MANAGEMENT).email, password=PASSWORD)

    assert client.get(reverse("marketplace:uploads")).status_code == 403
    assert _upload(client).status_code == 403
    assert not ImportJob.objects.exists()
