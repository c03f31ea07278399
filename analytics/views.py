from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class DashboardView(LoginRequiredMixin, TemplateView):
    """The signed-in home page; the dashboards of each role grow here."""

    template_name = "analytics/dashboard.html"
