"""Personal API tokens: `Authorization: Token <key>` acts as the token's owner."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.selectors import api_token_get
from leadnexus.core.crypto import keyed_digest
from leadnexus.core.events import publish
from leadnexus.core.exceptions import NotAuthenticated, ValidationFailed

_KEY_PREFIX = "lnx_"
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, never stored


def api_token_create(*, actor: User, name: str, expires_at: datetime | None = None) -> IssuedToken:
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the token a name.", details={"name": ["This field is required."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.", details={"expires_at": ["Must be in the future."]})
    prefix = _KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=actor, name=name[:100], prefix=prefix, key_digest=keyed_digest(key), expires_at=expires_at
    )
    publish("accounts.api_token.created", actor=actor, org=actor.organization_id, subject=token, data={"name": name})
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    token = api_token_get(user=actor, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        publish("accounts.api_token.revoked", actor=actor, org=actor.organization_id, subject=token)
    return token


def api_token_authenticate(*, key: str) -> ApiToken:
    token = ApiToken.objects.select_related("user").filter(key_digest=keyed_digest(key)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        raise NotAuthenticated("This API token is not valid or has been revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated("This API token has expired.")
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_tokens_revoke_by_staff(*, actor: User, token_ids: list[int]) -> int:
    """Staff stop tokens from the admin (a leaked key reported by its owner, say)."""
    tokens = list(ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True))
    for token in tokens:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        publish("accounts.api_token.revoked", actor=actor, org=token.user.organization_id, subject=token)
    return len(tokens)
