from django.contrib import messages
from django.contrib.auth import login, logout

from accounts.devices import Device
from accounts.models import UserSession
from accounts.selectors import session_list
from accounts.services.sessions import EndReason, SessionEnded, session_check, session_end, session_start

SESSION_ID_KEY = "user_session_id"


def current_session_id(request) -> int | None:
    """The sign-in this request belongs to: the JWT's `sid` on the API, the page session's
    `UserSession` otherwise (None for personal API tokens, which have no session)."""
    token = getattr(request, "auth", None)
    if hasattr(token, "get") and token.get("sid"):
        return token.get("sid")
    return request.session.get(SESSION_ID_KEY) if hasattr(request, "session") else None


def page_sign_in(request, user, *, notify: bool = True) -> UserSession:
    """Sign `user` in to pages: the Django session, and the `UserSession` that can end it."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return _bind(request, user, notify=notify)


def page_sign_out(request) -> None:
    if request.user.is_authenticated:
        session = session_list(user=request.user).filter(pk=request.session.get(SESSION_ID_KEY)).first()
        if session is not None:
            session_end(session=session, reason=EndReason.SIGNED_OUT)
    logout(request)


def _bind(request, user, *, notify: bool) -> UserSession:
    if not request.session.session_key:
        request.session.save()
    session = session_start(
        user=user,
        kind=UserSession.Kind.PAGE,
        device=Device.of(request),
        session_key=request.session.session_key,
        notify=notify,
    )
    request.session[SESSION_ID_KEY] = session.pk
    return session


class UserSessionMiddleware:
    """Every signed-in page request belongs to an open `UserSession`: an ended, too old or
    idle one signs the browser out. A Django session made elsewhere (the admin's own
    sign-in, a test's force_login) is adopted into one on its first request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            session_id = request.session.get(SESSION_ID_KEY)
            if session_id is None:
                _bind(request, request.user, notify=False)
            else:
                session = session_list(user=request.user).filter(pk=session_id).first()
                try:
                    if session is None:
                        raise SessionEnded()
                    session.user = request.user
                    session_check(session=session)
                except SessionEnded as exc:
                    logout(request)
                    messages.info(request, exc.message)
        return self.get_response(request)
