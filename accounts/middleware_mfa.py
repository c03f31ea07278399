from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import mfa_setup_pending

SETUP_MESSAGE = "Your organization requires two-factor sign-in. Set it up to continue."


class MfaRequirementMiddleware:
    """A member of an organization that requires two-factor sign-in, signed in to pages
    without it, can only set it up (or sign out) until they have: every other page sends
    them to the two-factor settings. The API needs no such gate: its sign-in refuses them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # In process_view rather than __call__: the message middleware, further down the
        # list, has set up the request's message store by now.
        if request.user.is_authenticated and not self._exempt(request.path) and mfa_setup_pending(user=request.user):
            messages.warning(request, SETUP_MESSAGE)
            return redirect("accounts:two-factor")
        return None

    @staticmethod
    def _exempt(path: str) -> bool:
        exempt = (
            reverse("accounts:two-factor"),
            reverse("accounts:logout"),
            "/" + settings.STATIC_URL.lstrip("/"),
            "/api/",
        )
        return path.startswith(exempt)
