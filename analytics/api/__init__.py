"""The analytics API: dashboards (`dashboards`)."""
