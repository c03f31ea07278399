import hashlib
import hmac
import time

from django.conf import settings

from leadnexus.core.exceptions import ValidationFailed

SIGNATURE_HEADER = "LeadNexus-Signature"


def keyed_digest(secret: str) -> str:
    """How tokens and codes are stored: an HMAC keyed with SECRET_KEY, so a database leak
    alone reveals none of them and a lookup by digest stays an indexed equality match."""
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def signature_make(secret: bytes, body: bytes, *, timestamp: int | None = None) -> str:
    """The `LeadNexus-Signature` of a webhook body: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.
    The same scheme signs the webhooks LeadNexus sends and checks the ones it receives."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_check(secret: bytes, body: bytes, header: str, *, tolerance: int) -> None:
    """ValidationFailed unless `header` signs `body` with `secret` and was made within
    `tolerance` seconds (a forged, altered or replayed request)."""
    parts = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
        expected = signature_make(secret, body, timestamp=timestamp).split("v1=", 1)[1]
        signed = hmac.compare_digest(expected, parts["v1"])
    except (KeyError, ValueError, TypeError):
        signed = False
    if not signed:
        raise ValidationFailed("The webhook signature is not valid.", details={SIGNATURE_HEADER: ["Not valid."]})
    if abs(time.time() - timestamp) > tolerance:
        raise ValidationFailed("The webhook event is too old.", details={SIGNATURE_HEADER: ["Timestamp too old."]})
