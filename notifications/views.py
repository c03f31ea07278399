from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import ListView

from leadnexus.core.views import PreferredPageSizeMixin
from notifications.selectors import notification_list
from notifications.services import notification_mark_all_read, notification_mark_read


class NotificationListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "notifications/list.html"
    context_object_name = "notifications"

    def get_queryset(self):
        self.unread_only = self.request.GET.get("unread") == "true"
        return notification_list(user=self.request.user, unread=True if self.unread_only else None)

    def get_context_data(self, **kwargs):
        return super().get_context_data(unread_only=self.unread_only, **kwargs)


class NotificationReadView(LoginRequiredMixin, View):
    """Mark one read, then follow its link (or go back to the list)."""

    def post(self, request, pk):
        notification = notification_mark_read(actor=request.user, notification_id=pk)
        target = notification.link
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
        return redirect("notifications:list")


class NotificationReadAllView(LoginRequiredMixin, View):
    def post(self, request):
        marked = notification_mark_all_read(actor=request.user)
        messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read.")
        return redirect("notifications:list")
