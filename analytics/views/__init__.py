"""Analytics pages: the dashboards (`dashboards`) and the Reports page (`reports`)."""
