"""`Idempotency-Key` for API writes that must not happen twice (money moves).

The first request with a key runs and its answer is stored; the same key and body
replay that answer byte for byte; the same key with another body is 409
`idempotency_key_reused`; a duplicate arriving while the first still runs is 409
`conflict`. Keys are scoped to the caller's organization and the endpoint.
"""

import functools
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from leadnexus.core.exceptions import Conflict, ValidationFailed
from leadnexus.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request body."


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def idempotency_begin(*, org_id: int, key: str, endpoint: str, request_hash: str) -> IdempotencyRecord:
    """Claim the key, or return the completed record to replay; raise if it cannot be used."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(org_id=org_id, key=key, endpoint=endpoint, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                org_id=org_id,
                key=key,
                endpoint=endpoint,
                request_hash=request_hash,
                expires_at=now + settings.IDEMPOTENCY_TTL,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(org_id=org_id, key=key, endpoint=endpoint)
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReused()
    if existing.state == IdempotencyRecord.State.IN_PROGRESS:
        raise Conflict("A request with this Idempotency-Key is still being processed. Retry shortly.")
    return existing


def idempotency_complete(*, record: IdempotencyRecord, status: int, body: bytes, content_type: str) -> None:
    record.state = IdempotencyRecord.State.COMPLETED
    record.response_status = status
    record.response_body = body
    record.response_content_type = content_type
    record.save(update_fields=["state", "response_status", "response_body", "response_content_type"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a key whose request failed on our side, so the client's retry runs again."""
    record.delete()


def idempotency_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _should_store(status: int) -> bool:
    # Server errors, rate limits and refusals of who is asking (a permission granted since
    # may let the retry through) are not the request's answer; a retry must run it again.
    return status < 500 and status not in (401, 403, 429)


def idempotent(handler):
    """Decorate a DRF view handler (`post`, or a viewset action) to require and honour an
    `Idempotency-Key` header. The caller must be authenticated."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key or len(key) > 255:
            raise ValidationFailed(
                f"The {HEADER} header is required (1 to 255 characters).",
                details={HEADER: ["This header is required (1 to 255 characters)."]},
            )
        record = idempotency_begin(
            org_id=request.user.organization_id,
            key=key,
            endpoint=f"{request.method} {request.path_info}",
            request_hash=request_fingerprint(request.method, request.path_info, request.body),
        )
        if record.state == IdempotencyRecord.State.COMPLETED:
            replay = HttpResponse(
                bytes(record.response_body), status=record.response_status, content_type=record.response_content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            response = view.handle_exception(exc)
        response = view.finalize_response(request, response, *args, **kwargs)
        response.render()
        if _should_store(response.status_code):
            idempotency_complete(
                record=record,
                status=response.status_code,
                body=response.content,
                content_type=response.get("Content-Type", ""),
            )
        else:
            idempotency_release(record=record)
        return response

    return wrapper
