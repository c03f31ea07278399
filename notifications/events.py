"""The domain events of notifications, for other apps to subscribe to (notifications itself
knows none of them).

- `notifications.email.failed`  an email gave up after EMAIL_MAX_ATTEMPTS; subject the
                                `EmailMessage`, data {email_id, error}. No org or actor.
"""

EMAIL_FAILED = "notifications.email.failed"
