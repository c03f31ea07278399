"""Celery tasks of the marketplace."""

from decimal import Decimal

from celery import shared_task

from marketplace.services.checkout import payment_refund, payment_webhook_receive, reservations_expire
from marketplace.services.disputes import earnings_release
from marketplace.services.saved_searches import saved_searches_notify


@shared_task(name="marketplace.tasks.saved_searches_notify")
def saved_searches_notify_task() -> int:
    """Celery beat, every five minutes: one notification per user for their saved searches'
    new matches."""
    return saved_searches_notify()


@shared_task(name="marketplace.tasks.payment_webhook_receive")
def payment_webhook_receive_task(*, body: str, signature: str) -> str:
    """A webhook event of the payment provider (the mock provider delivers its own this way)."""
    return payment_webhook_receive(body=body.encode(), signature=signature)


@shared_task(name="marketplace.tasks.payment_refund")
def payment_refund_task(*, payment_id: int, amount: str, refund_key: str = "") -> str:
    """Send money back to a card (once per refund key: a repeat changes nothing)."""
    return payment_refund(payment_id=payment_id, amount=Decimal(amount), refund_key=refund_key or f"order-{payment_id}")


@shared_task(name="marketplace.tasks.reservations_expire")
def reservations_expire_task() -> int:
    """Celery beat, every minute: give back the listings of checkouts left unanswered."""
    return reservations_expire()


@shared_task(name="marketplace.tasks.earnings_release")
def earnings_release_task() -> int:
    """Celery beat, hourly: vendors' earnings whose dispute window closed become available."""
    return earnings_release()
