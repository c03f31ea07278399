"""Analytics reads: the dashboards' figures (`dashboards`) and reports (`reports`)."""
