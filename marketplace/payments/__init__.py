"""Payment providers: the interface the checkout talks to, and the one configured by
`PAYMENTS_PROVIDER`.

A provider works in payment intents, as card processors do: create one for an amount (in
minor units), confirm it with a card (succeeded, or declined and confirmable again),
refund part or all of it, and sign the webhook events it sends about them
(`LeadNexus-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`). The checkout never
assumes a confirmation's answer arrives only once, or before the webhook that reports it.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from leadnexus.core.crypto import signature_check, signature_make
from leadnexus.core.exceptions import ValidationFailed

PROVIDERS = {"mock": "marketplace.payments.mock.MockProvider"}


@dataclass(frozen=True)
class IntentState:
    """What the provider says of an intent after a call."""

    intent_id: str
    status: str  # requires_payment_method | processing | succeeded | canceled
    charge_id: str = ""
    card_last4: str = ""
    error_code: str = ""  # card_declined | insufficient_funds | incorrect_number
    error_message: str = ""


class PaymentProvider(Protocol):
    name: str

    def create_intent(self, *, amount_minor: int, currency: str, metadata: dict) -> IntentState: ...

    def confirm(self, *, intent_id: str, card_number: str) -> IntentState: ...

    def refund(self, *, intent_id: str, amount_minor: int, refund_key: str) -> str: ...

    def cancel(self, *, intent_id: str) -> IntentState: ...

    def verify_webhook(self, *, payload: bytes, signature_header: str) -> dict:
        """The event a webhook request carries, when its signature holds; ValidationFailed
        otherwise."""
        ...


def payment_provider() -> PaymentProvider:
    return import_string(PROVIDERS[settings.PAYMENTS_PROVIDER])()


def to_minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_minor(amount: int) -> Decimal:
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


# --- Webhook signatures ----------------------------------------------------------------------


def _secret() -> bytes:
    if settings.PAYMENTS_WEBHOOK_SECRET:
        return settings.PAYMENTS_WEBHOOK_SECRET.encode()
    return salted_hmac("leadnexus.payments.webhook", "signing").hexdigest().encode()


def webhook_sign(body: bytes, *, timestamp: int | None = None) -> str:
    """The signature header for `body`, as the provider sends it."""
    return signature_make(_secret(), body, timestamp=timestamp)


def webhook_verify(body: bytes, header: str) -> dict:
    """The event `body` carries, when `header` signs it and is recent; ValidationFailed
    otherwise (a forged, altered or replayed event)."""
    signature_check(_secret(), body, header, tolerance=settings.PAYMENTS_WEBHOOK_TOLERANCE)
    try:
        event = json.loads(body)
    except ValueError:
        raise ValidationFailed("The webhook body is not JSON.") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise ValidationFailed("The webhook event has no id or type.")
    return event
