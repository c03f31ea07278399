"""Capture forms: public lead forms an organization defines, and the submissions they receive.

A management user defines a form (which lead fields it asks, which are required, who is told,
the thank-you text, whether it takes an attachment). Anyone may submit it at `/f/<slug>/` or
through `POST /api/public/forms/<slug>/submit/`; `submission_receive` is the one entry point
for both.

A submission becomes a lead (source `form`, status `new`, assigned by the assignment rules,
no creator), except when it is a certain duplicate (same email or phone) of a live lead of
the organization: then the submission is linked to that lead and no second lead is made, so
a prospect who fills the form twice stays one record with two submissions. A possible
duplicate (same person and company only), or a match on a deleted lead, still makes a lead.

Who may do what: any member who may view leads reads the forms; only management users (with
`can_edit_leads`) create, change and delete them. Submissions are leads' data, so a sales rep
without `can_view_all_org_leads` sees only the submissions of leads they may see; marking one
"reached out" needs `can_edit_leads`.
"""

import ipaddress
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify

from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import user_list
from leadnexus.core.events import publish
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leadnexus.core.ids import is_db_id
from leadnexus.core.ratelimit import rate_limit
from leads.cleaning import CONTACT_FIELDS, LEAD_FIELDS, apply_clean, lead_clean
from leads.dedupe import duplicate_find
from leads.exceptions import SubmissionAttachmentTooLarge, SubmissionAttachmentUnsupported
from leads.models import CaptureForm, Lead, Submission
from leads.policy import require_capture_form_manager
from leads.selectors import capture_form_get, capture_form_public_get, submission_get
from leads.services.assignment import assignee_pick
from leads.services.records import lead_score_later, lead_status_change, notify_assignee
from notifications.models import NotificationType
from notifications.services import notification_send

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "job_title": "Job title",
    "industry": "Industry",
    "location": "Location",
    "email": "Email",
    "phone": "Phone",
    "website": "Website",
    "employee_count": "Number of employees",
    "annual_revenue": "Annual revenue",
    "customer_category": "Type of organization",
    "notes": "Message",
}
# A hidden input people never see and bots fill in: a filled one is a bot.
HONEYPOT_FIELD = "website_url"


def form_public_url(form: CaptureForm) -> str:
    return f"{settings.SITE_URL}{reverse('capture:form', args=[form.slug])}"


def form_embed_snippet(form: CaptureForm) -> str:
    """The HTML another website pastes to show the form in a frame."""
    return format_html(
        '<iframe src="{}?embed=1" title="{}" width="100%" height="640" loading="lazy"></iframe>',
        form_public_url(form),
        form.name,
    )


# --- Defining forms -----------------------------------------------------------------------


