"""The project's settings, with ``drf_probe`` as the URL configuration (``bench/http_post_ceiling.py`` only)."""

from erial.settings import *  # noqa: F403  (the whole project's settings, one line changed)

ROOT_URLCONF = "drf_probe"
