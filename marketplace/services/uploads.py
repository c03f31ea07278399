"""Vendor uploads: a spreadsheet of leads to sell, through the leads import engine with the
listing spec (`marketplace.imports`): upload (read, stage, preview) → correct the mapping →
confirm with a duplicate policy (skip or update) → a worker writes the listings.

Only members of a vendor organization allowed to sell may upload (`marketplace.policy.can_sell`);
the engine's own services do the rest, under the kind `listings`, and publish
`marketplace.upload.uploaded|mapping_changed|confirmed|completed|failed`.
"""

from accounts.models import User
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leads.imports import services as imports
from leads.imports.services import ImportUpload
from leads.models import ImportJob
from marketplace.policy import can_sell
from marketplace.services.listings import listing_terms_clean

KIND = ImportJob.Kind.LISTINGS


def require_seller(actor: User) -> None:
    if not can_sell(actor):
        raise PermissionDenied("Only members of a vendor organization allowed to sell may upload listings.")


def upload_defaults_clean(*, price=None, exclusive=None, max_sales=None) -> dict[str, str]:
    """Upload-wide values for rows whose cell is empty, each checked on its own (a row may
    still say whether it is exclusive): {"price", "exclusive", "max_sales"} as text."""
    defaults, problems = {}, {}
    if price not in (None, ""):
        values, found = listing_terms_clean({"price": price}, partial=True)
        if found:
            problems["default_price"] = found["price"]
        else:
            defaults["price"] = str(values["price"])
    if exclusive not in (None, ""):
        values, found = listing_terms_clean({"exclusive": exclusive}, partial=True)
        if found:
            problems["default_exclusive"] = found["exclusive"]
        else:
            defaults["exclusive"] = "yes" if values["exclusive"] else "no"
    if max_sales not in (None, ""):
        values, found = listing_terms_clean({"exclusive": False, "max_sales": max_sales}, partial=True)
        if found:
            problems["default_max_sales"] = found["max_sales"]
        else:
            defaults["max_sales"] = str(values["max_sales"])
    if problems:
        raise ValidationFailed("Some defaults are not valid: " + ", ".join(problems) + ".", details=problems)
    return defaults


def upload_create(
    *, actor: User, file, default_price=None, default_exclusive=None, default_max_sales=None
) -> ImportUpload:
    """Read and stage a spreadsheet of listings and guess its columns; nothing is listed until
    the upload is confirmed. Too large is 413, not a spreadsheet 415, broken 400."""
    require_seller(actor)
    defaults = upload_defaults_clean(price=default_price, exclusive=default_exclusive, max_sales=default_max_sales)
    return imports.import_upload(actor=actor, kind=KIND, file=file, options={"defaults": defaults} if defaults else {})


def upload_mapping_update(*, actor: User, upload_id: int, mapping: dict) -> ImportUpload:
    """Correct the guessed columns; the preview is checked again with them."""
    require_seller(actor)
    return imports.import_mapping_update(actor=actor, kind=KIND, job_id=upload_id, mapping=mapping)


def upload_confirm(
    *, actor: User, upload_id: int, mapping: dict | None = None, duplicate_policy: str | None = None
) -> ImportJob:
    """Start listing the rows: a row naming someone already in a live listing is skipped (the
    default) or updates that listing (`update`); `create` is refused (400)."""
    require_seller(actor)
    return imports.import_confirm(
        actor=actor, kind=KIND, job_id=upload_id, mapping=mapping, duplicate_policy=duplicate_policy
    )