def _fields(raw) -> list[dict]:
    """`[{name, label, required}]` in the given order, each name a lead field, once."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("Choose the form's fields.", details={"fields": ["Choose at least one field."]})
    fields, problems = [], []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in LEAD_FIELDS:
            problems.append(f"Not a lead field: {name!s:.50}. Choose from {', '.join(LEAD_FIELDS)}.")
            continue
        if any(field["name"] == name for field in fields):
            problems.append(f"{name} is listed twice.")
            continue
        label = " ".join(str(item.get("label") or "").split())[:100] or FIELD_LABELS[name]
        fields.append({"name": name, "label": label, "required": bool(item.get("required", False))})
    if not problems and not {"email", "phone"} & {field["name"] for field in fields}:
        problems.append("Ask for an email address or a phone number: a lead needs one to be reached.")
    if problems:
        raise ValidationFailed(" ".join(problems), details={"fields": problems})
    return fields


def _notify_users(actor: User, ids) -> list[User]:
    ids = list(dict.fromkeys(ids or []))
    members = {m.pk: m for m in user_list(user=actor).filter(pk__in=[pk for pk in ids if is_db_id(pk)])}
    missing = [pk for pk in ids if pk not in members]
    if missing:
        raise ValidationFailed(
            "Some people to notify are not in your organization.",
            details={"notify_users": [f"Not a member of your organization: {pk}." for pk in missing]},
        )
    return [members[pk] for pk in ids]


def _slug_for(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "form"
    if not CaptureForm.objects.filter(slug=base).exists():
        return base
    return f"{base}-{uuid.uuid4().hex[:8]}"


def _snapshot(form: CaptureForm, notify_ids: list[int]) -> dict:
    return {
        "name": form.name,
        "fields": form.fields,
        "notify_users": sorted(notify_ids),
        "thank_you_text": form.thank_you_text,
        "allow_attachment": form.allow_attachment,
        "is_active": form.is_active,
    }


def capture_form_create(
    *,
    actor: User,
    name: str,
    fields: list[dict],
    notify_user_ids: list[int] | None = None,
    thank_you_text: str = "",
    allow_attachment: bool = False,
    is_active: bool = True,
) -> CaptureForm:
    """A new form with a unique public slug made from its name (kept when it is renamed, so
    links and embedded snippets keep working)."""
    require_capture_form_manager(actor)
    if not name.strip():
        raise ValidationFailed("Give the form a name.", details={"name": ["Give the form a name."]})
    clean_fields = _fields(fields)
    notify = _notify_users(actor, notify_user_ids)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                form = CaptureForm.objects.create(
                    organization_id=actor.organization_id,
                    created_by=actor,
                    name=name.strip()[:100],
                    slug=_slug_for(name),
                    fields=clean_fields,
                    thank_you_text=thank_you_text.strip() or CaptureForm._meta.get_field("thank_you_text").default,
                    allow_attachment=allow_attachment,
                    is_active=is_active,
                )
                form.notify_users.set(notify)
                publish(
                    "leads.capture_form.created",
                    actor=actor,
                    org=actor.organization_id,
                    subject=form,
                    data={"slug": form.slug, **_snapshot(form, [u.pk for u in notify])},
                )
            break
        except IntegrityError:  # another form took the slug meanwhile: draw another
            continue
    else:
        raise ValidationFailed("Could not find a free address for the form.", details={"name": ["Try another name."]})
    return capture_form_get(user=actor, form_id=form.pk)


_FORM_FIELDS = ("name", "fields", "notify_user_ids", "thank_you_text", "allow_attachment", "is_active")


def capture_form_update(*, actor: User, form_id: int, changes: dict) -> CaptureForm:
    require_capture_form_manager(actor)
    unknown = set(changes) - set(_FORM_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", details={name: ["Not a field of a form."] for name in unknown})
    with transaction.atomic():
        form = capture_form_get(user=actor, form_id=form_id)
        current = [u.pk for u in form.notify_users.all()]
        before = _snapshot(form, current)
        if "name" in changes:
            if not changes["name"].strip():
                raise ValidationFailed("Give the form a name.", details={"name": ["Give the form a name."]})
            form.name = changes["name"].strip()[:100]
        if "fields" in changes:
            form.fields = _fields(changes["fields"])
        if "thank_you_text" in changes:
            form.thank_you_text = changes["thank_you_text"].strip() or form.thank_you_text
        for flag in ("allow_attachment", "is_active"):
            if flag in changes:
                setattr(form, flag, bool(changes[flag]))
        notify = _notify_users(actor, changes["notify_user_ids"]) if "notify_user_ids" in changes else None
        form.save()
        if notify is not None:
            form.notify_users.set(notify)
        after = _snapshot(form, [u.pk for u in notify] if notify is not None else current)
        changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if changed:
            publish("leads.capture_form.updated", actor=actor, org=form.organization_id, subject=form, data=changed)
    return capture_form_get(user=actor, form_id=form.pk)


def capture_form_delete(*, actor: User, form_id: int) -> CaptureForm:
    """Delete the form and its submissions (their leads stay); attachments are removed from
    storage once the deletion is committed."""
    require_capture_form_manager(actor)
    with transaction.atomic():
        form = capture_form_get(user=actor, form_id=form_id)
        files = list(form.submissions.exclude(attachment="").values_list("attachment", flat=True))
        publish(
            "leads.capture_form.deleted",
            actor=actor,
            org=form.organization_id,
            subject=form,
            data={"name": form.name, "slug": form.slug, "submissions": form.submission_count},
        )
        form.delete()
        transaction.on_commit(lambda: [_storage().delete(name) for name in files], robust=True)
    return form


# --- Attachments --------------------------------------------------------------------------

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ATTACHMENT_TYPES = {  # extension → content type; decided from the bytes, never from the name
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "doc": "application/msword",
    "docx": _DOCX,
}


def _storage():
    """Where attachments are kept: the private storage, as the model field holds it."""
    return Submission._meta.get_field("attachment").storage


def attachment_kind(file) -> str | None:
    """The attachment's type by its content (magic bytes; a .docx is a zip holding
    word/document.xml), or None when it is none of the accepted kinds."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith(b"PK\x03\x04"):
        try:  # reads the zip's directory only, nothing is decompressed
            with zipfile.ZipFile(file) as archive:
                is_docx = "word/document.xml" in archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            is_docx = False
        finally:
            file.seek(0)
        return "docx" if is_docx else None
    return None


