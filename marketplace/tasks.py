"""Celery tasks of the marketplace."""
