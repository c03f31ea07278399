from leadnexus.core.exceptions import ApplicationError


class EmailDeliveryError(ApplicationError):
    code = "email_delivery_failed"
    status = 502
    default_message = "The email could not be handed to the mail server."

    def __init__(self, message=None, *, will_retry: bool, **kwargs):
        self.will_retry = will_retry
        super().__init__(message, **kwargs)
