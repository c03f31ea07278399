"""A local card processor that behaves like a real one, for development, tests and demos
(`PAYMENTS_PROVIDER=mock`, the default). Nothing leaves the machine.

It keeps its own books (`MockProcessorIntent`, committed as a processor's would be, apart
from the caller's work when the caller holds no transaction), takes the test cards of the
API guide, and reports what happened through signed webhook events that it hands to the
application's webhook handler through Celery (via the outbox: no HTTP call). Like a real
processor it delivers every event twice, and a webhook may arrive before the confirmation
call that caused it has returned.

    4242424242424242  succeeds
    4000000000000002  declined (card_declined)
    4000000000009995  declined (insufficient_funds)
    any other number  succeeds when its Luhn check digit is right, else incorrect_number
"""

import json
import re
import secrets
import time

from django.db import transaction

from leadnexus.core import outbox
from leadnexus.core.exceptions import NotFound
from marketplace.models import MockProcessorIntent
from marketplace.payments import IntentState, webhook_sign, webhook_verify

DECLINES = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
}
# Deliveries of each event: processors retry until acknowledged, so handlers see repeats.
DELIVERIES = 2
WEBHOOK_TASK = "marketplace.tasks.payment_webhook_receive"


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_outcome(card_number: str) -> tuple[str, str, str]:
    """(error code, message, last four digits) of a card; no error code: it is charged."""
    digits = re.sub(r"[\s-]", "", card_number or "")
    last4 = digits[-4:] if digits.isdigit() else ""
    if digits in DECLINES:
        return (*DECLINES[digits], last4)
    if not (digits.isdigit() and 12 <= len(digits) <= 19 and _luhn(digits)):
        return "incorrect_number", "Your card number is incorrect.", last4
    return "", "", last4


def _state(intent: MockProcessorIntent) -> IntentState:
    error = intent.metadata.get("last_error") or {}
    return IntentState(
        intent_id=intent.intent_id,
        status=intent.status,
        charge_id=intent.metadata.get("charge_id", ""),
        card_last4=intent.metadata.get("card_last4", ""),
        error_code=error.get("code", ""),
        error_message=error.get("message", ""),
    )


def _emit(event_type: str, intent: MockProcessorIntent) -> None:
    event = {
        "id": f"evt_mock_{secrets.token_hex(12)}",
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent.intent_id,
                "object": "payment_intent",
                "amount": intent.amount_minor,
                "amount_refunded": intent.refunded_minor,
                "currency": intent.currency.lower(),
                "status": intent.status,
                "latest_charge": intent.metadata.get("charge_id", ""),
                "card_last4": intent.metadata.get("card_last4", ""),
                "last_payment_error": intent.metadata.get("last_error"),
            }
        },
    }
    body = json.dumps(event, separators=(",", ":"))
    for _ in range(DELIVERIES):
        outbox.enqueue(WEBHOOK_TASK, body=body, signature=webhook_sign(body.encode()))


class MockProvider:
    name = "mock"

    def create_intent(self, *, amount_minor: int, currency: str, metadata: dict) -> IntentState:
        intent = MockProcessorIntent.objects.create(
            intent_id=f"pi_mock_{secrets.token_hex(12)}",
            amount_minor=amount_minor,
            currency=currency,
            status="requires_payment_method",
            metadata={"caller": metadata},
        )
        return _state(intent)

    def _locked(self, intent_id: str) -> MockProcessorIntent:
        intent = MockProcessorIntent.objects.select_for_update().filter(intent_id=intent_id).first()
        if intent is None:
            raise NotFound("No such payment intent at the provider.")
        return intent

    def confirm(self, *, intent_id: str, card_number: str) -> IntentState:
        with transaction.atomic():
            intent = self._locked(intent_id)
            if intent.status in ("succeeded", "canceled"):
                return _state(intent)  # a processor never charges an intent twice
            code, message, last4 = card_outcome(card_number)
            intent.metadata["card_last4"] = last4
            if code:
                intent.status = "requires_payment_method"
                intent.metadata["last_error"] = {"code": code, "message": message}
            else:
                intent.status = "succeeded"
                intent.charges += 1
                intent.metadata["charge_id"] = f"ch_mock_{secrets.token_hex(12)}"
                intent.metadata.pop("last_error", None)
            intent.save()
            _emit("payment_intent.payment_failed" if code else "payment_intent.succeeded", intent)
        return _state(intent)

    def refund(self, *, intent_id: str, amount_minor: int, refund_key: str) -> str:
        with transaction.atomic():
            intent = self._locked(intent_id)
            refunds = intent.metadata.setdefault("refunds", {})
            if refund_key in refunds:
                return refunds[refund_key]  # the same refund asked again: made once
            if intent.status != "succeeded" or intent.refunded_minor + amount_minor > intent.amount_minor:
                raise NotFound("Nothing left to refund on this payment at the provider.")
            refunds[refund_key] = f"re_mock_{secrets.token_hex(12)}"
            intent.refunded_minor += amount_minor
            intent.save()
            _emit("charge.refunded", intent)
            return refunds[refund_key]

    def cancel(self, *, intent_id: str) -> IntentState:
        with transaction.atomic():
            intent = self._locked(intent_id)
            if intent.status != "succeeded":
                intent.status = "canceled"
                intent.save()
            return _state(intent)

    def verify_webhook(self, *, payload: bytes, signature_header: str) -> dict:
        return webhook_verify(payload, signature_header)
