"""Settings of the catalog benchmark's baseline server (`bench/catalog.py`): the production
settings, as read from the environment, with a URL module that adds one bare view."""

from leadnexus.settings import *  # noqa: F403 - the same settings, one change below

ROOT_URLCONF = "bench.bare_urls"
