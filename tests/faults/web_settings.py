"""Settings of the web server the fault tests start: production's, as read from the
environment, except that static files are served from the source folders (no
collectstatic run before each test)."""

from leadnexus.settings import *  # noqa: F403 - the same settings, one change below

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
