import hashlib
import hmac

from django.conf import settings


def keyed_digest(secret: str) -> str:
    """How tokens and codes are stored: an HMAC keyed with SECRET_KEY, so a database leak
    alone reveals none of them and a lookup by digest stays an indexed equality match."""
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()
