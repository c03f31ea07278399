"""The analytics API: dashboards (`dashboards`) and reports (`reports`)."""
