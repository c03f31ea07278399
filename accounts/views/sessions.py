from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views import View
from django.views.generic import TemplateView

from accounts.devices import describe_device
from accounts.middleware import current_session_id
from accounts.selectors import session_list
from accounts.services.sessions import session_revoke


class SessionListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/settings/sessions.html"

    def get_context_data(self, **kwargs):
        current = current_session_id(self.request)
        sessions = [
            {"session": s, "device": describe_device(s.user_agent), "current": s.pk == current}
            for s in session_list(user=self.request.user)
        ]
        return super().get_context_data(sessions=sessions, **kwargs)


class SessionRevokeView(LoginRequiredMixin, View):
    def post(self, request, session_id: int):
        is_current = session_id == current_session_id(request)
        session_revoke(actor=request.user, session_id=session_id)
        if is_current:
            return redirect("accounts:login")
        messages.success(request, "That sign-in has ended. It is signed out at its next request.")
        return redirect("accounts:sessions")


urlpatterns = [
    path("settings/sessions/", SessionListView.as_view(), name="sessions"),
    path("settings/sessions/<id:session_id>/end/", SessionRevokeView.as_view(), name="session-end"),
]