def attachment_display_name(raw: str, kind: str) -> str:
    """The submitted file name for display: no directories, no control characters."""
    name = str(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if not name:
        return f"attachment.{kind}"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 190 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else name[:200]
    return name


# Room for the form's text fields besides the attachment in one request body.
_BODY_ALLOWANCE = 256 * 1024


def submission_size_check(*, content_length) -> None:
    """Refuse a submission body that cannot fit before it is read (a proxy may enforce the
    same limit in front)."""
    try:
        length = int(content_length or 0)
    except (TypeError, ValueError):
        return
    limit = settings.SUBMISSION_MAX_ATTACHMENT_BYTES
    if length > limit + _BODY_ALLOWANCE:
        message = f"The attachment is larger than {filesizeformat(limit)}."
        raise SubmissionAttachmentTooLarge(message, details={"attachment": [message]})


def _check_attachment(form: CaptureForm, attachment) -> str:
    if not form.allow_attachment:
        raise ValidationFailed(
            "This form does not take attachments.", details={"attachment": ["This form does not take attachments."]}
        )
    limit = settings.SUBMISSION_MAX_ATTACHMENT_BYTES
    if attachment.size > limit:
        message = f"The attachment is larger than {filesizeformat(limit)}."
        raise SubmissionAttachmentTooLarge(message, details={"attachment": [message]})
    kind = attachment_kind(attachment)
    if kind is None:
        message = "Attach a PDF, a Word document (.doc, .docx), a PNG or a JPEG image."
        raise SubmissionAttachmentUnsupported(message, details={"attachment": [message]})
    return kind


# --- Receiving submissions ----------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionReceipt:
    form: CaptureForm
    submission: Submission | None  # None: the honeypot caught a bot, nothing was stored
    thank_you_text: str


def _values(form: CaptureForm, data: dict) -> dict:
    """The form's fields from `data` (others are ignored); required ones must be given."""
    values, missing = {}, {}
    for field in form.fields:
        value = data.get(field["name"])
        value = "" if value is None else str(value).strip()
        if field["required"] and not value:
            missing[field["name"]] = ["This field is required."]
        values[field["name"]] = value
    if missing:
        raise ValidationFailed("Some required fields are empty.", details=missing)
    return values


def _lead_for(form: CaptureForm, values: dict) -> tuple[Lead, bool]:
    """The submission's lead, made now or (certain duplicate) the existing one; and whether it is new."""
    given = {name: value for name, value in values.items() if value}
    clean = lead_clean(given)
    problems = {name: messages for name, messages in clean.problems.items() if name not in CONTACT_FIELDS}
    for name in CONTACT_FIELDS:
        if given.get(name) and f"{name}_invalid" in clean.check.reasons:
            problems[name] = [f"Enter a valid {'website address' if name == 'website' else name.replace('_', ' ')}."]
    if not problems and not clean.check.reachable:
        field = "email" if any(f["name"] == "email" for f in form.fields) else "phone"
        problems[field] = ["Give a valid email address or phone number so we can reach you."]
    if problems:
        raise ValidationFailed("Some fields are not valid.", details=problems)
    match = duplicate_find(organization_id=form.organization_id, keys=clean.keys)
    if match is not None and match.certain and not match.deleted:
        return Lead.objects.select_related("assigned_to").get(pk=match.lead_id), False
    lead = Lead(
        organization_id=form.organization_id,
        source=Lead.Source.FORM,
        status=Lead.Status.NEW,
        assigned_to=assignee_pick(organization_id=form.organization_id, source=Lead.Source.FORM),
    )
    apply_clean(lead, clean)
    lead.save()
    publish(
        "leads.lead.created",
        org=form.organization_id,
        subject=lead,
        data={"source": Lead.Source.FORM, "assigned_to": lead.assigned_to_id, "form": form.pk},
    )
    notify_assignee(lead)
    lead_score_later([lead.pk])
    return lead, True


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def submission_receive(*, slug: str, data: dict, ip: str, user_agent: str = "", attachment=None) -> SubmissionReceipt:
    """A public submission of the form `slug`: counted against the sender's address, checked,
    stored with its lead, and the form's chosen members told (in the app, and by email as their
    settings say; emails leave through the outbox once this commits)."""
    rate_limit("form_submit", ip or "unknown")
    form = capture_form_public_get(slug=slug)
    if str(data.get(HONEYPOT_FIELD) or "").strip():
        return SubmissionReceipt(form=form, submission=None, thank_you_text=form.thank_you_text)
    values = _values(form, data)
    kind = _check_attachment(form, attachment) if attachment is not None else None
    submission = Submission(
        form=form, data=values, ip=_ip(ip), user_agent=str(user_agent or "").replace("\x00", "")[:500]
    )
    stored = None
    try:
        with transaction.atomic():
            lead, created = _lead_for(form, values)
            if attachment is not None:
                submission.attachment.save(f"{uuid.uuid4().hex}.{kind}", attachment, save=False)
                stored = submission.attachment.name
                submission.attachment_name = attachment_display_name(attachment.name, kind)
                submission.attachment_content_type = ATTACHMENT_TYPES[kind]
            submission.lead = lead
            submission.save()
            publish(
                "leads.submission.received",
                org=form.organization_id,
                subject=submission,
                data={"form": form.pk, "lead": lead.pk, "new_lead": created},
            )
            _notify(form, submission, lead, created)
    except Exception:
        if stored:  # the file was written but its row was not: leave nothing behind
            _storage().delete(stored)
        raise
    return SubmissionReceipt(form=form, submission=submission, thank_you_text=form.thank_you_text)


def _notify(form: CaptureForm, submission: Submission, lead: Lead, created: bool) -> None:
    title = f"New submission to {form.name}: {lead}"
    detail = " · ".join(part for part in (lead.company, lead.email or lead.phone) if part)
    message = detail if created else f"{detail} (already a lead: the submission was added to it)".strip()
    link = f"{reverse('leads:form', args=[form.pk])}#submission-{submission.pk}"
    for member in form.notify_users.filter(is_active=True):
        notification_send(user=member, type=NotificationType.NEW_LEAD, title=title[:200], message=message, link=link)


def submission_mark_reached_out(*, actor: User, submission_id: int) -> Submission:
    """Record that someone reached out to the submitter; a lead still `new` moves to `contacted`.
    Marking twice changes nothing."""
    if not permissions_of(actor)["can_edit_leads"]:
        raise PermissionDenied("You do not have permission to edit leads.")
    with transaction.atomic():
        submission = submission_get(user=actor, submission_id=submission_id)
        submission = Submission.objects.select_for_update(of=("self",)).select_related("lead").get(pk=submission.pk)
        if submission.reached_out_at is not None:
            return submission_get(user=actor, submission_id=submission.pk)
        submission.reached_out_at = timezone.now()
        submission.reached_out_by = actor
        submission.save(update_fields=["reached_out_at", "reached_out_by"])
        lead = submission.lead
        if lead is not None and lead.deleted_at is None and lead.status == Lead.Status.NEW:
            lead_status_change(actor=actor, lead_id=lead.pk, status=Lead.Status.CONTACTED)
        publish(
            "leads.submission.reached_out",
            actor=actor,
            org=actor.organization_id,
            subject=submission,
            data={"form": submission.form_id, "lead": submission.lead_id, "at": submission.reached_out_at.isoformat()},
        )
    return submission_get(user=actor, submission_id=submission.pk)
