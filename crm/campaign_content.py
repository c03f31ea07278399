"""What a campaign email says: merge fields, the plain text and its HTML part, and the signed
links that track it (open pixel, click redirects, one-click unsubscribe) on SITE_URL.

The subject and body people write are never handed to Django's template engine. A small
renderer replaces `{{ field }}` and `{{ field|default:"text" }}` for the fields of
`MERGE_FIELDS` and leaves every other character as written; in the HTML part every value
and every piece of text is escaped, so a name cannot inject markup.

Tracking tokens are `django.core.signing` values, salted per kind: the open and click
tokens carry the message id (a click's also the target URL, so the redirect goes only where
the email linked), the unsubscribe token the recipient id. A token altered by one character
is refused."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.html import escape, format_html

from leadnexus.core.exceptions import NotFound

MERGE_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name",
    "email": "Email address",
    "company": "Company",
    "job_title": "Job title",
    "position": "Job title (the same as job_title)",
    "industry": "Industry (leads)",
    "location": "Location (leads)",
}
MERGE_HELP = (
    "Merge fields: "
    + ", ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS)
    + (', each with an optional fallback such as {{ first_name|default:"there" }}.')
)
MESSAGE_HEADER = "LeadNexus-Campaign-Message"

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_FIELD = re.compile(r'^\s*([a-z_]+)\s*(?:\|\s*default\s*:\s*"([^"]*)"\s*)?$')
_URL = re.compile(r"https?://[^\s<>\"'{}]+")
# Punctuation that ends a sentence rather than the link it follows.
_URL_TRAILER = ".,;:!?)]'"
_SALTS = {"open": "crm.campaign.open", "click": "crm.campaign.click", "unsubscribe": "crm.campaign.unsubscribe"}


def merge_problems(text: str) -> list[str]:
    """Why `text` cannot be rendered: each `{{ … }}` that is not a known merge field."""
    problems = []
    for tag in _TAG.finditer(text):
        field = _FIELD.match(tag.group(1))
        if field is None or field.group(1) not in MERGE_FIELDS:
            problems.append(f"{tag.group(0)[:60]} is not a merge field. {MERGE_HELP}")
    return problems


def merge_fields_of(person: dict) -> dict[str, str]:
    """The merge fields of a lead's or contact's values (`job_title` or `position`)."""
    first, last = person.get("first_name") or "", person.get("last_name") or ""
    job = person.get("job_title") or person.get("position") or ""
    return {
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip(),
        "email": person.get("email") or "",
        "company": person.get("company") or "",
        "job_title": job,
        "position": job,
        "industry": person.get("industry") or "",
        "location": person.get("location") or "",
    }


def _value(tag: re.Match, fields: dict[str, str]) -> str:
    field = _FIELD.match(tag.group(1))
    if field is None:  # checked when the campaign was saved; kept as written if it slipped by
        return tag.group(0)
    return fields.get(field.group(1)) or field.group(2) or ""


def merge(text: str, fields: dict[str, str]) -> str:
    return _TAG.sub(lambda tag: _value(tag, fields), text)


@dataclass(frozen=True)
class Tracking:
    """The links of one sent message; a preview or test email has none."""

    message_id: int
    recipient_id: int

    def click(self, url: str) -> str:
        return _absolute("track:click", token_make("click", {"m": self.message_id, "u": url}))

    @property
    def open_url(self) -> str:
        return _absolute("track:open", token_make("open", {"m": self.message_id}))

    @property
    def unsubscribe_url(self) -> str:
        return _absolute("track:unsubscribe", token_make("unsubscribe", {"r": self.recipient_id}))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(*, subject: str, body: str, fields: dict[str, str], sender: str, tracking: Tracking | None) -> Rendered:
    """The email of one recipient: merge fields filled in, an unsubscribe footer, and in
    the HTML part links rewritten for click tracking and an open pixel."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    unsubscribe = tracking.unsubscribe_url if tracking else ""
    footer = f"You receive this email from {sender}."
    text = f"{merge(body, fields)}\n\n--\n{footer}\nUnsubscribe: {unsubscribe or '(your link)'}\n"
    unsubscribe_link = format_html('<a href="{}">Unsubscribe</a>', unsubscribe or "#")
    pixel = format_html('<img src="{}" width="1" height="1" alt="">', tracking.open_url) if tracking is not None else ""
    html = (
        f"<!DOCTYPE html>\n<html><body>\n<div>{_html_body(body, fields, tracking)}</div>\n"
        f"<hr>\n<p><small>{escape(footer)} {unsubscribe_link}</small></p>\n{pixel}\n</body></html>\n"
    )
    return Rendered(subject=" ".join(merge(subject, fields).split())[:255], text=text, html=html)


def _html_body(body: str, fields: dict[str, str], tracking: Tracking | None) -> str:
    """Escaped text with line breaks; links only in what the author wrote, never in a
    merged value."""
    parts, position = [], 0
    for tag in _TAG.finditer(body):
        parts.append(_html_linked(body[position : tag.start()], tracking))
        parts.append(_html_text(_value(tag, fields)))
        position = tag.end()
    parts.append(_html_linked(body[position:], tracking))
    return "".join(parts)


def _html_linked(text: str, tracking: Tracking | None) -> str:
    parts, position = [], 0
    for found in _URL.finditer(text):
        url = found.group(0).rstrip(_URL_TRAILER)
        parts.append(_html_text(text[position : found.start()]))
        parts.append(format_html('<a href="{}">{}</a>', tracking.click(url) if tracking else url, url))
        position = found.start() + len(url)
    parts.append(_html_text(text[position:]))
    return "".join(parts)


def _html_text(text: str) -> str:
    return str(escape(text)).replace("\n", "<br>\n")


def headers_of(tracking: Tracking) -> dict[str, str]:
    """One-click unsubscribe (RFC 8058) and the id a bounce report names the message by."""
    return {
        "List-Unsubscribe": f"<{tracking.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        MESSAGE_HEADER: str(tracking.message_id),
    }


# --- Tokens ------------------------------------------------------------------------------------


def token_make(kind: str, payload: dict) -> str:
    return signing.dumps(payload, salt=_SALTS[kind], compress=True)


def token_read(kind: str, token: str) -> dict:
    """The payload of a token this site made for `kind`; NotFound for anything else (a
    forged or altered token, or one of another kind)."""
    try:
        payload = signing.loads(token, salt=_SALTS[kind])
    except (signing.BadSignature, ValueError):
        raise NotFound("This link is not valid.") from None
    if not isinstance(payload, dict):
        raise NotFound("This link is not valid.")
    return payload


def _absolute(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])
